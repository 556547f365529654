// The forward pass of a convolution: on the row kernel where it fits (choice.ts), else as an implicit GEMM
// (conv2d_fwd.wgsl) whose right-hand operand is the weights, [KH·KW·Cin, Cout] as they are.

import { runtime, kernel } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import { packVec4 } from '../matmul.ts';
import { shapeStr } from '../shapes.ts';
import { GEMM_B_VARIANTS, gemmVariant, tileFor } from '../tiles.ts';
import { familyFor } from '../ladder/family.ts';
import { convForwardNaive } from '../ladder/naive.ts';
import { convForwardTiled } from '../ladder/tiled.ts';
import { usesRowKernel } from './choice.ts';
import { rowGroups, type Geometry } from './geometry.ts';
import { convRows, type RowsPass } from './rows.ts';

const CONV_FWD = kernel({
  shader: 'conv2d_fwd.wgsl',
  variants: GEMM_B_VARIANTS,
  params: {
    N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32',
    KW: 'u32', stride: 'u32', pad: 'u32', hasBias: 'u32', C4: 'u32',
  },
  bindings: ['X', 'B', 'bias', 'Y'],
  constants: ['TM', 'TN', 'WG'],
});

/** y = conv2d(x, w) + bias for a checked geometry, on the family of kernels chosen for its shape (ladder/family.ts). */
export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const family = familyFor('conv_fwd', [g.N * g.Ho * g.Wo, g.Cout, g.KH * g.KW * g.Cin]);
  if (family === 'naive') return convForwardNaive(x, w, bias, g);
  if (family === 'tiled') return convForwardTiled(x, w, bias, g);
  if (usesRowKernel(g, 'forward')) return convRows(x, w, bias, forwardRowsPass(g), `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`);
  return conv2dForwardGemm(x, w, bias, g);
}

/** The forward pass as a run of the row kernel: X is the input, R its channels. */
export function forwardRowsPass(g: Geometry): RowsPass {
  return { N: g.N, H: g.H, W: g.W, R: g.Cin, Ho: g.Ho, Wo: g.Wo, C: g.Cout, KH: g.KH, KW: g.KW, padY: g.pad, padX: g.pad, stride: g.stride };
}

/** The forward pass as an implicit GEMM: rows are output pixels, the inner dimension the taps × input channels. */
export function conv2dForwardGemm(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const out = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
  const M = g.N * g.Ho * g.Wo;
  const K = g.KH * g.KW * g.Cin;
  const t = tileFor('conv_fwd', M, g.Cout, K);
  const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
  // The weights in vec4s need rows padded to 4 columns: a copy only when Cout is not a multiple of 4.
  const w4 = g.Cout % 4 === 0 ? null : packVec4(w, 1, K, g.Cout, 0, g.Cout, 1);
  runtime().launch(CONV_FWD, {
    variant: gemmVariant(t),
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: {
      N: g.N, H: g.H, W: g.W, Cin: g.Cin, Ho: g.Ho, Wo: g.Wo, Cout: g.Cout, KH: g.KH, KW: g.KW,
      stride: g.stride, pad: g.pad, hasBias: bias ? 1 : 0, C4: Math.ceil(g.Cout / 4),
    },
    buffers: { X: x.buffer, B: (w4 ?? w).buffer, bias: (bias ?? w).buffer, Y: out.buffer },
    workgroups: [gx, Math.ceil(g.Cout / t.TN), gz],
    label: `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`,
  });
  w4?.dispose();
  return out;
}
