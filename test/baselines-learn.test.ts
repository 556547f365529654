// Each baseline of issue 27 learns: a short built-in run with a --compare list — DKD, DIST, AT, FitNets, RKD, and
// DGKD whose every per-teacher term is DKD — from a plain4 teacher trained first (longer, then given as a file, so
// that there is something to distil) to plain2 students trained for 3 epochs, with an assistant plain3 for DGKD.
// Every student's training loss falls and its test accuracy is well above chance (10%). DIST runs at β = γ = 0.2
// here (see below); its formula and gradients at the paper's weights are checked in baselines.test.ts.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickConfig, type ExperimentConfig } from '../dgkd/settings/config.ts';
import { runExperiment } from '../dgkd/experiment/run.ts';
import { stageDir } from '../dgkd/experiment/folders.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

function config(out: string): ExperimentConfig {
  const c = quickConfig();
  c.out = out;
  c.seeds = 1;
  c.teacher = 'plain4';
  c.assistants = ['plain3'];
  c.student = 'plain2';
  c.syntheticTrain = 2048 + 256;
  c.valSplit = 256;
  c.syntheticTest = 500;
  c.recipe = { ...c.recipe, epochs: 3 };
  c.quiet = true;
  return c;
}

it('DKD, DIST, AT, FitNets, RKD and DGKD with DKD learn (plain4 → plain2, 2,048 images, 3 epochs)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-baselines-'));
  const t0 = Date.now();
  // The teacher: plain4 with CE for 8 epochs.
  const t = config(out);
  t.name = 'teacher';
  t.compare = false;
  t.method = 'ce';
  t.student = 'plain4';
  t.recipe = { ...t.recipe, epochs: 8 };
  const teacher = (await runExperiment(t)).stages[0];
  const c = config(out);
  c.name = 'baselines';
  c.teacherCheckpoint = join(stageDir(c, teacher.key), 'last.safetensors');
  c.compare = ['nokd', 'dkd', 'dist', 'at', 'fitnets', 'rkd', 'dgkd-dkd'];
  // DIST at its CIFAR weights β = γ = 2 (32 each with τ² = 16) overshoots a plain CNN at lr 0.01, as CTKD's
  // logit term did (docs/ctkd.md: the first FC layer's input has ‖h‖² in the thousands). Measured with this
  // teacher: loss 59.2 → 49.9, test 9.2% (the inter-class term alone: 8.2%; the intra-class term alone: 21.2%);
  // at lr 0.002, 21.8%; at β = γ = 0.2, 25.8%. The learning check uses the last.
  c.dist = { beta: 0.2, gamma: 0.2 };
  const summary = await runExperiment(c);
  const results: { method: string; losses: number[]; acc: number }[] = [];
  for (const row of summary.table) {
    const stage = summary.stages.find((s) => s.name === `student-plain2-${STAGE[row.method]}`);
    if (!stage) continue;
    const metrics = readFileSync(join(c.out, c.name, 'stages', `${stage.name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trainLoss: number });
    results.push({ method: row.method, losses: metrics.map((m) => m.trainLoss), acc: stage.finalAcc });
  }
  console.log(
    `teacher plain4 (8 epochs): test ${(teacher.finalAcc * 100).toFixed(1)}%\n` +
      results.map((r) => `${r.method.padEnd(16)} loss ${r.losses.map((l) => l.toFixed(3)).join(' → ')}, test ${(r.acc * 100).toFixed(1)}%`).join('\n') +
      `\n(${((Date.now() - t0) / 1000).toFixed(0)} s; chance 10%)`,
  );
  expect(results.map((r) => r.method)).toEqual(Object.keys(STAGE));
  // Measured on lavapipe (2 cores, beside another training): teacher 28.6%; NOKD 14.2%, DKD 20.0%, DIST 25.8%,
  // AT 23.4%, FitNets 23.2%, RKD 22.6%, DGKD with DKD 21.2%; every loss falls; about 5 minutes in all.
  for (const { method, losses, acc } of results) {
    losses.forEach((l) => expect(Number.isFinite(l), method).toBe(true));
    expect(losses[losses.length - 1], `${method}: the loss falls`).toBeLessThan(losses[0]);
    // 500 test images: chance is 10% ± 1.3%; 16% is 4.5 standard deviations above it. NOKD (14.2% in 3 epochs on
    // 2,048 images) is the reference the distilled students are read against, not a method under test.
    if (method !== 'NOKD') expect(acc, `${method}: above chance`).toBeGreaterThan(0.16);
  }
}, 1_200_000);

/** Each table row's student stage name. */
const STAGE: Record<string, string> = {
  NOKD: 'nokd', DKD: 'dkd', DIST: 'dist', AT: 'at', FitNets: 'fitnets', RKD: 'rkd', 'DGKD (DKD loss)': 'dgkd-dkd',
};
