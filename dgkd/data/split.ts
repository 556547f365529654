// Carving datasets up: a seeded train/validation split (stratified by default, so each class keeps its share
// in both parts, which matters for small validation sets and many classes) and copying out a subset.

import { Rng } from '../../engine/random.ts';
import { DataError, imageSize, type Dataset } from './dataset.ts';

/** A new dataset holding copies of the samples at `indices` (in that order). */
export function subset(ds: Dataset, indices: ArrayLike<number>, name: string = `${ds.name}[subset]`): Dataset {
  const per = imageSize(ds);
  const n = indices.length;
  const images = new Uint8Array(n * per);
  const labels = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    if (!(Number.isInteger(i) && i >= 0 && i < ds.size))
      throw new RangeError(`subset of ${ds.name}: index ${i} at position ${k} is outside 0..${ds.size - 1}`);
    images.set(ds.images.subarray(i * per, (i + 1) * per), k * per);
    labels[k] = ds.labels[i];
  }
  return { ...ds, name, size: n, images, labels };
}

export interface SplitOptions {
  /** Keep class proportions in both parts (default true). */
  stratified?: boolean;
}

/**
 * Splits `ds` into train and validation parts. `amount` < 1 is a fraction of the dataset, ≥ 1 a count of
 * validation samples. The choice is a seeded shuffle; each part keeps the original sample order (which
 * helps locality and makes the split easy to inspect; batch order is the loader's job).
 */
export function splitValidation(ds: Dataset, amount: number, seed: number, opts: SplitOptions = {}): { train: Dataset; val: Dataset } {
  const valCount = amount > 0 && amount < 1 ? Math.round(amount * ds.size) : amount;
  if (!(Number.isInteger(valCount) && valCount >= 0 && valCount <= ds.size))
    throw new DataError(`${ds.name}: validation size ${amount} must be a fraction in (0,1) or a count in 0..${ds.size}`);
  const rng = new Rng(seed);
  const isVal = new Uint8Array(ds.size);
  if (opts.stratified ?? true) {
    // Per class, shuffle its indices and take its share; shares are rounded by largest remainder so the
    // total is exactly valCount.
    const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
    for (let i = 0; i < ds.size; i++) byClass[ds.labels[i]].push(i);
    const quota = byClass.map((idx) => (idx.length * valCount) / Math.max(1, ds.size));
    const take = quota.map(Math.floor);
    let left = valCount - take.reduce((a, b) => a + b, 0);
    const order = quota.map((q, c) => c).sort((a, b) => quota[b] - take[b] - (quota[a] - take[a]) || a - b);
    for (let k = 0; left > 0; k++, left--) take[order[k % order.length]]++;
    byClass.forEach((idx, c) => {
      rng.shuffle(idx);
      for (let k = 0; k < take[c]; k++) isVal[idx[k]] = 1;
    });
  } else {
    const perm = rng.shuffle(Int32Array.from({ length: ds.size }, (_, i) => i));
    for (let k = 0; k < valCount; k++) isVal[perm[k]] = 1;
  }
  const trainIdx: number[] = [];
  const valIdx: number[] = [];
  for (let i = 0; i < ds.size; i++) (isVal[i] ? valIdx : trainIdx).push(i);
  return { train: subset(ds, trainIdx, `${ds.name}:train`), val: subset(ds, valIdx, `${ds.name}:val`) };
}
