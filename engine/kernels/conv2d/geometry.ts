// A convolution's sizes, checked once: NHWC input [N, H, W, Cin], weights [KH, KW, Cin, Cout], output
// [N, Ho, Wo, Cout]. Every pass (forward.ts, input_grad.ts, weight_grad.ts) works from this.

import { grid } from '../grid.ts';
import { shapeStr } from '../shapes.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
}

export interface Geometry {
  N: number; H: number; W: number; Cin: number;
  Ho: number; Wo: number; Cout: number; KH: number; KW: number;
  stride: number; pad: number;
}

export function convGeometry(x: readonly number[], w: readonly number[], stride: number, pad: number): Geometry {
  if (x.length !== 4 || w.length !== 4) {
    throw new RangeError(`conv2d: expects x [N, H, W, Cin] and w [KH, KW, Cin, Cout], got ${shapeStr(x)} and ${shapeStr(w)}`);
  }
  const [N, H, W, Cin] = x;
  const [KH, KW, Cin2, Cout] = w;
  if (Cin !== Cin2) throw new RangeError(`conv2d: input channels differ: x ${shapeStr(x)} vs w ${shapeStr(w)}`);
  if (!(stride >= 1) || !(pad >= 0)) throw new RangeError(`conv2d: invalid stride ${stride} / pad ${pad}`);
  const Ho = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - KW) / stride) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new RangeError(`conv2d: kernel ${KH}×${KW} does not fit input ${H}×${W} with pad ${pad}`);
  }
  return { N, H, W, Cin, Ho, Wo, Cout, KH, KW, stride, pad };
}

/** Spreads a row count over x (and z beyond the per-dimension limit). */
export function rowGroups(rows: number, perGroup: number): { x: number; z: number } {
  const [x, z] = grid(Math.ceil(rows / perGroup));
  return { x, z };
}
