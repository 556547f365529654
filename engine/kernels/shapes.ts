// Shape arithmetic shared by the kernels: checks with messages that name the op, strides, broadcasting, and the
// collapse of any shape to the rank-4 index space of the generic kernels (binary.wgsl, strided_copy.wgsl,
// reduce_sum.wgsl).

import type { Tensor } from '../tensor.ts';

export function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function assertShape(op: string, what: string, t: Tensor, rank: number): void {
  if (t.shape.length !== rank) {
    throw new RangeError(`${op}: ${what} must have rank ${rank}, got ${shapeStr(t.shape)}`);
  }
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as if it had shape `out` (0 on broadcast dims), aligned to out's rank. */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const cs = contiguousStrides(shape);
  return out.map((d, i) => {
    const j = shape.length - out.length + i;
    if (j < 0 || shape[j] === 1) return 0;
    return cs[j];
  });
}

/**
 * Brings a shape with one stride list per operand down to rank 4 (the generic kernels' rank) by merging
 * adjacent dims wherever every operand can walk them as one, and padding with leading 1s.
 */
export function toRank4(shape: number[], strides: number[][], op: string): { shape: number[]; strides: number[][] } {
  let dims = [...shape];
  let st = strides.map((s) => [...s]);
  // Drop size-1 dims (their strides never matter).
  const keepIdx = dims.map((d, i) => (d !== 1 ? i : -1)).filter((i) => i >= 0);
  dims = keepIdx.map((i) => dims[i]);
  st = st.map((s) => keepIdx.map((i) => s[i]));
  for (let i = dims.length - 2; i >= 0 && dims.length > 4; i--) {
    if (st.every((s) => s[i] === s[i + 1] * dims[i + 1])) {
      dims.splice(i, 2, dims[i] * dims[i + 1]);
      st.forEach((s) => s.splice(i, 2, s[i + 1]));
    }
  }
  if (dims.length > 4) throw new RangeError(`${op}: shape ${shapeStr(shape)} has more than 4 non-mergeable dims`);
  while (dims.length < 4) {
    dims.unshift(1);
    st.forEach((s) => s.unshift(0));
  }
  return { shape: dims, strides: st };
}
