// Which implementation runs a convolution's passes, by its groups: dense convolutions (groups = 1) on the kernels
// of forward.ts, input_grad.ts and weight_grad.ts as choice.ts picks them; depthwise ones on their own kernels
// (depthwise.ts); other grouped ones as one dense convolution per group (grouped.ts).

import type { Tensor } from '../../tensor.ts';
import { depthwiseForward, depthwiseInputGrad, depthwiseWeightGrad, isDepthwise } from './depthwise.ts';
import { conv2dForward } from './forward.ts';
import type { Geometry } from './geometry.ts';
import { groupedForward, groupedInputGrad, groupedWeightGrad } from './grouped.ts';
import { conv2dInputGrad } from './input_grad.ts';
import { conv2dWeightGrad } from './weight_grad.ts';

export type ConvKind = 'dense' | 'depthwise' | 'grouped';

export const convKind = (g: Geometry): ConvKind => (g.groups === 1 ? 'dense' : isDepthwise(g) ? 'depthwise' : 'grouped');

/** y = conv2d(x, w) + bias for a checked geometry of any groups. */
export function convForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const kind = convKind(g);
  return kind === 'dense' ? conv2dForward(x, w, bias, g) : kind === 'depthwise' ? depthwiseForward(x, w, bias, g) : groupedForward(x, w, bias, g);
}

/** dX for any groups. */
export function convInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const kind = convKind(g);
  return kind === 'dense' ? conv2dInputGrad(dy, w, g) : kind === 'depthwise' ? depthwiseInputGrad(dy, w, g) : groupedInputGrad(dy, w, g);
}

/** dW [KH, KW, Cin/groups, Cout] for any groups. */
export function convWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const kind = convKind(g);
  return kind === 'dense' ? conv2dWeightGrad(x, dy, g) : kind === 'depthwise' ? depthwiseWeightGrad(x, dy, g) : groupedWeightGrad(x, dy, g);
}
