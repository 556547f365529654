// Running one stage: take its lock (a shared store trains a stage once), reuse it if the store has it done,
// otherwise build the model, load its frozen teachers (and their view-bank logits, once per run), and fit it
// (fit/trainer.ts) with the stage's objective and recipe; a kept model is scored instead of trained.

import { createHash } from 'node:crypto';
import { existsSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createModel, type Classifier } from '../models/index.ts';
import { TAKD_NORMALISATION } from '../data/index.ts';
import { applyCheckpoint, readCheckpoint } from '../fit/checkpoint.ts';
import { evaluate, fit, Interrupted, LAST, logitsOf, type FitResult, type Recipe } from '../fit/trainer.ts';
import { writeFileAtomic } from '../fit/atomic.ts';
import { Progress } from '../fit/progress.ts';
import { readDoneMarker, stageDir, stageLockPath } from './folders.ts';
import { describeHolder, tryLock, type Lock } from '../locks.ts';
import type { ExperimentConfig } from '../settings/config.ts';
import { type Data, dataFingerprint, dataSettings, modelShape } from './data.ts';
import { keptFile } from './kept_models.ts';
import { viewBankLogits } from './view_bank.ts';
import { makeObjective } from './objectives.ts';
import { type Stage, dropLabel, lrFor } from './plan.ts';

export function recipeFor(cfg: ExperimentConfig, stage: Stage): Recipe {
  const r = cfg.recipe;
  return {
    epochs: r.epochs,
    batchSize: r.batchSize,
    schedule: { kind: r.schedule, lr: lrFor(cfg, stage.arch), epochs: r.epochs },
    momentum: r.momentum,
    weightDecay: r.weightDecay,
    nesterov: r.nesterov,
    augment: r.augment,
    ...(r.augment && r.viewBank ? { viewBank: r.viewBank } : {}),
    normalisation: TAKD_NORMALISATION,
    seed: stage.seed,
  };
}

export interface StageResult {
  result: FitResult;
  params: number;
  reused: boolean;
}

/**
 * Frozen teachers' logits on the training images, computed once per teacher and process (without augmentation
 * they are the same every epoch and for every student that learns from that teacher).
 */
export type LogitCache = Map<string, Float32Array>;

export async function runStage(
  cfg: ExperimentConfig,
  stage: Stage,
  data: Data,
  progress: Progress,
  signal: { stop: boolean },
  logitCache: LogitCache = new Map(),
  trainedElsewhere: ReadonlySet<string> = new Set(),
): Promise<StageResult> {
  const dir = stageDir(cfg, stage.key);
  const donePath = join(dir, 'done.json');
  const model = createModel(stage.arch, modelShape(data, stage.seed));
  const params = model.parameterCount();
  let lock: Lock | undefined;
  try {
    if (stage.kept) return await scoreKept(stage, model, data, dir, progress);
    lock = await lockStage(cfg, stage, progress, signal);
    if (existsSync(donePath)) {
      const { result } = readDoneMarker(donePath);
      if (result.bestEpoch !== undefined) {
        if (trainedElsewhere.has(stage.key)) return { result, params, reused: false };
        progress.log(`[${stage.name}] reusing the trained stage in ${dir}`);
        return { result, params, reused: true };
      }
      // Finished by a version that chose the best epoch on the test split: train it again.
    }
    // Without --resume, an earlier attempt's folder goes — unless it holds a checkpoint, which checkRunState let
    // through only because another process was training the stage then: what that one saved is resumed.
    const carryOn = existsSync(join(dir, LAST)) && !existsSync(donePath);
    if (!cfg.resume && !carryOn && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const teachers = stage.teachers.map((t) => loadTrained(cfg, t, data));
    try {
      const objective = makeObjective(cfg, stage, data);
      progress.log(
        `[${stage.name}] training ${stage.arch} (${params} params) with ${stage.method}` +
          (stage.teachers.length ? ` from ${stage.teachers.map((t) => t.arch).join(', ')}` : '') +
          (stage.drop ? ` with stochastic teaching (${dropLabel(stage.drop)})` : '') +
          (stage.kd?.normalise ? ', loss divided by the number of teachers' : '') +
          (stage.kd && stage.extra?.teacherLoss ? `, each teacher's term ${stage.extra.teacherLoss.kind.toUpperCase()}` : ''),
      );
      let teacherLogits: Float32Array[] | undefined;
      const bank = cfg.recipe.augment ? (cfg.recipe.viewBank ?? 0) : 0;
      if ((!cfg.recipe.augment || bank) && !objective.needsTeacherFeatures && teachers.length) {
        teacherLogits = [];
        for (const [i, t] of teachers.entries()) {
          const from = stage.teachers[i];
          const key = `${from.key}/${bank}`;
          if (!logitCache.has(key)) {
            logitCache.set(key, bank
              ? await viewBankLogits(bankPath(cfg, from, data, bank), t, data.train, bank, (line) => progress.log(`[${from.name}] ${line}`), signal)
              : await logitsOf(t, data.train, TAKD_NORMALISATION));
          }
          teacherLogits.push(logitCache.get(key)!);
        }
      }
      const result = await fit({
        stage: stage.name,
        model,
        teachers,
        objective,
        train: data.train,
        val: data.val,
        test: data.test,
        recipe: recipeFor(cfg, stage),
        evalEvery: cfg.evalEvery,
        teacherLogits,
        dir,
        dataset: cfg.dataset,
        resume: cfg.resume || carryOn,
        progress,
        signal,
        meta: { stageKey: stage.key, stage: stage.name, data: dataSettings(cfg) },
      });
      objective.companions?.forEach((c) => c.dispose());
      objective.trainables?.forEach((m) => m.dispose());
      writeFileAtomic(donePath, JSON.stringify({ stage: { ...stage, teachers: stage.teachers.map((t) => t.key) }, result }, null, 1));
      return { result, params, reused: false };
    } finally {
      teachers.forEach((t) => t.dispose());
    }
  } finally {
    model.dispose();
    lock?.release();
  }
}

/**
 * Claims a stage for this process (locks.ts): while another run or queue worker trains it — on a store they
 * share — this one waits, then finds it done, or resumes what that one saved.
 */
async function lockStage(cfg: ExperimentConfig, stage: Stage, progress: Progress, signal: { stop: boolean }): Promise<Lock> {
  const path = stageLockPath(cfg, stage.key);
  mkdirSync(dirname(path), { recursive: true });
  for (let said = false; ; said = true) {
    const r = tryLock(path);
    if ('lock' in r) {
      if (r.lock.tookOverFrom) progress.log(`[${stage.name}] note: took over its lock from ${describeHolder(r.lock.tookOverFrom)}, which is no longer running`);
      if (said) progress.log(`[${stage.name}] the other process let go of it: carrying on`);
      return r.lock;
    }
    if (!said) progress.log(`[${stage.name}] being trained by ${describeHolder(r.holder)}: waiting for it (${path})`);
    if (signal.stop) throw new Interrupted(`stopped while waiting for ${stage.name}, which ${describeHolder(r.holder)} trains`);
    await new Promise((wake) => setTimeout(wake, 1000));
  }
}

/**
 * Where a teacher's view-bank logits are kept: <store>/_bank/, named by the teacher's stage and the run's data (its
 * content, like stage keys: the same file serves every machine, wherever it keeps the data) and bank.
 */
function bankPath(cfg: ExperimentConfig, from: Stage, data: Data, views: number): string {
  const identity = createHash('sha256').update(JSON.stringify({ data: dataFingerprint(data), train: data.train.size, views, bank: BANK_VERSION })).digest('hex');
  return join(cfg.store ?? cfg.out, '_bank', `${from.key}-${identity.slice(0, 12)}.f32`);
}

/** Bumped when the views of the bank (augment.ts, bankView) change, so that older bank files are not used. */
const BANK_VERSION = 1;

/** A finished stage's final weights (or a kept model's), as a frozen teacher. */
function loadTrained(cfg: ExperimentConfig, stage: Stage, data: Data): Classifier {
  const m = createModel(stage.arch, modelShape(data, stage.seed));
  if (stage.kept) {
    const path = stage.kept.path;
    applyCheckpoint(keptFile(stage, data).checkpoint, path, m, null);
  } else {
    const path = join(stageDir(cfg, stage.key), LAST);
    applyCheckpoint(readCheckpoint(path), path, m, null);
  }
  m.eval();
  return m;
}

/** A kept model's accuracy on this run's validation and test parts (computed once, then kept in done.json). */
async function scoreKept(stage: Stage, model: Classifier, data: Data, dir: string, progress: Progress): Promise<StageResult> {
  const params = model.parameterCount();
  const donePath = join(dir, 'done.json');
  if (existsSync(donePath)) {
    progress.log(`[${stage.name}] ${stage.kept!.path}: scored before, in ${dir}`);
    return { result: readDoneMarker(donePath).result, params, reused: true };
  }
  const k = keptFile(stage, data);
  applyCheckpoint(k.checkpoint, k.path, model, null);
  const t0 = Date.now();
  const test = await evaluate(model, data.test, TAKD_NORMALISATION);
  const val = data.val ? await evaluate(model, data.val, TAKD_NORMALISATION) : null;
  const epoch = Number(k.checkpoint.meta.epoch) || 0;
  const result: FitResult = {
    bestEpoch: epoch, bestVal: val ? val.top1 : null, bestAcc: test.top1, finalAcc: test.top1,
    ...(data.numClasses >= 100 ? { bestTop5: test.top5, finalTop5: test.top5 } : {}),
    epochs: epoch, seconds: (Date.now() - t0) / 1000, history: [],
  };
  progress.log(
    `[${stage.name}] ${k.path} (${k.kind}, sha256 ${k.sha256.slice(0, 12)}…): ${stage.arch}, test ${(test.top1 * 100).toFixed(2)}%` +
      (val ? `, val ${(val.top1 * 100).toFixed(2)}%` : '') + (k.data ? '' : ' (the file does not say what data it was trained on)'),
  );
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(donePath, JSON.stringify({ stage: { ...stage, teachers: [] }, result }, null, 1));
  return { result, params, reused: false };
}
