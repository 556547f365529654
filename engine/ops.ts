// Every differentiable op on one page: its forward (a kernel launcher from engine/kernels/) and its gradient
// rule — what record() attaches to the output, mapping the output's gradient g to each input's gradient. Read
// it like tinygrad's rule table: the mechanics live in the kernels, the calculus lives here.

import { needsGrad, record } from './tape.ts';
import { Tensor } from './tensor.ts';
import * as k from './kernels/index.ts';
import type { BatchNormOptions, Conv2dOptions } from './kernels/index.ts';

export type { BatchNormOptions, Conv2dOptions } from './kernels/index.ts';
export { topkCorrect } from './kernels/index.ts';

/** Gradient of a broadcast operand: the output gradient summed back to the operand's shape. */
const unbroadcast = (g: Tensor, t: Tensor) => (k.sameShape(g.shape, t.shape) ? g.reshape([...t.shape]) : k.sumToShape(g, t.shape));
/** Only compute a gradient that some input needs. */
const ifNeeded = (t: Tensor | null, f: () => Tensor): Tensor | null => (t && needsGrad(t) ? f() : null);

// ---- element-wise --------------------------------------------------------------------------------------------

export const add = (a: Tensor, b: Tensor) =>
  record(k.binary('add', a, b), 'add', [a, b], (g) => [unbroadcast(g, a), unbroadcast(g, b)]);

export const sub = (a: Tensor, b: Tensor) =>
  record(k.binary('sub', a, b), 'sub', [a, b], (g) => [unbroadcast(g, a), unbroadcast(k.unary('scale', g, -1), b)]);

export const mul = (a: Tensor, b: Tensor) =>
  record(k.binary('mul', a, b), 'mul', [a, b], (g) => [
    ifNeeded(a, () => unbroadcast(k.binary('mul', g, b), a)),
    ifNeeded(b, () => unbroadcast(k.binary('mul', g, a), b)),
  ]);

// d(a/b)/da = 1/b; d(a/b)/db = −a/b² = −(a/b)/b
export const div = (a: Tensor, b: Tensor) =>
  record(k.binary('div', a, b), 'div', [a, b], (g) => [
    ifNeeded(a, () => unbroadcast(k.binary('div', g, b), a)),
    ifNeeded(b, () => unbroadcast(k.unary('scale', k.binary('div', k.binary('mul', g, k.binary('div', a, b)), b), -1), b)),
  ]);

export const relu = (x: Tensor) => record(k.unary('relu', x), 'relu', [x], (g) => [k.binary('reluBackward', g, x)]);

/** min(max(x, 0), 6) (MobileNet's activation); the gradient passes where 0 < x < 6. */
export const relu6 = (x: Tensor) => record(k.unary('relu6', x), 'relu6', [x], (g) => [k.binary('relu6Backward', g, x)]);

/** relu(a + b) in one pass, for residual connections; a and b have the same shape. */
export const addRelu = (a: Tensor, b: Tensor): Tensor => {
  const y = k.binary('addRelu', a, b);
  return record(y, 'addRelu', [a, b], (g) => {
    const d = k.binary('reluBackward', g, y); // y > 0 exactly where a + b > 0
    return [d, d.reshape([...b.shape])];
  });
};

export const exp = (x: Tensor): Tensor => {
  const y = k.unary('exp', x);
  return record(y, 'exp', [x], (g) => [k.binary('mul', g, y)]);
};

export const log = (x: Tensor) => record(k.unary('log', x), 'log', [x], (g) => [k.binary('div', g, x)]);

export const sqrt = (x: Tensor): Tensor => {
  const y = k.unary('sqrt', x);
  return record(y, 'sqrt', [x], (g) => [k.binary('div', k.unary('scale', g, 0.5), y)]);
};

export const square = (x: Tensor) => record(k.unary('square', x), 'square', [x], (g) => [k.binary('mul', k.unary('scale', g, 2), x)]);

export const scale = (x: Tensor, c: number) => record(k.unary('scale', x, c), 'scale', [x], (g) => [k.unary('scale', g, c)]);

export const neg = (x: Tensor) => scale(x, -1);

export const addScalar = (x: Tensor, c: number) => record(k.unary('addScalar', x, c), 'addScalar', [x], (g) => [g.reshape([...x.shape])]);

// ---- reductions and layout -------------------------------------------------------------------------------------

function normAxes(op: string, rank: number, axes?: number | number[]): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : Array.isArray(axes) ? axes : [axes];
  const out = list.map((a) => (a < 0 ? a + rank : a));
  for (const a of out) {
    if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${op}: axis ${a} out of range for rank ${rank}`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The gradient of a sum broadcasts g back over the summed axes (times 1/count for a mean). */
function reduce(op: 'sum' | 'mean', x: Tensor, axes: number | number[] | undefined, keepDims: boolean): Tensor {
  const ax = normAxes(op, x.shape.length, axes);
  const count = ax.reduce((a, i) => a * x.shape[i], 1);
  const c = op === 'mean' ? 1 / Math.max(count, 1) : 1;
  const kept = k.sumKernel(x, ax, c);
  const out = keepDims ? kept : kept.reshape(x.shape.filter((_, i) => !ax.includes(i)));
  if (out !== kept) kept.dispose();
  return record(out, op, [x], (g) => [k.expandTo(g.reshape(x.shape.map((d, i) => (ax.includes(i) ? 1 : d))), x.shape, c)]);
}

export const sum = (x: Tensor, axes?: number | number[], keepDims = false) => reduce('sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: number | number[], keepDims = false) => reduce('mean', x, axes, keepDims);

/** Reorders dims (rank ≤ 4); the gradient applies the inverse permutation. */
export function permute(x: Tensor, perm: number[]): Tensor {
  const rank = x.shape.length;
  if (rank > 4 || perm.length !== rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new RangeError(`permute: [${perm.join(', ')}] is not a permutation of the ${rank} dims of ${k.shapeStr(x.shape)} (rank ≤ 4)`);
  }
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record(k.permuteKernel(x, perm), 'permute', [x], (g) => [k.permuteKernel(g, inverse)]);
}

/**
 * [N, H, W, C] → [N, C·H·W] in NCHW order (PyTorch's flatten of an NCHW tensor), so that a plain CNN's first
 * fully-connected layer has the same weights here as in a PyTorch checkpoint.
 */
export function flatten(x: Tensor): Tensor {
  if (x.shape.length !== 4) return x.reshape([x.shape[0], -1]);
  const [N, H, W, C] = x.shape;
  if (H === 1 && W === 1) return x.reshape([N, C]);
  const p = permute(x, [0, 3, 1, 2]);
  const out = p.reshape([N, C * H * W]);
  p.dispose();
  return out;
}

/** Channels [start, start + count) of x, along its last axis (NHWC's channels); the gradient puts g back in place, zeros around it. */
export function sliceChannels(x: Tensor, start: number, count: number): Tensor {
  const C = x.shape[x.shape.length - 1];
  return record(k.channelSlice(x, start, count), 'sliceChannels', [x], (g) => [k.channelPad(g, C, start)]);
}

/** The tensors joined along their last axis (channels); each one's gradient is its slice of g. */
export function concatChannels(xs: Tensor[]): Tensor {
  const starts = xs.map((_, i) => xs.slice(0, i).reduce((a, t) => a + t.shape[t.shape.length - 1], 0));
  return record(k.channelConcat(xs), 'concatChannels', xs, (g) =>
    xs.map((x, i) => ifNeeded(x, () => k.channelSlice(g, starts[i], x.shape[x.shape.length - 1]))),
  );
}

/**
 * ShuffleNet's channel shuffle: the C channels seen as [groups, C/groups], transposed to [C/groups, groups] — output
 * channel j·groups + i is input channel i·C/groups + j. Composed (a permute of a view), so the gradient is the
 * inverse shuffle.
 */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const C = x.shape[x.shape.length - 1];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new RangeError(`channelShuffle: ${groups} groups do not divide the ${C} channels of ${k.shapeStr(x.shape)}`);
  }
  if (groups === 1) return x;
  const v = x.reshape([x.size / C, groups, C / groups]);
  const p = permute(v, [0, 2, 1]);
  const out = p.reshape([...x.shape]);
  v.dispose();
  p.dispose();
  return out;
}

// ---- layers ------------------------------------------------------------------------------------------------

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/** op(A)·op(B). d op(A) = g·op(B)ᵀ and d op(B) = op(A)ᵀ·g, each stored transposed where its operand was. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = opts;
  return record(k.matmulKernel(a, b, transA, transB), 'matmul', [a, b], (g) => [
    ifNeeded(a, () => (transA ? k.matmulKernel(b, g, transB, true) : k.matmulKernel(g, b, false, !transB))),
    ifNeeded(b, () => (transB ? k.matmulKernel(g, a, true, transA) : k.matmulKernel(a, g, !transA, false))),
  ]);
}

/**
 * y = conv2d(x, w) + bias; x [N, H, W, Cin], w [KH, KW, Cin / groups, Cout], bias [Cout] or null. With groups > 1
 * each group of channels is convolved on its own (depthwise: groups = Cin = Cout); k.convForward and the
 * gradients pick the kernels by groups (engine/kernels/conv2d/passes.ts).
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const geo = k.convGeometry(x.shape, w.shape, opts.stride ?? 1, opts.pad ?? 0, opts.groups ?? 1);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== geo.Cout)) {
    throw new RangeError(`conv2d: bias must be [${geo.Cout}], got ${k.shapeStr(bias.shape)}`);
  }
  return record(k.convForward(x, w, bias, geo), 'conv2d', bias ? [x, w, bias] : [x, w], (g) => [
    ifNeeded(x, () => k.convInputGrad(g, w, geo)),
    ifNeeded(w, () => k.convWeightGrad(x, g, geo)),
    ifNeeded(bias, () => k.sumKernel(g, [0, 1, 2]).reshape([geo.Cout])),
  ]);
}

/** Batch norm over the last (channel) axis, ReLU fused when opts.relu; running statistics update in training. */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions): Tensor {
  const { y, saved } = k.batchNormForward(x, gamma, beta, runningMean, runningVar, opts);
  if (!needsGrad(x, gamma, beta)) {
    saved.stats.dispose();
    return y;
  }
  return record(y, saved.label, [x, gamma, beta], (g) => {
    const { dx, dgamma, dbeta } = k.batchNormBackward(g, x, y, gamma, saved, needsGrad(x));
    return [dx, dgamma, dbeta];
  });
}

const pool = (x: Tensor, K: number, max: boolean) =>
  record(k.pool2dForward(x, { K, max }), max ? 'maxPool2d' : 'avgPool2d', [x], (g) => [k.pool2dBackward(x, g, { K, max })]);

/** K×K windows with stride K. */
export const maxPool2d = (x: Tensor, K = 2) => pool(x, K, true);
export const avgPool2d = (x: Tensor, K = 2) => pool(x, K, false);

/**
 * K×K average pooling with a stride and zero padding that counts in the average (PyTorch's AvgPool2d default,
 * count_include_pad; ShuffleNet's strided shortcut is 3×3, stride 2, pad 1): a depthwise convolution with every
 * tap 1/K², a constant.
 */
export function avgPool2dPadded(x: Tensor, K: number, stride: number, pad: number): Tensor {
  k.assertShape('avgPool2dPadded', 'x', x, 4);
  const C = x.shape[3];
  const w = k.filled([K, K, 1, C], 1 / (K * K));
  const y = conv2d(x, w, null, { stride, pad, groups: C });
  if (!y.node) w.dispose(); // else the gradient rule holds it (tidy() frees it)
  return y;
}

/** [N, H, W, C] → [N, C]: the mean over all positions. */
export function globalAvgPool(x: Tensor): Tensor {
  k.assertShape('globalAvgPool', 'x', x, 4);
  return mean(x, [1, 2]);
}

// ---- losses ------------------------------------------------------------------------------------------------
// The fused losses compute their gradient in the forward kernel; the rule scales it by the upstream gradient.

export interface CrossEntropyResult {
  /** Mean loss over the batch, shape [1]. */
  loss: Tensor;
  /** Per row: 1 if the arg-max logit is the label, else 0 — sum it on the GPU for accuracy. */
  correct: Tensor;
}

/** Softmax cross-entropy with integer labels: logits [B, C], labels [B] (i32). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): CrossEntropyResult {
  const { loss, grad, correct } = k.softmaxCrossEntropyKernel(logits, labels);
  if (!needsGrad(logits)) grad.dispose();
  record(loss, 'softmaxCrossEntropy', [logits], (g) => [k.binary('mul', grad, g)]);
  return { loss, correct };
}

export type KlReduction = 'batchmean' | 'elementwise-mean';

/**
 * Hinton's distillation term T²·KL(softmax(zt/T) ‖ softmax(zs/T)), summed over classes and divided by B
 * ("batchmean") or by B·C ("elementwise-mean", PyTorch KLDivLoss's default as used by the official TAKD/DGKD
 * code). zt is a constant: no gradient flows to the teacher.
 */
export function klDivWithTemperature(zs: Tensor, zt: Tensor, T: number, reduction: KlReduction = 'batchmean'): Tensor {
  const [B, C] = zs.shape;
  const { loss, grad } = k.softmaxKlKernel(zs, zt, T, (T * T) / (reduction === 'batchmean' ? B : B * C));
  if (!needsGrad(zs)) grad.dispose();
  return record(loss, 'klDivWithTemperature', [zs], (g) => [k.binary('mul', grad, g)]);
}

/** Mean squared error over all elements (composed: autograd does the rest). */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  if (!k.sameShape(a.shape, b.shape)) throw new RangeError(`mseLoss: shapes ${k.shapeStr(a.shape)} and ${k.shapeStr(b.shape)} differ`);
  return mean(square(sub(a, b))).reshape([1]);
}

/**
 * Attention map for attention transfer (Zagoruyko & Komodakis), as CTKD uses it: per sample, the mean over
 * channels of x², flattened over positions and L2-normalised. x [N, H, W, C] → [N, H·W]. Composed.
 */
export function attentionMap(x: Tensor): Tensor {
  k.assertShape('attentionMap', 'x', x, 4);
  const [N, H, W] = x.shape;
  const a = mean(square(x), 3).reshape([N, H * W]);
  // √(‖a‖² + 1e-24) rather than max(‖a‖, 1e-12): the same away from zero, and smooth at zero.
  const norm = sqrt(addScalar(sum(mul(a, a), 1, true), 1e-24));
  return div(a, norm);
}

/** Mean over N·HW of (at(a) − at(b))²: the attention-transfer loss for one pair of feature maps. */
export function attentionLoss(fa: Tensor, fb: Tensor): Tensor {
  return mean(square(sub(attentionMap(fa), attentionMap(fb)))).reshape([1]);
}
