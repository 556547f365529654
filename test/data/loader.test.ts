import { describe, expect, it } from 'vitest';
import { bankView, pixelMap, TAKD_NORMALISATION, transformImage } from '../../dgkd/data/augment.ts';
import type { Dataset } from '../../dgkd/data/dataset.ts';
import { DataLoader, type Batch, type LoaderOptions } from '../../dgkd/data/loader.ts';

/** size images of H×W×3 with pixel values that identify (sample, y, x, c). */
function toy(size: number, H = 6, W = 5): Dataset {
  const images = new Uint8Array(size * H * W * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + (i >> 5)) & 255;
  const labels = Int32Array.from({ length: size }, (_, i) => i % 4);
  return { name: 'toy', numClasses: 4, height: H, width: W, channels: 3, size, images, labels };
}

const norm = (v: number, c: number) => (v / 255 - TAKD_NORMALISATION.mean[c]) / TAKD_NORMALISATION.std[c];

/** Reference: pad in pixel space with zeros, crop at (oy, ox), then flip, then normalise — step by step. */
function reference(ds: Dataset, i: number, oy: number, ox: number, flip: boolean, pad: number): Float32Array {
  const { height: H, width: W } = ds;
  const P = (H + 2 * pad) * (W + 2 * pad) * 3;
  const padded = new Uint8Array(P);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++)
        padded[((y + pad) * (W + 2 * pad) + x + pad) * 3 + c] = ds.images[((i * H + y) * W + x) * 3 + c];
  const out = new Float32Array(H * W * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const cx = flip ? W - 1 - x : x; // flip after crop: output column x reads cropped column W-1-x
      for (let c = 0; c < 3; c++) out[(y * W + x) * 3 + c] = norm(padded[((y + oy) * (W + 2 * pad) + cx + ox) * 3 + c], c);
    }
  return out;
}

function collect(loader: DataLoader, n: number): { x: number[]; y: number[]; idx: number[]; epoch: number; index: number }[] {
  const out = [];
  for (let k = 0; k < n; k++) {
    const b = loader.nextBatch();
    out.push({ x: Array.from(b.x), y: Array.from(b.y), idx: Array.from(b.indices), epoch: b.epoch, index: b.index });
  }
  return out;
}

const opts = (o: Partial<LoaderOptions> = {}): LoaderOptions => ({ batchSize: 4, shuffle: true, augment: true, seed: 9, pad: 2, ...o });

describe('augment.transformImage', () => {
  it('normalises with the TAKD constants by default', () => {
    const ds = toy(1);
    const loader = new DataLoader(ds, { batchSize: 1, shuffle: false });
    const b = loader.nextBatch();
    for (let k = 0; k < ds.images.length; k++) expect(b.x[k]).toBeCloseTo(norm(ds.images[k], k % 3), 5);
    // black pixel → -mean/std, white → (1-mean)/std
    expect(norm(0, 0)).toBeCloseTo(-0.507 / 0.267, 6);
    loader.close();
  });

  it('matches an explicit pad → crop → flip → normalise for every offset and flip', () => {
    const ds = toy(2);
    const pad = 2;
    const map = pixelMap(TAKD_NORMALISATION, 3);
    const out = new Float32Array(6 * 5 * 3);
    for (let oy = 0; oy <= 2 * pad; oy++)
      for (let ox = 0; ox <= 2 * pad; ox++)
        for (const flip of [false, true]) {
          transformImage(ds.images, 90, 6, 5, 3, out, 0, map, { oy, ox, flip }, pad);
          const ref = reference(ds, 1, oy, ox, flip, pad);
          for (let k = 0; k < out.length; k++) expect(Math.abs(out[k] - ref[k])).toBeLessThan(1e-5);
        }
  });

  it("pads with 0 after normalisation in 'mean' mode", () => {
    const ds = toy(1);
    const map = pixelMap(TAKD_NORMALISATION, 3, 'mean');
    const out = new Float32Array(6 * 5 * 3);
    transformImage(ds.images, 0, 6, 5, 3, out, 0, map, { oy: 0, ox: 0, flip: false }, 2);
    expect(Array.from(out.subarray(0, 3))).toEqual([0, 0, 0]); // top-left comes from the padding
    expect(out[(2 * 5 + 2) * 3]).toBeCloseTo(norm(ds.images[0], 0), 5);
  });
});

describe('DataLoader', () => {
  it('augments every sample with one of the (2·pad+1)²·2 crops/flips, using both flips', () => {
    const ds = toy(12);
    const loader = new DataLoader(ds, opts({ batchSize: 12 }));
    const b = loader.nextBatch();
    let flips = 0;
    for (let k = 0; k < b.size; k++) {
      const got = b.x.subarray(k * 90, (k + 1) * 90);
      let match: string | null = null;
      for (let oy = 0; oy <= 4 && !match; oy++)
        for (let ox = 0; ox <= 4 && !match; ox++)
          for (const flip of [false, true])
            if (reference(ds, b.indices[k], oy, ox, flip, 2).every((v, j) => Math.abs(v - got[j]) < 1e-5)) {
              match = `${oy},${ox},${flip}`;
              if (flip) flips++;
              break;
            }
      expect(match).not.toBeNull();
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(12);
    loader.close();
  });

  it('sees every sample exactly once per epoch, reshuffling each epoch, with a partial last batch', () => {
    const ds = toy(10);
    const loader = new DataLoader(ds, opts());
    expect(loader.batchesPerEpoch).toBe(3);
    const perms: number[][] = [];
    for (let e = 0; e < 3; e++) {
      expect(loader.epoch).toBe(e);
      const batches = [...loader.batches()];
      expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
      expect(batches.map((b) => b.index)).toEqual([0, 1, 2]);
      const idx = batches.flatMap((b) => Array.from(b.indices));
      expect([...idx].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      batches.forEach((b) => expect(Array.from(b.y)).toEqual(Array.from(b.indices).map((i) => ds.labels[i])));
      perms.push(idx);
    }
    expect(perms[0]).not.toEqual(perms[1]);
    expect(perms[1]).not.toEqual(perms[2]);
    loader.close();
  });

  it('keeps order without shuffle and drops the last partial batch with dropLast', () => {
    const loader = new DataLoader(toy(10), opts({ shuffle: false, augment: false, dropLast: true }));
    expect(loader.batchesPerEpoch).toBe(2);
    const idx = [...loader.batches()].flatMap((b) => Array.from(b.indices));
    expect(idx).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(loader.epoch).toBe(1);
    loader.close();
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = new DataLoader(toy(10), opts());
    const b = new DataLoader(toy(10), opts());
    const c = new DataLoader(toy(10), opts({ seed: 10 }));
    const ra = collect(a, 7);
    expect(collect(b, 7)).toEqual(ra);
    expect(collect(c, 7).map((r) => r.idx)).not.toEqual(ra.map((r) => r.idx));
    [a, b, c].forEach((l) => l.close());
  });

  it('resumes exactly from a JSON-round-tripped state, mid-epoch and at epoch boundaries', () => {
    const ds = toy(10);
    const full = collect(new DataLoader(ds, opts()), 12); // 4 epochs of 3 batches
    for (const cut of [0, 1, 2, 3, 5, 7, 11]) {
      const first = new DataLoader(ds, opts());
      collect(first, cut);
      const state = JSON.parse(JSON.stringify(first.getState()));
      first.close();
      const resumed = new DataLoader(ds, opts({ seed: 12345 })); // the seed is irrelevant after setState
      resumed.setState(state);
      expect(collect(resumed, 12 - cut)).toEqual(full.slice(cut));
      resumed.close();
    }
  });

  it('gives the same batches whether or not prepare-ahead had time to run', async () => {
    const ds = toy(10);
    const sync = collect(new DataLoader(ds, opts()), 8);
    const loader = new DataLoader(ds, opts());
    const got: ReturnType<typeof collect> = [];
    for (let k = 0; k < 8; k++) {
      got.push(...collect(loader, 1));
      await new Promise((r) => setImmediate(r)); // lets the prepare-ahead run
    }
    expect(got).toEqual(sync);
    // setState discards a prepared batch
    const s = loader.getState();
    loader.nextBatch();
    await new Promise((r) => setImmediate(r));
    loader.setState(s);
    expect(collect(loader, 2)).toEqual(collect((() => { const l = new DataLoader(ds, opts()); l.setState(s); return l; })(), 2));
    loader.close();
  });

  it('keeps a batch valid until two more batches have been requested', async () => {
    const loader = new DataLoader(toy(40), opts());
    const b0: Batch = loader.nextBatch();
    const copy = Array.from(b0.x);
    await new Promise((r) => setImmediate(r));
    loader.nextBatch();
    await new Promise((r) => setImmediate(r));
    loader.nextBatch();
    expect(Array.from(b0.x)).toEqual(copy);
    loader.close();
  });

  it('rejects a state from a differently configured loader', () => {
    const a = new DataLoader(toy(10), opts());
    const b = new DataLoader(toy(10), opts({ batchSize: 5 }));
    expect(() => b.setState(a.getState())).toThrow(/batchSize/);
    [a, b].forEach((l) => l.close());
  });
});

function expectClose(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeLessThan(1e-5);
}

describe('a fixed bank of augmented views', () => {
  it('draws each sample as one of its bank views, says which in rows, and the view is the same in every run', () => {
    const ds = toy(10);
    const V = 3;
    const a = new DataLoader(ds, opts({ views: V }));
    const b = new DataLoader(ds, opts({ views: V, seed: 10 }));
    const seen = new Set<number>();
    for (const loader of [a, b]) {
      for (let k = 0; k < 10; k++) {
        const batch = loader.nextBatch();
        for (let j = 0; j < batch.size; j++) {
          const i = batch.indices[j];
          const row = batch.rows[j];
          expect(Math.floor(row / V)).toBe(i);
          const v = row % V;
          seen.add(v);
          const { oy, ox, flip } = bankView(i, v, 2);
          const per = ds.height * ds.width * 3;
          expectClose(batch.x.subarray(j * per, (j + 1) * per), reference(ds, i, oy, ox, flip, 2));
        }
      }
      loader.close();
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('with fixedView gives every image at that view, in order; without views rows are the indices', () => {
    const ds = toy(5);
    const fixed = new DataLoader(ds, { batchSize: 5, shuffle: false, views: 4, fixedView: 2, pad: 2 });
    const b = fixed.nextBatch();
    expect(Array.from(b.rows)).toEqual([0, 1, 2, 3, 4].map((i) => i * 4 + 2));
    const { oy, ox, flip } = bankView(3, 2, 2);
    expectClose(b.x.subarray(3 * 90, 4 * 90), reference(ds, 3, oy, ox, flip, 2));
    const plain = new DataLoader(ds, opts());
    const p = plain.nextBatch();
    expect(Array.from(p.rows)).toEqual(Array.from(p.indices));
    expect(() => new DataLoader(ds, { batchSize: 2, views: 4, fixedView: 4 })).toThrow(/fixedView 4: expected a view of the bank, 0\.\.3/);
    [fixed, plain].forEach((l) => l.close());
  });

  it('views differ between images and between views of one image', () => {
    const crops = new Set<string>();
    for (let i = 0; i < 20; i++) for (let v = 0; v < 4; v++) crops.add(JSON.stringify(bankView(i, v, 4)));
    expect(crops.size).toBeGreaterThan(60); // 162 possible crops and flips: few collisions among 80
    expect(bankView(7, 3, 4)).toEqual(bankView(7, 3, 4));
  });
});
