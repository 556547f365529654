// A matmul's operands as the naive and tiled kernels read them: through strides, so that a transposed operand
// needs no copy (A(m, k) = a[m·sam + k·sak], B(k, n) = b[k·sbk + n·sbn]).

import type { Tensor } from '../../tensor.ts';

export interface MatmulOperands {
  a: Tensor;
  b: Tensor;
  M: number;
  N: number;
  K: number;
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
}

/** C = op(A)·op(B) for 2-D a and b already checked to agree: A [M, K] (or [K, M] transposed), B [K, N] (or [N, K]). */
export function matmulOperands(a: Tensor, b: Tensor, transA: boolean, transB: boolean): MatmulOperands {
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const N = transB ? b.shape[0] : b.shape[1];
  return {
    a, b, M, N, K,
    sam: transA ? 1 : K, sak: transA ? M : 1,
    sbk: transB ? 1 : N, sbn: transB ? K : 1,
  };
}
