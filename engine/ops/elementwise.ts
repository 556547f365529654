// Elementwise ops with broadcasting. Each op is one line of forward and one line of derivative rule, in the
// spirit of tinygrad's table; the kernels are shaders/binary.wgsl and shaders/unary.wgsl.

import { record, needsGrad } from '../autograd.ts';
import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { broadcastShapes, broadcastStrides, dispatch, elementGrid, sameShape, shapeStr, toRank4, vec4Grid } from './util.ts';
import { sumToShape } from './reduce.ts';

const BINARY = { add: 0, sub: 1, mul: 2, div: 3, reluBackward: 4, addRelu: 5 } as const;
const UNARY = { relu: 0, exp: 1, log: 2, sqrt: 3, scale: 4, square: 5, addScalar: 6, fill: 7 } as const;

function binaryKernel(op: keyof typeof BINARY, a: Tensor, b: Tensor): Tensor {
  if (sameShape(a.shape, b.shape)) {
    const out = new Tensor([...a.shape]);
    const n4 = Math.ceil(out.size / 4);
    dispatch({
      shader: 'vec4_each.wgsl+binary_same.wgsl',
      constants: { OP: BINARY[op] },
      params: [n4],
      buffers: [a.buffer, b.buffer, out.buffer],
      workgroups: vec4Grid(n4),
      label: op,
    });
    return out;
  }
  if (op === 'addRelu') throw new RangeError(`addRelu: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = new Tensor(shape);
  const r = toRank4(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], op);
  dispatch({
    shader: 'binary.wgsl',
    constants: { OP: BINARY[op], D1: r.shape[1], D2: r.shape[2], D3: r.shape[3] },
    params: [out.size, ...r.strides[0], ...r.strides[1]],
    buffers: [a.buffer, b.buffer, out.buffer],
    workgroups: elementGrid(out.size),
    label: op,
  });
  return out;
}

function unaryKernel(op: keyof typeof UNARY, a: Tensor, alpha = 0): Tensor {
  const out = new Tensor([...a.shape]);
  const n4 = Math.ceil(a.size / 4);
  dispatch({
    shader: 'vec4_each.wgsl+unary.wgsl',
    constants: { OP: UNARY[op] },
    params: [n4, f32(alpha)],
    buffers: [a.buffer, out.buffer],
    workgroups: vec4Grid(n4),
    label: op,
  });
  return out;
}

/** Gradient of a broadcast operand: the output gradient summed back to the operand's shape. */
const unbroadcast = (g: Tensor, t: Tensor) => (sameShape(g.shape, t.shape) ? g.reshape([...t.shape]) : sumToShape(g, t.shape));

export const add = (a: Tensor, b: Tensor) =>
  record(binaryKernel('add', a, b), 'add', [a, b], (g) => [unbroadcast(g, a), unbroadcast(g, b)]);

export const sub = (a: Tensor, b: Tensor) =>
  record(binaryKernel('sub', a, b), 'sub', [a, b], (g) => [unbroadcast(g, a), unbroadcast(neg(g), b)]);

export const mul = (a: Tensor, b: Tensor) =>
  record(binaryKernel('mul', a, b), 'mul', [a, b], (g) => [
    needsGrad(a) ? unbroadcast(binaryKernel('mul', g, b), a) : null,
    needsGrad(b) ? unbroadcast(binaryKernel('mul', g, a), b) : null,
  ]);

export const div = (a: Tensor, b: Tensor) =>
  record(binaryKernel('div', a, b), 'div', [a, b], (g) => [
    needsGrad(a) ? unbroadcast(binaryKernel('div', g, b), a) : null,
    // d(a/b)/db = -a/b² = -(a/b)/b
    needsGrad(b) ? unbroadcast(neg(binaryKernel('div', binaryKernel('mul', g, binaryKernel('div', a, b)), b)), b) : null,
  ]);

export const relu = (x: Tensor) =>
  record(unaryKernel('relu', x), 'relu', [x], (g) => [binaryKernel('reluBackward', g, x)]);

/** relu(a + b) in one pass, for residual connections; a and b have the same shape. */
export const addRelu = (a: Tensor, b: Tensor): Tensor => {
  const y = binaryKernel('addRelu', a, b);
  return record(y, 'addRelu', [a, b], (g) => {
    const d = binaryKernel('reluBackward', g, y);
    return [d, d.reshape([...b.shape])];
  });
};

export const exp = (x: Tensor): Tensor => {
  const y = unaryKernel('exp', x);
  return record(y, 'exp', [x], (g) => [binaryKernel('mul', g, y)]);
};

export const log = (x: Tensor) => record(unaryKernel('log', x), 'log', [x], (g) => [binaryKernel('div', g, x)]);

export const sqrt = (x: Tensor): Tensor => {
  const y = unaryKernel('sqrt', x);
  return record(y, 'sqrt', [x], (g) => [binaryKernel('div', unaryKernel('scale', g, 0.5), y)]);
};

export const square = (x: Tensor) =>
  record(unaryKernel('square', x), 'square', [x], (g) => [binaryKernel('mul', unaryKernel('scale', g, 2), x)]);

export const scale = (x: Tensor, c: number) =>
  record(unaryKernel('scale', x, c), 'scale', [x], (g) => [unaryKernel('scale', g, c)]);

export const neg = (x: Tensor) => scale(x, -1);

export const addScalar = (x: Tensor, c: number) =>
  record(unaryKernel('addScalar', x, c), 'addScalar', [x], (g) => [g.reshape([...x.shape])]);

/** A tensor of the given shape filled with one value (a GPU-side fill; no upload). */
export const filled = (shape: number[], value: number, like: Tensor) => {
  const out = new Tensor(shape);
  const n4 = Math.ceil(out.size / 4);
  dispatch({
    shader: 'vec4_each.wgsl+unary.wgsl',
    constants: { OP: UNARY.fill },
    params: [n4, f32(value)],
    buffers: [like.buffer, out.buffer],
    workgroups: vec4Grid(n4),
    label: 'fill',
  });
  return out;
};
