// Running an experiment: load the data, plan the stages of every seed (and variant, for sweeps), check the run
// folder, run the stages in order — here, or through an executor such as the queue — and write summary.json,
// report.md and curves.svg after every stage, so a long run always has its partial table.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runtime } from '../../engine/index.ts';
import { createModel } from '../models/index.ts';
import type { Dataset } from '../data/index.ts';
import { writeFileAtomic } from '../fit/atomic.ts';
import { Progress } from '../fit/progress.ts';
import { checkRunState, keepEarlierRun, lockRunFolder, stageDir } from './folders.ts';
import { type DkdConfig, type ExperimentConfig, type KdSettings } from '../settings/config.ts';
import { buildTable, pairedComparisons, writeReports, type Curve, type SeedResult, type Summary, type StageSummary } from './report.ts';
import { dataFingerprint, loadData, modelShape } from './data.ts';
import { readKeptModels } from './kept_models.ts';
import { checkAttentionPairs } from './objectives.ts';
import { type Stage, planStages } from './plan.ts';
import { type LogitCache, type StageResult, runStage } from './stage.ts';

/** Relative cost of training one image on a stage, for the overall ETA (params^0.7 fits plain2 vs plain6). */
function stageCost(params: number, trainImages: number, epochs: number): number {
  return epochs * trainImages * Math.pow(params, 0.7);
}

export interface Variant {
  /** Prefix of the table rows' labels, and the student stage name tag. */
  label: string;
  tag: string;
  kd: KdSettings;
  dkd?: DkdConfig;
  dist?: ExperimentConfig['dist'];
}

/**
 * Trains every stage of the experiment — for each seed, and for each variant (a sweep's grid points; one
 * variant otherwise) — and rewrites summary.json, report.md, curves.svg and stages/<stage>.jsonl after every
 * finished stage, so that a long run has a partial table at any moment.
 */
/**
 * Trains stages somewhere else — queue workers (dgkd/queue/coordinator.ts) — before the run reads their results
 * from the store; resolves with the keys of the stages it trained, once every stage is done.
 */
/** Trains stages elsewhere (the queue); `dataId` is the run's dataFingerprint, for the trainers to check theirs against. */
export type StageExecutor = (stages: Stage[], progress: Progress, dataId: string) => Promise<Set<string>>;

export async function runExperiment(
  cfg: ExperimentConfig,
  signal: { stop: boolean } = { stop: false },
  variants?: Variant[],
  executor?: StageExecutor,
): Promise<Summary> {
  const progress = new Progress(cfg.quiet);
  const data = loadData(cfg);
  const dataId = dataFingerprint(data);
  const keptModels = readKeptModels(cfg, data);
  const runDir = join(cfg.out, cfg.name);
  const seeds = Array.from({ length: cfg.seeds }, (_, i) => cfg.seed + i);
  const plans = seeds.map((seed) => ({
    seed,
    plans: (variants ?? [null]).map((v) => ({
      variant: v,
      plan: planStages(cfg, data.numClasses, seed, {
        kept: keptModels,
        dataId,
        existing: (key) => existsSync(stageDir(cfg, key)),
        ...(v ? { studentKd: v.kd, studentTag: v.tag, ...(v.dkd ? { studentDkd: v.dkd } : {}), ...(v.dist ? { studentDist: v.dist } : {}) } : {}),
      }),
    })),
  }));
  const unique = new Map<string, Stage>();
  for (const p of plans) for (const { plan } of p.plans) for (const s of plan.stages) if (!unique.has(s.key)) unique.set(s.key, s);
  checkAttentionPairs(cfg, [...unique.values()], data);
  // Queue workers always resume a stage's checkpoint: an interrupted stage is their normal case.
  if (!executor) checkRunState(cfg, runDir, [...unique.values()], dataId);
  mkdirSync(runDir, { recursive: true }); // a folder that cannot be made fails now, not after the first stage
  const lock = lockRunFolder(runDir, progress);
  try {
    const kept = keepEarlierRun(runDir, cfg.resume);
    if (kept) progress.log(`note: ${runDir} held an earlier run; this one replaces it, and its reports are kept in ${kept}`);
    const paramsOf = new Map<string, number>();
    for (const s of unique.values()) {
      if (!paramsOf.has(s.arch)) {
        const m = createModel(s.arch, modelShape(data, 0));
        paramsOf.set(s.arch, m.parameterCount());
        m.dispose();
      }
    }
    const cost = (s: Stage) => (s.kept ? 0 : stageCost(paramsOf.get(s.arch)!, data.train.size, cfg.recipe.epochs));
    progress.startPipeline([...unique.values()].reduce((a, s) => a + cost(s), 0), unique.size);

    const results = new Map<string, StageResult>();
    const stagesOut: StageSummary[] = [];
    const perSeed: SeedResult[] = [];
    const curves: Curve[] = [];
    const logitCache: LogitCache = new Map();
    const started = Date.now();
    // Kept models are scored here first: queue workers then find them done, like any finished stage.
    if (executor) for (const s of unique.values()) if (s.kept) await runStage(cfg, s, data, progress, signal);
    const remote = executor ? await executor([...unique.values()], progress, dataId) : new Set<string>();
    const write = () => {
      const summary: Summary = {
        name: cfg.name,
        dataset: cfg.dataset,
        dataId,
        data: { train: describeDataset(data.train), val: data.val ? describeDataset(data.val) : null, test: describeDataset(data.test) },
        selection: data.val ? 'validation' : 'test',
        sharedTrainers: cfg.shareTrainers && cfg.seeds > 1,
        adapter: runtime().adapterDescription,
        seconds: (Date.now() - started) / 1000,
        trainingSeconds: stagesOut.reduce((a, st) => a + st.seconds, 0),
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        complete: false,
        // The data folder as an absolute path: where the data were, whichever folder the run started in.
        config: cfg.dataDir ? { ...cfg, dataDir: resolve(cfg.dataDir) } : cfg,
        stages: stagesOut,
        table: buildTable(perSeed),
        comparisons: pairedComparisons(perSeed),
        perSeed,
      };
      writeReports(runDir, summary, curves);
      return summary;
    };
    for (const { seed, plans: seedPlans } of plans) {
      for (const { variant, plan } of seedPlans) {
        for (const stage of plan.stages) {
          if (!results.has(stage.key)) {
            progress.beginStage(stage.name, cost(stage), seed);
            const r = await runStage(cfg, stage, data, progress, signal, logitCache, remote);
            progress.endStage(r.reused);
            results.set(stage.key, r);
            stagesOut.push(stageSummary(stage, r));
            writeFileAtomic(join(runDir, 'stages', `${stage.name}.jsonl`), r.result.history.map((h) => JSON.stringify(h)).join('\n') + '\n');
          }
          // Rows whose stages are all done enter the table now (a partial table while the run goes on).
          for (const row of plan.rows) {
            const r = results.get(row.stage.key);
            const method = variant && row.method !== 'Teacher' ? variant.label : row.method;
            if (!r || perSeed.some((p) => p.method === method && p.seed === seed)) continue;
            perSeed.push({ method, arch: row.stage.arch, seed, shared: row.stage.role !== 'student' && cfg.shareTrainers, best: r.result.bestAcc, final: r.result.finalAcc, bestEpoch: r.result.bestEpoch });
            curves.push({ method, seed, history: r.result.history });
          }
          write();
        }
      }
    }
    const summary = write();
    summary.complete = true;
    writeReports(runDir, summary, curves);
    return summary;
  } finally {
    lock.release();
  }
}

function stageSummary(stage: Stage, r: StageResult): StageSummary {
  return {
    name: stage.name,
    role: stage.role,
    arch: stage.arch,
    method: stage.method + (stage.drop ? '-stochastic' : '') + (stage.kd?.normalise ? '-normalised' : '') +
      (stage.kd && stage.extra?.teacherLoss ? `-${stage.extra.teacherLoss.kind}` : ''),
    teachers: stage.teachers.map((t) => t.name),
    params: r.params,
    bestEpoch: r.result.bestEpoch,
    bestVal: r.result.bestVal,
    bestAcc: r.result.bestAcc,
    finalAcc: r.result.finalAcc,
    epochs: r.result.epochs,
    // What the stage cost when it was trained, also when this run reuses it: a resumed run still reports its cost.
    seconds: r.result.seconds,
    reused: r.reused,
    seed: stage.seed,
    key: stage.key,
  };
}

function describeDataset(ds: Dataset) {
  return { name: ds.name, size: ds.size };
}
