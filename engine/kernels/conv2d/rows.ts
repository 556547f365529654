// The row kernel (conv2d_rows.wgsl): a direct convolution over 8-pixel row segments, weights packed per block of
// up to 16 output columns by conv2d_pack_weights.wgsl and shared across the workgroup (through subgroup
// broadcasts where 8-lane subgroups exist, else a uniform buffer). The forward pass and the input gradient both
// run on it (forward.ts, input_grad.ts); choice.ts says when.

import { runtime, kernel } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import { elementGrid, grid } from '../grid.ts';
import { UNIFORM_BYTES, UP_TM, rowsTM, rowsTN } from './choice.ts';

const PACK_WEIGHTS = kernel({
  shader: 'conv2d_pack_weights.wgsl',
  params: { KH: 'u32', KW: 'u32', Cin: 'u32', Cout: 'u32', total: 'u32', PKH: 'u32', ay: 'i32', sy: 'i32', ax: 'i32', sx: 'i32' },
  bindings: ['W', 'Wb'],
  constants: ['FLIP', 'TN', 'R', 'PKW', 'STRIDE'],
});

const ROWS = kernel({
  shader: 'conv2d_rows.wgsl',
  variants: {
    subgroup: ['subgroup8.wgsl', 'conv2d_rows_wsubgroup.wgsl'],
    uniform: ['conv2d_rows_wuniform.wgsl'],
  },
  params: {
    N: 'u32', H: 'u32', W: 'u32', R: 'u32', Ho: 'u32', Wo: 'u32', C: 'u32', KH: 'u32',
    padY: 'i32', padX: 'i32', segs: 'u32', col0: 'u32', hasBias: 'u32', YH: 'u32', y0: 'u32', YS: 'u32',
    xStride: 'u32', xOff: 'u32', yStride: 'u32', yOff: 'u32',
  },
  bindings: ['X', 'Wb', 'bias', 'Y'],
  constants: ['TM', 'TN', 'WG', 'KW', 'STRIDE', 'UP', 'UPAD'],
});

/** Channels [offset, offset + count) of a tensor with `stride` channels per pixel: one group's part of a grouped convolution's operand. */
export interface ChannelWindow {
  stride: number;
  offset: number;
}

/** One run of the row kernel: Y = a stride-`stride` convolution of X with KH × KW packed taps. */
export interface RowsPass {
  N: number; H: number; W: number; R: number;   // X [N, H, W, R]
  Ho: number; Wo: number; C: number;            // the outputs it computes
  KH: number; KW: number; padY: number; padX: number; stride: number;
  /**
   * Input gradients: packed tap (u, v) is W[ay + sy·u, ax + sx·v] transposed (conv2d_pack_weights.wgsl); absent:
   * the forward pass, all taps in order.
   */
  mirror?: { ay: number; sy: number; ax: number; sx: number };
  /** The input gradient of a convolution with this stride and padding along x (UP in conv2d_rows.wgsl). */
  up?: { S: number; pad: number };
  /** Where the output rows go: row y0 + YS·oy of `tensor` [N, YH, Wo, C]; absent: a new [N, Ho, Wo, C]. */
  into?: { tensor: Tensor; YH: number; y0: number; YS: number; window?: ChannelWindow };
  /** X's R channels as a window of a wider tensor; absent: X is [N, H, W, R]. */
  xWindow?: ChannelWindow;
}

/** Invocations per workgroup: one SIMD vector and one subgroup (bigger measured no faster and waste more at edges). */
const WG = 8;

/** Runs the row kernel over X with weights packed from w ([KH, KW, Cin, Cout]) as `d` says; returns Y. */
export function convRows(X: Tensor, w: Tensor, bias: Tensor | null, d: RowsPass, label: string): Tensor {
  const into = d.into ?? { tensor: new Tensor([d.N, d.Ho, d.Wo, d.C]), YH: d.Ho, y0: 0, YS: 1 };
  const TN = rowsTN(d.C);
  const blocks = Math.ceil(d.C / TN);
  const rt = runtime();
  const align = Math.max(rt.limits.minUniformBufferOffsetAlignment, rt.limits.minStorageBufferOffsetAlignment) / 4;
  const stride = Math.ceil((d.KH * d.KW * d.R * TN) / align) * align;
  // Each block is bound as a whole uniform buffer (64 KB) but the kernel reads only its first KH·KW·R rows, so
  // only the blocks' strides are packed: the tail of the last binding is never read.
  const packedCount = blocks * stride;
  const packed = new Tensor([(blocks - 1) * stride + UNIFORM_BYTES / 4]);
  const [wKH, wKW, Cin, Cout] = w.shape;
  const m = d.mirror ?? { ay: 0, sy: 1, ax: 0, sx: 1 };
  rt.launch(PACK_WEIGHTS, {
    constants: { FLIP: d.mirror ? 1 : 0, TN, R: d.R, PKW: d.KW, STRIDE: stride },
    params: { KH: wKH, KW: wKW, Cin, Cout, total: packedCount, PKH: d.KH, ay: m.ay, sy: m.sy, ax: m.ax, sx: m.sx },
    buffers: { W: w.buffer, Wb: packed.buffer },
    workgroups: elementGrid(packedCount),
    label: `${label} (pack weights)`,
  });
  const xw = d.xWindow ?? { stride: d.R, offset: 0 };
  const yw = into.window ?? { stride: d.C, offset: 0 };
  const TM = d.up ? UP_TM : rowsTM(TN, d.stride, d.KW);
  const segs = Math.ceil(d.Wo / TM);
  const [gx, gy] = grid(Math.ceil((d.N * d.Ho * segs) / WG));
  for (let b = 0; b < blocks; b++) {
    rt.launch(ROWS, {
      variant: rt.caps.subgroups8 ? 'subgroup' : 'uniform',
      constants: { TM, TN, WG, KW: d.KW, STRIDE: d.stride, ...(d.up ? { UP: d.up.S, UPAD: d.up.pad } : {}) },
      unroll: true, // its tap loop is innermost, which Mesa would not unroll (conv2d_rows.wgsl says why)
      params: {
        N: d.N, H: d.H, W: d.W, R: d.R, Ho: d.Ho, Wo: d.Wo, C: d.C, KH: d.KH, padY: d.padY, padX: d.padX, segs, col0: b * TN,
        hasBias: bias ? 1 : 0, YH: into.YH, y0: into.y0, YS: into.YS,
        xStride: xw.stride, xOff: xw.offset, yStride: yw.stride, yOff: yw.offset,
      },
      buffers: { X: X.buffer, Wb: { buffer: packed.buffer, offset: b * stride * 4, size: UNIFORM_BYTES }, bias: (bias ?? X).buffer, Y: into.tensor.buffer },
      workgroups: [gx, gy],
      label,
      profileLabel: d.mirror ? 'conv2d_rows.wgsl (input-grad)' : 'conv2d_rows.wgsl (forward)',
    });
  }
  packed.dispose();
  return into.tensor;
}
