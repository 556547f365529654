// Matrix multiply with optional transposes (shaders/matmul.wgsl): op(a)·op(b) where op transposes when asked.
// Transposes are just different strides, so backward (dA = dC·Bᵀ, dB = Aᵀ·dC) never copies.

import { needsGrad, record } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { dispatch, shapeStr } from './util.ts';
import { tileFor } from './tiles.ts';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/** The raw kernel, no autograd: C = op(A)·op(B). */
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
  const out = new Tensor([M, N]);
  const [sam, sak] = transA ? [1, M] : [K, 1];
  const [sbk, sbn] = transB ? [1, K] : [N, 1];
  const t = tileFor('matmul', M, N, K);
  dispatch({
    shader: 'matmul.wgsl',
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [M, N, K, 0, sam, sak, sbk, sbn, 0, 0, 0, 0],
    buffers: [a.buffer, b.buffer, out.buffer],
    workgroups: [Math.ceil(M / (t.TM * t.WG)), Math.ceil(N / t.TN)],
    label,
  });
  return out;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const { transA = false, transB = false } = opts;
  const out = matmulKernel(a, b, transA, transB);
  return record(out, 'matmul', [a, b], (g) => [
    // d op(A) = g · op(B)ᵀ; stored transposed when transA.
    needsGrad(a) ? (transA ? matmulKernel(b, g, transB, true) : matmulKernel(g, b, false, !transB)) : null,
    needsGrad(b) ? (transB ? matmulKernel(g, a, true, transA) : matmulKernel(a, g, !transA, false)) : null,
  ]);
}
