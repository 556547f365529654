// Tile shapes per kernel: the override constants TM (rows per invocation), TN (columns per invocation, a multiple
// of 4) and WG (invocations per workgroup) of the register-blocked kernels (matmul.wgsl, conv2d_*.wgsl).
// Defaults suit CPU Vulkan drivers (docs/cpu-drivers.md and the kernels' header comments); a tuned table for the
// current adapter can replace them (setTiles), e.g. from a tuning run.
//
// The defaults rely on measurements on lavapipe: docs/cpu-drivers.md, "Tile shapes".

import { runtime } from '../runtime/index.ts';

export interface Tile {
  TM: number;
  TN: number;
  WG: number;
}

const defaults: Record<string, Tile> = {
  matmul: { TM: 16, TN: 16, WG: 8 },
  conv_fwd: { TM: 8, TN: 32, WG: 16 },
  conv_dgrad: { TM: 8, TN: 32, WG: 16 },
  conv_wgrad: { TM: 16, TN: 16, WG: 8 },
};

/** For drivers whose kernels get their loops unrolled in the WGSL text (engine/unroll.ts): 4×8 blocks, which compile in seconds there. */
const small: Record<string, Tile> = {
  matmul: { TM: 4, TN: 8, WG: 16 },
  conv_fwd: { TM: 4, TN: 8, WG: 16 },
  conv_dgrad: { TM: 4, TN: 8, WG: 16 },
  conv_wgrad: { TM: 4, TN: 8, WG: 16 },
};

/** The gathering kernels with at most 16 output columns (e.g. 16 channels): taller blocks make up for the narrower ones. */
const narrow: Record<string, Tile> = {
  conv_fwd: { TM: 12, TN: 16, WG: 8 },
  conv_dgrad: { TM: 12, TN: 16, WG: 8 },
};

let tuned: Record<string, Tile> = {};

/**
 * Tile for a kernel and problem shape [rows, columns, inner]: a tuned entry for this exact shape, else the kernel's
 * tuned or default tile fitted to the shape:
 * - TN is cut down towards the columns that exist (a 16-column output needs no 32-column block); it stays a power
 *   of two so that few pipelines get compiled (each costs 0.5–3 s on lavapipe);
 * - when the rows do not fill the blocks, TM·WG is lowered to waste fewer rows (the conv weight gradient lays its
 *   invocations out over row blocks × pixel slices instead, so it is left alone).
 * Small problems (under 2M multiply-adds) keep the plain tile: for them compiling one more pipeline would cost more
 * than the work it saves.
 */
export function tileFor(kernel: string, ...dims: number[]): Tile {
  const key = tileKey(kernel, dims);
  if (forced) {
    forced.asked.push(key);
    return forced.tile;
  }
  const exact = tuned[key];
  if (exact) return exact;
  if (runtime().caps.unrollLoops) return tuned[kernel] ?? small[kernel];
  const t = tuned[kernel] ?? defaults[kernel];
  const [rows, cols, inner = 1] = dims;
  if (rows === undefined || cols === undefined || rows * cols * inner < 1 << 21) return t;
  let TN = 4;
  while (TN < t.TN && TN < cols) TN *= 2;
  TN = Math.min(TN, t.TN);
  const n = narrow[kernel];
  const base = TN <= 16 && n && !tuned[kernel] ? n : t;
  return kernel === 'conv_wgrad' ? { ...t, TM: fitQuads(rows / 4, t.TM), TN } : { ...fitRows(rows, base.TM, base.WG), TN };
}

/** The key of a tuned entry: kernel and problem shape [rows, columns, inner], e.g. `conv_fwd:65536x16x144`. */
export function tileKey(kernel: string, dims: number[]): string {
  return `${kernel}:${dims.join('x')}`;
}

let forced: { tile: Tile; asked: string[] } | null = null;

/**
 * Runs fn with every kernel using `tile`, and returns the keys the kernels asked for: how a tuner tries a
 * candidate on an op and learns which table entry the result belongs to.
 */
export function withTile(tile: Tile, fn: () => void): string[] {
  forced = { tile, asked: [] };
  try {
    fn();
    return forced.asked;
  } finally {
    forced = null;
  }
}

/** Replaces the tuned table (entries keyed by kernel name, or by tileKey for one problem shape). */
export function setTiles(table: Record<string, Tile>): void {
  tuned = { ...table };
}

export function getTiles(): Record<string, Tile> {
  return { ...defaults, ...tuned };
}

/**
 * The weight gradient's block height for `quads` row quads (a tap and 4 input channels each): the tallest of TM,
 * 12 and 8 that computes the fewest padding quads (the RGB first layer's 9 quads fit 12-row blocks exactly).
 */
function fitQuads(quads: number, TM: number): number {
  const waste = (tm: number) => Math.ceil(quads / (tm / 4)) * (tm / 4) - quads;
  let best = TM;
  for (const tm of [12, 8]) if (tm < TM && waste(tm) < waste(best)) best = tm;
  return best;
}

/** Rows computed when `rows` are covered by blocks of TM·WG, counting a 4-row block as 1.25 (it loads more per FMA). */
const cost = (rows: number, TM: number, WG: number) => Math.ceil(rows / (TM * WG)) * TM * WG * (TM < 8 ? 1.25 : 1);

/** Lower block heights for few rows: TM halved while it stays a multiple of 4, one SIMD vector per workgroup. */
function fitRows(rows: number, TM: number, WG: number): { TM: number; WG: number } {
  let best = { TM, WG };
  for (let tm = TM; tm >= 4 && tm % 4 === 0; tm /= 2) {
    for (const wg of [WG, 8]) {
      if (cost(rows, tm, wg) < cost(rows, best.TM, best.WG)) best = { TM: tm, WG: wg };
    }
  }
  return best;
}

/** The files that read a GEMM's shared right-hand operand through rowB, by variant (gemm_b_subgroup.wgsl says why). */
export const GEMM_B_VARIANTS = {
  subgroup: ['subgroup8.wgsl', 'gemm_b_subgroup.wgsl'],
  storage: ['gemm_b_storage.wgsl'],
} as const;

/**
 * How a kernel that reads its shared operand through rowB (matmul.wgsl, conv2d_fwd.wgsl, conv2d_dgrad.wgsl,
 * conv2d_wgrad_rows.wgsl) gets it with this tile: through subgroup broadcasts where 8-lane subgroups exist and
 * the tile's TN and WG are multiples of 8, else as vec4s from the storage buffer.
 */
export function gemmVariant(tile: Tile): keyof typeof GEMM_B_VARIANTS {
  return runtime().caps.subgroups8 && tile.TN % 8 === 0 && tile.WG % 8 === 0 ? 'subgroup' : 'storage';
}
