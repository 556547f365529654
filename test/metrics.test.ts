// Top-k accuracy counts on the GPU (shaders/topk_correct.wgsl) against a reference, and non-finite logits: a
// NaN or infinite logit makes its row wrong, so a model whose weights went non-finite never scores as best.
import { beforeAll, expect, it } from 'vitest';
import { Rng, tensor, topkCorrect } from '../engine/index.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

function reference(z: Float32Array, labels: Int32Array, C: number, k: number): number[][] {
  const B = labels.length;
  const top1: number[] = [];
  const topk: number[] = [];
  for (let b = 0; b < B; b++) {
    const row = z.subarray(b * C, (b + 1) * C);
    const y = labels[b];
    const bad = y < 0 || y >= C || row.some((v) => !Number.isFinite(v));
    const above = bad ? C : row.filter((v) => v > row[y]).length;
    top1.push(above < 1 ? 1 : 0);
    topk.push(above < k ? 1 : 0);
  }
  return [top1, topk];
}

it('matches the reference on random logits of awkward sizes, with ties and invalid labels', async () => {
  const rng = new Rng(3);
  for (const [B, C, k] of [[1, 1, 1], [7, 3, 2], [67, 10, 5], [130, 101, 5]]) {
    const z = Float32Array.from({ length: B * C }, () => Math.round(rng.normal() * 4) / 4); // quarter steps: ties
    const labels = Int32Array.from({ length: B }, (_, i) => (i % 11 === 10 ? C + 2 : rng.int(C)));
    const out = await topkCorrect(tensor(z, [B, C]), tensor(labels, [B], 'i32'), k).readF32();
    const [top1, topk] = reference(z, labels, C, k);
    expect(Array.from(out.subarray(0, B))).toEqual(top1);
    expect(Array.from(out.subarray(B))).toEqual(topk);
  }
});

it('counts a row with a NaN or infinite logit as wrong', async () => {
  const z = Float32Array.from([
    NaN, NaN, NaN, // all NaN: every comparison false, formerly "correct"
    1, NaN, 0,
    Infinity, 0, 0,
    0, -Infinity, 0.5,
    0, 2, 1, // a finite row, label 1: correct
  ]);
  const labels = Int32Array.from([0, 0, 0, 2, 1]);
  const out = await topkCorrect(tensor(z, [5, 3]), tensor(labels, [5], 'i32'), 2).readF32();
  expect(Array.from(out.subarray(0, 5))).toEqual([0, 0, 0, 0, 1]);
  expect(Array.from(out.subarray(5))).toEqual([0, 0, 0, 0, 1]);
});
