// Attention map for attention transfer (Zagoruyko & Komodakis), as used by CTKD: per sample, the mean over
// channels of x², flattened over positions and L2-normalised. Composed from primitives, so its gradient is
// autograd's.

import { Tensor } from '../tensor.ts';
import { addScalar, div, mul, sqrt, square, sub } from './elementwise.ts';
import { mean, sum } from './reduce.ts';
import { assertShape } from './util.ts';

/** x [N, H, W, C] → [N, H·W]. */
export function attentionMap(x: Tensor): Tensor {
  assertShape('attentionMap', 'x', x, 4);
  const [N, H, W] = x.shape;
  const a = mean(square(x), 3).reshape([N, H * W]);
  // √(‖a‖² + 1e-24) rather than max(‖a‖, 1e-12): the same away from zero, and smooth at zero.
  const norm = sqrt(addScalar(sum(mul(a, a), 1, true), 1e-24));
  return div(a, norm);
}

/** Mean over N·HW of (at(a) − at(b))²: the attention-transfer loss for one pair of feature maps. */
export function attentionLoss(fa: Tensor, fb: Tensor): Tensor {
  return mean(square(sub(attentionMap(fa), attentionMap(fb)))).reshape([1]);
}
