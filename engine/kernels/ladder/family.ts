// The kernel ladder (docs/kernel-ladder.md): matmul and the three passes of a dense convolution each have three
// families of kernels, from the one a reader checks by eye to the fastest on some device:
//   naive — one output per invocation (*_naive.wgsl): the ladder's first rung and the fallback on any device;
//   tiled — the workgroup-memory tiled GEMM of GPU courses (gemm_tiled.wgsl + *_tiled.wgsl);
//   cpu   — register-blocked kernels shaped for CPU Vulkan drivers (matmul.wgsl, conv2d_*.wgsl; docs/cpu-drivers.md).
// Which family runs is chosen by measurement: `npm run tune` times them per pass and problem shape and caches
// the winners per adapter (engine/node/tune-cache.ts). Where nothing was measured, the fallback order applies:
// the first family in it whose kernel fits the problem.

import { runtime } from '../../runtime/index.ts';
import { tileKey } from '../tiles.ts';

export const FAMILIES = ['naive', 'tiled', 'cpu'] as const;
export type Family = (typeof FAMILIES)[number];

/** The passes that have a ladder: the keys of the family table (and of the tile table, engine/kernels/tiles.ts). */
export type LadderPass = 'matmul' | 'conv_fwd' | 'conv_dgrad' | 'conv_wgrad';

/** Without a measurement: today's CPU-driver kernels (the only devices measured so far are CPU drivers), then tiled, then naive. */
export const DEFAULT_ORDER: readonly Family[] = ['cpu', 'tiled', 'naive'];

let measured: Record<string, Family> = {};
let order: readonly Family[] = DEFAULT_ORDER;
let forced: { family: Family; asked: string[] } | null = null;

/** Workgroups of the tiled GEMM along one grid dimension: one per 64 rows or columns (gemm_tiled.wgsl). */
export const TILED_BLOCK = 64;

/**
 * Whether a family's kernel can run this problem on this device: the tiled GEMM needs 256 invocations per
 * workgroup and 8 KiB of workgroup memory (WebGPU's defaults guarantee both) and one workgroup row per 64 rows.
 */
export function familyFits(family: Family, rows: number, cols: number): boolean {
  if (family !== 'tiled') return true;
  const l = runtime().limits;
  const maxDim = l.maxComputeWorkgroupsPerDimension;
  return (
    l.maxComputeInvocationsPerWorkgroup >= 256 &&
    l.maxComputeWorkgroupStorageSize >= 8192 &&
    Math.ceil(rows / TILED_BLOCK) <= maxDim &&
    Math.ceil(cols / TILED_BLOCK) <= maxDim
  );
}

/**
 * The family that runs `pass` on a problem [rows, columns, inner]: a forced one (withFamily), the one measured
 * for this exact shape, the one measured for the pass, else the first of the fallback order that fits.
 */
export function familyFor(pass: LadderPass, dims: number[]): Family {
  const key = tileKey(pass, dims);
  const [rows = 1, cols = 1] = dims;
  if (forced) {
    forced.asked.push(key);
    if (familyFits(forced.family, rows, cols)) return forced.family;
  }
  const chosen = measured[key] ?? measured[pass];
  if (chosen && familyFits(chosen, rows, cols)) return chosen;
  return order.find((f) => familyFits(f, rows, cols)) ?? 'naive';
}

/** Runs fn with every laddered pass on `family` (where it fits); returns the keys asked for, as withTile does. */
export function withFamily(family: Family, fn: () => void): string[] {
  const outer = forced;
  forced = { family, asked: [] };
  try {
    fn();
    return forced.asked;
  } finally {
    forced = outer;
  }
}

/** Replaces the measured table (entries keyed by pass, or by tileKey for one problem shape) and, if given, the fallback order. */
export function setFamilies(table: Record<string, Family>, fallback: readonly Family[] = DEFAULT_ORDER): void {
  measured = { ...table };
  order = [...fallback];
}

export function getFamilies(): { measured: Record<string, Family>; order: readonly Family[] } {
  return { measured: { ...measured }, order };
}

export const isFamily = (v: unknown): v is Family => typeof v === 'string' && (FAMILIES as readonly string[]).includes(v);
