// A fixed bank of augmented views (FKD): a teacher's logits computed once over the bank are the logits it gives
// for the very images the student sees, so training from the bank equals training with the teacher run in every
// step on the same views. A bank kept in a file is checked before it is trusted.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../engine/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { makeSynthetic, TAKD_NORMALISATION, DataLoader } from '../dgkd/data/index.ts';
import { bankLogitsOf, fit, type Recipe } from '../dgkd/fit/trainer.ts';
import { Progress } from '../dgkd/fit/progress.ts';
import { Distillation } from '../dgkd/methods/kd.ts';
import { viewBankLogits } from '../dgkd/experiment/view_bank.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

const V = 3;

it('bankLogitsOf gives the teacher’s logits on each view of each image', async () => {
  const { train } = makeSynthetic({ seed: 1, trainSize: 40, testSize: 8 });
  const teacher = createModel('plain3', { numClasses: 10, seed: 4 }).eval();
  const bank = await bankLogitsOf(teacher, train, TAKD_NORMALISATION, V, 16);
  expect(bank.length).toBe(40 * V * 10);
  for (const view of [0, 2]) {
    const loader = new DataLoader(train, { batchSize: 40, shuffle: false, views: V, fixedView: view });
    const b = loader.nextBatch();
    const x = new Tensor([40, 32, 32, 3]);
    x.write(b.x);
    const direct = await teacher.forward(x).readF32();
    for (let i = 0; i < 40; i++) {
      for (let c = 0; c < 10; c++) expect(bank[(i * V + view) * 10 + c]).toBeCloseTo(direct[i * 10 + c], 4);
    }
    loader.close();
  }
  teacher.dispose();
});

it('trains a student from the bank exactly as with the teachers run on the same views in every step', async () => {
  const { train, test } = makeSynthetic({ seed: 2, trainSize: 96, testSize: 16 });
  const teachers = [createModel('plain3', { numClasses: 10, seed: 5 }).eval(), createModel('plain2', { numClasses: 10, seed: 6 }).eval()];
  const banks = await Promise.all(teachers.map((t) => bankLogitsOf(t, train, TAKD_NORMALISATION, V)));
  const recipe: Recipe = {
    epochs: 2, batchSize: 16, schedule: { kind: 'constant', lr: 0.01, epochs: 2 }, momentum: 0.9, weightDecay: 1e-4,
    nesterov: false, augment: true, viewBank: V, normalisation: TAKD_NORMALISATION, seed: 3,
  };
  const run = async (teacherLogits?: Float32Array[]) => {
    const model = createModel('plain2', { numClasses: 10, seed: 7 });
    const r = await fit({
      stage: 'bank', model, teachers, train, test, recipe, teacherLogits,
      objective: new Distillation(2, { temperature: 4, lambda: 0.5, klReduction: 'batchmean' }),
      dir: mkdtempSync(join(tmpdir(), 'dgkd-bank-')), dataset: 'synthetic', progress: new Progress(true),
    });
    const w = await model.parameters()[0].readF32();
    model.dispose();
    return { loss: r.history.map((h) => h.trainLoss), w };
  };
  const fromBank = await run(banks);
  const live = await run();
  fromBank.loss.forEach((l, e) => expect(l).toBeCloseTo(live.loss[e], 4));
  const diff = Math.max(...fromBank.w.map((v, i) => Math.abs(v - live.w[i])));
  expect(diff).toBeLessThan(1e-4);
  teachers.forEach((t) => t.dispose());
}, 60_000);

it('a signal stops a long bank between batches, and the teacher is left as it was', async () => {
  const { train } = makeSynthetic({ seed: 1, trainSize: 64, testSize: 8 });
  const teacher = createModel('plain2', { numClasses: 10, seed: 4 });   // in training mode
  let reads = 0;
  const signal = { get stop() { return ++reads > 3; } };   // set during the fourth batch
  await expect(bankLogitsOf(teacher, train, TAKD_NORMALISATION, 5, 16, signal)).rejects.toThrow(
    /stopped while computing the view bank \(view 1 of 5\); it is computed again next time/,
  );
  expect(teacher.training).toBe(true);
  teacher.dispose();
});

it('a stored bank is read back when it holds the teacher’s logits, and computed again when it does not', async () => {
  const { train } = makeSynthetic({ seed: 3, trainSize: 48, testSize: 8 });
  const teacher = createModel('plain2', { numClasses: 10, seed: 8 }).eval();
  const path = join(mkdtempSync(join(tmpdir(), 'dgkd-bank-file-')), '_bank', 'teacher.f32');
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const first = await viewBankLogits(path, teacher, train, V, log);
  expect(lines.some((l) => l.startsWith('view bank done'))).toBe(true);

  lines.length = 0;
  expect(await viewBankLogits(path, teacher, train, V, log)).toEqual(first);
  expect(lines).toEqual([]);   // read back, not recomputed

  const corrupt = async (change: (f: Float32Array) => void, why: RegExp) => {
    const f = first.slice();
    change(f);
    writeFileSync(path, new Uint8Array(f.buffer));
    lines.length = 0;
    expect(await viewBankLogits(path, teacher, train, V, log)).toEqual(first);
    expect(lines[0]).toMatch(why);
    expect(new Float32Array(readFileSync(path).buffer.slice(0))).toEqual(first);   // the file is repaired
  };
  await corrupt((f) => f.fill(0), /differs from the teacher's logits for its first 16 images \(largest difference [\d.e-]+\): computing it again/);
  await corrupt((f) => { f[f.length - 5] = NaN; }, /holds a non-finite value \(NaN at float \d+\): computing it again/);
  writeFileSync(path, new Uint8Array(first.buffer).subarray(0, 100));
  lines.length = 0;
  expect(await viewBankLogits(path, teacher, train, V, log)).toEqual(first);
  expect(lines[0]).toMatch(/has 100 bytes, expected 5760: computing it again/);
  teacher.dispose();
}, 60_000);
