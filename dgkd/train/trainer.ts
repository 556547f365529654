// The training loop for one model: epochs of SGD over a seeded, augmented data order, evaluation (every
// `evalEvery` epochs and after the last), metrics.jsonl, and atomic checkpoints (last and best) that carry
// everything needed to resume exactly. "Best" is chosen on the validation split when there is one (else on the
// test split, which the report then says), and the test accuracy is reported at that epoch.
//
// Without augmentation a frozen trainer gives the same logits for an image every epoch, so the pipeline may pass
// them in precomputed (`trainerLogits`, one row per training image): the step then looks them up by the batch's
// dataset indices instead of running the trainer's forward pass.
//
// Pacing: after encoding step k the loop waits for step k−1's loss/accuracy counters (Runtime.readLater), so
// the GPU always has one step queued, nothing is read back synchronously, and a NaN is caught one step late
// at most — with the exact step named.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, backward, noGrad, runtime, sum, tensor, tidy, topkCorrect, keep, add, type Tensor } from '../../engine/index.ts';
import { SGD } from '../../engine/nn/index.ts';
import type { Classifier, ModelOutput } from '../models/index.ts';
import { DataLoader, type Dataset, type LoaderState, type Normalisation } from '../data/index.ts';
import type { Objective } from '../methods/objective.ts';
import { applyCheckpoint, readCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { writeFileAtomic } from './atomic.ts';
import { learningRate, type ScheduleConfig } from './schedule.ts';
import { Progress } from './progress.ts';

export interface Recipe {
  epochs: number;
  batchSize: number;
  schedule: ScheduleConfig;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  augment: boolean;
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
  trainers: Classifier[];
  objective: Objective;
  train: Dataset;
  /** Held out of the training data, for choosing the best epoch; null = choose on `test`. */
  val?: Dataset | null;
  test: Dataset;
  recipe: Recipe;
  /** Evaluate every K epochs (and always after the last); default 1. */
  evalEvery?: number;
  /** Per trainer, its logits for every training image ([train.size × classes]); only used without augmentation. */
  trainerLogits?: Float32Array[];
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

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/**
 * A finite loss that has run away: this many times the largest loss of the run's first steps (or of 1, if
 * those were smaller). Far beyond anything a converging run reaches (CE starts at ln C), and reached within a
 * few steps by a diverging one, whose loss grows geometrically.
 */
export const DIVERGENCE_FACTOR = 1e4;
/** A finite loss that ran away; a NonFiniteLossError for the exit code (3), since it will be one a few steps on. */
export class DivergedLossError extends NonFiniteLossError {
  override name = 'DivergedLossError';
}
const REFERENCE_STEPS = 10;
export class Interrupted extends Error {
  override name = 'Interrupted';
}

export const LAST = 'last.safetensors';
export const BEST = 'best.safetensors';

/**
 * Runs `step` on every batch of `data` in dataset order, with `model` in eval mode and no augmentation: `step`
 * gets the batch's images and labels as tensors (inside tidy and noGrad) and returns the one tensor to keep,
 * which `after` receives and must dispose of.
 */
async function inEvalOrder(
  model: Classifier,
  data: Dataset,
  norm: Normalisation,
  batchSize: number,
  step: (x: Tensor, y: Tensor) => Tensor,
  after: (kept: Tensor, b: number) => Promise<void>,
): Promise<void> {
  const wasTraining = model.training;
  model.eval();
  const loader = new DataLoader(data, { batchSize, shuffle: false, augment: false, mean: norm.mean, std: norm.std, prefetch: false });
  const { height: H, width: W, channels: C } = data;
  for (let b = 0; b < loader.batchesPerEpoch; b++) {
    const batch = loader.nextBatch();
    const kept = tidy(() =>
      noGrad(() => step(tensor(batch.x.subarray(0, batch.size * H * W * C), [batch.size, H, W, C]), tensor(batch.y.subarray(0, batch.size), [batch.size], 'i32'))),
    );
    await after(kept, b);
  }
  loader.close();
  model.train(wasTraining);
}

/** Evaluates top-1 (and top-5) accuracy, in eval mode without gradients. */
export async function evaluate(model: Classifier, data: Dataset, norm: Normalisation, batchSize = 256): Promise<{ top1: number; top5: number }> {
  let acc: Tensor | null = null;
  await inEvalOrder(
    model,
    data,
    norm,
    batchSize,
    (x, y) => {
      const counts = sum(topkCorrect(model.forward(x), y, 5), 1);
      return acc ? add(acc, counts) : counts;
    },
    async (next, b) => {
      acc?.dispose();
      acc = keep(next);
      // Let the GPU catch up every few batches, so the queue (and the memory it holds) stays short.
      if (b % 8 === 7) await runtime().sync();
    },
  );
  const total = acc as Tensor | null;
  const v = total ? await total.readF32() : new Float32Array(2);
  total?.dispose();
  return { top1: v[0] / data.size, top5: v[1] / data.size };
}

/** A frozen model's logits for every image of `data`, in dataset order ([size × classes]). */
export async function logitsOf(model: Classifier, data: Dataset, norm: Normalisation, batchSize = 256): Promise<Float32Array> {
  const out = new Float32Array(data.size * model.numClasses);
  await inEvalOrder(model, data, norm, batchSize, (x) => model.forward(x), async (logits, b) => {
    out.set(await logits.readF32(), b * batchSize * model.numClasses);
    logits.dispose();
  });
  return out;
}

/** Rows `indices` of a [rows × C] table, as a [B, C] tensor. */
function gatherRows(table: Float32Array, indices: Int32Array, B: number, C: number): Tensor {
  const rows = new Float32Array(B * C);
  for (let i = 0; i < B; i++) rows.set(table.subarray(indices[i] * C, (indices[i] + 1) * C), i * C);
  return tensor(rows, [B, C]);
}

export async function fit(o: FitOptions): Promise<FitResult> {
  const { model, recipe, objective } = o;
  const rt = runtime();
  const progress = o.progress ?? new Progress();
  const params = [...model.parameters(), ...(objective.companions ?? []).flatMap((c) => c.parameters())];
  const opt = new SGD(params, {
    lr: recipe.schedule.lr,
    momentum: recipe.momentum,
    weightDecay: recipe.weightDecay,
    nesterov: recipe.nesterov,
  });
  const loader = new DataLoader(o.train, {
    batchSize: recipe.batchSize,
    shuffle: true,
    augment: recipe.augment,
    mean: recipe.normalisation.mean,
    std: recipe.normalisation.std,
    seed: recipe.seed,
    dropLast: true,
  });
  const methodRng = new Rng(recipe.seed ^ 0x5eed);
  let history: EpochMetrics[] = [];
  let bestAcc = -1;
  // The divergence check's yardstick: the largest loss of the first steps (kept in checkpoints for resume).
  let lossReference = 0;
  let referenceSteps = 0;
  let startEpoch = 0;
  const metricsPath = join(o.dir, 'metrics.jsonl');
  const lastPath = join(o.dir, LAST);
  const lastGood = () => `the last good checkpoint is ${existsSync(lastPath) ? lastPath : '(none yet)'}`;
  // Sums of an epoch interrupted mid-way, restored so that its metrics equal an uninterrupted run's.
  type Sums = { lossSum: number; correctSum: number; seen: number };
  let partial: Sums | null = null;

  if (o.resume && existsSync(lastPath)) {
    const ck = readCheckpoint(lastPath);
    applyCheckpoint(ck, lastPath, model, opt);
    for (const [i, c] of (objective.companions ?? []).entries()) {
      const p = join(o.dir, `companion${i}.${LAST}`);
      applyCheckpoint(readCheckpoint(p), p, c, null);
    }
    startEpoch = ck.meta.epoch;
    history = (ck.meta.history as EpochMetrics[]) ?? [];
    bestAcc = (ck.meta.bestAcc as number) ?? -1;
    loader.setState(ck.meta.loader as LoaderState);
    methodRng.setState(ck.meta.methodRng as [number, number, number, number]);
    if (ck.meta.objective !== undefined) objective.setState?.(ck.meta.objective);
    partial = (ck.meta.partial as Sums | null) ?? null;
    ({ value: lossReference, steps: referenceSteps } = (ck.meta.lossReference as { value: number; steps: number }) ?? { value: 0, steps: 0 });
    progress.log(`[${o.stage}] resuming after epoch ${startEpoch} from ${lastPath}`);
  }

  const { height: H, width: W, channels: C } = o.train;
  const steps = loader.batchesPerEpoch;
  const trainers = o.trainers;
  const cached = !recipe.augment && !objective.needsTrainerFeatures && o.trainerLogits?.length === trainers.length ? o.trainerLogits : null;
  const evalEvery = o.evalEvery ?? 1;
  trainers.forEach((t) => t.eval());
  model.train();
  (objective.companions ?? []).forEach((c) => c.train());

  for (let epoch = startEpoch; epoch < recipe.epochs; epoch++) {
    const te = performance.now();
    const sums: Sums = partial ?? { lossSum: 0, correctSum: 0, seen: 0 };
    let { lossSum, correctSum, seen } = sums;
    const seenAtStart = seen;
    partial = null;
    let lastLoss = NaN;
    const inFlight: { read: ReturnType<typeof rt.readLater>; step: number; size: number }[] = [];
    const drain = async (keepInFlight: number) => {
      while (inFlight.length > keepInFlight) {
        const f = inFlight.shift()!;
        const [loss, correct] = new Float32Array(await f.read.wait());
        if (!Number.isFinite(loss)) {
          throw new NonFiniteLossError(`[${o.stage}] non-finite loss (${loss}) at epoch ${epoch + 1}, step ${f.step + 1}; ${lastGood()}`);
        }
        if (referenceSteps < REFERENCE_STEPS) {
          lossReference = Math.max(lossReference, loss);
          referenceSteps++;
        } else if (loss > DIVERGENCE_FACTOR * Math.max(lossReference, 1)) {
          throw new DivergedLossError(
            `[${o.stage}] the loss diverged: ${loss.toPrecision(3)} at epoch ${epoch + 1}, step ${f.step + 1}, ` +
              `over ${DIVERGENCE_FACTOR}× the first steps' ${lossReference.toPrecision(3)} (lower the learning rate or the loss weights); ${lastGood()}`,
          );
        }
        lossSum += loss * f.size;
        correctSum += correct;
        seen += f.size;
        lastLoss = loss;
      }
    };
    let lr = recipe.schedule.lr;
    for (let step = loader.position; step < steps; step++) {
      const batch = loader.nextBatch();
      lr = learningRate(recipe.schedule, epoch, step, steps);
      opt.lr = lr;
      const B = batch.size;
      const stats = tidy(() => {
        const x = tensor(batch.x.subarray(0, B * H * W * C), [B, H, W, C]);
        const y = tensor(batch.y.subarray(0, B), [B], 'i32');
        const trainerOut: ModelOutput[] = cached
          ? cached.map((table, i) => ({ logits: gatherRows(table, batch.indices, B, trainers[i].numClasses), features: [] }))
          : noGrad(() =>
              trainers.map((t) => (objective.needsTrainerFeatures ? t.forwardWithFeatures(x) : { logits: t.forward(x), features: [] })),
            );
        opt.zeroGrad();
        const student = model.forwardWithFeatures(x);
        const companions = (objective.companions ?? []).map((c) => c.forwardWithFeatures(x));
        const { loss, correct } = objective.loss({ x, labels: y, student, companions, trainers: trainerOut, rng: methodRng });
        backward(loss);
        opt.step();
        return [loss, sum(correct)];
      });
      inFlight.push({ read: rt.readLater(stats.map((t) => ({ buffer: t.buffer, bytes: 4 }))), step, size: B });
      stats.forEach((t) => t.dispose());
      await drain(1);
      const elapsed = (performance.now() - te) / 1000;
      progress.update({ stage: o.stage, epoch, epochs: recipe.epochs, step: step + 1, steps, loss: lastLoss, acc: seen ? correctSum / seen : 0, imagesPerSec: (seen - seenAtStart) / elapsed });
      // Mid-epoch stop (SIGINT). At the epoch's last step the epoch is finished instead — evaluated and saved at
      // the boundary below — because the loader has then already rolled over into the next epoch's order.
      if (o.signal?.stop && step < steps - 1) {
        await drain(0);
        // The loader's position already points after this batch; saving mid-epoch keeps the exact order.
        await save(epoch, { lossSum, correctSum, seen });
        throw new Interrupted(`[${o.stage}] interrupted at epoch ${epoch + 1}, step ${step + 1}; checkpoint saved to ${lastPath}`);
      }
    }
    await drain(0);
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
      ...(objective.stats ? { method: objective.stats() } : {}),
    };
    history.push(m);
    const score = selectionScore(m);
    const improved = score !== undefined && score > bestAcc;
    if (improved) bestAcc = score;
    progress.update({ stage: o.stage, epoch, epochs: recipe.epochs, step: steps, steps, loss: m.trainLoss, acc: m.trainAcc, imagesPerSec: m.imagesPerSec }, true);
    progress.log(
      `[${o.stage}] epoch ${m.epoch}/${recipe.epochs} lr ${lr.toPrecision(3)} loss ${m.trainLoss.toFixed(4)} ` +
        `train ${(m.trainAcc * 100).toFixed(2)}%` +
        (m.valAcc !== undefined ? ` val ${(m.valAcc * 100).toFixed(2)}%` : '') +
        (m.testAcc !== undefined ? ` test ${(m.testAcc * 100).toFixed(2)}%` : ' (not evaluated)') +
        (m.testTop5 !== undefined ? ` top-5 ${(m.testTop5 * 100).toFixed(2)}%` : '') +
        ` (${m.imagesPerSec.toFixed(0)} img/s)`,
    );
    writeFileAtomic(metricsPath, history.map((h) => JSON.stringify(h)).join('\n') + '\n');
    if (improved) await saveTo(join(o.dir, BEST), epoch + 1, null);
    await save(epoch + 1, null);
    if (o.signal?.stop && epoch + 1 < recipe.epochs) {
      throw new Interrupted(`[${o.stage}] interrupted after epoch ${epoch + 1}; checkpoint saved to ${lastPath}`);
    }
  }
  loader.close();
  opt.dispose();
  return { ...summarise(history), epochs: recipe.epochs, seconds: history.reduce((a, h) => a + h.seconds, 0), history };

  function selectionScore(h: EpochMetrics): number | undefined {
    return o.val ? h.valAcc : h.testAcc;
  }
  function summarise(hs: EpochMetrics[]) {
    const scored = hs.filter((h) => selectionScore(h) !== undefined);
    // The first epoch with the best score: ties go to the earlier epoch, as the saved best checkpoint does.
    const best = scored.reduce((a, h) => (selectionScore(h)! > selectionScore(a)! ? h : a), scored[0]);
    const last = hs[hs.length - 1];
    return {
      bestEpoch: best?.epoch ?? 0,
      bestVal: o.val ? (best?.valAcc ?? null) : null,
      bestAcc: best?.testAcc ?? NaN,
      finalAcc: last?.testAcc ?? NaN,
      ...(last?.testTop5 !== undefined ? { bestTop5: best?.testTop5, finalTop5: last.testTop5 } : {}),
    };
  }

  type Partial = { lossSum: number; correctSum: number; seen: number } | null;
  async function saveTo(path: string, epochsDone: number, partialSums: Partial): Promise<void> {
    const meta: CheckpointMeta = {
      format: 'dgkd-checkpoint/1',
      arch: model.arch,
      numClasses: model.numClasses,
      dataset: o.dataset,
      epoch: epochsDone,
      partial: partialSums,
      history,
      bestAcc,
      lossReference: { value: lossReference, steps: referenceSteps },
      loader: loader.getState(),
      methodRng: methodRng.getState(),
      objective: objective.getState?.() ?? null,
      recipe,
      ...o.meta,
    };
    await saveCheckpoint(path, model, opt, meta);
  }
  async function save(epochsDone: number, partialSums: Partial): Promise<void> {
    for (const [i, c] of (objective.companions ?? []).entries()) {
      await saveCheckpoint(join(o.dir, `companion${i}.${LAST}`), c, null, {
        format: 'dgkd-checkpoint/1', arch: c.arch, numClasses: c.numClasses, dataset: o.dataset, epoch: epochsDone,
      });
    }
    await saveTo(lastPath, epochsDone, partialSums);
  }
}

export function readMetrics(dir: string): EpochMetrics[] {
  const p = join(dir, 'metrics.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
