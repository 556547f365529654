// Element-wise kernels: binary ops with broadcasting (binary.wgsl; same-shape operands in vec4s through
// binary_same.wgsl), unary ops in vec4s (unary.wgsl), and fills (fill.wgsl). The op is an override constant, so
// each op is its own compiled pipeline with no branch at run time.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid, vec4Grid } from './grid.ts';
import { broadcastShapes, broadcastStrides, sameShape, shapeStr, toRank4 } from './shapes.ts';

/** The OP codes of binary.wgsl / binary_same.wgsl and unary.wgsl (each a named `case` there: test/contracts.test.ts). */
export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, reluBackward: 4, addRelu: 5, relu6Backward: 6 } as const;
export const UNARY_OPS = { relu: 0, exp: 1, log: 2, sqrt: 3, scale: 4, square: 5, addScalar: 6, relu6: 7 } as const;
export type BinaryOp = keyof typeof BINARY_OPS;
export type UnaryOp = keyof typeof UNARY_OPS;

const BINARY_SAME = kernel({
  shader: 'binary_same.wgsl',
  uses: ['vec4_each.wgsl'],
  params: { n4: 'u32' },
  bindings: ['a', 'b', 'out'],
  constants: ['OP'],
});

const BINARY = kernel({
  shader: 'binary.wgsl',
  uses: ['index4.wgsl'],
  params: { n: 'u32', sa: 'vec4<u32>', sb: 'vec4<u32>' },
  bindings: ['a', 'b', 'out'],
  constants: ['OP', 'D1', 'D2', 'D3'],
});

const FILL = kernel({
  shader: 'fill.wgsl',
  uses: ['vec4_each.wgsl'],
  params: { n4: 'u32', value: 'f32' },
  bindings: ['out'],
});

const UNARY = kernel({
  shader: 'unary.wgsl',
  uses: ['vec4_each.wgsl'],
  params: { n4: 'u32', alpha: 'f32' },
  bindings: ['a', 'out'],
  constants: ['OP'],
});

/** out = op(a, b), broadcasting like numpy (addRelu only for operands of one shape). */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) {
    const out = new Tensor([...a.shape]);
    const n4 = Math.ceil(out.size / 4);
    runtime().launch(BINARY_SAME, {
      constants: { OP: BINARY_OPS[op] },
      params: { n4 },
      buffers: { a: a.buffer, b: b.buffer, out: out.buffer },
      workgroups: vec4Grid(n4),
      label: op,
    });
    return out;
  }
  if (op === 'addRelu') throw new RangeError(`addRelu: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = new Tensor(shape);
  const r = toRank4(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], op);
  runtime().launch(BINARY, {
    constants: { OP: BINARY_OPS[op], D1: r.shape[1], D2: r.shape[2], D3: r.shape[3] },
    params: { n: out.size, sa: r.strides[0], sb: r.strides[1] },
    buffers: { a: a.buffer, b: b.buffer, out: out.buffer },
    workgroups: elementGrid(out.size),
    label: op,
  });
  return out;
}

/** out = op(a) with a per-launch scalar alpha (scale, addScalar). */
export function unary(op: UnaryOp, a: Tensor, alpha = 0): Tensor {
  const out = new Tensor([...a.shape]);
  const n4 = Math.ceil(a.size / 4);
  runtime().launch(UNARY, {
    constants: { OP: UNARY_OPS[op] },
    params: { n4, alpha },
    buffers: { a: a.buffer, out: out.buffer },
    workgroups: vec4Grid(n4),
    label: op,
  });
  return out;
}

/** A tensor of the given shape filled with one value (a GPU-side fill; no upload). */
export function filled(shape: number[], value: number): Tensor {
  const out = new Tensor(shape);
  const n4 = Math.ceil(out.size / 4);
  runtime().launch(FILL, {
    params: { n4, value },
    buffers: { out: out.buffer },
    workgroups: vec4Grid(n4),
    label: 'fill',
  });
  return out;
}
