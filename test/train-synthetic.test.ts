// A short training run on the built-in dataset, through the real pipeline: the loss falls and the test accuracy
// beats chance (10%) clearly. The dataset is built to be hard (see dgkd/data/synthetic.ts), so a 13k-parameter
// CNN trained for seconds reaches about 22%; the bound leaves room for driver-to-driver rounding.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickConfig } from '../dgkd/settings/config.ts';
import { runExperiment } from '../dgkd/experiment/run.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

it('plain2 learns the built-in dataset well above chance', async () => {
  const c = quickConfig();
  c.out = mkdtempSync(join(tmpdir(), 'dgkd-syn-'));
  c.name = 'syn';
  c.compare = false;
  c.method = 'ce';
  c.seeds = 1;
  c.student = 'plain2';
  c.syntheticTrain = 2816; // 2560 after the validation split
  c.valSplit = 256;
  c.syntheticTest = 500;
  c.recipe = { ...c.recipe, epochs: 6, batchSize: 32, lr: 0.01, schedule: 'cosine' };
  c.quiet = true;
  const summary = await runExperiment(c);
  const stage = summary.stages[0];
  expect(stage.bestAcc).toBeGreaterThan(0.18);
  const { readFileSync } = await import('node:fs');
  const metrics = readFileSync(join(c.out, '_cache', stage.key, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(metrics[metrics.length - 1].trainLoss).toBeLessThan(metrics[0].trainLoss * 0.85);
  console.log(`plain2 on synthetic: loss ${metrics[0].trainLoss.toFixed(3)} → ${metrics[metrics.length - 1].trainLoss.toFixed(3)}, best test accuracy ${(stage.bestAcc * 100).toFixed(1)}%`);
});
