// Grouped convolutions that are not depthwise (e.g. ShuffleNet's 1×1 convolutions in 3 groups, or a depthwise
// convolution with a channel multiplier): one dense convolution per group. Where the CPU-driver family's row
// kernels run a group's pass (the forward pass and the input gradient on conv2d_rows.wgsl, the weight gradient on
// conv2d_wgrad_rows.wgsl when the groups are whole vec4s: choice.ts), they read the group's channels of the whole
// activations and write the group's channels of the whole output in place (a channel window, rows.ts);
// otherwise — the other kernels and families — each group's channels are copied out of the whole tensors and its
// results copied into place (channels.ts; the *Copies functions). Those copies moved every activation of
// ShuffleNetV1 several times per step (a fifth of its step on lavapipe: docs/conv-kernels.md). The weights'
// per-group columns are always copied: they are small. The launches grow with the number of groups, which is why
// depthwise convolutions have kernels of their own.

import { Tensor } from '../../tensor.ts';
import { channelCopyInto, channelSlice } from '../channels.ts';
import { familyFor } from '../ladder/family.ts';
import { shapeStr } from '../shapes.ts';
import { inputGradPasses, usesRowKernel, usesWgradRows } from './choice.ts';
import { conv2dForward, forwardRowsPass } from './forward.ts';
import type { Geometry } from './geometry.ts';
import { conv2dInputGrad } from './input_grad.ts';
import { convRows } from './rows.ts';
import { conv2dWeightGrad, conv2dWeightGradRows } from './weight_grad.ts';

/** One group's convolution: a dense one from Cin/groups to Cout/groups channels. */
const groupGeometry = (g: Geometry): Geometry => ({ ...g, Cin: g.Cin / g.groups, Cout: g.Cout / g.groups, groups: 1 });

/** Group i's part of a tensor whose last axis holds `groups` blocks of `per` channels (a copy, or the tensor itself for one group). */
const part = (t: Tensor, i: number, per: number, groups: number) => (groups === 1 ? t : channelSlice(t, i * per, per));

/** Group i's channels of a tensor with `channels` channels in all, as a window of the whole tensor. */
const groupChannels = (g: Geometry, channels: number, i: number) => ({ stride: channels, offset: i * (channels / g.groups) });

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
  const Cog = g.Cout / g.groups;
  const gg = groupGeometry(g);
  if (familyFor('conv_fwd', [gg.N * gg.Ho * gg.Wo, gg.Cout, gg.KH * gg.KW * gg.Cin]) === 'cpu' && usesRowKernel(gg, 'forward')) {
    const out = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
    for (let i = 0; i < g.groups; i++) {
      const wi = part(w, i, Cog, g.groups); // w [KH, KW, Cg, Cout]: group i's columns
      const bi = bias && part(bias, i, Cog, g.groups);
      const into = { tensor: out, YH: g.Ho, y0: 0, YS: 1, window: groupChannels(g, g.Cout, i) };
      convRows(x, wi, bi, { ...forwardRowsPass(gg), xWindow: groupChannels(g, g.Cin, i), into }, `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)} group ${i}`);
      [wi, bi].forEach((t) => t?.dispose());
    }
    return out;
  }
  return groupedForwardCopies(x, w, bias, g);
}

/** The forward pass with each group's channels copied out and its output copied into place (any kernel). */
export function groupedForwardCopies(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  return eachGroup(g, new Tensor([g.N, g.Ho, g.Wo, g.Cout]), Cog, (i, gg) => {
    const xi = part(x, i, Cg, g.groups);
    const wi = part(w, i, Cog, g.groups);
    const bi = bias && part(bias, i, Cog, g.groups);
    const y = conv2dForward(xi, wi, bi, gg);
    [xi, wi, bi].forEach((t) => t?.dispose());
    return y;
  });
}

/** dX: input channels of group i from its output channels' gradient through its weights. */
export function groupedInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const Cog = g.Cout / g.groups;
  const gg = groupGeometry(g);
  const passes = familyFor('conv_dgrad', [gg.N * gg.H * gg.W, gg.Cin, gg.KH * gg.KW * gg.Cout]) === 'cpu' ? inputGradPasses(gg) : null;
  if (passes) {
    const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
    for (let i = 0; i < g.groups; i++) {
      const wi = part(w, i, Cog, g.groups);
      for (const { py, pass } of passes) {
        const into = { tensor: dx, YH: g.H, y0: py, YS: g.stride, window: groupChannels(g, g.Cin, i) };
        convRows(dy, wi, null, { ...pass, xWindow: groupChannels(g, g.Cout, i), into }, `conv2d input-grad ${shapeStr(dy.shape)} group ${i}`);
      }
      wi.dispose();
    }
    return dx;
  }
  return groupedInputGradCopies(dy, w, g);
}

/** dX with each group's channels copied out and in (any kernel). */
export function groupedInputGradCopies(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  return eachGroup(g, new Tensor([g.N, g.H, g.W, g.Cin]), Cg, (i, gg) => {
    const dyi = part(dy, i, Cog, g.groups);
    const wi = part(w, i, Cog, g.groups);
    const dxi = conv2dInputGrad(dyi, wi, gg);
    dyi.dispose();
    wi.dispose();
    return dxi;
  });
}

/** dW [KH, KW, Cin/groups, Cout]: group i's columns from its input channels and its output channels' gradient. */
export function groupedWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const [Cg, Cog] = [g.Cin / g.groups, g.Cout / g.groups];
  const gg = groupGeometry(g);
  // In place where the kernel along rows runs the group and reads whole vec4s of it.
  const inPlace = Cg % 4 === 0 && Cog % 4 === 0 && usesWgradRows(gg) &&
    familyFor('conv_wgrad', [gg.KH * gg.KW * gg.Cin, gg.Cout, gg.N * gg.Ho * gg.Wo]) === 'cpu';
  if (inPlace) {
    return eachGroup(g, new Tensor([g.KH, g.KW, Cg, g.Cout]), Cog, (i) => conv2dWeightGradRows(x, dy, gg, { x: groupChannels(g, g.Cin, i), dy: groupChannels(g, g.Cout, i) }));
  }
  return groupedWeightGradCopies(x, dy, g);
}

/** dW with each group's channels copied out (any kernel). */
export function groupedWeightGradCopies(x: Tensor, dy: Tensor, g: Geometry): Tensor {
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
