// A convolution's sizes, checked once: NHWC input [N, H, W, Cin], weights [KH, KW, Cin / groups, Cout], output
// [N, Ho, Wo, Cout]. Every pass (forward.ts, input_grad.ts, weight_grad.ts; depthwise.ts and grouped.ts for
// groups > 1) works from this.

import { grid } from '../grid.ts';
import { shapeStr } from '../shapes.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
  /**
   * Channel groups (PyTorch's `groups`): input channels g·Cin/groups … and output channels g·Cout/groups … of
   * group g are convolved on their own, with weights [KH, KW, Cin/groups, Cout]. groups = Cin = Cout is a
   * depthwise convolution.
   */
  groups?: number;
}

export interface Geometry {
  N: number; H: number; W: number; Cin: number;
  Ho: number; Wo: number; Cout: number; KH: number; KW: number;
  stride: number; pad: number;
  /** 1 for the dense convolutions (forward.ts, input_grad.ts, weight_grad.ts); Cin is the whole input's channels. */
  groups: number;
}

export function convGeometry(x: readonly number[], w: readonly number[], stride: number, pad: number, groups = 1): Geometry {
  if (x.length !== 4 || w.length !== 4) {
    throw new RangeError(`conv2d: expects x [N, H, W, Cin] and w [KH, KW, Cin, Cout], got ${shapeStr(x)} and ${shapeStr(w)}`);
  }
  const [N, H, W, Cin] = x;
  const [KH, KW, Cin2, Cout] = w;
  if (!Number.isInteger(groups) || groups < 1 || Cin % groups !== 0 || Cout % groups !== 0) {
    throw new RangeError(`conv2d: ${groups} groups do not divide the channels: x ${shapeStr(x)}, w ${shapeStr(w)}`);
  }
  if (Cin !== Cin2 * groups) {
    const per = groups === 1 ? '' : ` (${groups} groups of ${Cin / groups})`;
    throw new RangeError(`conv2d: input channels differ: x ${shapeStr(x)} vs w ${shapeStr(w)}${per}`);
  }
  if (!(stride >= 1) || !(pad >= 0)) throw new RangeError(`conv2d: invalid stride ${stride} / pad ${pad}`);
  const Ho = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - KW) / stride) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`conv2d: kernel ${KH}×${KW} does not fit input ${H}×${W} with pad ${pad}`);
  }
  return { N, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad, groups };
}

/** Spreads a row count over x (and z beyond the per-dimension limit). */
export function rowGroups(rows: number, perGroup: number): { x: number; z: number } {
  const [x, z] = grid(Math.ceil(rows / perGroup));
  return { x, z };
}
