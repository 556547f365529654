// K×K pooling with stride K over NHWC data (pool2d.wgsl), max or average, and its backward: each input pixel
// takes the gradient of the window it is in — all of it for the window's maximum, a 1/K² share for an average.
// The backward runs a window of four channels per invocation (pool2d_backward4.wgsl) when the channels come in
// fours and the windows tile the input, else one element per invocation (pool2d_backward.wgsl). The geometry is
// override constants, so each layer shape is its own pipeline.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid, vec4Grid } from './grid.ts';
import { assertShape, shapeStr } from './shapes.ts';

const POOL = kernel({ shader: 'pool2d.wgsl', params: { n: 'u32' }, bindings: ['x', 'y'], constants: ['MAX', 'H', 'W', 'C', 'K'] });
const POOL_BACKWARD = kernel({
  shader: 'pool2d_backward.wgsl',
  params: { n: 'u32' },
  bindings: ['x', 'g', 'dx'],
  constants: ['MAX', 'H', 'W', 'C', 'K'],
});

const POOL_BACKWARD4 = kernel({
  shader: 'pool2d_backward4.wgsl',
  uses: ['vec4_each.wgsl'],
  params: { windows: 'u32' },
  bindings: ['x', 'g', 'dx'],
  constants: ['MAX', 'Ho', 'Wo', 'C4', 'K'],
});

export interface Pooling {
  max: boolean;
  K: number;
}

function geometry(op: string, x: Tensor, K: number) {
  assertShape(op, 'x', x, 4);
  const [N, H, W, C] = x.shape;
  const Ho = Math.floor(H / K);
  const Wo = Math.floor(W / K);
  if (Ho < 1 || Wo < 1) throw new RangeError(`${op}: window ${K}×${K} larger than input ${shapeStr(x.shape)}`);
  return { N, H, W, C, Ho, Wo };
}

const opName = (p: Pooling) => (p.max ? 'maxPool2d' : 'avgPool2d');

export function pool2dForward(x: Tensor, p: Pooling): Tensor {
  const { N, H, W, C, Ho, Wo } = geometry(opName(p), x, p.K);
  const y = new Tensor([N, Ho, Wo, C]);
  runtime().launch(POOL, {
    constants: { MAX: p.max ? 1 : 0, H, W, C, K: p.K },
    params: { n: y.size },
    buffers: { x: x.buffer, y: y.buffer },
    workgroups: elementGrid(y.size),
    label: opName(p),
  });
  return y;
}

export function pool2dBackward(x: Tensor, g: Tensor, p: Pooling): Tensor {
  const [N, H, W, C] = x.shape;
  const dx = new Tensor([...x.shape]);
  const K = p.K;
  if (C % 4 === 0 && H % K === 0 && W % K === 0) {
    const [Ho, Wo, C4] = [H / K, W / K, C / 4];
    runtime().launch(POOL_BACKWARD4, {
      constants: { MAX: p.max ? 1 : 0, Ho, Wo, C4, K },
      params: { windows: N * Ho * Wo },
      buffers: { x: x.buffer, g: g.buffer, dx: dx.buffer },
      workgroups: vec4Grid(N * Ho * Wo * C4),
      label: `${opName(p)} backward`,
    });
    return dx;
  }
  runtime().launch(POOL_BACKWARD, {
    constants: { MAX: p.max ? 1 : 0, H, W, C, K: p.K },
    params: { n: dx.size },
    buffers: { x: x.buffer, g: g.buffer, dx: dx.buffer },
    workgroups: elementGrid(dx.size),
    label: `${opName(p)} backward`,
  });
  return dx;
}
