// 2-D convolution, NHWC activations and [KH, KW, Cin, Cout] weights. Forward, input gradient and weight
// gradient are each one implicit-GEMM kernel (shaders/conv2d_*.wgsl) on the same register-blocked core; the
// weight gradient splits its long pixel dimension across workgroups and sums the slices in a second pass.

import { needsGrad, record } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { sumKernel } from './reduce.ts';
import { tileFor } from './tiles.ts';
import { dispatch, elementGrid, grid, shapeStr } from './util.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
}

interface Geometry {
  N: number; H: number; W: number; Cin: number;
  Ho: number; Wo: number; Cout: number; KH: number; KW: number;
  stride: number; pad: number;
}

export function convGeometry(x: readonly number[], w: readonly number[], stride: number, pad: number): Geometry {
  if (x.length !== 4 || w.length !== 4) {
    throw new RangeError(`conv2d: expects x [N, H, W, Cin] and w [KH, KW, Cin, Cout], got ${shapeStr(x)} and ${shapeStr(w)}`);
  }
  const [N, H, W, Cin] = x;
  const [KH, KW, Cin2, Cout] = w;
  if (Cin !== Cin2) throw new RangeError(`conv2d: input channels differ: x ${shapeStr(x)} vs w ${shapeStr(w)}`);
  if (!(stride >= 1) || !(pad >= 0)) throw new RangeError(`conv2d: invalid stride ${stride} / pad ${pad}`);
  const Ho = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - KW) / stride) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`conv2d: kernel ${KH}×${KW} does not fit input ${H}×${W} with pad ${pad}`);
  }
  return { N, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad };
}

/** Spreads a row count over x (and z beyond the per-dimension limit). */
function rowGroups(rows: number, perGroup: number): { x: number; z: number } {
  const [x, z] = grid(Math.ceil(rows / perGroup));
  return { x, z };
}

export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const out = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
  const M = g.N * g.Ho * g.Wo;
  const t = tileFor('conv_fwd', M, g.Cout, g.KH * g.KW * g.Cin);
  const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
  dispatch({
    shader: 'conv2d_fwd.wgsl',
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, g.stride, g.pad, bias ? 1 : 0],
    buffers: [x.buffer, w.buffer, (bias ?? w).buffer, out.buffer],
    workgroups: [gx, Math.ceil(g.Cout / t.TN), gz],
    label: `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`,
  });
  return out;
}

export function conv2dInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  const M = g.N * g.H * g.W;
  const t = tileFor('conv_dgrad', M, g.Cin, g.KH * g.KW * g.Cout);
  const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
  dispatch({
    shader: 'conv2d_dgrad.wgsl',
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, g.stride, g.pad, 0],
    buffers: [dy.buffer, w.buffer, dx.buffer],
    workgroups: [gx, Math.ceil(g.Cin / t.TN), gz],
    label: `conv2d input-grad ${shapeStr(dy.shape)}`,
  });
  return dx;
}

/** Number of split-K slices: enough workgroups to keep every core busy, each slice still long. */
export function wgradSplits(pixels: number, outTiles: number): number {
  const target = Math.max(1, Math.ceil(64 / outTiles));
  return Math.max(1, Math.min(target, Math.floor(pixels / 128), 256));
}

export function conv2dWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const M = g.KH * g.KW * g.Cin;
  const P = g.N * g.Ho * g.Wo;
  const t = tileFor('conv_wgrad', M, g.Cout, P);
  const tiles = Math.ceil(M / (t.WG * t.TM)) * Math.ceil(g.Cout / t.TN);
  const splits = wgradSplits(P, tiles);
  const chunk = Math.ceil(P / splits);
  const partial = new Tensor([splits, M * g.Cout]);
  dispatch({
    shader: 'conv2d_wgrad.wgsl',
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, g.stride, g.pad, chunk],
    buffers: [x.buffer, dy.buffer, partial.buffer],
    workgroups: [Math.ceil(M / (t.WG * t.TM)), Math.ceil(g.Cout / t.TN), splits],
    label: `conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  const dw = new Tensor([g.KH, g.KW, g.Cin, g.Cout]);
  dispatch({
    shader: 'splitk_reduce.wgsl',
    params: [dw.size, splits],
    buffers: [partial.buffer, dw.buffer],
    workgroups: elementGrid(dw.size),
    label: 'conv2d weight-grad reduce',
  });
  partial.dispose();
  return dw;
}

/** y = conv2d(x, w) + bias. x [N, H, W, Cin], w [KH, KW, Cin, Cout], bias [Cout] or null. */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, w.shape, opts.stride ?? 1, opts.pad ?? 0);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.Cout)) {
    throw new RangeError(`conv2d: bias must be [${g.Cout}], got ${shapeStr(bias.shape)}`);
  }
  const y = conv2dForward(x, w, bias, g);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (dy) => [
    needsGrad(x) ? conv2dInputGrad(dy, w, g) : null,
    needsGrad(w) ? conv2dWeightGrad(x, dy, g) : null,
    bias && needsGrad(bias) ? sumKernel(dy, [0, 1, 2]).reshape([g.Cout]) : null,
  ]);
}
