// A plain float64 CPU reference for every tensor op of the engine. GPU tests run a kernel in float32 and
// compare against these; they are written for obviousness, not speed (direct loops, no tricks), so that a
// mismatch points at the kernel and not at the reference.
//
// Conventions (the same as the engine):
// - Tensors are row-major (C order) Float64Arrays with a shape.
// - Images are NHWC (channel last); conv weights are [KH][KW][Cin][Cout]; linear weights are [Out][In]
//   (PyTorch layout).
// - Every `fooBackward` takes the forward's tensor inputs that it needs, then the upstream gradient `g`,
//   then the forward's non-tensor parameters, and returns the gradients of the inputs. Losses return
//   their gradients (for an upstream gradient of 1) together with the loss.

import { Rng } from '../engine/random.ts';

export type T = { shape: number[]; data: Float64Array };

// ---------------------------------------------------------------------------------------------------------
// Construction and small helpers

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A tensor with the given data (copied), or zeros when no data is given. */
export function t(shape: number[], data?: ArrayLike<number>): T {
  const n = numel(shape);
  if (data !== undefined && data.length !== n) {
    throw new Error(`t: shape [${shape}] needs ${n} values, got ${data.length}`);
  }
  const out = new Float64Array(n);
  if (data !== undefined) for (let i = 0; i < n; i++) out[i] = data[i];
  return { shape: [...shape], data: out };
}

export function zeros(shape: number[]): T {
  return t(shape);
}

export function full(shape: number[], value: number): T {
  const out = zeros(shape);
  out.data.fill(value);
  return out;
}

/** Standard normal entries (times `std`). */
export function randn(shape: number[], rng: Rng, std = 1): T {
  const out = zeros(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = std * rng.normal();
  return out;
}

/** Uniform entries in [lo, hi). */
export function rand(shape: number[], rng: Rng, lo = 0, hi = 1): T {
  const out = zeros(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = lo + (hi - lo) * rng.next();
  return out;
}

export function clone(x: T): T {
  return { shape: [...x.shape], data: new Float64Array(x.data) };
}

export function reshape(x: T, shape: number[]): T {
  if (numel(shape) !== x.data.length) throw new Error(`reshape: [${x.shape}] -> [${shape}] changes the size`);
  return { shape: [...shape], data: x.data };
}

/** Σ a·b over all elements: the scalar loss used to turn a tensor-valued op into a gradient check. */
export function dot(a: T, b: T): number {
  assertSameShape('dot', a, b);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

function assertSameShape(what: string, a: T, b: T): void {
  if (!sameShape(a.shape, b.shape)) throw new Error(`${what}: shapes [${a.shape}] and [${b.shape}] differ`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function assertRank(what: string, x: T, rank: number): void {
  if (x.shape.length !== rank) throw new Error(`${what}: expected rank ${rank}, got shape [${x.shape}]`);
}

// ---------------------------------------------------------------------------------------------------------
// Broadcasting (numpy rules: align shapes on the right; a dimension of 1, or a missing one, stretches)

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` seen as broadcast to `outShape`: 0 along stretched (or missing) dimensions. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const offset = outShape.length - shape.length;
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1) strides[i + offset] = stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * Visits every element of `outShape` in row-major order, passing the flat offsets of the corresponding
 * (broadcast) elements of each input shape. An odometer keeps this O(1) per element.
 */
function forEachBroadcast(
  outShape: readonly number[],
  inShapes: readonly (readonly number[])[],
  visit: (outIndex: number, inIndex: number[]) => void,
): void {
  const strides = inShapes.map((s) => broadcastStrides(s, outShape));
  const idx = new Array<number>(outShape.length).fill(0);
  const offsets = new Array<number>(inShapes.length).fill(0);
  const n = numel(outShape);
  for (let i = 0; i < n; i++) {
    visit(i, offsets);
    for (let d = outShape.length - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < offsets.length; k++) offsets[k] += strides[k][d];
      if (idx[d] < outShape[d]) break;
      for (let k = 0; k < offsets.length; k++) offsets[k] -= strides[k][d] * outShape[d];
      idx[d] = 0;
    }
  }
}

function binary(a: T, b: T, f: (x: number, y: number) => number): T {
  const out = zeros(broadcastShapes(a.shape, b.shape));
  forEachBroadcast(out.shape, [a.shape, b.shape], (i, [ia, ib]) => {
    out.data[i] = f(a.data[ia], b.data[ib]);
  });
  return out;
}

/** `x` repeated along broadcast dimensions to exactly `shape`. */
export function broadcastTo(x: T, shape: number[]): T {
  if (!sameShape(broadcastShapes(x.shape, shape), shape)) {
    throw new Error(`broadcastTo: [${x.shape}] does not broadcast to [${shape}]`);
  }
  const out = zeros(shape);
  forEachBroadcast(shape, [x.shape], (i, [ix]) => {
    out.data[i] = x.data[ix];
  });
  return out;
}

/**
 * Sums a gradient of a broadcast result back to the shape of the input that was broadcast: the adjoint of
 * broadcastTo. `shape` may have fewer dimensions than `g` (missing leading ones are summed away).
 */
export function sumToShape(g: T, shape: number[]): T {
  if (!sameShape(broadcastShapes(shape, g.shape), g.shape)) {
    throw new Error(`sumToShape: [${shape}] does not broadcast to [${g.shape}]`);
  }
  const out = zeros(shape);
  forEachBroadcast(g.shape, [shape], (i, [io]) => {
    out.data[io] += g.data[i];
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise binary ops with broadcasting

export const add = (a: T, b: T): T => binary(a, b, (x, y) => x + y);
export const sub = (a: T, b: T): T => binary(a, b, (x, y) => x - y);
export const mul = (a: T, b: T): T => binary(a, b, (x, y) => x * y);
export const div = (a: T, b: T): T => binary(a, b, (x, y) => x / y);

export type BinaryGrads = { da: T; db: T };

export function addBackward(a: T, b: T, g: T): BinaryGrads {
  return { da: sumToShape(g, a.shape), db: sumToShape(g, b.shape) };
}

export function subBackward(a: T, b: T, g: T): BinaryGrads {
  return { da: sumToShape(g, a.shape), db: sumToShape(neg(g), b.shape) };
}

export function mulBackward(a: T, b: T, g: T): BinaryGrads {
  return { da: sumToShape(mul(g, b), a.shape), db: sumToShape(mul(g, a), b.shape) };
}

export function divBackward(a: T, b: T, g: T): BinaryGrads {
  const da = div(g, b);
  // d(a/b)/db = −a/b²
  const db = binary(mul(g, a), b, (ga, y) => -ga / (y * y));
  return { da: sumToShape(da, a.shape), db: sumToShape(db, b.shape) };
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise unary ops

export function map(x: T, f: (v: number) => number): T {
  const out = zeros(x.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(x.data[i]);
  return out;
}

/** g ⊙ f'(x): the backward of every unary op. */
function chain(x: T, g: T, dfdx: (v: number) => number): T {
  assertSameShape('unary backward', x, g);
  const out = zeros(x.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = g.data[i] * dfdx(x.data[i]);
  return out;
}

export const relu = (x: T): T => map(x, (v) => (v > 0 ? v : 0));
export const neg = (x: T): T => map(x, (v) => -v);
export const exp = (x: T): T => map(x, Math.exp);
export const log = (x: T): T => map(x, Math.log);
export const sqrt = (x: T): T => map(x, Math.sqrt);
export const square = (x: T): T => map(x, (v) => v * v);
export const scale = (x: T, c: number): T => map(x, (v) => c * v);

// relu'(0) = 0, as in PyTorch.
export const reluBackward = (x: T, g: T): T => chain(x, g, (v) => (v > 0 ? 1 : 0));
export const negBackward = (x: T, g: T): T => chain(x, g, () => -1);
export const expBackward = (x: T, g: T): T => chain(x, g, Math.exp);
export const logBackward = (x: T, g: T): T => chain(x, g, (v) => 1 / v);
export const sqrtBackward = (x: T, g: T): T => chain(x, g, (v) => 0.5 / Math.sqrt(v));
export const squareBackward = (x: T, g: T): T => chain(x, g, (v) => 2 * v);
export const scaleBackward = (x: T, g: T, c: number): T => chain(x, g, () => c);

export const relu6 = (x: T): T => map(x, (v) => Math.min(Math.max(v, 0), 6));
export const relu6Backward = (x: T, g: T): T => chain(x, g, (v) => (v > 0 && v < 6 ? 1 : 0));

// ---------------------------------------------------------------------------------------------------------
// Reductions

/** Axes normalised to non-negative, sorted, unique; `undefined` means all axes. */
function normaliseAxes(rank: number, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const out = axes.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) throw new Error(`axis ${a} out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  });
  return [...new Set(out)].sort((p, q) => p - q);
}

/** The shape of a reduction with keepDims: reduced axes become 1. */
function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reducedShape(shape: readonly number[], axes: number[], keepDims: boolean): number[] {
  return keepDims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

export function sum(x: T, axes?: number[], keepDims = false): T {
  const ax = normaliseAxes(x.shape.length, axes);
  // Summing over axes is exactly the adjoint of broadcasting along them.
  const kept = sumToShape(x, keptShape(x.shape, ax));
  return reshape(kept, reducedShape(x.shape, ax, keepDims));
}

export function sumBackward(x: T, g: T, axes?: number[], keepDims = false): T {
  const ax = normaliseAxes(x.shape.length, axes);
  return broadcastTo(reshape(g, keptShape(x.shape, ax)), x.shape);
}

function reducedCount(shape: readonly number[], axes: number[]): number {
  return axes.reduce((n, a) => n * shape[a], 1);
}

export function mean(x: T, axes?: number[], keepDims = false): T {
  const n = reducedCount(x.shape, normaliseAxes(x.shape.length, axes));
  return scale(sum(x, axes, keepDims), 1 / n);
}

export function meanBackward(x: T, g: T, axes?: number[], keepDims = false): T {
  const n = reducedCount(x.shape, normaliseAxes(x.shape.length, axes));
  return scale(sumBackward(x, g, axes, keepDims), 1 / n);
}

// ---------------------------------------------------------------------------------------------------------
// Matrix multiply

export function transpose2d(a: T): T {
  assertRank('transpose2d', a, 2);
  const [r, c] = a.shape;
  const out = zeros([c, r]);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[j * r + i] = a.data[i * c + j];
  return out;
}

/** op(a)·op(b), op = transpose when the flag is set: a is stored [M,K], or [K,M] when transA. */
export function matmul(a: T, b: T, transA = false, transB = false): T {
  assertRank('matmul a', a, 2);
  assertRank('matmul b', b, 2);
  const A = transA ? transpose2d(a) : a;
  const B = transB ? transpose2d(b) : b;
  const [M, K] = A.shape;
  const [K2, N] = B.shape;
  if (K !== K2) throw new Error(`matmul: inner dimensions ${K} and ${K2} differ`);
  const out = zeros([M, N]);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const aik = A.data[i * K + k];
      for (let j = 0; j < N; j++) out.data[i * N + j] += aik * B.data[k * N + j];
    }
  }
  return out;
}

/** Gradients of a and b in their stored layouts (so da is [K,M] when transA). */
export function matmulBackward(a: T, b: T, g: T, transA = false, transB = false): BinaryGrads {
  const A = transA ? transpose2d(a) : a;
  const B = transB ? transpose2d(b) : b;
  const dA = matmul(g, B, false, true); // G·Bᵀ, [M,K]
  const dB = matmul(A, g, true, false); // Aᵀ·G, [K,N]
  return { da: transA ? transpose2d(dA) : dA, db: transB ? transpose2d(dB) : dB };
}

// ---------------------------------------------------------------------------------------------------------
// Convolution (NHWC input, [KH][KW][Cin/groups][Cout] weights, square stride and zero padding; with groups > 1
// output channel co belongs to group ⌊co / (Cout/groups)⌋ and sees only that group's Cin/groups input channels)

export function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

type ConvGeometry = {
  N: number; H: number; W: number; Cin: number;
  KH: number; KW: number; Cout: number;
  Ho: number; Wo: number; groups: number;
};

function convGeometry(x: T, w: T, stride: number, pad: number, groups: number): ConvGeometry {
  assertRank('conv2d x', x, 4);
  assertRank('conv2d w', w, 4);
  const [N, H, W, Cin] = x.shape;
  const [KH, KW, Cg, Cout] = w.shape;
  if (Cin !== Cg * groups) throw new Error(`conv2d: x has ${Cin} channels, w expects ${Cg} × ${groups} groups`);
  if (Cout % groups !== 0) throw new Error(`conv2d: ${Cout} output channels in ${groups} groups`);
  const Ho = convOutSize(H, KH, stride, pad);
  const Wo = convOutSize(W, KW, stride, pad);
  if (Ho < 1 || Wo < 1) throw new Error(`conv2d: empty output for input ${H}x${W}, kernel ${KH}x${KW}`);
  return { N, H, W, Cin, KH, KW, Cout, Ho, Wo, groups };
}

/**
 * Calls visit(xIndex, wIndex, outIndex, co) for every multiply-add of the convolution; forward and backward
 * share this so that they cannot disagree about the geometry.
 */
function forEachConvTap(
  geo: ConvGeometry,
  stride: number,
  pad: number,
  visit: (xi: number, wi: number, oi: number) => void,
): void {
  const { N, H, W, Cin, KH, KW, Cout, Ho, Wo, groups } = geo;
  const Cg = Cin / groups;
  const Cog = Cout / groups;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * stride - pad + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * stride - pad + kw;
            if (iw < 0 || iw >= W) continue;
            for (let co = 0; co < Cout; co++) {
              const group = Math.floor(co / Cog);
              for (let ci = 0; ci < Cg; ci++) {
                const xi = ((n * H + ih) * W + iw) * Cin + group * Cg + ci;
                visit(xi, ((kh * KW + kw) * Cg + ci) * Cout + co, ((n * Ho + oh) * Wo + ow) * Cout + co);
              }
            }
          }
        }
}

export function conv2d(x: T, w: T, bias?: T | null, stride = 1, pad = 0, groups = 1): T {
  const geo = convGeometry(x, w, stride, pad, groups);
  const out = zeros([geo.N, geo.Ho, geo.Wo, geo.Cout]);
  if (bias) {
    if (bias.data.length !== geo.Cout) throw new Error(`conv2d: bias has ${bias.data.length} values, need ${geo.Cout}`);
    for (let i = 0; i < out.data.length; i++) out.data[i] = bias.data[i % geo.Cout];
  }
  forEachConvTap(geo, stride, pad, (xi, wi, oi) => {
    out.data[oi] += x.data[xi] * w.data[wi];
  });
  return out;
}

/** dbias is always returned (Σ g over N, Ho, Wo); ignore it for a bias-free conv. */
export function conv2dBackward(x: T, w: T, g: T, stride = 1, pad = 0, groups = 1): { dx: T; dw: T; dbias: T } {
  const geo = convGeometry(x, w, stride, pad, groups);
  if (!sameShape(g.shape, [geo.N, geo.Ho, geo.Wo, geo.Cout])) {
    throw new Error(`conv2dBackward: g has shape [${g.shape}], expected [${[geo.N, geo.Ho, geo.Wo, geo.Cout]}]`);
  }
  const dx = zeros(x.shape);
  const dw = zeros(w.shape);
  forEachConvTap(geo, stride, pad, (xi, wi, oi) => {
    dx.data[xi] += g.data[oi] * w.data[wi];
    dw.data[wi] += g.data[oi] * x.data[xi];
  });
  return { dx, dw, dbias: sumToShape(g, [geo.Cout]) };
}

// ---------------------------------------------------------------------------------------------------------
// Batch normalisation (NHWC; statistics per channel over N, H, W)

/** Per-channel mean and biased variance of an NHWC tensor, over all other axes. */
export function channelStats(x: T): { mean: T; var: T; count: number } {
  const C = x.shape[x.shape.length - 1];
  const count = x.data.length / C;
  const m = zeros([C]);
  const v = zeros([C]);
  for (let i = 0; i < x.data.length; i++) m.data[i % C] += x.data[i];
  for (let c = 0; c < C; c++) m.data[c] /= count;
  for (let i = 0; i < x.data.length; i++) v.data[i % C] += (x.data[i] - m.data[i % C]) ** 2;
  for (let c = 0; c < C; c++) v.data[c] /= count;
  return { mean: m, var: v, count };
}

/** gamma·(x − mean)/sqrt(var + eps) + beta with the given per-channel mean and variance. */
function normalise(x: T, gamma: T, beta: T, m: T, v: T, eps: number): T {
  const C = x.shape[x.shape.length - 1];
  const out = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    out.data[i] = (gamma.data[c] * (x.data[i] - m.data[c])) / Math.sqrt(v.data[c] + eps) + beta.data[c];
  }
  return out;
}

export type BatchNormOptions = {
  eps?: number; // default 1e-5
  momentum?: number; // default 0.1
  runningMean?: T; // default zeros
  runningVar?: T; // default ones
};

/**
 * Training-mode batch norm: normalises with the batch's biased variance, and returns the updated running
 * statistics with PyTorch semantics: running = (1 − m)·running + m·batch, using the UNBIASED batch variance
 * (count/(count − 1) times the biased one) for the running variance.
 */
export function batchnorm2dTrain(
  x: T,
  gamma: T,
  beta: T,
  opts: BatchNormOptions = {},
): { y: T; mean: T; var: T; runningMean: T; runningVar: T } {
  assertRank('batchnorm2d x', x, 4);
  const C = x.shape[3];
  const eps = opts.eps ?? 1e-5;
  const mom = opts.momentum ?? 0.1;
  const stats = channelStats(x);
  // PyTorch refuses this too: an unbiased variance of a single value is undefined.
  if (stats.count < 2) throw new Error('batchnorm2dTrain: need more than one value per channel');
  const rm = opts.runningMean ?? zeros([C]);
  const rv = opts.runningVar ?? full([C], 1);
  const runningMean = zeros([C]);
  const runningVar = zeros([C]);
  const bessel = stats.count / (stats.count - 1);
  for (let c = 0; c < C; c++) {
    runningMean.data[c] = (1 - mom) * rm.data[c] + mom * stats.mean.data[c];
    runningVar.data[c] = (1 - mom) * rv.data[c] + mom * stats.var.data[c] * bessel;
  }
  const y = normalise(x, gamma, beta, stats.mean, stats.var, eps);
  return { y, mean: stats.mean, var: stats.var, runningMean, runningVar };
}

/** Eval-mode batch norm: normalises with the running statistics. */
export function batchnorm2dEval(x: T, gamma: T, beta: T, runningMean: T, runningVar: T, eps = 1e-5): T {
  assertRank('batchnorm2d x', x, 4);
  return normalise(x, gamma, beta, runningMean, runningVar, eps);
}

/**
 * Backward of training-mode batch norm (the batch statistics depend on x):
 *   dx = invstd/n · (n·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)), dx̂ = g·gamma, sums per channel over n = N·H·W values.
 */
export function batchnorm2dBackward(x: T, gamma: T, g: T, eps = 1e-5): { dx: T; dgamma: T; dbeta: T } {
  assertSameShape('batchnorm2dBackward', x, g);
  const C = x.shape[x.shape.length - 1];
  const { mean: m, var: v, count: n } = channelStats(x);
  const invstd = v.data.map((vc) => 1 / Math.sqrt(vc + eps));
  const xhat = (i: number) => (x.data[i] - m.data[i % C]) * invstd[i % C];
  const dgamma = zeros([C]);
  const dbeta = zeros([C]);
  const sumDxhat = new Float64Array(C);
  const sumDxhatXhat = new Float64Array(C);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    dgamma.data[c] += g.data[i] * xhat(i);
    dbeta.data[c] += g.data[i];
    sumDxhat[c] += g.data[i] * gamma.data[c];
    sumDxhatXhat[c] += g.data[i] * gamma.data[c] * xhat(i);
  }
  const dx = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    const dxhat = g.data[i] * gamma.data[c];
    dx.data[i] = (invstd[c] / n) * (n * dxhat - sumDxhat[c] - xhat(i) * sumDxhatXhat[c]);
  }
  return { dx, dgamma, dbeta };
}

/** Backward of eval-mode batch norm (fixed statistics, so a per-channel affine map). */
export function batchnorm2dEvalBackward(
  x: T,
  gamma: T,
  runningMean: T,
  runningVar: T,
  g: T,
  eps = 1e-5,
): { dx: T; dgamma: T; dbeta: T } {
  assertSameShape('batchnorm2dEvalBackward', x, g);
  const C = x.shape[x.shape.length - 1];
  const dx = zeros(x.shape);
  const dgamma = zeros([C]);
  const dbeta = zeros([C]);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % C;
    const invstd = 1 / Math.sqrt(runningVar.data[c] + eps);
    dx.data[i] = g.data[i] * gamma.data[c] * invstd;
    dgamma.data[c] += g.data[i] * (x.data[i] - runningMean.data[c]) * invstd;
    dbeta.data[c] += g.data[i];
  }
  return { dx, dgamma, dbeta };
}

// ---------------------------------------------------------------------------------------------------------
// Pooling (NHWC)

/**
 * k×k windows with stride k (odd sizes: the last row/column is dropped, as PyTorch's floor mode); calls
 * visit(window index in the output, x index) for every tap, in row-major window order.
 */
function forEachPoolTap(shape: number[], k: number, visit: (oi: number, xi: number) => void): number[] {
  const [N, H, W, C] = shape;
  const Ho = Math.floor(H / k);
  const Wo = Math.floor(W / k);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let c = 0; c < C; c++)
          for (let dh = 0; dh < k; dh++)
            for (let dw = 0; dw < k; dw++) {
              const xi = ((n * H + oh * k + dh) * W + ow * k + dw) * C + c;
              visit(((n * Ho + oh) * Wo + ow) * C + c, xi);
            }
  return [N, Ho, Wo, C];
}

/** For every output of a 2×2/2 max pool, the x index of its max (ties: the first in row-major order). */
function maxpoolArgmax(x: T): { shape: number[]; argmax: Int32Array } {
  assertRank('maxpool2d', x, 4);
  const [N, H, W, C] = x.shape;
  const argmax = new Int32Array(N * Math.floor(H / 2) * Math.floor(W / 2) * C).fill(-1);
  const shape = forEachPoolTap(x.shape, 2, (oi, xi) => {
    // strict > keeps the first of equal values
    if (argmax[oi] < 0 || x.data[xi] > x.data[argmax[oi]]) argmax[oi] = xi;
  });
  return { shape, argmax };
}

export function maxpool2d(x: T): T {
  const { shape, argmax } = maxpoolArgmax(x);
  const out = zeros(shape);
  for (let i = 0; i < argmax.length; i++) out.data[i] = x.data[argmax[i]];
  return out;
}

export function maxpool2dBackward(x: T, g: T): T {
  const { argmax } = maxpoolArgmax(x);
  const dx = zeros(x.shape);
  for (let i = 0; i < argmax.length; i++) dx.data[argmax[i]] += g.data[i];
  return dx;
}

export function avgpool2d(x: T, k: number): T {
  assertRank('avgpool2d', x, 4);
  const [N, H, W, C] = x.shape;
  const out = zeros([N, Math.floor(H / k), Math.floor(W / k), C]);
  forEachPoolTap(x.shape, k, (oi, xi) => {
    out.data[oi] += x.data[xi] / (k * k);
  });
  return out;
}

export function avgpool2dBackward(x: T, g: T, k: number): T {
  const dx = zeros(x.shape);
  forEachPoolTap(x.shape, k, (oi, xi) => {
    dx.data[xi] += g.data[oi] / (k * k);
  });
  return dx;
}

/** NHWC → [N, C], the mean over H and W. */
export function globalAvgPool(x: T): T {
  assertRank('globalAvgPool', x, 4);
  return mean(x, [1, 2]);
}

export function globalAvgPoolBackward(x: T, g: T): T {
  return meanBackward(x, g, [1, 2]);
}

// ---------------------------------------------------------------------------------------------------------
// Softmax and losses

/** Row-wise log-softmax of [B, C], max-shifted so that large logits do not overflow. */
export function logSoftmax(x: T): T {
  assertRank('logSoftmax', x, 2);
  const [B, C] = x.shape;
  const out = zeros([B, C]);
  for (let b = 0; b < B; b++) {
    const row = x.data.subarray(b * C, (b + 1) * C);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let s = 0;
    for (const v of row) s += Math.exp(v - max);
    const lse = max + Math.log(s);
    for (let c = 0; c < C; c++) out.data[b * C + c] = row[c] - lse;
  }
  return out;
}

export function softmax(x: T): T {
  return exp(logSoftmax(x));
}

/** Mean over the batch of −log softmax(logits)[label]; dlogits = (softmax − onehot)/B. */
export function softmaxCrossEntropy(logits: T, labels: Int32Array): { loss: number; dlogits: T } {
  const [B, C] = logits.shape;
  if (labels.length !== B) throw new Error(`softmaxCrossEntropy: ${labels.length} labels for batch ${B}`);
  const logp = logSoftmax(logits);
  const dlogits = scale(exp(logp), 1 / B);
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const y = labels[b];
    if (!(y >= 0 && y < C)) throw new Error(`softmaxCrossEntropy: label ${y} out of range [0, ${C})`);
    loss -= logp.data[b * C + y];
    dlogits.data[b * C + y] -= 1 / B;
  }
  return { loss: loss / B, dlogits };
}

export type KlReduction = 'batchmean' | 'elementwise-mean';

/**
 * The distillation loss T²·KL(softmax(zt/T) ‖ softmax(zs/T)), summed over classes and divided by B
 * ('batchmean', PyTorch's kl_div reduction='batchmean') or by B·C ('elementwise-mean', kl_div's old default
 * 'mean'). Only the student zs gets a gradient: dzs = T·(p_s − p_t)/divisor (T² times the 1/T of the
 * inner scaling).
 */
export function klDivTemperature(
  zs: T,
  zt: T,
  temperature: number,
  reduction: KlReduction,
): { loss: number; dzs: T } {
  assertSameShape('klDivTemperature', zs, zt);
  const [B, C] = zs.shape;
  const divisor = reduction === 'batchmean' ? B : B * C;
  const logPs = logSoftmax(scale(zs, 1 / temperature));
  const logPt = logSoftmax(scale(zt, 1 / temperature));
  const dzs = zeros([B, C]);
  let kl = 0;
  for (let i = 0; i < B * C; i++) {
    const pt = Math.exp(logPt.data[i]);
    // 0·log 0 = 0 (a class the teacher gives no mass contributes nothing), as kl_div does
    if (pt > 0) kl += pt * (logPt.data[i] - logPs.data[i]);
    dzs.data[i] = (temperature * (Math.exp(logPs.data[i]) - pt)) / divisor;
  }
  return { loss: (temperature * temperature * kl) / divisor, dzs };
}

/** mean((a − b)²) over all elements, with both gradients. */
export function mse(a: T, b: T): { loss: number; da: T; db: T } {
  assertSameShape('mse', a, b);
  const n = a.data.length;
  const diff = sub(a, b);
  return { loss: dot(diff, diff) / n, da: scale(diff, 2 / n), db: scale(diff, -2 / n) };
}

// ---------------------------------------------------------------------------------------------------------
// Attention transfer map

const ATTENTION_NORM_EPS = 1e-12; // F.normalize's default eps

/** Per sample: a[hw] = mean_c x², then a / max(‖a‖₂, 1e-12). [N, H, W, C] → [N, H·W]. */
export function attentionMap(x: T): T {
  assertRank('attentionMap', x, 4);
  const { a, norms } = attentionRaw(x);
  const [N, HW] = a.shape;
  for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) a.data[n * HW + i] /= norms[n];
  return a;
}

/** The unnormalised map and each sample's clamped norm. */
function attentionRaw(x: T): { a: T; norms: Float64Array } {
  const [N, H, W, C] = x.shape;
  const HW = H * W;
  const a = zeros([N, HW]);
  for (let i = 0; i < x.data.length; i++) a.data[Math.floor(i / C)] += (x.data[i] * x.data[i]) / C;
  const norms = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let i = 0; i < HW; i++) s += a.data[n * HW + i] ** 2;
    norms[n] = Math.max(Math.sqrt(s), ATTENTION_NORM_EPS);
  }
  return { a, norms };
}

/**
 * With u = a/‖a‖: d(a/‖a‖) = (g − u·(u·g))/‖a‖ (the projection removes the component along a, which only
 * rescales); when the norm is clamped the map is a/eps, so da = g/eps. Then da/dx = 2x/C.
 */
export function attentionMapBackward(x: T, g: T): T {
  assertRank('attentionMapBackward', x, 4);
  const [N, H, W, C] = x.shape;
  const HW = H * W;
  const { a, norms } = attentionRaw(x);
  const da = zeros([N, HW]);
  for (let n = 0; n < N; n++) {
    const row = (i: number) => n * HW + i;
    const clamped = norms[n] === ATTENTION_NORM_EPS;
    let ug = 0;
    if (!clamped) for (let i = 0; i < HW; i++) ug += (a.data[row(i)] / norms[n]) * g.data[row(i)];
    for (let i = 0; i < HW; i++) {
      const u = clamped ? 0 : a.data[row(i)] / norms[n];
      da.data[row(i)] = (g.data[row(i)] - u * ug) / norms[n];
    }
  }
  const dx = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) dx.data[i] = (da.data[Math.floor(i / C)] * 2 * x.data[i]) / C;
  return dx;
}

// ---------------------------------------------------------------------------------------------------------
// Linear layer and flatten

/** x·wᵀ + b, with w in PyTorch's [Out, In] layout. */
export function linear(x: T, w: T, bias?: T | null): T {
  const y = matmul(x, w, false, true);
  return bias ? add(y, bias) : y;
}

export function linearBackward(x: T, w: T, g: T): { dx: T; dw: T; db: T } {
  const { da, db } = matmulBackward(x, w, g, false, true);
  return { dx: da, dw: db, db: sumToShape(g, [w.shape[0]]) };
}

/** [N, H, W, C] → [N, C·H·W] in PyTorch's NCHW flatten order, so that linear weights port unchanged. */
export function flattenNCHW(x: T): T {
  assertRank('flattenNCHW', x, 4);
  const [N, H, W, C] = x.shape;
  const out = zeros([N, C * H * W]);
  forEachNhwc(x.shape, (xi, n, h, w, c) => {
    out.data[n * C * H * W + c * H * W + h * W + w] = x.data[xi];
  });
  return out;
}

export function flattenNCHWBackward(x: T, g: T): T {
  assertRank('flattenNCHWBackward', x, 4);
  const [, H, W, C] = x.shape;
  const dx = zeros(x.shape);
  forEachNhwc(x.shape, (xi, n, h, w, c) => {
    dx.data[xi] = g.data[n * C * H * W + c * H * W + h * W + w];
  });
  return dx;
}

// ---------------------------------------------------------------------------------------------------------
// Channels (the last axis)

/** Channels [start, start + count) of every row. */
export function sliceChannels(x: T, start: number, count: number): T {
  const C = x.shape[x.shape.length - 1];
  const rows = x.data.length / C;
  const out = zeros([...x.shape.slice(0, -1), count]);
  for (let r = 0; r < rows; r++) for (let c = 0; c < count; c++) out.data[r * count + c] = x.data[r * C + start + c];
  return out;
}

export function sliceChannelsBackward(x: T, g: T, start: number, count: number): T {
  const C = x.shape[x.shape.length - 1];
  const dx = zeros(x.shape);
  for (let r = 0; r < x.data.length / C; r++) for (let c = 0; c < count; c++) dx.data[r * C + start + c] = g.data[r * count + c];
  return dx;
}

/** The tensors side by side along the last axis. */
export function concatChannels(xs: T[]): T {
  const Cs = xs.map((x) => x.shape[x.shape.length - 1]);
  const C = Cs.reduce((a, b) => a + b, 0);
  const rows = xs[0].data.length / Cs[0];
  const out = zeros([...xs[0].shape.slice(0, -1), C]);
  for (let r = 0; r < rows; r++) {
    let at = 0;
    xs.forEach((x, i) => {
      for (let c = 0; c < Cs[i]; c++) out.data[r * C + at + c] = x.data[r * Cs[i] + c];
      at += Cs[i];
    });
  }
  return out;
}

export function concatChannelsBackward(xs: T[], g: T): T[] {
  let at = 0;
  return xs.map((x) => {
    const count = x.shape[x.shape.length - 1];
    const dx = sliceChannels(g, at, count);
    at += count;
    return dx;
  });
}

/** ShuffleNet's channel shuffle: output channel j·groups + i is input channel i·(C/groups) + j. */
export function channelShuffle(x: T, groups: number): T {
  const C = x.shape[x.shape.length - 1];
  const per = C / groups;
  const out = zeros(x.shape);
  for (let r = 0; r < x.data.length / C; r++)
    for (let i = 0; i < groups; i++) for (let j = 0; j < per; j++) out.data[r * C + j * groups + i] = x.data[r * C + i * per + j];
  return out;
}

/** Its adjoint (a permutation's adjoint is its inverse): output channel j·groups + i gives its gradient back to i·(C/groups) + j. */
export function channelShuffleBackward(x: T, g: T, groups: number): T {
  const C = x.shape[x.shape.length - 1];
  const per = C / groups;
  const dx = zeros(x.shape);
  for (let r = 0; r < x.data.length / C; r++)
    for (let i = 0; i < groups; i++) for (let j = 0; j < per; j++) dx.data[r * C + i * per + j] = g.data[r * C + j * groups + i];
  return dx;
}

/**
 * K×K average pooling with a stride and zero padding, the padding counted in every average (PyTorch's AvgPool2d
 * with count_include_pad): each output is the window's sum / K².
 */
export function avgpool2dPadded(x: T, K: number, stride: number, pad: number): T {
  assertRank('avgpool2dPadded', x, 4);
  const [N, H, W, C] = x.shape;
  const Ho = convOutSize(H, K, stride, pad);
  const Wo = convOutSize(W, K, stride, pad);
  const out = zeros([N, Ho, Wo, C]);
  forEachPaddedWindowTap([N, H, W, C], K, stride, pad, (oi, xi) => {
    out.data[oi] += x.data[xi] / (K * K);
  });
  return out;
}

export function avgpool2dPaddedBackward(x: T, g: T, K: number, stride: number, pad: number): T {
  const dx = zeros(x.shape);
  forEachPaddedWindowTap(x.shape, K, stride, pad, (oi, xi) => {
    dx.data[xi] += g.data[oi] / (K * K);
  });
  return dx;
}

function forEachPaddedWindowTap(shape: number[], K: number, stride: number, pad: number, visit: (oi: number, xi: number) => void): void {
  const [N, H, W, C] = shape;
  const Ho = convOutSize(H, K, stride, pad);
  const Wo = convOutSize(W, K, stride, pad);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++)
        for (let dh = 0; dh < K; dh++)
          for (let dw = 0; dw < K; dw++) {
            const ih = oh * stride - pad + dh;
            const iw = ow * stride - pad + dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++) visit(((n * Ho + oh) * Wo + ow) * C + c, ((n * H + ih) * W + iw) * C + c);
          }
}

function forEachNhwc(shape: number[], visit: (i: number, n: number, h: number, w: number, c: number) => void): void {
  const [N, H, W, C] = shape;
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) visit(i++, n, h, w, c);
}

// ---------------------------------------------------------------------------------------------------------
// Optimiser

export type SgdOptions = { lr: number; momentum: number; weightDecay: number; nesterov: boolean };

/**
 * One step of PyTorch's SGD (dampening 0): g' = g + wd·p; v = μ·v + g'; p −= lr·(g' + μ·v) with Nesterov,
 * else p −= lr·v. PyTorch starts v at g' on the first step; with v zero-initialised, μ·0 + g' is the same.
 */
export function sgdStep(p: T, g: T, v: T, o: SgdOptions): { p: T; v: T } {
  assertSameShape('sgdStep p/g', p, g);
  assertSameShape('sgdStep p/v', p, v);
  const pNew = clone(p);
  const vNew = clone(v);
  for (let i = 0; i < p.data.length; i++) {
    const gi = g.data[i] + o.weightDecay * p.data[i];
    vNew.data[i] = o.momentum * v.data[i] + gi;
    const step = o.nesterov ? gi + o.momentum * vNew.data[i] : vNew.data[i];
    pNew.data[i] = p.data[i] - o.lr * step;
  }
  return { p: pNew, v: vNew };
}

// ---------------------------------------------------------------------------------------------------------
// Checking tools

/** ∂f/∂x by central differences, one element at a time (x is restored afterwards). */
export function finiteDiffGrad(f: (x: T) => number, x: T, eps = 1e-6): Float64Array {
  const grad = new Float64Array(x.data.length);
  const probe = clone(x);
  for (let i = 0; i < probe.data.length; i++) {
    const orig = probe.data[i];
    probe.data[i] = orig + eps;
    const plus = f(probe);
    probe.data[i] = orig - eps;
    const minus = f(probe);
    probe.data[i] = orig;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}

/** max over i of |a − b| / max(|a|, |b|), with 0/0 counted as 0 (and NaN anywhere giving NaN). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelErr: lengths ${a.length} and ${b.length} differ`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (Number.isNaN(diff)) return NaN;
    if (diff === 0) continue;
    worst = Math.max(worst, diff / Math.max(Math.abs(a[i]), Math.abs(b[i])));
  }
  return worst;
}

/**
 * Throws unless |actual − expected| ≤ atol + rtol·|expected| everywhere (numpy's allclose; NaN never
 * passes). The message names the first mismatching index and values, and how many mismatched in all.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { rtol?: number; atol?: number },
  what: string,
): void {
  const rtol = tol.rtol ?? 0;
  const atol = tol.atol ?? 0;
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  let first = -1;
  let bad = 0;
  let maxAbs = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= atol + rtol * Math.abs(expected[i]))) {
      if (first < 0) first = i;
      bad++;
    }
    if (diff > maxAbs || Number.isNaN(diff)) maxAbs = diff;
  }
  if (first >= 0) {
    throw new Error(
      `${what}: mismatch at index ${first}: actual ${actual[first]}, expected ${expected[first]} ` +
        `(|diff| ${Math.abs(actual[first] - expected[first])} > atol ${atol} + rtol ${rtol}·|expected|); ` +
        `${bad} of ${actual.length} elements mismatch, max |diff| ${maxAbs}`,
    );
  }
}
