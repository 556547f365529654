// Blocks of channels (the last axis of NHWC data) moved between tensors (channel_copy.wgsl, or channel_copy4.wgsl in
// vec4s where every channel count and offset is a multiple of 4): a slice of channels,
// a concatenation along channels, and the slice's adjoint, which puts a slice back in place with zeros around
// it. ShuffleNet's channel split and concatenation are these, and so are the per-group operands of a grouped
// convolution (conv2d/grouped.ts).

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid } from './grid.ts';
import { shapeStr } from './shapes.ts';

const CHANNEL_COPY = kernel({
  shader: 'channel_copy.wgsl',
  params: { n: 'u32', inOff: 'u32', outOff: 'u32' },
  bindings: ['x', 'out'],
  constants: ['IN_C', 'OUT_C', 'COUNT', 'PAD'],
});

const CHANNEL_COPY4 = kernel({
  shader: 'channel_copy4.wgsl',
  params: { n: 'u32', inOff4: 'u32', outOff4: 'u32' },
  bindings: ['x', 'out'],
  constants: ['IN_C4', 'OUT_C4', 'COUNT4', 'PAD'],
});

const channelsOf = (t: Tensor) => t.shape[t.shape.length - 1];

/** Copies channels [inOff, inOff + count) of every row of x into channels [outOff, …) of out (or, with pad, writes all of out). */
function copy(x: Tensor, out: Tensor, inOff: number, outOff: number, count: number, pad: boolean, label: string): void {
  const rows = x.size / channelsOf(x);
  if ([channelsOf(x), channelsOf(out), inOff, outOff, count].every((v) => v % 4 === 0)) {
    const n4 = rows * (pad ? channelsOf(out) : count) / 4;
    if (n4 === 0) return;
    runtime().launch(CHANNEL_COPY4, {
      constants: { IN_C4: channelsOf(x) / 4, OUT_C4: channelsOf(out) / 4, COUNT4: count / 4, PAD: pad ? 1 : 0 },
      params: { n: n4, inOff4: inOff / 4, outOff4: outOff / 4 },
      buffers: { x: x.buffer, out: out.buffer },
      workgroups: elementGrid(n4),
      label,
    });
    return;
  }
  const n = rows * (pad ? channelsOf(out) : count);
  if (n === 0) return;
  runtime().launch(CHANNEL_COPY, {
    constants: { IN_C: channelsOf(x), OUT_C: channelsOf(out), COUNT: count, PAD: pad ? 1 : 0 },
    params: { n, inOff, outOff },
    buffers: { x: x.buffer, out: out.buffer },
    workgroups: elementGrid(n),
    label,
  });
}

function checkRange(op: string, x: Tensor, start: number, count: number): void {
  const C = channelsOf(x);
  if (x.shape.length < 1 || !Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > C) {
    throw new RangeError(`${op}: channels [${start}, ${start + count}) are not within the ${C} channels of ${shapeStr(x.shape)}`);
  }
}

/** Channels [start, start + count) of x (along its last axis) as a new tensor. */
export function channelSlice(x: Tensor, start: number, count: number): Tensor {
  checkRange('sliceChannels', x, start, count);
  const out = new Tensor([...x.shape.slice(0, -1), count]);
  copy(x, out, start, 0, count, false, `slice channels ${start}+${count} of ${shapeStr(x.shape)}`);
  return out;
}

/** g [..., count] placed at channels [start, start + count) of a tensor with C channels, zeros elsewhere. */
export function channelPad(g: Tensor, C: number, start: number): Tensor {
  const count = channelsOf(g);
  if (start < 0 || start + count > C) throw new RangeError(`channel pad: [${start}, ${start + count}) is not within ${C} channels`);
  const out = new Tensor([...g.shape.slice(0, -1), C]);
  copy(g, out, 0, start, count, true, `pad channels ${shapeStr(g.shape)} to ${C}`);
  return out;
}

/** The tensors joined along their last axis (every other dimension equal). */
export function channelConcat(parts: Tensor[]): Tensor {
  if (!parts.length) throw new RangeError('concatChannels: no tensors');
  const lead = parts[0].shape.slice(0, -1);
  for (const t of parts) {
    if (t.shape.length !== lead.length + 1 || t.shape.slice(0, -1).some((d, i) => d !== lead[i])) {
      throw new RangeError(`concatChannels: shapes ${parts.map((p) => shapeStr(p.shape)).join(', ')} differ other than in their last axis`);
    }
  }
  const out = new Tensor([...lead, parts.reduce((a, t) => a + channelsOf(t), 0)]);
  let at = 0;
  for (const t of parts) {
    copy(t, out, 0, at, channelsOf(t), false, `concat channels ${shapeStr(t.shape)} at ${at}`);
    at += channelsOf(t);
  }
  return out;
}

/** Copies all channels of part into channels [outOff, …) of out (a concatenation written one part at a time). */
export function channelCopyInto(part: Tensor, out: Tensor, outOff: number): void {
  copy(part, out, 0, outOff, channelsOf(part), false, `copy channels ${shapeStr(part.shape)} into ${shapeStr(out.shape)} at ${outOff}`);
}
