// Layout ops: permute (rank ≤ 4, shaders/strided_copy.wgsl) and flatten in PyTorch's NCHW order, so that a
// plain CNN's first fully-connected layer has the same weights here as in a PyTorch checkpoint.

import { record } from '../autograd.ts';
import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { contiguousStrides, dispatch, elementGrid, shapeStr } from './util.ts';

function permuteKernel(x: Tensor, perm: number[]): Tensor {
  const outShape = perm.map((p) => x.shape[p]);
  const strides = contiguousStrides(x.shape);
  const s = perm.map((p) => strides[p]);
  while (outShape.length < 4) {
    outShape.unshift(1);
    s.unshift(0);
  }
  const out = new Tensor(perm.map((p) => x.shape[p]));
  dispatch({
    shader: 'strided_copy.wgsl',
    constants: { D1: outShape[1], D2: outShape[2], D3: outShape[3] },
    params: [out.size, ...s, f32(1)],
    buffers: [x.buffer, out.buffer],
    workgroups: elementGrid(out.size),
    label: `permute [${perm.join(',')}]`,
  });
  return out;
}

export function permute(x: Tensor, perm: number[]): Tensor {
  const rank = x.shape.length;
  if (rank > 4 || perm.length !== rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new RangeError(`permute: [${perm.join(', ')}] is not a permutation of the ${rank} dims of ${shapeStr(x.shape)} (rank ≤ 4)`);
  }
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return record(permuteKernel(x, perm), 'permute', [x], (g) => [permuteKernel(g, inverse)]);
}

/** [N, H, W, C] → [N, C·H·W] in NCHW order (PyTorch's flatten of an NCHW tensor). */
export function flatten(x: Tensor): Tensor {
  if (x.shape.length !== 4) return x.reshape([x.shape[0], -1]);
  const [N, H, W, C] = x.shape;
  if (H === 1 && W === 1) return x.reshape([N, C]);
  const p = permute(x, [0, 3, 1, 2]);
  const out = p.reshape([N, C * H * W]);
  p.dispose();
  return out;
}
