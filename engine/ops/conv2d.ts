// 2-D convolution, NHWC activations and [KH, KW, Cin, Cout] weights. Three kinds of kernel:
// - the forward pass at stride 1 or a stride no wider than the kernel, and the input gradient (a convolution of
//   dY with the mirrored weights; at stride 2 one class of input rows at a time): conv2d_rows.wgsl, a direct
//   convolution over 8-pixel row segments (16 for 4-column blocks) with the weights bound as a uniform buffer,
//   one dispatch per block of up to 16 columns (packed by conv2d_pack_weights.wgsl);
// - otherwise (1×1 strided layers, rows under 8 pixels, weight blocks over 64 KB, strides 2 and up on
//   SwiftShader) each pass is one implicit-GEMM kernel (conv2d_fwd.wgsl, conv2d_dgrad.wgsl) on the same
//   register-blocked core as matmul.wgsl;
// - the weight gradient splits its long pixel dimension across workgroups and sums the slices in a second pass:
//   along output rows (conv2d_wgrad_rows.wgsl) for kernels up to 3 wide, else (and for inputs of fewer than 8
//   channel quads per kernel row, e.g. RGB) as an implicit GEMM (conv2d_wgrad.wgsl).
// The GEMM kernels read their right-hand operand in vec4s from rows padded to a multiple of 4: the weights as
// they are (forward, when Cout % 4 == 0), transposed per tap (input gradient, always: a few KB), dY as it is
// (weight gradient, when Cout % 4 == 0); the weight gradient also reads X in vec4s of 4 channels (when
// Cin % 4 == 0). packVec4 makes the padded copy when one is needed.
import { needsGrad, record } from '../autograd.ts';
import { Tensor } from '../tensor.ts';
import { filled } from './elementwise.ts';
import { sumKernel } from './reduce.ts';
import { packVec4 } from './matmul.ts';
import { gemmShader, tileFor } from './tiles.ts';
import { runtime } from '../runtime.ts';
import { dispatch, elementGrid, grid, shapeStr } from './util.ts';

export interface Conv2dOptions {
  stride?: number;
  pad?: number;
}

interface Geometry {
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
function rowGroups(rows: number, perGroup: number): { x: number; z: number } {
  const [x, z] = grid(Math.ceil(rows / perGroup));
  return { x, z };
}

// ---- the row-segment kernel with uniform-buffer weights (conv2d_rows.wgsl) ------------------------------------

/** Bytes a uniform binding may hold (WebGPU's default limit; conv2d_rows.wgsl declares exactly this much). */
const UNIFORM_BYTES = 65536;
/** Columns per block of the row kernel, at most (a multiple of 4; conv2d_rows_wsubgroup.wgsl takes up to 16). */
const ROWS_TN = 16;

/**
 * Columns per block for C output columns: 16, or the multiple of 4 that covers C when it is smaller. Every
 * invocation computes TN columns whether or not they exist, so the stem's input gradient (C = 3) in 16-column
 * blocks threw away 13 of every 16 multiply-adds. With 4 it measured 11.3 vs 5.3 GFLOP/s, and a forward pass to
 * 8 channels (64×32×32×16→8) 22.5 vs 14.4 (lavapipe, consecutive runs).
 */
function rowsTN(C: number): number {
  return Math.min(ROWS_TN, Math.ceil(C / 4) * 4);
}

/**
 * Output pixels per invocation of the row kernel. With each accumulator taking its taps in a row (see
 * conv2d_rows.wgsl), 8 measured best on lavapipe (same run, GFLOP/s forward / input gradient: 32×32×16→16 31–32 /
 * 30–33 against 30 / 25 for 16 and 21 / 18 for 24; 16×16×32→32 39–42 / 33–38 against 37 / 26) and takes the 8×8
 * layers off the implicit GEMM (8×8×64→64: 43 / 43 against ~21 / 22). It also compiles in ~6 s instead of ~16 s.
 * (In the earlier loop order 16 was best on lavapipe; SwiftShader, which gets the loops unrolled in the text,
 * always ran 8: 16 would take it minutes to compile.)
 */
const ROWS_TM = 8;
/** The same for the strided input gradient (UP in conv2d_rows.wgsl): 16 measured no faster (0.95–1.07×). */
const UP_TM = 8;
/** The widest kernel row the row kernel's weight registers hold (KMAX in conv2d_rows.wgsl). */
const ROWS_KMAX = 7;

/** Output pixels per invocation for 4-column blocks (rowsTM). */
const NARROW_TM = 16;

/** Whether a segment of TM pixels at this stride reads at most the kernel's 32 input values (XL ≤ XS). */
const windowFits = (TM: number, stride: number, KW: number) => stride * (TM - 1) + KW <= 32;

/**
 * Output pixels per invocation for a pass with TN columns: a 4-column block takes 16-pixel segments where the
 * input window allows: its accumulators are a quarter of a 16-column block's, and the longer window shares each
 * weight over more pixels. The stem's input gradient: 1.13–1.17× of 8-pixel segments on lavapipe (same
 * process, two runs); an 8-column block gained nothing measurable (1.03×). Not where the text is unrolled
 * (SwiftShader), whose compile time grows with the segment.
 */
function rowsTM(TN: number, stride: number, KW: number): number {
  return TN === 4 && windowFits(NARROW_TM, stride, KW) && !runtime().unrollLoops ? NARROW_TM : ROWS_TM;
}

/**
 * Whether the row kernel applies: stride 1, or a stride no wider than the kernel (so that every input value under
 * a segment is used: 3×3 at stride 2 measured 30–31 vs 20–21 GFLOP/s for the implicit GEMM on lavapipe, while
 * 1×1 at stride 2, which reuses nothing, measured 0.7–0.9× of it), except on SwiftShader (where the loops are
 * unrolled in the text), whose compiler ran out of memory (24 GB) on the strided variant; output rows at least
 * one segment wide; kernels at most ROWS_KMAX wide; the input values under a segment
 * (STRIDE·(TM − 1) + KW) within the kernel's 32; and one column block of weights (KH·KW·R·16 floats) within a
 * uniform binding.
 */
function rowsFit(KH: number, KW: number, R: number, stride: number, Wo: number): boolean {
  const strideOk = stride === 1 || (KW >= stride && !runtime().unrollLoops);
  const weightsFit = KH * KW * R * ROWS_TN * 4 <= UNIFORM_BYTES;
  return strideOk && Wo >= ROWS_TM && KW <= ROWS_KMAX && windowFits(ROWS_TM, stride, KW) && weightsFit;
}

/** One run of the row kernel: Y = a stride-`stride` convolution of X with KH × KW packed taps. */
interface RowsPass {
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
  into?: { tensor: Tensor; YH: number; y0: number; YS: number };
}

/** The UP-variant's input window (XL in conv2d_rows.wgsl): TM output pixels reach this many input values, at most 32. */
function upWindow(S: number, pad: number, KW: number): number {
  const UOFF = S * Math.ceil((KW - 1) / S);
  return Math.floor((UP_TM - 1 + pad + UOFF) / S) + 1;
}

/** Runs the row kernel over X with weights packed from w ([KH, KW, Cin, Cout]) as `d` says; returns Y. */
function convRows(X: Tensor, w: Tensor, bias: Tensor | null, d: RowsPass, label: string): Tensor {
  const into = d.into ?? { tensor: new Tensor([d.N, d.Ho, d.Wo, d.C]), YH: d.Ho, y0: 0, YS: 1 };
  const TN = rowsTN(d.C);
  const blocks = Math.ceil(d.C / TN);
  const rt = runtime();
  // Weights shared through subgroup broadcasts where 8-lane subgroups exist, else through a uniform buffer
  // (conv2d_rows.wgsl says why); both read the same packed blocks.
  const weightsFile = rt.subgroups8 ? 'subgroup8.wgsl+conv2d_rows_wsubgroup.wgsl' : 'conv2d_rows_wuniform.wgsl';
  const align = Math.max(rt.limits.minUniformBufferOffsetAlignment, rt.limits.minStorageBufferOffsetAlignment) / 4;
  const stride = Math.ceil((d.KH * d.KW * d.R * TN) / align) * align;
  // Each block is bound as a whole uniform buffer (64 KB) but the kernel reads only its first KH·KW·R rows, so
  // only the blocks' strides are packed: the tail of the last binding is never read (packing all 64 KB of it
  // took 0.4 ms a layer, 2% of a ResNet-8 step).
  const packedCount = blocks * stride;
  const packed = new Tensor([(blocks - 1) * stride + UNIFORM_BYTES / 4]);
  const [wKH, wKW, Cin, Cout] = w.shape;
  const m = d.mirror ?? { ay: 0, sy: 1, ax: 0, sx: 1 };
  dispatch({
    shader: 'conv2d_pack_weights.wgsl',
    constants: { FLIP: d.mirror ? 1 : 0, TN, R: d.R, PKW: d.KW, STRIDE: stride },
    params: [wKH, wKW, Cin, Cout, packedCount, d.KH, m.ay, m.sy, m.ax, m.sx, 0, 0],
    buffers: [w.buffer, packed.buffer],
    workgroups: elementGrid(packedCount),
    label: `${label} (pack weights)`,
  });
  const WG = 8;   // one SIMD vector (and one subgroup); bigger workgroups measured no faster and waste more at the edges
  const TM = d.up ? UP_TM : rowsTM(TN, d.stride, d.KW);
  const segs = Math.ceil(d.Wo / TM);
  const [gx, gy] = grid(Math.ceil((d.N * d.Ho * segs) / WG));
  for (let b = 0; b < blocks; b++) {
    dispatch({
      shader: `${weightsFile}+conv2d_rows.wgsl`,
      constants: {
        TM, TN, WG, KW: d.KW, STRIDE: d.stride,
        ...(d.up ? { UP: d.up.S, UPAD: d.up.pad } : {}),
      },
      unroll: true,   // its tap loop is innermost, which Mesa would not unroll (conv2d_rows.wgsl says why)
      params: [
        d.N, d.H, d.W, d.R, d.Ho, d.Wo, d.C, d.KH, d.padY, d.padX, segs, b * TN,
        bias ? 1 : 0, into.YH, into.y0, into.YS,
      ],
      buffers: [X.buffer, { buffer: packed.buffer, offset: b * stride * 4, size: UNIFORM_BYTES }, (bias ?? X).buffer, into.tensor.buffer],
      workgroups: [gx, gy],
      label,
      profileLabel: d.mirror ? 'conv2d_rows.wgsl (input-grad)' : 'conv2d_rows.wgsl (forward)',
    });
  }
  packed.dispose();
  return into.tensor;
}

/**
 * The input gradient on the row kernel, as the passes that write it, with where each goes (into), or null where
 * the row kernel does not fit (the implicit GEMM runs it then).
 * - Stride 1: one pass, the convolution of dY with the mirrored, transposed weights, padded by K − 1 − pad.
 * - Stride S dividing the 8-pixel segment (S = 2 in our models), not on SwiftShader (its compiler ran out of
 *   memory on the strided forward variant): one pass per class of input rows py. Row iy = py + S·a takes dY row
 *   (iy + pad − ky) / S from the kernel rows ky ≡ py + pad (mod S): ky = ky0 + S·t, dY rows a + cy − t with
 *   cy = ⌊(py + pad) / S⌋; mirrored (u = KHc − 1 − t) that is a stride-1 convolution along y with KHc rows and
 *   padding KHc − 1 − cy (negative for some classes when the stride exceeds the padding). Along x each pixel
 *   takes the taps that reach it (UP in conv2d_rows.wgsl). A 3×3 kernel at stride 2 gives rows of one and of
 *   two taps. A class that no kernel row reaches (1×1 at stride 2) is left to the GEMM, which measured faster
 *   for those layers anyway.
 * Paddings are signed: a kernel narrower than twice its padding (1×3 with padding 1) pads its input gradient
 * by −1 along the narrow axis.
 */
function inputGradPasses(g: Geometry): { pass: RowsPass; py: number }[] | null {
  const S = g.stride;
  const common = { N: g.N, H: g.Ho, W: g.Wo, R: g.Cout, Wo: g.W, C: g.Cin, KW: g.KW, stride: 1 };
  if (S === 1) {
    const padY = g.KH - 1 - g.pad;
    const padX = g.KW - 1 - g.pad;
    if (!rowsFit(g.KH, g.KW, g.Cout, 1, g.W)) return null;
    const mirror = { ay: g.KH - 1, sy: -1, ax: g.KW - 1, sx: -1 };
    return [{ py: 0, pass: { ...common, Ho: g.H, KH: g.KH, padY, padX, mirror } }];
  }
  if (UP_TM % S !== 0 || runtime().unrollLoops || upWindow(S, g.pad, g.KW) > 32) return null;
  const passes: { pass: RowsPass; py: number }[] = [];
  for (let py = 0; py < S && py < g.H; py++) {
    const ky0 = (py + g.pad) % S;
    const KHc = Math.max(0, Math.ceil((g.KH - ky0) / S));
    const padY = KHc - 1 - Math.floor((py + g.pad) / S);
    if (KHc === 0 || !rowsFit(KHc, g.KW, g.Cout, 1, g.W)) return null;
    const mirror = { ay: ky0 + S * (KHc - 1), sy: -S, ax: 0, sx: 1 };
    const pass = { ...common, Ho: Math.ceil((g.H - py) / S), KH: KHc, padY, padX: 0, mirror, up: { S, pad: g.pad } };
    passes.push({ py, pass });
  }
  return passes;
}

/** Whether a pass of this convolution runs on the row kernel (else on an implicit GEMM, whose tiles can be tuned). */
export function usesRowKernel(g: Geometry, pass: 'forward' | 'input-grad'): boolean {
  if (pass === 'forward') return rowsFit(g.KH, g.KW, g.Cin, g.stride, g.Wo);
  return inputGradPasses(g) !== null;
}

export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  if (usesRowKernel(g, 'forward')) {
    const d = { N: g.N, H: g.H, W: g.W, R: g.Cin, Ho: g.Ho, Wo: g.Wo, C: g.Cout, KH: g.KH, KW: g.KW, padY: g.pad, padX: g.pad, stride: g.stride };
    return convRows(x, w, bias, d, `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`);
  }
  return conv2dForwardGemm(x, w, bias, g);
}

/** The forward pass as an implicit GEMM (conv2d_fwd.wgsl): where the row kernel does not apply (see rowsFit). */
export function conv2dForwardGemm(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const out = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
  const M = g.N * g.Ho * g.Wo;
  const K = g.KH * g.KW * g.Cin;
  const t = tileFor('conv_fwd', M, g.Cout, K);
  const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
  const w4 = g.Cout % 4 === 0 ? null : packVec4(w, 1, K, g.Cout, 0, g.Cout, 1);
  dispatch({
    shader: gemmShader('conv2d_fwd.wgsl', t),
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, g.stride, g.pad, bias ? 1 : 0, Math.ceil(g.Cout / 4), 0, 0, 0],
    buffers: [x.buffer, (w4 ?? w).buffer, (bias ?? w).buffer, out.buffer],
    workgroups: [gx, Math.ceil(g.Cout / t.TN), gz],
    label: `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)}`,
  });
  w4?.dispose();
  return out;
}

export function conv2dInputGrad(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const passes = inputGradPasses(g);
  if (!passes) return conv2dInputGradGemm(dy, w, g);
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  for (const { py, pass } of passes) {
    const into = { tensor: dx, YH: g.H, y0: py, YS: g.stride };
    convRows(dy, w, null, { ...pass, into }, `conv2d input-grad ${shapeStr(dy.shape)}`);
  }
  return dx;
}

/** The input gradient as an implicit GEMM per pixel class (conv2d_dgrad.wgsl): where the row kernel does not apply. */
export function conv2dInputGradGemm(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const S = g.stride;
  // Kernel rows (columns) feed input rows (columns) py with (py + pad − ky) divisible by S. Pixel classes that no
  // tap reaches (3 of the 4 at 1×1 stride 2) are zeros: one fill for them all costs less than running the GEMM
  // over them.
  const fed = (p: number, K: number) => Array.from({ length: K }, (_, k) => k).some((k) => (p + g.pad - k) % S === 0);
  const anyUnfed = Array.from({ length: S }, (_, p) => p).some((p) => !fed(p, g.KH) || !fed(p, g.KW));
  const dx = anyUnfed ? filled([g.N, g.H, g.W, g.Cin], 0, dy) : new Tensor([g.N, g.H, g.W, g.Cin]);
  // Per tap, W[ci, co] transposed to [co, ci] (rows padded to 4): the kernel's B[k = (tap, co), ci].
  const wt = packVec4(w, g.KH * g.KW, g.Cout, g.Cin, g.Cin * g.Cout, 1, g.Cout);
  // One dispatch per pixel class (iy mod stride, ix mod stride): each visits only the taps that feed it.
  for (let py = 0; py < S; py++) {
    for (let px = 0; px < S; px++) {
      const Hc = Math.ceil((g.H - py) / S);
      const Wc = Math.ceil((g.W - px) / S);
      const M = g.N * Hc * Wc;
      if (M <= 0 || !fed(py, g.KH) || !fed(px, g.KW)) continue;
      const t = tileFor('conv_dgrad', M, g.Cin, g.KH * g.KW * g.Cout);
      const { x: gx, z: gz } = rowGroups(M, t.WG * t.TM);
      dispatch({
        shader: gemmShader('conv2d_dgrad.wgsl', t),
        constants: { TM: t.TM, TN: t.TN, WG: t.WG, STRIDE: S },
        params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, S, g.pad, Math.ceil(g.Cin / 4), py, px, Hc, Wc],
        buffers: [dy.buffer, wt.buffer, dx.buffer],
        workgroups: [gx, Math.ceil(g.Cin / t.TN), gz],
        label: `conv2d input-grad ${shapeStr(dy.shape)}`,
      });
    }
  }
  wt.dispose();
  return dx;
}

/**
 * Number of split-K slices for the weight gradient: enough invocations (row blocks × slices × column blocks) to
 * fill two SIMD vectors per core many times over, while each slice keeps at least 64 pixels.
 */
export function wgradSplits(pixels: number, rowBlocks: number, colBlocks: number): number {
  const target = Math.ceil(512 / (rowBlocks * colBlocks));
  return Math.max(1, Math.min(target, Math.floor(pixels / 64), 256));
}

/**
 * Whether the weight gradient runs on the row kernel (conv2d_wgrad_rows.wgsl): kernels up to 3 wide, at least one
 * workgroup of row blocks (KH · Cin/4 ≥ 8), and a driver that unrolls loops itself (on SwiftShader its 12×16
 * block would take minutes to compile).
 */
export function usesWgradRows(g: Geometry): boolean {
  return g.KW <= 3 && g.KH * Math.ceil(g.Cin / 4) >= 8 && !runtime().unrollLoops;
}

export function conv2dWeightGrad(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  return usesWgradRows(g) ? conv2dWeightGradRows(x, dy, g) : conv2dWeightGradGemm(x, dy, g);
}

/** Sums the weight gradient's per-slice partial results [slices, KH·KW·Cin·Cout] in a fixed order. */
function reduceSlices(partial: Tensor, g: Geometry, slices: number): Tensor {
  const dw = new Tensor([g.KH, g.KW, g.Cin, g.Cout]);
  dispatch({
    shader: 'splitk_reduce.wgsl',
    params: [dw.size, slices],
    buffers: [partial.buffer, dw.buffer],
    workgroups: elementGrid(dw.size),
    label: 'conv2d weight-grad reduce',
  });
  partial.dispose();
  return dw;
}

/** Channels padded to a multiple of 4 for vec4 loads (a copy only for odd channel counts, e.g. an RGB input). */
function padChannels(t: Tensor, rows: number, channels: number): Tensor | null {
  return channels % 4 === 0 ? null : packVec4(t, 1, rows, channels, 0, channels, 1);
}

/** The weight gradient along output rows (conv2d_wgrad_rows.wgsl, which says why): see usesWgradRows. */
export function conv2dWeightGradRows(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const TN = 16;
  const WG = 8;
  const Cin4 = Math.ceil(g.Cin / 4);
  const RB = g.KH * Cin4;
  const groups = Math.ceil(RB / WG);
  const colBlocks = Math.ceil(g.Cout / TN);
  const rows = g.N * g.Ho;
  const wanted = wgradSplits(g.N * g.Ho * g.Wo, groups * WG, colBlocks);
  const rowsPerSlice = Math.ceil(rows / wanted);
  const slices = Math.ceil(rows / rowsPerSlice);
  const x4 = padChannels(x, g.N * g.H * g.W, g.Cin);
  const dy4 = padChannels(dy, g.N * g.Ho * g.Wo, g.Cout);
  const partial = new Tensor([slices, g.KH * g.KW * g.Cin * g.Cout]);
  dispatch({
    shader: gemmShader('conv2d_wgrad_rows.wgsl', { TM: 4 * g.KW, TN, WG }),   // dY through rowB
    constants: { TN, WG, KW: g.KW, STRIDE: g.stride },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.pad, rowsPerSlice, Cin4, Math.ceil(g.Cout / 4), RB, groups, slices, 0],
    buffers: [(x4 ?? x).buffer, (dy4 ?? dy).buffer, partial.buffer],
    workgroups: [groups * slices, colBlocks],
    label: `conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  x4?.dispose();
  dy4?.dispose();
  return reduceSlices(partial, g, slices);
}

/** The weight gradient as an implicit GEMM with split-K (conv2d_wgrad.wgsl): where usesWgradRows does not hold. */
export function conv2dWeightGradGemm(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const M = g.KH * g.KW * g.Cin;
  const P = g.N * g.Ho * g.Wo;
  const Cin4 = Math.ceil(g.Cin / 4);
  const C4 = Math.ceil(g.Cout / 4);
  // Rows come in quads of 4 input channels of one tap (padded): the tile is fitted to those.
  const t = tileFor('conv_wgrad', g.KH * g.KW * Cin4 * 4, g.Cout, P);
  const rowBlocks = Math.ceil((g.KH * g.KW * Cin4) / (t.TM / 4));
  const colBlocks = Math.ceil(g.Cout / t.TN);
  const chunk = Math.ceil(P / wgradSplits(P, rowBlocks, colBlocks));
  const slices = Math.ceil(P / chunk);
  const x4 = padChannels(x, g.N * g.H * g.W, g.Cin);
  const dy4 = padChannels(dy, P, g.Cout);
  const partial = new Tensor([slices, M * g.Cout]);
  dispatch({
    shader: 'conv2d_wgrad.wgsl',
    constants: { TM: t.TM, TN: t.TN, WG: t.WG },
    params: [g.N, g.H, g.W, g.Cin, g.Ho, g.Wo, g.Cout, g.KH, g.KW, g.stride, g.pad, chunk, Cin4, C4, rowBlocks, slices],
    buffers: [(x4 ?? x).buffer, (dy4 ?? dy).buffer, partial.buffer],
    workgroups: [Math.ceil((rowBlocks * slices) / t.WG), colBlocks],
    label: `conv2d weight-grad ${shapeStr(x.shape)}`,
  });
  x4?.dispose();
  dy4?.dispose();
  return reduceSlices(partial, g, slices);
}

/** y = conv2d(x, w) + bias. x [N, H, W, Cin], w [KH, KW, Cin, Cout], bias [Cout] or null. */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x.shape, w.shape, opts.stride ?? 1, opts.pad ?? 0);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.Cout)) {
    throw new RangeError(`conv2d: bias must be [${g.Cout}], got ${shapeStr(bias.shape)}`);
  }
  const y = conv2dForward(x, w, bias, g);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (dy) => [
    needsGrad(x) ? conv2dInputGrad(dy, w, g) : null,
    needsGrad(w) ? conv2dWeightGrad(x, dy, g) : null,
    bias && needsGrad(bias) ? sumKernel(dy, [0, 1, 2]).reshape([g.Cout]) : null,
  ]);
}
