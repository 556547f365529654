// Sums over axes (reduce_sum.wgsl) and their adjoint, broadcasting back (strided_copy.wgsl), which with permuted
// strides is also a transpose. Deterministic: no atomics, a fixed summation order (bit-exact resume needs it).

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid, grid } from './grid.ts';
import { broadcastStrides, contiguousStrides, shapeStr, toRank4 } from './shapes.ts';

const REDUCE_SUM = kernel({
  shader: 'reduce_sum.wgsl',
  uses: ['index4.wgsl'],
  params: { outputs: 'u32', reduced: 'u32', scale: 'f32', os: 'vec4<u32>', rs: 'vec4<u32>' },
  bindings: ['x', 'out'],
  constants: ['SERIAL', 'OD1', 'OD2', 'OD3', 'RD1', 'RD2', 'RD3'],
});

const STRIDED_COPY = kernel({
  shader: 'strided_copy.wgsl',
  uses: ['index4.wgsl'],
  params: { n: 'u32', scale: 'f32', s: 'vec4<u32>' },
  bindings: ['x', 'out'],
  constants: ['D1', 'D2', 'D3'],
});

/** Sums of at most this many elements run serially, one output per invocation (reduce_sum.wgsl says why). */
const SERIAL_MAX = 256;

/** Sums x over `axes` (sorted, distinct), times `scale`; the output keeps the reduced dims as 1. */
export function sumKernel(x: Tensor, axes: number[], scale = 1): Tensor {
  const strides = contiguousStrides(x.shape);
  const keptDims = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Tensor(keptDims);
  const kept = toRank4(keptDims, [strides], 'sum');
  const redDims = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
  const red = toRank4(redDims, [strides], 'sum');
  const reduced = redDims.reduce((a, b) => a * b, 1);
  const serial = reduced <= SERIAL_MAX;
  runtime().launch(REDUCE_SUM, {
    constants: {
      OD1: kept.shape[1], OD2: kept.shape[2], OD3: kept.shape[3], RD1: red.shape[1], RD2: red.shape[2], RD3: red.shape[3],
      ...(serial ? { SERIAL: 1 } : {}),
    },
    params: { outputs: out.size, reduced, scale, os: kept.strides[0], rs: red.strides[0] },
    buffers: { x: x.buffer, out: out.buffer },
    workgroups: serial ? elementGrid(out.size) : grid(out.size),
    label: `sum over ${shapeStr(axes)} of ${shapeStr(x.shape)}`,
  });
  return out;
}

/** Sums a broadcast result back to `shape`: the gradient of broadcasting. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const s = sumKernel(g, axes);
  const out = s.reshape([...shape]);
  s.dispose();
  return out;
}

/** out [shape] = scale · x read through `strides` (rank ≤ 4 after merging): the walk of expand and permute. */
function stridedCopy(x: Tensor, shape: number[], strides: number[], scale: number, label: string): Tensor {
  const out = new Tensor([...shape]);
  const r = toRank4([...shape], [strides], label);
  runtime().launch(STRIDED_COPY, {
    constants: { D1: r.shape[1], D2: r.shape[2], D3: r.shape[3] },
    params: { n: out.size, scale, s: r.strides[0] },
    buffers: { x: x.buffer, out: out.buffer },
    workgroups: elementGrid(out.size),
    label,
  });
  return out;
}

/** x broadcast to `shape`, times `scale`: the gradient of sum and mean. */
export const expandTo = (x: Tensor, shape: readonly number[], scale = 1): Tensor =>
  stridedCopy(x, [...shape], broadcastStrides(x.shape, shape), scale, 'expand');

/** x with its dims reordered: out.shape[i] = x.shape[perm[i]] (rank ≤ 4). */
export function permuteKernel(x: Tensor, perm: number[]): Tensor {
  const strides = contiguousStrides(x.shape);
  return stridedCopy(x, perm.map((p) => x.shape[p]), perm.map((p) => strides[p]), 1, `permute [${perm.join(',')}]`);
}
