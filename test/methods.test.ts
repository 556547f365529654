// Distillation losses: hand-computed KD values, DGKD's summed terms and CE weight, stochastic teaching draws,
// and CTKD's gradient routing (stop-gradient, attention target).
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, backward, klDivWithTemperature, softmaxCrossEntropy, tensor, tidy, type Tensor } from '../engine/index.ts';
import { Distillation, drawTeachers } from '../dgkd/methods/kd.ts';
import { CollaborativeTeaching } from '../dgkd/methods/ctkd.ts';
import { createModel } from '../dgkd/models/index.ts';
import { gpuReady, labelsUp } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

const logits = (rows: number[][]) => tensor(rows.flat(), [rows.length, rows[0].length]);

describe('KD loss by hand', () => {
  // One sample, two classes: teacher logits (ln 3, 0) → p_t = (3/4, 1/4) at T = 1; student logits 0 → p_s = ½.
  for (const T of [1, 2, 4]) {
    for (const reduction of ['batchmean', 'elementwise-mean'] as const) {
      it(`T = ${T}, ${reduction}`, async () => {
        const zt = [Math.log(3) * T, 0]; // so that zt / T = (ln 3, 0) for every T
        const kl = 0.75 * Math.log(0.75 / 0.5) + 0.25 * Math.log(0.25 / 0.5);
        const expected = (T * T * kl) / (reduction === 'batchmean' ? 1 : 2);
        const loss = klDivWithTemperature(logits([[0, 0]]), logits([zt]), T, reduction);
        // float32 on the GPU: a few ulps of the value (SwiftShader measured 3e-7 relative), not a fixed 5e-7
        expect(Math.abs((await loss.item()) - expected)).toBeLessThan(1e-6 * expected);
      });
    }
  }
  it('batchmean divides by B, element-wise mean by B·C', async () => {
    const zs = logits([[0.3, -1, 2], [1, 1, 0]]);
    const zt = logits([[1, 0, -1], [0.5, 2, 0]]);
    const bm = await klDivWithTemperature(zs, zt, 3, 'batchmean').item();
    const em = await klDivWithTemperature(zs, zt, 3, 'elementwise-mean').item();
    expect(bm / em).toBeCloseTo(3, 5);
  });
  it('gradient of the fused KL matches finite differences (float32)', async () => {
    const rng = new Rng(4);
    const zsData = Array.from({ length: 12 }, () => rng.normal());
    const zt = logits([[1, 0, -1, 2], [0.5, 2, 0, -1], [0, 0, 1, 1]]);
    const lossAt = async (v: number[]) => klDivWithTemperature(tensor(v, [3, 4]), zt, 2, 'batchmean').item();
    const zs = tensor(zsData, [3, 4]);
    zs.requiresGrad = true;
    backward(klDivWithTemperature(zs, zt, 2, 'batchmean'));
    const grad = await zs.grad!.readF32();
    const eps = 1e-2;
    for (let i = 0; i < 12; i++) {
      const up = [...zsData];
      const dn = [...zsData];
      up[i] += eps;
      dn[i] -= eps;
      const fd = ((await lossAt(up)) - (await lossAt(dn))) / (2 * eps);
      expect(Math.abs(grad[i] - fd)).toBeLessThan(2e-3 + 1e-2 * Math.abs(fd));
    }
  });
});

describe('DGKD loss', () => {
  const zs = () => logits([[0.2, 1, -0.5], [1, 0, 0.3]]);
  const teachers = [logits([[1, 0, 0], [0, 1, 0]]), logits([[2, 1, 0], [0, 0, 1]]), logits([[0, 0, 3], [1, 1, 1]])];
  const labels = () => labelsUp(Int32Array.from([1, 0]));
  const out = (t: Tensor) => ({ logits: t, features: [] });

  async function expected(ceWeight: number, lambda: number, T: number, kept: boolean[]) {
    const ce = await softmaxCrossEntropy(zs(), labels()).loss.item();
    let kd = 0;
    for (let i = 0; i < teachers.length; i++) if (kept[i]) kd += await klDivWithTemperature(zs(), teachers[i], T, 'batchmean').item();
    return ceWeight * ce + lambda * kd;
  }

  it('sums the KD terms and weights CE by (n + 1)(1 − λ) by default', async () => {
    const obj = new Distillation(3, { temperature: 4, lambda: 0.7, klReduction: 'batchmean' });
    expect(obj.ceWeight).toBeCloseTo(3 * 0.3, 10);
    const { loss } = obj.loss({ x: zs(), labels: labels(), student: out(zs()), companions: [], teachers: teachers.map(out), rng: new Rng(0) });
    expect(await loss.item()).toBeCloseTo(await expected(0.9, 0.7, 4, [true, true, true]), 5);
  });
  it("the official code's CE weight (1 − λ) is an option", async () => {
    const obj = new Distillation(3, { temperature: 2, lambda: 0.4, klReduction: 'batchmean', ceWeight: 0.6 });
    const { loss } = obj.loss({ x: zs(), labels: labels(), student: out(zs()), companions: [], teachers: teachers.map(out), rng: new Rng(0) });
    expect(await loss.item()).toBeCloseTo(await expected(0.6, 0.4, 2, [true, true, true]), 5);
  });
  it('drops exactly the teachers the draw says', async () => {
    const obj = new Distillation(3, { temperature: 4, lambda: 0.5, klReduction: 'batchmean', drop: 'exact-k', dropK: 1 });
    const kept = drawTeachers(3, 'exact-k', new Rng(9), 0.75, 1);
    const { loss } = obj.loss({ x: zs(), labels: labels(), student: out(zs()), companions: [], teachers: teachers.map(out), rng: new Rng(9) });
    expect(await loss.item()).toBeCloseTo(await expected(1.5, 0.5, 4, kept), 5);
  });
});

describe('stochastic teaching draws', () => {
  it('Bernoulli keep rate matches p and never drops everyone', () => {
    const rng = new Rng(1);
    const n = 3;
    const p = 0.75;
    const draws = 20000;
    let kept = 0;
    for (let i = 0; i < draws; i++) {
      const k = drawTeachers(n, 'bernoulli', rng, p);
      expect(k.some(Boolean)).toBe(true);
      kept += k.filter(Boolean).length;
    }
    // With redraws of the all-dropped case the rate is p / (1 − (1 − p)^n).
    const expected = p / (1 - (1 - p) ** n);
    expect(kept / (draws * n)).toBeCloseTo(expected, 2);
  });
  it('p = 0.2 with one teacher still always keeps it', () => {
    const rng = new Rng(2);
    for (let i = 0; i < 100; i++) expect(drawTeachers(1, 'bernoulli', rng, 0.2)).toEqual([true]);
  });
  it('exact-k drops exactly k, uniformly over teachers (the teacher included)', () => {
    const rng = new Rng(3);
    const dropped = [0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) {
      const k = drawTeachers(4, 'exact-k', rng, 0.75, 1);
      expect(k.filter((x) => !x).length).toBe(1);
      k.forEach((x, j) => !x && dropped[j]++);
    }
    dropped.forEach((d) => expect(d / 8000).toBeCloseTo(0.25, 1));
  });
  it('draws are reproducible from the seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 50; i++) expect(drawTeachers(4, 'bernoulli', a, 0.5)).toEqual(drawTeachers(4, 'bernoulli', b, 0.5));
  });
});

describe('CTKD gradient routing', () => {
  const rng = new Rng(5);
  const x = Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.normal());

  /** Gradients of both models' first conv after one loss evaluation. */
  async function grads(opts: { gamma: number; beta: number; target: 'student' | 'scratch' }) {
    const student = createModel('resnet8', { numClasses: 10, seed: 1 });
    const scratch = createModel('resnet14', { numClasses: 10, seed: 2 });
    const expert = createModel('resnet14', { numClasses: 10, seed: 3 }).eval();
    const obj = new CollaborativeTeaching(scratch, opts);
    tidy(() => {
      const xt = tensor(x, [2, 32, 32, 3]);
      const s = student.forwardWithFeatures(xt);
      const c = scratch.forwardWithFeatures(xt);
      const e = expert.forwardWithFeatures(xt);
      const { loss } = obj.loss({ x: xt, labels: labelsUp(Int32Array.from([3, 7])), student: s, companions: [c], teachers: [e], rng });
      backward(loss);
    });
    const firstConv = (m: typeof student) => m.namedParameters().find(([n]) => n === 'conv1.weight')![1];
    const r = { student: await firstConv(student).grad!.readF32(), scratch: await firstConv(scratch).grad!.readF32() };
    [student, scratch, expert].forEach((m) => m.dispose());
    return r;
  }
  const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => Math.abs(v - b[i]) <= 1e-6 * (1 + Math.abs(v)));

  it('the scratch teacher gets no gradient from the logit-following loss', async () => {
    const base = await grads({ gamma: 0, beta: 0, target: 'student' });
    const withGamma = await grads({ gamma: 5, beta: 0, target: 'student' });
    expect(same(base.scratch, withGamma.scratch)).toBe(true);
    expect(same(base.student, withGamma.student)).toBe(false);
  });
  it('the attention loss reaches the configured target only', async () => {
    const base = await grads({ gamma: 0, beta: 0, target: 'student' });
    const toStudent = await grads({ gamma: 0, beta: 1000, target: 'student' });
    expect(same(base.scratch, toStudent.scratch)).toBe(true);
    expect(same(base.student, toStudent.student)).toBe(false);
    const toScratch = await grads({ gamma: 0, beta: 1000, target: 'scratch' });
    expect(same(base.student, toScratch.student)).toBe(true);
    expect(same(base.scratch, toScratch.scratch)).toBe(false);
  });
});

