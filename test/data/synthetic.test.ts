import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../dgkd/data/dataset.ts';
import { makeSynthetic, SYNTHETIC_CLASS_NAMES } from '../../dgkd/data/synthetic.ts';

const counts = (ds: Dataset) => Array.from({ length: 10 }, (_, c) => ds.labels.filter((y) => y === c).length);

/** Nearest-class-mean accuracy on test of a per-image feature vector. */
function ncm(train: Dataset, test: Dataset, feature: (ds: Dataset, i: number) => Float64Array): number {
  const means: Float64Array[] = [];
  const n = new Array(10).fill(0);
  for (let i = 0; i < train.size; i++) {
    const f = feature(train, i);
    const y = train.labels[i];
    means[y] ??= new Float64Array(f.length);
    for (let j = 0; j < f.length; j++) means[y][j] += f[j];
    n[y]++;
  }
  means.forEach((m, y) => m.forEach((_, j) => (m[j] /= n[y])));
  let ok = 0;
  for (let i = 0; i < test.size; i++) {
    const f = feature(test, i);
    let best = -1, bestD = Infinity;
    means.forEach((m, y) => {
      let d = 0;
      for (let j = 0; j < f.length; j++) d += (f[j] - m[j]) ** 2;
      if (d < bestD) [bestD, best] = [d, y];
    });
    if (best === test.labels[i]) ok++;
  }
  return ok / test.size;
}

const rawPixels = (ds: Dataset, i: number) => Float64Array.from(ds.images.subarray(i * 3072, (i + 1) * 3072));

/** Gradient magnitude of the grey image: shape evidence with the (class-independent) colours removed. */
function edges(ds: Dataset, i: number): Float64Array {
  const g = new Float64Array(1024);
  for (let p = 0; p < 1024; p++) g[p] = ds.images[i * 3072 + 3 * p] + ds.images[i * 3072 + 3 * p + 1] + ds.images[i * 3072 + 3 * p + 2];
  const f = new Float64Array(1024);
  for (let y = 1; y < 31; y++)
    for (let x = 1; x < 31; x++) {
      const p = y * 32 + x;
      f[p] = Math.abs(g[p + 1] - g[p - 1]) + Math.abs(g[p + 32] - g[p - 32]);
    }
  return f;
}

describe('synthetic dataset', () => {
  it('has the right shapes, names and class balance', () => {
    const { train, test } = makeSynthetic({ seed: 1, trainSize: 250, testSize: 120, labelNoise: 0 });
    for (const [ds, n] of [[train, 250], [test, 120]] as const) {
      expect(ds).toMatchObject({ numClasses: 10, height: 32, width: 32, channels: 3, size: n });
      expect(ds.images.length).toBe(n * 3072);
      expect(ds.labels.length).toBe(n);
      expect(ds.classNames).toEqual(SYNTHETIC_CLASS_NAMES);
    }
    expect(counts(train)).toEqual(new Array(10).fill(25));
    expect(counts(test)).toEqual(new Array(10).fill(12));
    expect(train.name).toBe('synthetic/train');
  });

  it('is deterministic per seed, differs across seeds and between splits, and sizes extend prefixes', () => {
    const a = makeSynthetic({ seed: 7, trainSize: 60, testSize: 30 });
    const b = makeSynthetic({ seed: 7, trainSize: 60, testSize: 30 });
    expect(Buffer.compare(a.train.images, b.train.images)).toBe(0);
    expect(Array.from(a.train.labels)).toEqual(Array.from(b.train.labels));
    expect(Buffer.compare(a.test.images, b.test.images)).toBe(0);
    const c = makeSynthetic({ seed: 8, trainSize: 60, testSize: 30 });
    expect(Buffer.compare(a.train.images, c.train.images)).not.toBe(0);
    expect(Buffer.compare(a.train.images.subarray(0, 30 * 3072), a.test.images)).not.toBe(0);
    // the test split does not depend on the train size, and a bigger split starts with the smaller one
    const d = makeSynthetic({ seed: 7, trainSize: 100, testSize: 10 });
    expect(Buffer.compare(d.train.images.subarray(0, 60 * 3072), a.train.images)).toBe(0);
    expect(Buffer.compare(d.test.images, a.test.images.subarray(0, 10 * 3072))).toBe(0);
  });

  it('flips about labelNoise of the training labels, never the test labels, without changing the images', () => {
    const noisy = makeSynthetic({ seed: 2, trainSize: 2000, testSize: 200, labelNoise: 0.1 });
    const clean = makeSynthetic({ seed: 2, trainSize: 2000, testSize: 200, labelNoise: 0 });
    expect(Buffer.compare(noisy.train.images, clean.train.images)).toBe(0);
    let flipped = 0;
    for (let i = 0; i < 2000; i++) if (noisy.train.labels[i] !== i % 10) flipped++;
    expect(flipped / 2000).toBeGreaterThan(0.07);
    expect(flipped / 2000).toBeLessThan(0.13);
    expect(counts(noisy.test)).toEqual(new Array(10).fill(20));
  });

  it('generates 10k images in well under the budget', () => {
    const t0 = performance.now();
    makeSynthetic({ seed: 3, trainSize: 10000, testSize: 0 });
    expect(performance.now() - t0).toBeLessThan(4000); // ~1 s on one core; generous for loaded CI machines
  });

  it('is about shapes, not colours: raw-pixel class means are useless, edge-map means beat chance', () => {
    const { train, test } = makeSynthetic({ seed: 4, trainSize: 2000, testSize: 1000, labelNoise: 0 });
    const raw = ncm(train, test, rawPixels);
    const edge = ncm(train, test, edges);
    expect(raw).toBeLessThan(0.2); // colours and positions carry (almost) no class information
    expect(edge).toBeGreaterThan(0.13); // the classes differ in their shapes (chance is 0.10)
    expect(edge).toBeLessThan(0.5); // … but not in a way a linear template can pick up
  });
});
