// Which feature maps of two networks attention transfer compares, and how they are brought to one size.
//
// Each network offers its stage outputs, highest resolution first (three for ResNets and WRNs, one per
// max-pool for plain CNNs and VGGs). Attention transfer compares up to three pairs: it picks as many groups from
// each network, in depth order, as close in resolution as possible (ties go to the deeper groups), and
// average-pools the larger map of each pair down to the smaller one's resolution before its attention map, as
// attention-transfer implementations do with adaptive pooling. Examples: plain2 (16, 8) against plain6
// (16, 8, 4) pairs 16↔16 and 8↔8; resnet8 (32, 16, 8) against vgg8 (16, 8, 4, 2, 1) pairs 32→16, 16→8, 8→4.
// Sizes that do not divide cannot be pooled onto each other; a pair at 1×1 is left out (an attention map of one
// position is the constant 1 and teaches nothing); a model pair with no usable group is refused.

import { BadInput } from '../errors.ts';
export interface FeatureSize {
  height: number;
  width: number;
}

export interface AttentionPair {
  /** Index into the taught model's features, and the average-pooling window applied to it (1 = none). */
  target: number;
  targetPool: number;
  /** Index into the expert's features, and its pooling window. */
  expert: number;
  expertPool: number;
}

export class AttentionMatchError extends BadInput {
  override name = 'AttentionMatchError';
}

/** Pooling window that takes `big` down to `small` exactly, or 0 when it cannot. */
function windowBetween(big: FeatureSize, small: FeatureSize): number {
  const k = big.height / small.height;
  return Number.isInteger(k) && k >= 1 && big.width === small.width * k ? k : 0;
}

/** The pair of one target and one expert map, or null when they cannot be compared. */
function pairOf(target: FeatureSize[], t: number, expert: FeatureSize[], e: number): AttentionPair | null {
  const [ft, fe] = [target[t], expert[e]];
  const tBigger = ft.height >= fe.height;
  const k = tBigger ? windowBetween(ft, fe) : windowBetween(fe, ft);
  const common = tBigger ? fe : ft;
  if (k === 0 || common.height * common.width === 1) return null;
  return { target: t, targetPool: tBigger ? k : 1, expert: e, expertPool: tBigger ? 1 : k };
}

/** All increasing index lists of length n from 0..m−1. */
function choose(m: number, n: number, from = 0): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (let i = from; i <= m - n; i++) for (const rest of choose(m, n - 1, i + 1)) out.push([i, ...rest]);
  return out;
}

export function matchAttentionGroups(target: FeatureSize[], expert: FeatureSize[]): AttentionPair[] {
  const show = (l: FeatureSize[]) => l.map((f) => `${f.height}×${f.width}`).join(', ') || 'none';
  const refuse = () =>
    new AttentionMatchError(
      `attention transfer cannot match the feature maps (${show(target)} against the expert's ${show(expert)}): ` +
        'no pair has sizes that divide into a common resolution larger than 1×1',
    );
  for (let n = Math.min(3, target.length, expert.length); n > 0; n--) {
    let best: { pairs: AttentionPair[]; cost: number; depth: number } | null = null;
    for (const ts of choose(target.length, n)) {
      for (const es of choose(expert.length, n)) {
        const pairs = ts.map((t, g) => pairOf(target, t, expert, es[g]));
        if (pairs.some((p) => p === null)) continue;
        const cost = pairs.reduce((a, p) => a + Math.log2(p!.targetPool * p!.expertPool), 0);
        const depth = [...ts, ...es].reduce((a, b) => a + b, 0);
        if (!best || cost < best.cost || (cost === best.cost && depth > best.depth)) best = { pairs: pairs as AttentionPair[], cost, depth };
      }
    }
    if (best) return best.pairs;
  }
  throw refuse();
}
