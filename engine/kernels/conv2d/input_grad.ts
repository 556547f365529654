// The input gradient dX of a convolution: dY convolved with the mirrored, transposed weights. On the row kernel
// where it fits (choice.ts: one pass, or one per class of input rows at stride 2), else as an implicit GEMM per
// pixel class (conv2d_dgrad.wgsl), each class visiting only the taps that reach it.

import { runtime, kernel } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import { filled } from '../elementwise.ts';
import { packVec4 } from '../matmul.ts';
import { shapeStr } from '../shapes.ts';
import { GEMM_B_VARIANTS, gemmVariant, tileFor } from '../tiles.ts';
import { familyFor } from '../ladder/family.ts';
import { convInputGradNaive } from '../ladder/naive.ts';
import { convInputGradTiled } from '../ladder/tiled.ts';
import { inputGradPasses } from './choice.ts';
import { rowGroups, type Geometry } from './geometry.ts';
import { convRows } from './rows.ts';

const CONV_DGRAD = kernel({
  shader: 'conv2d_dgrad.wgsl',
  variants: GEMM_B_VARIANTS,
  params: {
    N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32',
    KW: 'u32', pad: 'u32', C4: 'u32', py: 'u32', px: 'u32', Hc: 'u32', Wc: 'u32',
  },
  bindings: ['dY', 'B', 'dX'],
  constants: ['TM', 'TN', 'WG', 'STRIDE'],
});

/** dX for dY and weights w of a checked geometry, on the family of kernels chosen for its shape (ladder/family.ts). */
export function conv2dInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const family = familyFor('conv_dgrad', [g.N * g.H * g.W, g.Cin, g.KH * g.KW * g.Cout]);
  if (family === 'naive') return convInputGradNaive(dy, w, g);
  if (family === 'tiled') return convInputGradTiled(dy, w, g);
  const passes = inputGradPasses(g);
  if (!passes) return conv2dInputGradGemm(dy, w, g);
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  for (const { py, pass } of passes) {
    const into = { tensor: dx, YH: g.H, y0: py, YS: g.stride };
    convRows(dy, w, null, { ...pass, into }, `conv2d input-grad ${shapeStr(dy.shape)}`);
  }
  return dx;
}

/** The input gradient as an implicit GEMM, one launch per pixel class (iy mod stride, ix mod stride). */
export function conv2dInputGradGemm(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const S = g.stride;
  // Kernel rows (columns) feed input rows (columns) py with (py + pad − ky) divisible by S. Pixel classes that no
  // tap reaches (3 of the 4 at 1×1 stride 2) are zeros: one fill for them all costs less than a GEMM over them.
  const fed = (p: number, K: number) => Array.from({ length: K }, (_, k) => k).some((k) => (p + g.pad - k) % S === 0);
  const anyUnfed = Array.from({ length: S }, (_, p) => p).some((p) => !fed(p, g.KH) || !fed(p, g.KW));
  const dx = anyUnfed ? filled([g.N, g.H, g.W, g.Cin], 0) : new Tensor([g.N, g.H, g.W, g.Cin]);
  // Per tap, W[ci, co] transposed to [co, ci] (rows padded to 4): the kernel's B[k = (tap, co), ci].
  const wt = packVec4(w, g.KH * g.KW, g.Cout, g.Cin, g.Cin * g.Cout, 1, g.Cout);
  for (let py = 0; py < S; py++) {
    for (let px = 0; px < S; px++) {
      const Hc = Math.ceil((g.H - py) / S);
      const Wc = Math.ceil((g.W - px) / S);
      const M = g.N * Hc * Wc;
      if (M <= 0 || !fed(py, g.KH) || !fed(px, g.KW)) continue;
      const t = tileFor('conv_dgrad', M, g.Cin, g.KH * g.KW * g.Cout);
      const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
      runtime().launch(CONV_DGRAD, {
        variant: gemmVariant(t),
        constants: { TM: t.TM, TN: t.TN, WG: t.WG, STRIDE: S },
        params: {
          N: g.N, H: g.H, W: g.W, Cin: g.Cin, Ho: g.Ho, Wo: g.Wo, Cout: g.Cout, KH: g.KH, KW: g.KW,
          pad: g.pad, C4: Math.ceil(g.Cin / 4), py, px, Hc, Wc,
        },
        buffers: { dY: dy.buffer, B: wt.buffer, dX: dx.buffer },
        workgroups: [gx, Math.ceil(g.Cin / t.TN), gz],
        label: `conv2d input-grad ${shapeStr(dy.shape)}`,
      });
    }
  }
  wt.dispose();
  return dx;
}
