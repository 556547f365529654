// Depthwise convolution (groups = Cin = Cout: one KH×KW filter per channel), its own kernels for the three
// passes, since there is no sum over channels for the dense kernels' blocking to share:
// - forward (conv2d_dw.wgsl): TM pixels of a row × 4 channels per invocation, the taps in registers;
// - input gradient: at stride 1 the same kernel with the taps mirrored (dY padded by K − 1 − pad), at larger
//   strides conv2d_dw_dgrad.wgsl, one pixel per invocation taking the taps that reach it;
// - weight gradient (conv2d_dw_wgrad.wgsl): split over slices of output rows, every tap per invocation, the
//   slices summed in a fixed order (sumSlices, splitk_reduce.wgsl).
// Channels go in vec4s: as vec4 arrays when C % 4 = 0, else through scalar loads (the two variants).
// Weights are [KH, KW, 1, C] (PyTorch's [C, 1, KH, KW] in checkpoints).

import { runtime, kernel } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import { elementGrid } from '../grid.ts';
import { shapeStr } from '../shapes.ts';
import { wgradSplits } from './choice.ts';
import type { Geometry } from './geometry.ts';
import { sumSlices } from '../splitk.ts';

/** How the kernels read their operands: vec4 arrays (C % 4 = 0) or scalars. */
const IO = { vec4: ['conv2d_dw_vec4.wgsl'], scalar: ['conv2d_dw_scalar.wgsl'] };
const ioVariant = (C: number) => (C % 4 === 0 ? 'vec4' : 'scalar');

const DW = kernel({
  shader: 'conv2d_dw.wgsl',
  variants: IO,
  params: { N: 'u32', H: 'u32', W: 'u32', C: 'u32', C4: 'u32', Ho: 'u32', Wo: 'u32', segs: 'u32', pad: 'i32', hasBias: 'u32' },
  bindings: ['a', 'b', 'out', 'bias'],
  constants: ['TM', 'KH', 'KW', 'STRIDE', 'FLIP'],
});

const DW_DGRAD = kernel({
  shader: 'conv2d_dw_dgrad.wgsl',
  variants: IO,
  params: { N: 'u32', H: 'u32', W: 'u32', C: 'u32', C4: 'u32', Ho: 'u32', Wo: 'u32', pad: 'u32' },
  bindings: ['a', 'b', 'out'],
  constants: ['KH', 'KW', 'STRIDE'],
});

const DW_WGRAD = kernel({
  shader: 'conv2d_dw_wgrad.wgsl',
  variants: IO,
  params: { N: 'u32', H: 'u32', W: 'u32', C: 'u32', C4: 'u32', Ho: 'u32', Wo: 'u32', pad: 'i32', rowsPerSlice: 'u32', slices: 'u32' },
  bindings: ['a', 'b', 'out'],
  constants: ['KH', 'KW', 'STRIDE'],
});

/** Output pixels per invocation of conv2d_dw.wgsl (TMAX there is 8), and its bounds on taps and window. */
const DW_TM = 4;
const KMAX = 49;
const XMAX = 32;

/** Whether these kernels run a convolution: depthwise (one input and one output channel per group), kernels of at most 7×7. */
export function isDepthwise(g: Geometry): boolean {
  return g.groups > 1 && g.groups === g.Cin && g.groups === g.Cout && g.KH * g.KW <= KMAX && g.stride * (DW_TM - 1) + g.KW <= XMAX;
}

/** Runs conv2d_dw.wgsl: out [N, Ho, Wo, C] from a [N, H, W, C] and taps w (mirrored with flip), stride and (signed) pad. */
function dwRows(a: Tensor, w: Tensor, bias: Tensor | null, d: { Ho: number; Wo: number; KH: number; KW: number; stride: number; pad: number; flip: boolean }, label: string): Tensor {
  const [N, H, W, C] = a.shape;
  const out = new Tensor([N, d.Ho, d.Wo, C]);
  const TM = Math.min(DW_TM, d.Wo);
  const segs = Math.ceil(d.Wo / TM);
  const C4 = Math.ceil(C / 4);
  runtime().launch(DW, {
    variant: ioVariant(C),
    constants: { TM, KH: d.KH, KW: d.KW, STRIDE: d.stride, FLIP: d.flip ? 1 : 0 },
    unroll: true, // the tap and window loops index register arrays
    params: { N, H, W, C, C4, Ho: d.Ho, Wo: d.Wo, segs, pad: d.pad, hasBias: bias ? 1 : 0 },
    buffers: { a: a.buffer, b: w.buffer, out: out.buffer, bias: (bias ?? w).buffer },
    workgroups: elementGrid(N * d.Ho * segs * C4),
    label,
  });
  return out;
}

/** y = depthwise conv2d(x, w) + bias. */
export function depthwiseForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const d = { Ho: g.Ho, Wo: g.Wo, KH: g.KH, KW: g.KW, stride: g.stride, pad: g.pad, flip: false };
  return dwRows(x, w, bias, d, `depthwise conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`);
}

/** dX: at stride 1 dY convolved with the mirrored taps; at larger strides each pixel takes the taps that reach it. */
export function depthwiseInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const label = `depthwise conv2d input-grad ${shapeStr(dy.shape)}`;
  if (g.stride === 1) {
    const d = { Ho: g.H, Wo: g.W, KH: g.KH, KW: g.KW, stride: 1, pad: g.KH - 1 - g.pad, flip: true };
    if (g.KH === g.KW) return dwRows(dy, w, null, d, label);
  }
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  const C4 = Math.ceil(g.Cin / 4);
  runtime().launch(DW_DGRAD, {
    variant: ioVariant(g.Cin),
    constants: { KH: g.KH, KW: g.KW, STRIDE: g.stride },
    unroll: true,
    params: { N: g.N, H: g.H, W: g.W, C: g.Cin, C4, Ho: g.Ho, Wo: g.Wo, pad: g.pad },
    buffers: { a: dy.buffer, b: w.buffer, out: dx.buffer },
    workgroups: elementGrid(g.N * g.H * g.W * C4),
    label,
  });
  return dx;
}

/** dW [KH, KW, 1, C]: partial sums over slices of output rows, then the slices added in a fixed order. */
export function depthwiseWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const C4 = Math.ceil(g.Cin / 4);
  const rows = g.N * g.Ho;
  const rowsPerSlice = Math.ceil(rows / wgradSplits(rows * g.Wo, C4, 1));
  const slices = Math.ceil(rows / rowsPerSlice);
  const partial = new Tensor([slices, g.KH * g.KW, g.Cin]);
  runtime().launch(DW_WGRAD, {
    variant: ioVariant(g.Cin),
    constants: { KH: g.KH, KW: g.KW, STRIDE: g.stride },
    unroll: true,
    params: { N: g.N, H: g.H, W: g.W, C: g.Cin, C4, Ho: g.Ho, Wo: g.Wo, pad: g.pad, rowsPerSlice, slices },
    buffers: { a: x.buffer, b: dy.buffer, out: partial.buffer },
    workgroups: elementGrid(slices * C4),
    label: `depthwise conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  return sumSlices(partial, [g.KH, g.KW, 1, g.Cin], slices);
}
