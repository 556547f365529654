// Per-sample input transform, done in one pass from uint8 NHWC pixels to normalised floats:
//   out(y, x, c) = (pixel(y + oy - pad, x' + ox - pad, c) / 255 - mean[c]) / std[c],  x' = flip ? W-1-x : x
// which is torchvision's RandomCrop(H, padding=pad) → RandomHorizontalFlip → ToTensor → Normalize, the
// standard CIFAR recipe used by TAKD/DGKD. As there, padding happens in pixel space before normalisation, so
// the padded border is black (pixel 0, i.e. -mean/std after normalising), not the mean colour; `padMode:
// 'mean'` gives 0 after normalising instead (what padding a normalised tensor would give).

import { Rng } from '../../engine/random.ts';

export interface Normalisation {
  mean: number[]; // per channel, in [0,1] pixel units
  std: number[];
}

/** TAKD's CIFAR normalisation constants. */
export const TAKD_NORMALISATION: Normalisation = { mean: [0.507, 0.487, 0.441], std: [0.267, 0.256, 0.276] };

export interface CropFlip {
  oy: number; // crop offset in the padded image, 0..2·pad
  ox: number;
  flip: boolean;
}

export type PadMode = 'zero' | 'mean';

/** Precomputed per-channel affine map pixel → normalised value, v·scale[c] + bias[c]. */
export interface PixelMap {
  scale: Float32Array;
  bias: Float32Array;
  pad: Float32Array; // value written for padded pixels, per channel
}

export function pixelMap(norm: Normalisation, channels: number, padMode: PadMode = 'zero'): PixelMap {
  if (norm.mean.length !== channels || norm.std.length !== channels)
    throw new Error(`normalisation has ${norm.mean.length} means and ${norm.std.length} stds, expected ${channels} each`);
  const scale = new Float32Array(channels);
  const bias = new Float32Array(channels);
  const pad = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    if (!(norm.std[c] > 0)) throw new Error(`normalisation std[${c}] = ${norm.std[c]}, expected > 0`);
    scale[c] = 1 / (255 * norm.std[c]);
    bias[c] = -norm.mean[c] / norm.std[c];
    pad[c] = padMode === 'zero' ? bias[c] : 0;
  }
  return { scale, bias, pad };
}

/** Draws a crop offset and flip the way the loader does (order: oy, ox, flip). */
export function drawCropFlip(rng: { int(n: number): number; next(): number }, pad: number): CropFlip {
  const oy = rng.int(2 * pad + 1);
  const ox = rng.int(2 * pad + 1);
  return { oy, ox, flip: rng.next() < 0.5 };
}

/**
 * View `v` of image `i` in a fixed bank of augmented views (FKD, Shen & Xing 2021): a crop and flip that depend
 * on (i, v) alone, so that a frozen teacher's logits for every view can be computed once and looked up by any
 * run that trains on the same bank.
 */
export function bankView(i: number, v: number, pad: number): CropFlip {
  // Two odd multipliers spread (i, v) over the seed space; the salt keeps bank views apart from the loader's draws.
  const seed = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(v + 1, 0x85ebca77) ^ 0x6b43a9b5) >>> 0;
  return drawCropFlip(new Rng(seed), pad);
}

/**
 * Writes one H×W×C image from `src` (at `so`) to `dst` (at `d`), normalised, optionally cropped/flipped.
 * `aug` null means the identity (no crop, no flip).
 */
export function transformImage(
  src: Uint8Array, so: number, H: number, W: number, C: number,
  dst: Float32Array, d: number, map: PixelMap, aug: CropFlip | null, pad: number,
): void {
  const { scale, bias } = map;
  if (!aug || (aug.oy === pad && aug.ox === pad && !aug.flip)) {
    // Fast path: a plain normalisation.
    const n = H * W * C;
    if (C === 3) {
      const s0 = scale[0], s1 = scale[1], s2 = scale[2], b0 = bias[0], b1 = bias[1], b2 = bias[2];
      for (let i = 0; i < n; i += 3) {
        dst[d + i] = src[so + i] * s0 + b0;
        dst[d + i + 1] = src[so + i + 1] * s1 + b1;
        dst[d + i + 2] = src[so + i + 2] * s2 + b2;
      }
    } else {
      for (let i = 0; i < n; i++) dst[d + i] = src[so + i] * scale[i % C] + bias[i % C];
    }
    return;
  }
  const dy = aug.oy - pad, dx = aug.ox - pad;
  for (let y = 0; y < H; y++) {
    const sy = y + dy;
    const rowOut = d + y * W * C;
    for (let x = 0; x < W; x++) {
      const sx = (aug.flip ? W - 1 - x : x) + dx;
      const o = rowOut + x * C;
      if (sy < 0 || sy >= H || sx < 0 || sx >= W) {
        for (let c = 0; c < C; c++) dst[o + c] = map.pad[c];
      } else {
        const s = so + (sy * W + sx) * C;
        for (let c = 0; c < C; c++) dst[o + c] = src[s + c] * scale[c] + bias[c];
      }
    }
  }
}
