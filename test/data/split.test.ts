import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../dgkd/data/dataset.ts';
import { splitValidation, subset } from '../../dgkd/data/split.ts';

/** 2×1×1 images whose two bytes encode the sample index, with imbalanced labels. */
function toy(size: number, numClasses = 3): Dataset {
  const images = new Uint8Array(size * 2);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    images[2 * i] = i & 255;
    images[2 * i + 1] = i >> 8;
    labels[i] = i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2; // 60% / 30% / 10%
  }
  return { name: 'toy', numClasses, height: 1, width: 1, channels: 2, size, images, labels };
}

const ids = (ds: Dataset) => Array.from({ length: ds.size }, (_, k) => ds.images[2 * k] + 256 * ds.images[2 * k + 1]);
const counts = (ds: Dataset) => [0, 1, 2].map((c) => ds.labels.filter((y) => y === c).length);

describe('subset', () => {
  it('copies the chosen samples in order', () => {
    const ds = toy(20);
    const s = subset(ds, [7, 3, 19]);
    expect(s.size).toBe(3);
    expect(ids(s)).toEqual([7, 3, 19]);
    expect(Array.from(s.labels)).toEqual([ds.labels[7], ds.labels[3], ds.labels[19]]);
    s.images[0] = 99;
    expect(ds.images[14]).toBe(7); // a copy, not a view
    expect(() => subset(ds, [20])).toThrow(/index 20/);
  });
});

describe('splitValidation', () => {
  it('splits by fraction, stratified, into disjoint parts covering everything in original order', () => {
    const ds = toy(1000);
    const { train, val } = splitValidation(ds, 0.1, 5);
    expect(val.size).toBe(100);
    expect(train.size).toBe(900);
    expect(counts(val)).toEqual([60, 30, 10]);
    expect(counts(train)).toEqual([540, 270, 90]);
    const all = [...ids(train), ...ids(val)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const v = ids(val);
    expect(v).toEqual([...v].sort((a, b) => a - b));
  });

  it('splits by count with exact total even when class shares do not divide evenly', () => {
    const { train, val } = splitValidation(toy(997), 101, 1);
    expect(val.size).toBe(101);
    expect(train.size).toBe(896);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const ds = toy(500);
    expect(ids(splitValidation(ds, 50, 3).val)).toEqual(ids(splitValidation(ds, 50, 3).val));
    expect(ids(splitValidation(ds, 50, 3).val)).not.toEqual(ids(splitValidation(ds, 50, 4).val));
    const plain = splitValidation(ds, 50, 3, { stratified: false });
    expect(plain.val.size).toBe(50);
    expect(ids(plain.val)).toEqual(ids(splitValidation(ds, 50, 3, { stratified: false }).val));
  });

  it('rejects impossible sizes', () => {
    expect(() => splitValidation(toy(10), 11, 0)).toThrow(/validation size 11/);
    expect(() => splitValidation(toy(10), 2.5, 0)).toThrow(/validation size/);
  });
});
