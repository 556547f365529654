// The training loop for one model: epochs of SGD steps (step.ts) over a seeded, augmented data order,
// evaluation (every `evalEvery` epochs and after the last; evaluate.ts), metrics.jsonl, and atomic checkpoints
// (last and best; fit_state.ts) that carry everything needed to resume exactly. "Best" is chosen on the
// validation split when there is one (else on the test split, which the report then says), and the test
// accuracy is reported at that epoch.
//
// Without augmentation a frozen teacher gives the same logits for an image every epoch, so the pipeline may pass
// them in precomputed (`teacherLogits`, one row per training image): the step then looks them up by the batch's
// dataset indices instead of running the teacher's forward pass.
//
// Pacing: after encoding step k the loop waits for step k−1's loss and accuracy counters (loss_watch.ts), so the
// GPU always has one step queued, nothing is read back synchronously, and a NaN is caught one step late at most —
// with the exact step named.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, runtime } from '../../engine/index.ts';
import { SGD } from '../../engine/nn/index.ts';
import type { Classifier } from '../models/index.ts';
import { DataLoader, type Dataset, type Normalisation } from '../data/index.ts';
import type { Objective } from '../methods/objective.ts';
import { writeFileAtomic } from './atomic.ts';
import { evaluate } from './evaluate.ts';
import { BEST, LAST, freshState, hasCheckpoint, resumeFit, saveFit, type FitParts } from './fit_state.ts';
import { LossWatch } from './loss_watch.ts';
import { learningRate, type ScheduleConfig } from './schedule.ts';
import { Progress } from './progress.ts';
import { gatherRows, trainStep } from './step.ts';
import { Interrupted } from './interrupted.ts';

export { bankLogitsOf, evaluate, logitsOf } from './evaluate.ts';
export { NonFiniteLossError, DivergedLossError, DIVERGENCE_FACTOR } from './loss_watch.ts';
export { LAST, BEST } from './fit_state.ts';

export interface Recipe {
  epochs: number;
  batchSize: number;
  schedule: ScheduleConfig;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  augment: boolean;
  /** With augment: train on a fixed bank of this many views per image (0: fresh crops and flips). */
  viewBank?: number;
  normalisation: Normalisation;
  seed: number;
}

export interface EpochMetrics {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAcc: number;
  /** Absent for epochs that were not evaluated (--eval-every). */
  valAcc?: number;
  testAcc?: number;
  testTop5?: number;
  seconds: number;
  imagesPerSec: number;
  /** The process's resident memory at the epoch's end and its peak so far (MB): flat over a long run. */
  rssMB?: number;
  peakRssMB?: number;
  method?: Record<string, unknown>;
}

export interface FitResult {
  /** The evaluated epoch with the best validation accuracy (test accuracy without a validation split). */
  bestEpoch: number;
  bestVal: number | null;
  /** Test accuracy at bestEpoch, and after the last epoch. */
  bestAcc: number;
  finalAcc: number;
  bestTop5?: number;
  finalTop5?: number;
  epochs: number;
  seconds: number;
  history: EpochMetrics[];
}

export interface FitOptions {
  stage: string;
  model: Classifier;
  /** The frozen models it learns from (teacher and assistants), largest first. */
  teachers: Classifier[];
  objective: Objective;
  train: Dataset;
  /** Held out of the training data, for choosing the best epoch; null = choose on `test`. */
  val?: Dataset | null;
  test: Dataset;
  recipe: Recipe;
  /** Evaluate every K epochs (and always after the last); default 1. */
  evalEvery?: number;
  /**
   * Per teacher, its logits for every training image ([train.size × classes]) without augmentation, or for every
   * view of the bank ([train.size × viewBank × classes]) with one; the loader's batch `rows` index them.
   */
  teacherLogits?: Float32Array[];
  /** Folder for metrics.jsonl, last.safetensors, best.safetensors. */
  dir: string;
  dataset: string;
  resume?: boolean;
  progress?: Progress;
  /** Set .stop to finish after the current step and checkpoint (SIGINT). */
  signal?: { stop: boolean };
  /** Extra metadata stored in checkpoints (e.g. the stage's recipe key). */
  meta?: Record<string, unknown>;
}

export { Interrupted };

export async function fit(o: FitOptions): Promise<FitResult> {
  const { model, recipe, objective } = o;
  const rt = runtime();
  const progress = o.progress ?? new Progress();
  const params = [
    ...model.parameters(),
    ...(objective.companions ?? []).flatMap((c) => c.parameters()),
    ...(objective.trainables ?? []).flatMap((m) => m.parameters()),
  ];
  const opt = new SGD(params, { lr: recipe.schedule.lr, momentum: recipe.momentum, weightDecay: recipe.weightDecay, nesterov: recipe.nesterov });
  const { mean, std } = recipe.normalisation;
  const loader = new DataLoader(o.train, {
    batchSize: recipe.batchSize, shuffle: true, augment: recipe.augment, mean, std, seed: recipe.seed, dropLast: true,
    ...(recipe.augment && recipe.viewBank ? { views: recipe.viewBank } : {}),
  });
  const parts: FitParts = { opt, loader, rng: new Rng(recipe.seed ^ 0x5eed) };
  const lastPath = join(o.dir, LAST);
  const resuming = !!o.resume && hasCheckpoint(o);
  const state = resuming ? resumeFit(o, parts) : freshState();
  if (resuming) progress.log(`[${o.stage}] resuming after epoch ${state.epoch} from ${lastPath}`);

  const { height: H, width: W, channels: C } = o.train;
  const steps = loader.batchesPerEpoch;
  const teachers = o.teachers;
  const precomputed = !recipe.augment || !!recipe.viewBank;
  const cached = precomputed && !objective.needsTeacherFeatures && o.teacherLogits?.length === teachers.length ? o.teacherLogits : null;
  const evalEvery = o.evalEvery ?? 1;
  teachers.forEach((t) => t.eval());
  model.train();
  (objective.companions ?? []).forEach((c) => c.train());
  (objective.trainables ?? []).forEach((m) => m.train());

  for (let epoch = state.epoch; epoch < recipe.epochs; epoch++) {
    const te = performance.now();
    const watch = new LossWatch(state.partial ?? { lossSum: 0, correctSum: 0, seen: 0 }, state.reference, {
      stage: o.stage,
      at: (step) => `at epoch ${epoch + 1}, step ${step + 1}`,
      lastGood: () => `the last good checkpoint is ${existsSync(lastPath) ? lastPath : '(none yet)'}`,
    });
    const seenAtStart = watch.sums.seen;
    state.partial = null;
    let lr = recipe.schedule.lr;
    for (let step = loader.position; step < steps; step++) {
      const batch = loader.nextBatch();
      lr = learningRate(recipe.schedule, epoch, step, steps);
      opt.lr = lr;
      const B = batch.size;
      const [loss, correct] = trainStep(model, teachers, objective, opt, {
        images: batch.x.subarray(0, B * H * W * C),
        labels: batch.y.subarray(0, B),
        shape: [B, H, W, C],
        teacherLogits: cached?.map((table, i) => gatherRows(table, batch.rows, B, teachers[i].numClasses)),
        progress: epoch + (step + 1) / steps,
      }, parts.rng);
      watch.push(rt.readLater([loss, correct].map((t) => ({ buffer: t.buffer, bytes: 4 }))), step, B);
      loss.dispose();
      correct.dispose();
      await watch.drain(1);
      const { seen, correctSum } = watch.sums;
      const elapsed = (performance.now() - te) / 1000;
      progress.update({ stage: o.stage, epoch, epochs: recipe.epochs, step: step + 1, steps, loss: watch.lastLoss, acc: seen ? correctSum / seen : 0, imagesPerSec: (seen - seenAtStart) / elapsed });
      // Mid-epoch stop (SIGINT). At the epoch's last step the epoch is finished instead — evaluated and saved at
      // the boundary below — because the loader has then already rolled over into the next epoch's order.
      if (o.signal?.stop && step < steps - 1) {
        await watch.drain(0);
        // The loader's position already points after this batch; saving mid-epoch keeps the exact order.
        await saveFit(o, parts, state, epoch, { ...watch.sums });
        throw new Interrupted(`[${o.stage}] interrupted at epoch ${epoch + 1}, step ${step + 1}; checkpoint saved to ${lastPath}`);
      }
    }
    await watch.drain(0);
    const { lossSum, correctSum, seen } = watch.sums;
    const trainSeconds = (performance.now() - te) / 1000;
    const evaluated = (epoch + 1) % evalEvery === 0 || epoch + 1 === recipe.epochs;
    const ev = evaluated ? await evaluate(model, o.test, recipe.normalisation) : null;
    const val = evaluated && o.val ? await evaluate(model, o.val, recipe.normalisation) : null;
    const m: EpochMetrics = {
      epoch: epoch + 1,
      lr,
      trainLoss: lossSum / Math.max(seen, 1),
      trainAcc: correctSum / Math.max(seen, 1),
      ...(val ? { valAcc: val.top1 } : {}),
      ...(ev ? { testAcc: ev.top1 } : {}),
      ...(ev && o.train.numClasses >= 100 ? { testTop5: ev.top5 } : {}),
      seconds: (performance.now() - te) / 1000,
      imagesPerSec: (seen - seenAtStart) / trainSeconds,
      rssMB: Math.round(process.memoryUsage.rss() / 2 ** 20),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      ...(objective.stats ? { method: objective.stats() } : {}),
    };
    state.history.push(m);
    const score = selectionScore(o, m);
    const improved = score !== undefined && score > state.bestAcc;
    if (improved) state.bestAcc = score;
    progress.update({ stage: o.stage, epoch, epochs: recipe.epochs, step: steps, steps, loss: m.trainLoss, acc: m.trainAcc, imagesPerSec: m.imagesPerSec }, true);
    progress.log(epochLine(o.stage, recipe.epochs, m));
    writeFileAtomic(join(o.dir, 'metrics.jsonl'), state.history.map((h) => JSON.stringify(h)).join('\n') + '\n');
    if (improved) await saveFit(o, parts, state, epoch + 1, null, BEST);
    await saveFit(o, parts, state, epoch + 1, null);
    if (o.signal?.stop && epoch + 1 < recipe.epochs) {
      throw new Interrupted(`[${o.stage}] interrupted after epoch ${epoch + 1}; checkpoint saved to ${lastPath}`);
    }
  }
  loader.close();
  opt.dispose();
  return { ...summarise(o, state.history), epochs: recipe.epochs, seconds: state.history.reduce((a, h) => a + h.seconds, 0), history: state.history };
}

function epochLine(stage: string, epochs: number, m: EpochMetrics): string {
  return (
    `[${stage}] epoch ${m.epoch}/${epochs} lr ${m.lr.toPrecision(3)} loss ${m.trainLoss.toFixed(4)} ` +
    `train ${(m.trainAcc * 100).toFixed(2)}%` +
    (m.valAcc !== undefined ? ` val ${(m.valAcc * 100).toFixed(2)}%` : '') +
    (m.testAcc !== undefined ? ` test ${(m.testAcc * 100).toFixed(2)}%` : ' (not evaluated)') +
    (m.testTop5 !== undefined ? ` top-5 ${(m.testTop5 * 100).toFixed(2)}%` : '') +
    ` (${m.imagesPerSec.toFixed(0)} img/s)`
  );
}

/** The score that chooses the best epoch: validation accuracy when there is a validation split, else test. */
const selectionScore = (o: FitOptions, h: EpochMetrics) => (o.val ? h.valAcc : h.testAcc);

function summarise(o: FitOptions, hs: EpochMetrics[]) {
  const scored = hs.filter((h) => selectionScore(o, h) !== undefined);
  // The first epoch with the best score: ties go to the earlier epoch, as the saved best checkpoint does.
  const best = scored.reduce((a, h) => (selectionScore(o, h)! > selectionScore(o, a)! ? h : a), scored[0]);
  const last = hs[hs.length - 1];
  return {
    bestEpoch: best?.epoch ?? 0,
    bestVal: o.val ? (best?.valAcc ?? null) : null,
    bestAcc: best?.testAcc ?? NaN,
    finalAcc: last?.testAcc ?? NaN,
    ...(last?.testTop5 !== undefined ? { bestTop5: best?.testTop5, finalTop5: last.testTop5 } : {}),
  };
}

export function readMetrics(dir: string): EpochMetrics[] {
  const p = join(dir, 'metrics.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
