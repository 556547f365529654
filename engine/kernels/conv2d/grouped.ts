// Grouped convolutions that are not depthwise (e.g. ShuffleNet's 1×1 convolutions in 3 groups, or a depthwise
// convolution with a channel multiplier): one dense convolution per group, on the dense kernels as they are
// (forward.ts, input_grad.ts, weight_grad.ts), each group's channels copied out of the whole tensors and its
// results copied into place (channels.ts). The copies are memory-bound and small next to the convolutions; the
// launches grow with the number of groups, which is why depthwise convolutions have kernels of their own.

import { Tensor } from '../../tensor.ts';
import { channelCopyInto, channelSlice } from '../channels.ts';
import { conv2dForward } from './forward.ts';
import type { Geometry } from './geometry.ts';
import { conv2dInputGrad } from './input_grad.ts';
import { conv2dWeightGrad } from './weight_grad.ts';

/** One group's convolution: a dense one from Cin/groups to Cout/groups channels. */
const groupGeometry = (g: Geometry): Geometry => ({ ...g, Cin: g.Cin / g.groups, Cout: g.Cout / g.groups, groups: 1 });

/** Group i's part of a tensor whose last axis holds `groups` blocks of `per` channels (a copy, or the tensor itself for one group). */
const part = (t: Tensor, i: number, per: number, groups: number) => (groups === 1 ? t : channelSlice(t, i * per, per));

function eachGroup(g: Geometry, out: Tensor, per: number, run: (i: number, gg: Geometry) => Tensor): Tensor {
  const gg = groupGeometry(g);
  for (let i = 0; i < g.groups; i++) {
    const r = run(i, gg);
    channelCopyInto(r, out, i * per);
    r.dispose();
  }
  return out;
}

/** y = grouped conv2d(x, w) + bias: output channels of group i from its input channels and its weights' columns. */
export function groupedForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  return eachGroup(g, new Tensor([g.N, g.Ho, g.Wo, g.Cout]), Cog, (i, gg) => {
    const xi = part(x, i, Cg, g.groups);
    const wi = part(w, i, Cog, g.groups); // w [KH, KW, Cg, Cout]: group i's columns
    const bi = bias && part(bias, i, Cog, g.groups);
    const y = conv2dForward(xi, wi, bi, gg);
    [xi, wi, bi].forEach((t) => t?.dispose());
    return y;
  });
}

/** dX: input channels of group i from its output channels' gradient through its weights. */
export function groupedInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  return eachGroup(g, new Tensor([g.N, g.H, g.W, g.Cin]), Cg, (i, gg) => {
    const dyi = part(dy, i, Cog, g.groups);
    const wi = part(w, i, Cog, g.groups);
    const dx = conv2dInputGrad(dyi, wi, gg);
    dyi.dispose();
    wi.dispose();
    return dx;
  });
}

/** dW [KH, KW, Cin/groups, Cout]: group i's columns from its input channels and its output channels' gradient. */
export function groupedWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  return eachGroup(g, new Tensor([g.KH, g.KW, Cg, g.Cout]), Cog, (i, gg) => {
    const xi = part(x, i, Cg, g.groups);
    const dyi = part(dy, i, Cog, g.groups);
    const dw = conv2dWeightGrad(xi, dyi, gg);
    xi.dispose();
    dyi.dispose();
    return dw;
  });
}
