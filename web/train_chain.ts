// The demo's training, in the worker: a teacher, an assistant and students trained with NOKD, KD, TAKD and DGKD
// on the built-in dataset generated in the page, each stage reporting every step and epoch. The same engine,
// models, objectives and training step as the command line (dgkd/fit/step.ts); only files and checkpoints are
// left out.

import { Rng, runtime } from '../engine/index.ts';
import { SGD } from '../engine/nn/index.ts';
import { createModel, type Classifier } from '../dgkd/models/index.ts';
import { DataLoader } from '../dgkd/data/loader.ts';
import { TAKD_NORMALISATION } from '../dgkd/data/augment.ts';
import { makeSynthetic } from '../dgkd/data/synthetic.ts';
import type { Dataset } from '../dgkd/data/dataset.ts';
import { CrossEntropy, Distillation } from '../dgkd/methods/kd.ts';
import type { Objective } from '../dgkd/methods/objective.ts';
import { evaluate, logitsOf } from '../dgkd/fit/evaluate.ts';
import { LossWatch } from '../dgkd/fit/loss_watch.ts';
import { learningRate } from '../dgkd/fit/schedule.ts';
import { gatherRows, trainStep } from '../dgkd/fit/step.ts';
import type { DemoConfig, FromWorker, ResultRow } from './protocol.ts';

export interface Control {
  /** Resolves at once unless the user pressed Stop; then when they press Resume. */
  waitIfPaused(): Promise<void>;
}

interface Stage {
  name: string;
  method: string;
  arch: string;
  teachers: () => Classifier[];
  objective: () => Objective;
  keep?: boolean;
}

const KD = { temperature: 4, lambda: 0.5, klReduction: 'batchmean' as const };

export async function trainChain(cfg: DemoConfig, post: (m: FromWorker) => void, control: Control): Promise<ResultRow[]> {
  const { train, test } = makeSynthetic({ seed: cfg.seed, trainSize: cfg.trainSize, testSize: cfg.testSize });
  const trained = new Map<string, Classifier>();
  const want = new Set(cfg.methods);
  const needAssistant = want.has('takd') || want.has('dgkd');
  const stages: Stage[] = [
    { name: `teacher ${cfg.teacher}`, method: 'Teacher', arch: cfg.teacher, teachers: () => [], objective: () => new CrossEntropy(), keep: true },
  ];
  const teacher = () => trained.get(stages[0].name)!;
  const assistantName = `assistant ${cfg.assistant}`;
  if (needAssistant) {
    stages.push({ name: assistantName, method: 'Assistant', arch: cfg.assistant, teachers: () => [teacher()], objective: () => new Distillation(1, KD), keep: true });
  }
  const assistant = () => trained.get(assistantName)!;
  const student = (method: string, teachers: () => Classifier[], objective: () => Objective) =>
    stages.push({ name: `student ${cfg.student} (${method})`, method, arch: cfg.student, teachers, objective });
  if (want.has('nokd')) student('NOKD', () => [], () => new CrossEntropy());
  if (want.has('kd')) student('KD', () => [teacher()], () => new Distillation(1, KD));
  if (want.has('takd')) student('TAKD', () => [assistant()], () => new Distillation(1, KD));
  if (want.has('dgkd')) student('DGKD', () => [teacher(), assistant()], () => new Distillation(2, KD));

  const rows: ResultRow[] = [];
  const logitCache = new Map<Classifier, Float32Array>();
  for (const [index, s] of stages.entries()) {
    post({ type: 'stage', stage: s.name, method: s.method, index, total: stages.length });
    const t0 = performance.now();
    const teachers = s.teachers();
    for (const t of teachers) if (!logitCache.has(t)) logitCache.set(t, await logitsOf(t, train, TAKD_NORMALISATION));
    const model = createModel(s.arch, { numClasses: train.numClasses, seed: cfg.seed + index });
    const testAcc = await trainStage(s.name, model, teachers, s.objective(), train, test, cfg, post, control, teachers.map((t) => logitCache.get(t)!));
    rows.push({ stage: s.name, method: s.method, arch: s.arch, testAcc, seconds: (performance.now() - t0) / 1000 });
    if (s.keep) trained.set(s.name, model);
    else model.dispose();
  }
  for (const m of trained.values()) m.dispose();
  runtime().trim();
  return rows;
}

async function trainStage(
  stage: string, model: Classifier, teachers: Classifier[], objective: Objective, train: Dataset, test: Dataset,
  cfg: DemoConfig, post: (m: FromWorker) => void, control: Control, teacherLogits: Float32Array[],
): Promise<number> {
  const { mean, std } = TAKD_NORMALISATION;
  const loader = new DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, augment: false, mean, std, seed: cfg.seed, dropLast: true, prefetch: false });
  const opt = new SGD(model.parameters(), { lr: cfg.lr, momentum: 0.9, weightDecay: 1e-4 });
  const rng = new Rng(cfg.seed ^ 0x5eed);
  const { height: H, width: W, channels: C } = train;
  const steps = loader.batchesPerEpoch;
  const rt = runtime();
  teachers.forEach((t) => t.eval());
  model.train();
  const schedule = { kind: 'cosine' as const, lr: cfg.lr, epochs: cfg.epochs };
  const reference = { value: 0, steps: 0 }; // the divergence check's yardstick, over the whole stage
  let testAcc = 0;
  for (let epoch = 0; epoch < cfg.epochs; epoch++) {
    const t0 = performance.now();
    // The trainer's pacing and checks: step k's loss is read while step k + 1 runs; a NaN or a runaway loss stops.
    const watch = new LossWatch({ lossSum: 0, correctSum: 0, seen: 0 }, reference, {
      stage,
      at: (step) => `at epoch ${epoch + 1}, step ${step + 1}`,
      lastGood: () => 'nothing is saved in the page',
    });
    const report = (step: number) => {
      if (watch.sums.seen === 0) return;
      const imagesPerSec = watch.sums.seen / ((performance.now() - t0) / 1000);
      post({ type: 'step', stage, epoch, step, steps, loss: watch.lastLoss, imagesPerSec });
    };
    for (let step = 0; step < steps; step++) {
      await control.waitIfPaused();
      const batch = loader.nextBatch();
      opt.lr = learningRate(schedule, epoch, step, steps);
      const B = batch.size;
      const [loss, correct] = trainStep(model, teachers, objective, opt, {
        images: batch.x.subarray(0, B * H * W * C),
        labels: batch.y.subarray(0, B),
        shape: [B, H, W, C],
        teacherLogits: teacherLogits.map((table, i) => gatherRows(table, batch.indices, B, teachers[i].numClasses)),
      }, rng);
      watch.push(rt.readLater([loss, correct].map((t) => ({ buffer: t.buffer, bytes: 4 }))), step, B);
      loss.dispose();
      correct.dispose();
      await watch.drain(1);
      report(step); // the previous step's loss, read while this one runs
    }
    await watch.drain(0);
    report(steps);
    testAcc = (await evaluate(model, test, TAKD_NORMALISATION)).top1;
    post({ type: 'epoch', stage, epoch: epoch + 1, trainLoss: watch.sums.lossSum / Math.max(watch.sums.seen, 1), testAcc });
  }
  loader.close();
  opt.dispose();
  return testAcc;
}
