// Broadcasting a tensor to a larger shape (times a scalar): the gradient rule of sum and mean.

import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { broadcastStrides, dispatch, elementGrid, toRank4 } from './util.ts';

export function expandTo(x: Tensor, shape: readonly number[], scale = 1): Tensor {
  const out = new Tensor([...shape]);
  const r = toRank4([...shape], [broadcastStrides(x.shape, shape)], 'expand');
  dispatch({
    shader: 'strided_copy.wgsl',
    constants: { D1: r.shape[1], D2: r.shape[2], D3: r.shape[3] },
    params: [out.size, ...r.strides[0], f32(scale)],
    buffers: [x.buffer, out.buffer],
    workgroups: elementGrid(out.size),
    label: 'expand',
  });
  return out;
}
