// Which feature maps of two networks attention transfer compares, and how they are brought to one size.
//
// Each network offers up to three stage outputs (highest resolution first). Groups are matched by resolution
// when every group of the model being taught has an expert map of the same size (plain6 → plain2: 16↔16,
// 8↔8). Otherwise groups pair from the deepest, and the larger map of a pair is average-pooled down to the
// smaller one's resolution before its attention map, as attention-transfer implementations do. A pair whose
// sizes do not divide, or whose common size is 1×1 (an attention map of one position is the constant 1 and
// teaches nothing), is left out; a model pair with no usable group at all is rejected before training.

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

export class AttentionMatchError extends Error {
  override name = 'AttentionMatchError';
}

/** Pooling window that takes `big` down to `small` exactly, or 0 when it cannot. */
function windowBetween(big: FeatureSize, small: FeatureSize): number {
  const k = big.height / small.height;
  const ok = Number.isInteger(k) && k >= 1 && big.width === small.width * k;
  return ok ? k : 0;
}

export function matchAttentionGroups(target: FeatureSize[], expert: FeatureSize[]): AttentionPair[] {
  const n = Math.min(3, target.length, expert.length);
  if (n === 0) throw new AttentionMatchError('attention transfer needs feature maps from both models, and one of them has none');
  const deepest = (list: FeatureSize[]) => list.map((_, i) => i).slice(-n);
  const tIdx = deepest(target);
  const sameSize = (a: FeatureSize, b: FeatureSize) => a.height === b.height && a.width === b.width;
  const sameSizeIn = (list: FeatureSize[], f: FeatureSize) => list.map((e, i) => (sameSize(e, f) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  const byResolution = tIdx.map((t) => sameSizeIn(expert, target[t]));
  if (byResolution.every((e) => e >= 0)) {
    return tIdx.map((t, g) => ({ target: t, targetPool: 1, expert: byResolution[g], expertPool: 1 }));
  }
  const eIdx = deepest(expert);
  const pairs: AttentionPair[] = [];
  tIdx.forEach((t, g) => {
    const e = eIdx[g];
    const [ft, fe] = [target[t], expert[e]];
    const tBigger = ft.height >= fe.height;
    const k = tBigger ? windowBetween(ft, fe) : windowBetween(fe, ft);
    const common = tBigger ? fe : ft;
    if (k === 0 || common.height * common.width === 1) return;
    pairs.push({ target: t, targetPool: tBigger ? k : 1, expert: e, expertPool: tBigger ? 1 : k });
  });
  if (pairs.length === 0) {
    const show = (l: FeatureSize[]) => l.map((f) => `${f.height}×${f.width}`).join(', ');
    throw new AttentionMatchError(
      `attention transfer cannot match the feature maps (${show(target)} against the expert's ${show(expert)}): ` +
        'no pair has sizes that divide into a common resolution larger than 1×1',
    );
  }
  return pairs;
}
