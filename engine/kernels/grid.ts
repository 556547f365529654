// Launch grids: how many workgroups cover a problem. The per-dimension limit is 65535 workgroups, so long
// problems spread over a second dimension; each kernel folds the 2-D workgroup id back into one index.

import { runtime } from '../runtime/index.ts';

/** Invocations per workgroup of the element-wise kernels (their WG override's default). */
export const WG = 64;

/** A 2-D grid of workgroups covering `count` workgroups. */
export function grid(count: number): [number, number] {
  const max = runtime().limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/** Grid for one invocation per element with WG-wide workgroups. */
export const elementGrid = (n: number) => grid(Math.ceil(n / WG));

/**
 * Workgroup width and vectors per invocation of the contiguous vec4 kernels (shaders/vec4_each.wgsl runs them):
 * 256 × 4, because a CPU driver runs each workgroup as one task of its thread pool and smaller groups spent
 * more on tasks than on work (docs/cpu-drivers.md).
 */
export const VEC_WG = 256;
export const VEC_PER = 4;
export const vec4Grid = (n4: number) => grid(Math.ceil(n4 / (VEC_WG * VEC_PER)));
