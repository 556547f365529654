// Which kernel runs each pass of a convolution, and with what blocking. Three kinds of kernel:
// - the row kernel (rows.ts, conv2d_rows.wgsl), a direct convolution over 8-pixel row segments: the forward pass
//   at stride 1 or a stride no wider than the kernel, and the input gradient (a convolution of dY with the
//   mirrored weights; at stride 2 one class of input rows at a time);
// - implicit GEMMs (conv2d_fwd.wgsl, conv2d_dgrad.wgsl, conv2d_wgrad.wgsl) on matmul's register-blocked core,
//   for everything the row kernel does not fit;
// - the weight gradient along output rows (conv2d_wgrad_rows.wgsl) for kernels up to 3 wide.
// The measurements behind every threshold here: docs/conv-kernels.md.

import { runtime } from '../../runtime/index.ts';
import type { Geometry } from './geometry.ts';
import type { RowsPass } from './rows.ts';

/** Bytes a uniform binding may hold (WebGPU's default limit; conv2d_rows_wuniform.wgsl declares exactly this much). */
export const UNIFORM_BYTES = 65536;
/** Columns per block of the row kernel, at most (a multiple of 4; conv2d_rows_wsubgroup.wgsl takes up to 16). */
export const ROWS_TN = 16;
/** Output pixels per invocation of the row kernel (8 measured best; docs/conv-kernels.md). */
export const ROWS_TM = 8;
/** The same for the strided input gradient (UP in conv2d_rows.wgsl). */
export const UP_TM = 8;
/** The widest kernel row the row kernel's weight registers hold (KMAX in conv2d_rows.wgsl). */
const ROWS_KMAX = 7;
/** Output pixels per invocation for 4-column blocks (rowsTM). */
const NARROW_TM = 16;

/** Columns per block for C output columns: 16, or the multiple of 4 that covers C when it is smaller (a 3-channel input gradient wastes 13 of 16 columns otherwise). */
export function rowsTN(C: number): number {
  return Math.min(ROWS_TN, Math.ceil(C / 4) * 4);
}

/** Whether a segment of TM pixels at this stride reads at most the kernel's 32 input values (XL ≤ XS). */
const windowFits = (TM: number, stride: number, KW: number) => stride * (TM - 1) + KW <= 32;

/** Output pixels per invocation: 16 for 4-column blocks where the window allows (not where loops are unrolled in the text), else 8. */
export function rowsTM(TN: number, stride: number, KW: number): number {
  return TN === 4 && windowFits(NARROW_TM, stride, KW) && !runtime().caps.unrollLoops ? NARROW_TM : ROWS_TM;
}

/**
 * Whether the row kernel applies: stride 1 or a stride no wider than the kernel (not where loops are unrolled in
 * the text: that compiler ran out of memory), rows at least one segment wide, kernels at most ROWS_KMAX wide, the
 * segment's input window within 32 values, and one column block of weights within a uniform binding.
 */
export function rowsFit(KH: number, KW: number, R: number, stride: number, Wo: number): boolean {
  const strideOk = stride === 1 || (KW >= stride && !runtime().caps.unrollLoops);
  const weightsFit = KH * KW * R * ROWS_TN * 4 <= UNIFORM_BYTES;
  return strideOk && Wo >= ROWS_TM && KW <= ROWS_KMAX && windowFits(ROWS_TM, stride, KW) && weightsFit;
}

/** The UP variant's input window (XL in conv2d_rows.wgsl): TM output pixels reach this many input values, at most 32. */
function upWindow(S: number, pad: number, KW: number): number {
  const UOFF = S * Math.ceil((KW - 1) / S);
  return Math.floor((UP_TM - 1 + pad + UOFF) / S) + 1;
}

/**
 * The input gradient on the row kernel, as the passes that write it (py: the class of input rows each writes),
 * or null where the row kernel does not fit and the implicit GEMM runs it.
 * - Stride 1: one pass, the convolution of dY with the mirrored, transposed weights, padded by K − 1 − pad.
 * - Stride S dividing the 8-pixel segment: one pass per class of input rows py. Row iy = py + S·a takes dY row
 *   (iy + pad − ky) / S from the kernel rows ky ≡ py + pad (mod S): ky = ky0 + S·t, dY rows a + cy − t with
 *   cy = ⌊(py + pad) / S⌋; mirrored (u = KHc − 1 − t) that is a stride-1 convolution along y with KHc rows and
 *   padding KHc − 1 − cy. Along x each pixel takes the taps that reach it (UP in conv2d_rows.wgsl). A class
 *   that no kernel row reaches (1×1 at stride 2) is left to the GEMM.
 * Paddings are signed: a kernel narrower than twice its padding pads its input gradient by −1 on that axis.
 */
export function inputGradPasses(g: Geometry): { pass: RowsPass; py: number }[] | null {
  const S = g.stride;
  const common = { N: g.N, H: g.Ho, W: g.Wo, R: g.Cout, Wo: g.W, C: g.Cin, KW: g.KW, stride: 1 };
  if (S === 1) {
    const padY = g.KH - 1 - g.pad;
    const padX = g.KW - 1 - g.pad;
    if (!rowsFit(g.KH, g.KW, g.Cout, 1, g.W)) return null;
    const mirror = { ay: g.KH - 1, sy: -1, ax: g.KW - 1, sx: -1 };
    return [{ py: 0, pass: { ...common, Ho: g.H, KH: g.KH, padY, padX, mirror } }];
  }
  if (UP_TM % S !== 0 || runtime().caps.unrollLoops || upWindow(S, g.pad, g.KW) > 32) return null;
  const passes: { pass: RowsPass; py: number }[] = [];
  for (let py = 0; py < S && py < g.H; py++) {
    const ky0 = (py + g.pad) % S;
    const KHc = Math.max(0, Math.ceil((g.KH - ky0) / S));
    const padY = KHc - 1 - Math.floor((py + g.pad) / S);
    if (KHc === 0 || !rowsFit(KHc, g.KW, g.Cout, 1, g.W)) return null;
    const mirror = { ay: ky0 + S * (KHc - 1), sy: -S, ax: 0, sx: 1 };
    passes.push({ py, pass: { ...common, Ho: Math.ceil((g.H - py) / S), KH: KHc, padY, padX: 0, mirror, up: { S, pad: g.pad } } });
  }
  return passes;
}

/** Whether a pass of this convolution runs on the row kernel (else on an implicit GEMM, whose tiles can be tuned). */
export function usesRowKernel(g: Geometry, pass: 'forward' | 'input-grad'): boolean {
  if (pass === 'forward') return rowsFit(g.KH, g.KW, g.Cin, g.stride, g.Wo);
  return inputGradPasses(g) !== null;
}

/**
 * Whether the weight gradient runs along output rows (conv2d_wgrad_rows.wgsl): kernels up to 3 wide, at least one
 * workgroup of row blocks (KH · Cin/4 ≥ 8), and a driver that unrolls loops itself.
 */
export function usesWgradRows(g: Geometry): boolean {
  return g.KW <= 3 && g.KH * Math.ceil(g.Cin / 4) >= 8 && !runtime().caps.unrollLoops;
}

/**
 * Split-K slices for the weight gradient: enough invocations (row blocks × slices × column blocks) to fill two
 * SIMD vectors per core many times over, while each slice keeps at least 64 pixels.
 */
export function wgradSplits(pixels: number, rowBlocks: number, colBlocks: number): number {
  const target = Math.ceil(512 / (rowBlocks * colBlocks));
  return Math.max(1, Math.min(target, Math.floor(pixels / 64), 256));
}
