// The experiment pipeline: plan the stages a method needs (teacher → assistants → student), train them in
// order, reuse any stage already trained with the same architecture, data, recipe, seed and trainers (from the
// stage cache, runs/_cache/<key>/), and write summary.json, report.md and curves.svg.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runtime } from '../engine/index.ts';
import { createModel, canonicalName, type Classifier } from './models/index.ts';
import { DataError, loadDataset, splitValidation, TAKD_NORMALISATION, type Dataset } from './data/index.ts';
import { CrossEntropy, Distillation } from './methods/kd.ts';
import { CollaborativeTeaching } from './methods/ctkd.ts';
import type { Objective } from './methods/objective.ts';
import { applyCheckpoint, readCheckpoint } from './train/checkpoint.ts';
import { fit, LAST, type EpochMetrics, type FitResult, type Recipe } from './train/trainer.ts';
import { writeFileAtomic } from './train/atomic.ts';
import { Progress } from './train/progress.ts';
import type { ExperimentConfig, Method } from './config.ts';
import { writeReports, type Summary, type StageSummary, type TableRow } from './report.ts';

export type Role = 'teacher' | 'assistant' | 'student';

export type DropSettings = ExperimentConfig['stochastic'];

export interface Stage {
  name: string;
  role: Role;
  arch: string;
  /** ce, kd (one trainer), dgkd (several), ctkd. */
  method: 'ce' | 'kd' | 'dgkd' | 'ctkd';
  trainers: Stage[];
  /** Stochastic teaching settings, for the student of stochastic DGKD; null otherwise. */
  drop: DropSettings | null;
  seed: number;
  key: string;
}

interface Plan {
  stages: Stage[];
  /** Table rows: a label and the stage whose accuracy it reports. */
  rows: { method: string; stage: Stage }[];
}

function stageKey(cfg: ExperimentConfig, s: Omit<Stage, 'key' | 'name'>, numClasses: number): string {
  const data = {
    dataset: cfg.dataset,
    dataDir: cfg.dataDir ? resolve(cfg.dataDir) : null,
    valSplit: cfg.valSplit,
    synthetic: cfg.dataset === 'synthetic' ? [cfg.syntheticTrain, cfg.syntheticTest] : null,
  };
  const desc = {
    arch: s.arch,
    numClasses,
    data,
    recipe: { ...cfg.recipe, lr: lrFor(cfg, s.arch) },
    seed: s.seed,
    method: s.method,
    kd: s.method !== 'ce' ? cfg.kd : null,
    drop: s.drop,
    ctkd: s.method === 'ctkd' ? cfg.ctkd : null,
    trainers: s.trainers.map((t) => t.key),
  };
  return createHash('sha256').update(JSON.stringify(desc)).digest('hex').slice(0, 16);
}

export function lrFor(cfg: ExperimentConfig, arch: string): number {
  return arch.startsWith('plain') && cfg.recipe.plainLr !== null ? cfg.recipe.plainLr : cfg.recipe.lr;
}

function dropLabel(d: DropSettings): string {
  return d.drop === 'exact-k' ? `drop exactly ${d.k}` : `p = ${d.keepProb}`;
}

/** The stages each method needs, deduplicated (the teacher is trained once for every method). */
export function planStages(cfg: ExperimentConfig, numClasses: number, seed: number): Plan {
  const byKey = new Map<string, Stage>();
  const make = (name: string, role: Role, arch: string, method: Stage['method'], trainers: Stage[], drop: DropSettings | null = null): Stage => {
    const partial = { role, arch: canonicalName(arch), method, trainers, drop, seed };
    const key = stageKey(cfg, partial, numClasses);
    const existing = byKey.get(key);
    if (existing) return existing;
    const s = { ...partial, name, key };
    byKey.set(key, s);
    return s;
  };
  const rows: Plan['rows'] = [];
  const chain = cfg.assistants;
  const studentName = (m: string) => `student-${canonicalName(cfg.student)}-${m}`;
  const teacher = () => make(`teacher-${canonicalName(cfg.teacher)}`, 'teacher', cfg.teacher, 'ce', []);
  // TAKD: each model learns from the one before it.
  const takd = () => {
    let prev = teacher();
    chain.forEach((a) => (prev = make(`assistant-${canonicalName(a)}-takd`, 'assistant', a, 'kd', [prev])));
    return make(studentName('takd'), 'student', cfg.student, 'kd', [prev]);
  };
  // DGKD: each model learns from the teacher and every larger assistant.
  const dgkd = (drop: DropSettings | null) => {
    const trainers = [teacher()];
    for (const a of chain) {
      trainers.push(make(`assistant-${canonicalName(a)}-dgkd`, 'assistant', a, trainers.length === 1 ? 'kd' : 'dgkd', [...trainers]));
    }
    const method = trainers.length === 1 ? 'kd' : 'dgkd';
    return make(studentName(drop ? 'dgkd-stochastic' : 'dgkd'), 'student', cfg.student, method, trainers, drop);
  };
  const stochastic: DropSettings = cfg.stochastic.drop === 'none' ? { ...cfg.stochastic, drop: 'bernoulli' } : cfg.stochastic;
  const methods: Record<Method, () => void> = {
    ce: () => rows.push({ method: 'NOKD', stage: make(studentName('nokd'), 'student', cfg.student, 'ce', []) }),
    kd: () => rows.push({ method: 'KD', stage: make(studentName('kd'), 'student', cfg.student, 'kd', [teacher()]) }),
    takd: () => rows.push({ method: 'TAKD', stage: takd() }),
    dgkd: () => {
      const drop = cfg.stochastic.drop === 'none' ? null : cfg.stochastic;
      rows.push({ method: drop ? `DGKD (stochastic, ${dropLabel(drop)})` : 'DGKD', stage: dgkd(drop) });
    },
    ctkd: () => rows.push({ method: 'CTKD', stage: make(studentName('ctkd'), 'student', cfg.student, 'ctkd', [teacher()]) }),
  };
  if (cfg.method !== 'ce' || cfg.compare) rows.push({ method: 'Teacher', stage: teacher() });
  if (cfg.compare) {
    methods.ce();
    methods.kd();
    if (chain.length) methods.takd();
    rows.push({ method: 'DGKD', stage: dgkd(null) });
    rows.push({ method: `DGKD (stochastic, ${dropLabel(stochastic)})`, stage: dgkd(stochastic) });
    if (cfg.method === 'ctkd') methods.ctkd();
  } else {
    methods[cfg.method]();
  }
  // Every stage after its trainers.
  const ordered: Stage[] = [];
  const visit = (s: Stage) => {
    if (ordered.includes(s)) return;
    s.trainers.forEach(visit);
    ordered.push(s);
  };
  rows.forEach((r) => visit(r.stage));
  return { stages: ordered, rows };
}

interface Data {
  train: Dataset;
  test: Dataset;
  numClasses: number;
}

export function loadData(cfg: ExperimentConfig): Data {
  const loaded = loadDataset(cfg.dataset, cfg.dataDir, {
    seed: cfg.seed,
    trainSize: cfg.syntheticTrain,
    testSize: cfg.syntheticTest,
    allowMissingTest: cfg.valSplit > 0,
  });
  let data: Data = { train: loaded.train, test: loaded.test!, numClasses: loaded.numClasses };
  if (cfg.valSplit > 0) {
    const { train, val } = splitValidation(loaded.train, cfg.valSplit, 1234);
    data = { train, test: val, numClasses: loaded.numClasses };
  }
  if (cfg.recipe.batchSize > data.train.size) {
    throw new DataError(`--batch-size ${cfg.recipe.batchSize} is larger than the ${data.train.size} training images of ${data.train.name}`);
  }
  return data;
}

function makeObjective(cfg: ExperimentConfig, stage: Stage, data: Data): Objective {
  const numClasses = data.numClasses;
  if (stage.method === 'ce') return new CrossEntropy();
  if (stage.method === 'ctkd') {
    const shape = { numClasses, inputSize: data.train.height, inputChannels: data.train.channels, seed: stage.seed + 1 };
    const scratch = createModel(cfg.ctkd.scratch ?? cfg.teacher, shape);
    return new CollaborativeTeaching(scratch, cfg.ctkd);
  }
  const n = stage.trainers.length;
  const ceWeight = cfg.kd.ceWeight === 'paper' ? undefined : cfg.kd.ceWeight === 'official' ? 1 - cfg.kd.lambda : cfg.kd.ceWeight;
  const drop = stage.drop;
  return new Distillation(n, {
    temperature: cfg.kd.temperature,
    lambda: cfg.kd.lambda,
    klReduction: cfg.kd.klReduction,
    ceWeight,
    drop: drop ? drop.drop : 'none',
    keepProb: drop?.keepProb,
    dropK: drop?.k,
  });
}

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
    normalisation: TAKD_NORMALISATION,
    seed: stage.seed,
  };
}

interface StageResult {
  result: FitResult;
  params: number;
  reused: boolean;
}

export async function runStage(cfg: ExperimentConfig, stage: Stage, data: Data, progress: Progress, signal: { stop: boolean }): Promise<StageResult> {
  const dir = join(cfg.out, '_cache', stage.key);
  const donePath = join(dir, 'done.json');
  const model = createModel(stage.arch, { numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, seed: stage.seed });
  const params = model.parameterCount();
  try {
    if (existsSync(donePath)) {
      const result = JSON.parse(readFileSync(donePath, 'utf8')).result as FitResult;
      progress.log(`[${stage.name}] reusing the trained stage in ${dir}`);
      return { result, params, reused: true };
    }
    if (!cfg.resume && existsSync(dir)) rmSync(dir, { recursive: true, force: true }); // an unfinished earlier attempt
    mkdirSync(dir, { recursive: true });
    const trainers = stage.trainers.map((t) => loadTrained(cfg, t, data));
    try {
      const objective = makeObjective(cfg, stage, data);
      progress.log(
        `[${stage.name}] training ${stage.arch} (${params} params) with ${stage.method}` +
          (stage.trainers.length ? ` from ${stage.trainers.map((t) => t.arch).join(', ')}` : '') +
          (stage.drop ? ` with stochastic teaching (${dropLabel(stage.drop)})` : ''),
      );
      const result = await fit({
        stage: stage.name,
        model,
        trainers,
        objective,
        train: data.train,
        test: data.test,
        recipe: recipeFor(cfg, stage),
        dir,
        dataset: cfg.dataset,
        resume: cfg.resume,
        progress,
        signal,
        meta: { stageKey: stage.key, stage: stage.name },
      });
      objective.companions?.forEach((c) => c.dispose());
      writeFileAtomic(donePath, JSON.stringify({ stage: { ...stage, trainers: stage.trainers.map((t) => t.key) }, result }, null, 1));
      return { result, params, reused: false };
    } finally {
      trainers.forEach((t) => t.dispose());
    }
  } finally {
    model.dispose();
  }
}

/** A finished stage's final weights, as a frozen trainer. */
function loadTrained(cfg: ExperimentConfig, stage: Stage, data: Data): Classifier {
  const path = join(cfg.out, '_cache', stage.key, LAST);
  const m = createModel(stage.arch, { numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, seed: stage.seed });
  applyCheckpoint(readCheckpoint(path), path, m, null);
  m.eval();
  return m;
}

export async function runExperiment(cfg: ExperimentConfig, signal: { stop: boolean } = { stop: false }): Promise<Summary> {
  const progress = new Progress(cfg.quiet);
  const data = loadData(cfg);
  const runDir = join(cfg.out, cfg.name);
  const stagesOut: StageSummary[] = [];
  const perSeed: { method: string; arch: string; best: number; final: number; seed: number }[] = [];
  const curves: { name: string; history: EpochMetrics[] }[] = [];
  const started = Date.now();
  for (let i = 0; i < cfg.seeds; i++) {
    const seed = cfg.seed + i;
    const plan = planStages(cfg, data.numClasses, seed);
    const results = new Map<Stage, StageResult>();
    for (const stage of plan.stages) {
      const r = await runStage(cfg, stage, data, progress, signal);
      results.set(stage, r);
      const suffix = cfg.seeds > 1 ? ` (seed ${seed})` : '';
      stagesOut.push({
        name: stage.name + suffix,
        role: stage.role,
        arch: stage.arch,
        method: stage.method + (stage.drop ? '-stochastic' : ''),
        trainers: stage.trainers.map((t) => t.name),
        params: r.params,
        bestAcc: r.result.bestAcc,
        finalAcc: r.result.finalAcc,
        epochs: r.result.epochs,
        seconds: r.reused ? 0 : r.result.seconds,
        reused: r.reused,
        seed,
        key: stage.key,
      });
      curves.push({ name: stage.name + suffix, history: r.result.history });
    }
    for (const row of plan.rows) {
      const r = results.get(row.stage)!;
      perSeed.push({ method: row.method, arch: row.stage.arch, best: r.result.bestAcc, final: r.result.finalAcc, seed });
    }
  }
  const table: TableRow[] = [];
  for (const method of [...new Set(perSeed.map((p) => p.method))]) {
    const rows = perSeed.filter((p) => p.method === method);
    const best = meanStd(rows.map((r) => r.best));
    const final = meanStd(rows.map((r) => r.final));
    table.push({ method, arch: rows[0].arch, bestAcc: best.mean, bestStd: best.std, finalAcc: final.mean, finalStd: final.std, seeds: rows.length });
  }
  const summary: Summary = {
    name: cfg.name,
    dataset: cfg.dataset,
    adapter: runtime().adapterDescription,
    seconds: (Date.now() - started) / 1000,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    config: cfg,
    stages: stagesOut,
    table,
  };
  writeReports(runDir, summary, curves);
  return summary;
}

/** Mean and sample standard deviation (0 for a single seed). */
function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}
