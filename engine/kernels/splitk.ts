// Split-K: a sum too long for one invocation (a weight gradient sums over every pixel of the batch) is cut into
// slices computed in parallel, each writing its partial result; this sums them in a fixed order, so the result
// is the same on every run (no atomics).

import { kernel, runtime } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid } from './grid.ts';

const SPLITK_REDUCE = kernel({
  shader: 'splitk_reduce.wgsl',
  params: { n: 'u32', splits: 'u32' },
  bindings: ['partial', 'out'],
});

/** Sums partial results [slices, …shape] over the slices in a fixed order, into a new tensor of `shape`; frees partial. */
export function sumSlices(partial: Tensor, shape: number[], slices: number): Tensor {
  const out = new Tensor(shape);
  runtime().launch(SPLITK_REDUCE, {
    params: { n: out.size, splits: slices },
    buffers: { partial: partial.buffer, out: out.buffer },
    workgroups: elementGrid(out.size),
    label: 'split-K reduce',
  });
  partial.dispose();
  return out;
}
