// The weight gradient dW of a convolution: a sum over every output pixel, so its long pixel dimension is split
// across workgroups (split-K) and the slices are summed in a fixed order by a second pass (splitk_reduce.wgsl).
// Along output rows (conv2d_wgrad_rows.wgsl) for kernels up to 3 wide, else (and for inputs of few channels,
// e.g. RGB) as an implicit GEMM (conv2d_wgrad.wgsl). choice.ts says when.

import { runtime, kernel } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import { packVec4 } from '../matmul.ts';
import { shapeStr } from '../shapes.ts';
import { sumSlices } from '../splitk.ts';
import { GEMM_B_VARIANTS, gemmVariant, tileFor } from '../tiles.ts';
import { familyFor } from '../ladder/family.ts';
import { convWeightGradNaive } from '../ladder/naive.ts';
import { convWeightGradTiled } from '../ladder/tiled.ts';
import { usesWgradRows, wgradSplits } from './choice.ts';
import type { Geometry } from './geometry.ts';
import type { ChannelWindow } from './rows.ts';

const WGRAD_ROWS = kernel({
  shader: 'conv2d_wgrad_rows.wgsl',
  variants: GEMM_B_VARIANTS,
  params: {
    N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32',
    pad: 'u32', rowsPerSlice: 'u32', Cin4: 'u32', C4: 'u32', RB: 'u32', groups: 'u32', slices: 'u32',
    xStride4: 'u32', xOff4: 'u32', yStride4: 'u32', yOff4: 'u32',
  },
  bindings: ['X4', 'B', 'partial'],
  constants: ['TN', 'WG', 'KW', 'STRIDE'],
});

const WGRAD_GEMM = kernel({
  shader: 'conv2d_wgrad.wgsl',
  params: {
    N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32',
    KW: 'u32', stride: 'u32', pad: 'u32', chunk: 'u32', Cin4: 'u32', C4: 'u32', RB: 'u32', slices: 'u32',
  },
  bindings: ['X4', 'dY4', 'partial'],
  constants: ['TM', 'TN', 'WG'],
});

/** dW for input x and output gradient dy of a checked geometry, on the family of kernels chosen for its shape (ladder/family.ts). */
export function conv2dWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const family = familyFor('conv_wgrad', [g.KH * g.KW * g.Cin, g.Cout, g.N * g.Ho * g.Wo]);
  if (family === 'naive') return convWeightGradNaive(x, dy, g);
  if (family === 'tiled') return convWeightGradTiled(x, dy, g);
  return usesWgradRows(g) ? conv2dWeightGradRows(x, dy, g) : conv2dWeightGradGemm(x, dy, g);
}

/** Sums the per-slice partial results [slices, KH·KW·Cin·Cout] in a fixed order. */
function reduceSlices(partial: Tensor, g: Geometry, slices: number): Tensor {
  return sumSlices(partial, [g.KH, g.KW, g.Cin, g.Cout], slices);
}

/** Channels padded to a multiple of 4 for vec4 loads (a copy only for odd channel counts, e.g. an RGB input). */
function padChannels(t: Tensor, rows: number, channels: number): Tensor | null {
  return channels % 4 === 0 ? null : packVec4(t, 1, rows, channels, 0, channels, 1);
}

/**
 * The weight gradient along output rows: each slice a run of (n, oy) rows, 16 output columns per invocation.
 * `windows`: x's Cin and dy's Cout channels are windows of wider tensors (multiples of 4 channels, at multiples of 4).
 */
export function conv2dWeightGradRows(x: Tensor, dy: Tensor, g: Geometry, windows?: { x: ChannelWindow; dy: ChannelWindow }): Tensor {
  const TN = 16;
  const WG = 8;
  const Cin4 = Math.ceil(g.Cin / 4);
  const RB = g.KH * Cin4;
  const groups = Math.ceil(RB / WG);
  const colBlocks = Math.ceil(g.Cout / TN);
  const rows = g.N * g.Ho;
  const wanted = wgradSplits(g.N * g.Ho * g.Wo, groups * WG, colBlocks);
  const rowsPerSlice = Math.ceil(rows / wanted);
  const slices = Math.ceil(rows / rowsPerSlice);
  const x4 = windows ? null : padChannels(x, g.N * g.H * g.W, g.Cin);
  const dy4 = windows ? null : padChannels(dy, g.N * g.Ho * g.Wo, g.Cout);
  const xw = windows?.x ?? { stride: Cin4 * 4, offset: 0 };
  const yw = windows?.dy ?? { stride: Math.ceil(g.Cout / 4) * 4, offset: 0 };
  const partial = new Tensor([slices, g.KH * g.KW * g.Cin * g.Cout]);
  runtime().launch(WGRAD_ROWS, {
    variant: gemmVariant({ TM: 4 * g.KW, TN, WG }), // dY is its shared operand, read through rowB
    constants: { TN, WG, KW: g.KW, STRIDE: g.stride },
    params: {
      N: g.N, H: g.H, W: g.W, Cin: g.Cin, Ho: g.Ho, Wo: g.Wo, Cout: g.Cout, KH: g.KH, pad: g.pad,
      rowsPerSlice, Cin4, C4: Math.ceil(g.Cout / 4), RB, groups, slices,
      xStride4: xw.stride / 4, xOff4: xw.offset / 4, yStride4: yw.stride / 4, yOff4: yw.offset / 4,
    },
    buffers: { X4: (x4 ?? x).buffer, B: (dy4 ?? dy).buffer, partial: partial.buffer },
    workgroups: [groups * slices, colBlocks],
    label: `conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  x4?.dispose();
  dy4?.dispose();
  return reduceSlices(partial, g, slices);
}

/** The weight gradient as an implicit GEMM with split-K: rows are (tap, 4 input channels) quads. */
export function conv2dWeightGradGemm(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const M = g.KH * g.KW * g.Cin;
  const P = g.N * g.Ho * g.Wo;
  const Cin4 = Math.ceil(g.Cin / 4);
  const C4 = Math.ceil(g.Cout / 4);
  const t = tileFor('conv_wgrad', g.KH * g.KW * Cin4 * 4, g.Cout, P);
  const rowBlocks = Math.ceil((g.KH * g.KW * Cin4) / (t.TM / 4));
  const colBlocks = Math.ceil(g.Cout / t.TN);
  const chunk = Math.ceil(P / wgradSplits(P, rowBlocks, colBlocks));
  const slices = Math.ceil(P / chunk);
  const x4 = padChannels(x, g.N * g.H * g.W, g.Cin);
  const dy4 = padChannels(dy, P, g.Cout);
  const partial = new Tensor([slices, M * g.Cout]);
  runtime().launch(WGRAD_GEMM, {
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: {
      N: g.N, H: g.H, W: g.W, Cin: g.Cin, Ho: g.Ho, Wo: g.Wo, Cout: g.Cout, KH: g.KH, KW: g.KW,
      stride: g.stride, pad: g.pad, chunk, Cin4, C4, RB: rowBlocks, slices,
    },
    buffers: { X4: (x4 ?? x).buffer, dY4: (dy4 ?? dy).buffer, partial: partial.buffer },
    workgroups: [Math.ceil((rowBlocks * slices) / t.WG), colBlocks],
    label: `conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  x4?.dispose();
  dy4?.dispose();
  return reduceSlices(partial, g, slices);
}
