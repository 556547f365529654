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

export function maxPool2d(x: Tensor, K = 2): Tensor {
  const { N, H, W, C, Ho, Wo } = poolParams('maxPool2d', x, K);
  const y = new Tensor([N, Ho, Wo, C]);
  dispatch({
    shader: 'maxpool2d.wgsl',
    constants: { H, W, C, K },
    params: [y.size],
    buffers: [x.buffer, y.buffer],
    workgroups: elementGrid(y.size),
    label: 'maxpool2d',
  });
  return record(y, 'maxPool2d', [x], (g) => {
    const dx = new Tensor([...x.shape]);
    dispatch({
      shader: 'maxpool2d_backward.wgsl',
      constants: { H, W, C, K },
      params: [dx.size],
      buffers: [x.buffer, g.buffer, dx.buffer],
      workgroups: elementGrid(dx.size),
      label: 'maxpool2d backward',
    });
    return [dx];
  });
}

export function avgPool2d(x: Tensor, K = 2): Tensor {
  const { N, H, W, C, Ho, Wo } = poolParams('avgPool2d', x, K);
  const y = new Tensor([N, Ho, Wo, C]);
  dispatch({
    shader: 'avgpool2d.wgsl',
    constants: { H, W, C, K },
    params: [y.size],
    buffers: [x.buffer, y.buffer],
    workgroups: elementGrid(y.size),
    label: 'avgpool2d',
  });
  return record(y, 'avgPool2d', [x], (g) => {
    const dx = new Tensor([...x.shape]);
    dispatch({
      shader: 'avgpool2d_backward.wgsl',
      constants: { H, W, C, K },
      params: [dx.size],
      buffers: [g.buffer, dx.buffer],
      workgroups: elementGrid(dx.size),
      label: 'avgpool2d backward',
    });
    return [dx];
  });
}

/** [N, H, W, C] → [N, C]: the mean over all positions. */
export function globalAvgPool(x: Tensor): Tensor {
  assertShape('globalAvgPool', 'x', x, 4);
  return mean(x, [1, 2]);
}
