// Sum and mean over axes (shaders/reduce_sum.wgsl). The gradient of a sum broadcasts the output gradient back.

import { record } from '../autograd.ts';
import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { contiguousStrides, dispatch, elementGrid, grid, shapeStr, toRank4 } from './util.ts';
import { expandTo } from './expand.ts';

function normAxes(op: string, rank: number, axes?: number | number[]): number[] {
  const list = axes === undefined ? [...Array(rank).keys()] : Array.isArray(axes) ? axes : [axes];
  const out = list.map((a) => (a < 0 ? a + rank : a));
  for (const a of out) {
    if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${op}: axis ${a} out of range for rank ${rank}`);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Sums of at most this many elements run serially, one output per invocation. */
const SERIAL_MAX = 256;

/** The raw kernel: sums x over `axes`, multiplied by `scale`; output shape keeps reduced dims as 1. */
export function sumKernel(x: Tensor, axes: number[], scale = 1): Tensor {
  const strides = contiguousStrides(x.shape);
  const keptDims = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Tensor(keptDims);
  const kept = toRank4(keptDims, [strides], 'sum');
  const redDims = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
  const red = toRank4(redDims, [strides], 'sum');
  const reduced = redDims.reduce((a, b) => a * b, 1);
  // Short sums run one per invocation (see the kernel); long ones one per workgroup.
  const serial = reduced <= SERIAL_MAX;
  dispatch({
    shader: 'reduce_sum.wgsl',
    constants: {
      OD1: kept.shape[1], OD2: kept.shape[2], OD3: kept.shape[3], RD1: red.shape[1], RD2: red.shape[2], RD3: red.shape[3],
      ...(serial ? { SERIAL: 1 } : {}),
    },
    params: [out.size, reduced, f32(scale), 0, ...kept.strides[0], ...red.strides[0]],
    buffers: [x.buffer, out.buffer],
    workgroups: serial ? elementGrid(out.size) : grid(out.size),
    label: `sum over ${shapeStr(axes)} of ${shapeStr(x.shape)}`,
  });
  return out;
}

function reduceOp(op: string, x: Tensor, axes: number | number[] | undefined, keepDims: boolean, mean: boolean): Tensor {
  const ax = normAxes(op, x.shape.length, axes);
  const count = ax.reduce((a, i) => a * x.shape[i], 1);
  const scale = mean ? 1 / Math.max(count, 1) : 1;
  const k = sumKernel(x, ax, scale);
  const outShape = keepDims ? [...k.shape] : x.shape.filter((_, i) => !ax.includes(i));
  const out = keepDims ? k : k.reshape(outShape);
  if (out !== k) k.dispose();
  return record(out, op, [x], (g) => [expandTo(g.reshape([...k.shape]), x.shape, scale)]);
}

export const sum = (x: Tensor, axes?: number | number[], keepDims = false) => reduceOp('sum', x, axes, keepDims, false);
export const mean = (x: Tensor, axes?: number | number[], keepDims = false) => reduceOp('mean', x, axes, keepDims, true);

/** Sums a broadcast result back to `shape` (the gradient rule of broadcasting). Not recorded. */
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
