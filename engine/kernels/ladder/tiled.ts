// The ladder's second rung (docs/kernel-ladder.md): matmul and the three convolution passes on one tiled GEMM
// with workgroup memory (gemm_tiled.wgsl), each pass a file that says what its A, B and C are (*_tiled.wgsl).

import { kernel, runtime } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import type { Geometry } from '../conv2d/geometry.ts';
import { shapeStr } from '../shapes.ts';
import { sumSlices } from '../splitk.ts';
import { TILED_BLOCK } from './family.ts';
import { convParams } from './naive.ts';
import type { MatmulOperands } from './operands.ts';

const CORE = ['gemm_tiled.wgsl'];
const CONV_PARAMS = {
  N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32', KW: 'u32', stride: 'u32', pad: 'u32',
} as const;

const MATMUL = kernel({
  shader: 'matmul_tiled.wgsl',
  uses: CORE,
  params: { M: 'u32', N: 'u32', K: 'u32', sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32' },
  bindings: ['A', 'B', 'C'],
});
const FORWARD = kernel({ shader: 'conv2d_fwd_tiled.wgsl', uses: CORE, params: { ...CONV_PARAMS, hasBias: 'u32' }, bindings: ['X', 'Wt', 'bias', 'Y'] });
const INPUT_GRAD = kernel({ shader: 'conv2d_dgrad_tiled.wgsl', uses: CORE, params: CONV_PARAMS, bindings: ['dY', 'Wt', 'dX'] });
const WEIGHT_GRAD = kernel({ shader: 'conv2d_wgrad_tiled.wgsl', uses: CORE, params: CONV_PARAMS, bindings: ['X', 'dY', 'partial'] });

/** Workgroups for a [rows, cols] result: one per 64 × 64 block, `slices` along z. */
const blocks = (rows: number, cols: number, slices = 1): [number, number, number] => [
  Math.ceil(cols / TILED_BLOCK),
  Math.ceil(rows / TILED_BLOCK),
  slices,
];

export function matmulTiled(m: MatmulOperands, label: string): Tensor {
  const out = new Tensor([m.M, m.N]);
  runtime().launch(MATMUL, {
    params: { M: m.M, N: m.N, K: m.K, sam: m.sam, sak: m.sak, sbk: m.sbk, sbn: m.sbn },
    buffers: { A: m.a.buffer, B: m.b.buffer, C: out.buffer },
    workgroups: blocks(m.M, m.N),
    label,
  });
  return out;
}

export function convForwardTiled(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const y = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
  runtime().launch(FORWARD, {
    params: { ...convParams(g), hasBias: bias ? 1 : 0 },
    buffers: { X: x.buffer, Wt: w.buffer, bias: (bias ?? w).buffer, Y: y.buffer },
    workgroups: blocks(g.N * g.Ho * g.Wo, g.Cout),
    label: `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)} (tiled)`,
  });
  return y;
}

export function convInputGradTiled(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  runtime().launch(INPUT_GRAD, {
    params: convParams(g),
    buffers: { dY: dy.buffer, Wt: w.buffer, dX: dx.buffer },
    workgroups: blocks(g.N * g.H * g.W, g.Cin),
    label: `conv2d input-grad ${shapeStr(dy.shape)} (tiled)`,
  });
  return dx;
}

/**
 * Slices of the weight gradient's pixel sum: enough workgroups to fill a GPU (≥ 256 with the blocks) while each
 * slice keeps at least 16 steps of the k loop (256 pixels).
 */
export function tiledSlices(pixels: number, rows: number, cols: number): number {
  const blockCount = Math.ceil(rows / TILED_BLOCK) * Math.ceil(cols / TILED_BLOCK);
  return Math.max(1, Math.min(Math.ceil(256 / blockCount), Math.floor(pixels / 256), 256));
}

export function convWeightGradTiled(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const rows = g.KH * g.KW * g.Cin;
  const slices = tiledSlices(g.N * g.Ho * g.Wo, rows, g.Cout);
  const partial = new Tensor([slices, rows * g.Cout]);
  runtime().launch(WEIGHT_GRAD, {
    params: convParams(g),
    buffers: { X: x.buffer, dY: dy.buffer, partial: partial.buffer },
    workgroups: blocks(rows, g.Cout, slices),
    label: `conv2d weight-grad ${shapeStr(x.shape)} (tiled)`,
  });
  return sumSlices(partial, [g.KH, g.KW, g.Cin, g.Cout], slices);
}
