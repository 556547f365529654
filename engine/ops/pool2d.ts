// Pooling over NHWC data: max and average with K×K windows and stride K, and global average pooling.

import { record } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { mean } from './reduce.ts';
import { assertShape, dispatch, elementGrid, shapeStr } from './util.ts';

function poolParams(op: string, x: Tensor, K: number) {
  assertShape(op, 'x', x, 4);
  const [N, H, W, C] = x.shape;
  const Ho = Math.floor(H / K);
  const Wo = Math.floor(W / K);
  if (Ho < 1 || Wo < 1) throw new RangeError(`${op}: window ${K}×${K} larger than input ${shapeStr(x.shape)}`);
  return { N, H, W, C, Ho, Wo };
}

/** K×K pooling with stride K (shaders/pool2d.wgsl and pool2d_backward.wgsl): max or average. */
function pool2d(x: Tensor, K: number, max: boolean): Tensor {
  const op = max ? 'maxPool2d' : 'avgPool2d';
  const { N, H, W, C, Ho, Wo } = poolParams(op, x, K);
  const constants = { MAX: max ? 1 : 0, H, W, C, K };
  const y = new Tensor([N, Ho, Wo, C]);
  dispatch({ shader: 'pool2d.wgsl', constants, params: [y.size], buffers: [x.buffer, y.buffer], workgroups: elementGrid(y.size), label: op });
  return record(y, op, [x], (g) => {
    const dx = new Tensor([...x.shape]);
    dispatch({
      shader: 'pool2d_backward.wgsl',
      constants,
      params: [dx.size],
      buffers: [x.buffer, g.buffer, dx.buffer],
      workgroups: elementGrid(dx.size),
      label: `${op} backward`,
    });
    return [dx];
  });
}

export const maxPool2d = (x: Tensor, K = 2) => pool2d(x, K, true);
export const avgPool2d = (x: Tensor, K = 2) => pool2d(x, K, false);

/** [N, H, W, C] → [N, C]: the mean over all positions. */
export function globalAvgPool(x: Tensor): Tensor {
  assertShape('globalAvgPool', 'x', x, 4);
  return mean(x, [1, 2]);
}
