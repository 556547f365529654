// Matrix multiply C = op(A)·op(B) (matmul.wgsl). The kernel reads both operands k-major in vec4s — Aᵀ as
// [K, M rounded up to 4] and B as [K, N rounded up to 4] — because on CPU drivers each load costs about a dozen
// instructions per SIMD lane, and a vec4 load pays that once for 4 values (docs/cpu-drivers.md). An operand that
// does not come that way is first packed into a temporary by pack_vec4.wgsl: O(M·K + K·N) extra work next to the
// multiply's O(M·N·K). For backward (dA = dC·Bᵀ, dB = Aᵀ·dC) that is just a different packing.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { vec4Grid } from './grid.ts';
import { shapeStr } from './shapes.ts';
import { familyFor } from './ladder/family.ts';
import { matmulNaive } from './ladder/naive.ts';
import { matmulOperands } from './ladder/operands.ts';
import { matmulTiled } from './ladder/tiled.ts';
import { GEMM_B_VARIANTS, gemmVariant, tileFor } from './tiles.ts';

const PACK_VEC4 = kernel({
  shader: 'pack_vec4.wgsl',
  uses: ['vec4_each.wgsl'],
  params: { batches: 'u32', C: 'u32', sb: 'u32', sr: 'u32', sc: 'u32' },
  bindings: ['src', 'dst'],
  constants: ['R', 'Q'],
});

const MATMUL = kernel({
  shader: 'matmul.wgsl',
  variants: GEMM_B_VARIANTS,
  params: { M: 'u32', N: 'u32', K: 'u32', M4: 'u32', N4: 'u32' },
  bindings: ['At4', 'B', 'C'],
  constants: ['TM', 'TN', 'WG'],
});

/**
 * Packs a strided matrix (per batch) into a new [batches, R, C4] tensor, C4 = C rounded up to a multiple of 4,
 * with zeros in the padding: element (b, r, c) comes from src[b·sb + r·sr + c·sc]. The conv kernels use it too.
 */
export function packVec4(src: Tensor, batches: number, R: number, C: number, sb: number, sr: number, sc: number): Tensor {
  const C4 = Math.ceil(C / 4) * 4;
  const out = new Tensor([batches, R, C4]);
  runtime().launch(PACK_VEC4, {
    constants: { R, Q: C4 / 4 },
    params: { batches, C, sb, sr, sc },
    buffers: { src: src.buffer, dst: out.buffer },
    workgroups: vec4Grid(out.size / 4),
    label: 'pack for vec4 loads',
  });
  return out;
}

/** C = op(A)·op(B), op transposing where asked, on the family of kernels chosen for this shape (ladder/family.ts). */
export function matmulKernel(a: Tensor, b: Tensor, transA = false, transB = false, label = 'matmul'): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new RangeError(`${label}: needs 2-D operands, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) {
    throw new RangeError(
      `${label}: inner dimensions differ: ${shapeStr(a.shape)}${transA ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''}`,
    );
  }
  const family = familyFor('matmul', [M, N, K]);
  if (family === 'naive') return matmulNaive(matmulOperands(a, b, transA, transB), label);
  if (family === 'tiled') return matmulTiled(matmulOperands(a, b, transA, transB), label);
  const out = new Tensor([M, N]);
  // Aᵀ as [K, M4·4]: a transposed A with M % 4 == 0 is that already; B as [K, N4·4]: likewise an untransposed B.
  const at = transA && M % 4 === 0 ? null : packVec4(a, 1, K, M, 0, transA ? M : 1, transA ? 1 : K);
  const b4 = !transB && N % 4 === 0 ? null : packVec4(b, 1, K, N, 0, transB ? 1 : N, transB ? K : 1);
  const M4 = Math.ceil(M / 4);
  const N4 = Math.ceil(N / 4);
  const t = tileFor('matmul', M, N, K);
  runtime().launch(MATMUL, {
    variant: gemmVariant(t),
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: { M, N, K, M4, N4 },
    buffers: { At4: (at ?? a).buffer, B: (b4 ?? b).buffer, C: out.buffer },
    workgroups: [Math.ceil(M4 / ((t.TM / 4) * t.WG)), Math.ceil(N / t.TN)],
    label,
  });
  at?.dispose();
  b4?.dispose();
  return out;
}
