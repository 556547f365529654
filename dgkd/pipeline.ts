// The experiment pipeline: plan the stages a method needs (teacher → assistants → student), train them in
// order, reuse any stage already trained with the same architecture, data, recipe, seed and teachers (from the
// stage cache, runs/_cache/<key>/), and write summary.json, report.md, curves.svg and every stage's metrics
// (runs/<name>/stages/) after each stage.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Rng, noGrad, runtime, tidy, zeros } from '../engine/index.ts';
import { createModel, canonicalName, type Classifier } from './models/index.ts';
import { DataError, loadDataset, splitValidation, TAKD_NORMALISATION, type Dataset } from './data/index.ts';
import { CrossEntropy, Distillation } from './methods/kd.ts';
import { CollaborativeTeaching } from './methods/ctkd.ts';
import { AttentionMatchError, matchAttentionGroups } from './methods/attention_pairs.ts';
import { AttentionTransfer } from './methods/at.ts';
import { FitNets, HintMatchError, HintRegressor, planHint, type FeatureShape } from './methods/fitnets.ts';
import { RelationalKd } from './methods/rkd.ts';
import type { TeacherLossSettings } from './methods/logit_losses.ts';
import type { Objective } from './methods/objective.ts';
import { applyCheckpoint, readCheckpoint } from './train/checkpoint.ts';
import { bankLogitsOf, evaluate, fit, Interrupted, LAST, logitsOf, type FitResult, type Recipe } from './train/trainer.ts';
import { writeFileAtomic } from './train/atomic.ts';
import { Progress } from './train/progress.ts';
import { checkRunState, keepEarlierRun, lockRunFolder } from './run_folder.ts';
import { stageDir, stageLockPath } from './stage_dir.ts';
import { describeHolder, tryLock, type Lock } from './locks.ts';
import { checkHeldOutParts, readKeptModel, type KeptModel } from './kept_models.ts';
import { CheckpointError } from './train/checkpoint.ts';
import { CHAIN_ROWS, type DkdConfig, type ExperimentConfig, type KdSettings, type Method, type TeacherLoss } from './config.ts';
import { buildTable, pairedComparisons, writeReports, type Curve, type SeedResult, type Summary, type StageSummary } from './report.ts';

export type Role = 'teacher' | 'assistant' | 'student';

export type DropSettings = ExperimentConfig['stochastic'];

export interface Stage {
  /** Readable and unique within a run: what is trained and what trained it (file names in runs/<name>/stages/). */
  name: string;
  role: Role;
  arch: string;
  /**
   * ce, kd (one teacher), dgkd (several), ctkd, and the baselines dkd, dist, at, fitnets, rkd; kept: not trained
   * here, given as a file (kept_models.ts).
   */
  method: 'ce' | 'kd' | 'dgkd' | 'ctkd' | 'kept' | 'dkd' | 'dist' | 'at' | 'fitnets' | 'rkd';
  teachers: Stage[];
  /** Stochastic teaching settings, for the student of stochastic DGKD; null otherwise. */
  drop: DropSettings | null;
  /** The distillation settings this stage trains with; null for CE. */
  kd: KdSettings | null;
  seed: number;
  key: string;
  /** A kept model's file and its sha256 (method 'kept'). */
  kept?: { path: string; sha256: string };
  /** Settings of the methods added after the first stage keys; absent where they do not apply (see StageExtra). */
  extra?: StageExtra;
}

/**
 * The settings of DKD, DIST, AT, FitNets, RKD and of --teacher-loss. They enter a stage's key only when present,
 * so that the keys of every stage that existed before them (Hinton-KD TAKD and DGKD, CE, CTKD) stay valid.
 */
export interface StageExtra {
  /** The per-teacher loss when it is not Hinton KD: kd and dgkd stages with --teacher-loss, dkd and dist stages. */
  teacherLoss?: TeacherLossSettings;
  /** The baselines' temperature (DKD, DIST) and CE weight. */
  temperature?: number;
  ceWeight?: number;
  at?: { beta: number };
  fitnets?: { weight: number };
  rkd?: { distance: number; angle: number };
}

export interface Plan {
  stages: Stage[];
  /** Table rows: a label and the stage whose accuracy it reports. */
  rows: { method: string; stage: Stage }[];
}

function stageKey(cfg: ExperimentConfig, s: Omit<Stage, 'key' | 'name'>, numClasses: number): string {
  // A kept model is its file's content, wherever the file lies.
  if (s.kept) return `kept-${s.kept.sha256.slice(0, 16)}`;
  const data = {
    dataset: cfg.dataset,
    dataDir: cfg.dataDir ? resolve(cfg.dataDir) : null,
    valSplit: cfg.valSplit,
    // Only when set, so that the keys of stages trained before --test-split existed stay valid.
    ...(cfg.testSplit ? { testSplit: cfg.testSplit } : {}),
    trainSubset: cfg.trainSubset,
    subsetSeed: cfg.trainSubset ? cfg.seed : null,
    synthetic: cfg.dataset === 'synthetic' ? [cfg.syntheticTrain, cfg.syntheticTest] : null,
  };
  const desc = {
    arch: s.arch,
    numClasses,
    data,
    // viewBank only when set, so that the keys of stages trained before it existed stay valid.
    recipe: { ...withoutUnset(cfg.recipe), lr: lrFor(cfg, s.arch) },
    evalEvery: cfg.evalEvery,
    seed: s.seed,
    method: s.method,
    kd: s.kd,
    drop: s.drop,
    ctkd: s.method === 'ctkd' ? cfg.ctkd : null,
    trainers: s.teachers.map((t) => t.key) /* 'trainers' in the key: the name earlier caches were written with */,
    ...(s.extra ? { extra: s.extra } : {}),
  };
  return createHash('sha256').update(JSON.stringify(desc)).digest('hex').slice(0, 16);
}

const withoutUnset = (r: ExperimentConfig['recipe']) => {
  const { viewBank, ...rest } = r;
  return viewBank ? { ...rest, viewBank } : rest;
};

export function lrFor(cfg: ExperimentConfig, arch: string): number {
  return arch.startsWith('plain') && cfg.recipe.plainLr !== null ? cfg.recipe.plainLr : cfg.recipe.lr;
}

function dropLabel(d: DropSettings): string {
  return d.drop === 'exact-k' ? `drop exactly ${d.k}` : `p = ${d.keepProb}`;
}

export interface PlanOptions {
  /** The students' distillation settings (a sweep's grid point); assistants keep cfg.kd (and cfg.dkd, cfg.dist). */
  studentKd?: KdSettings;
  studentDkd?: DkdConfig;
  studentDist?: ExperimentConfig['dist'];
  /** Appended to student stage names (a sweep's grid point). */
  studentTag?: string;
  /** Models given as files instead of trained (--teacher-checkpoint, --assistant-checkpoints). */
  kept?: KeptModels;
}

export interface KeptModels {
  teacher?: KeptModel;
  /** One per assistant, in the chain's order; TAKD's and DGKD's chains then share them. */
  assistants?: KeptModel[];
}

/**
 * The stages each method needs, deduplicated (the teacher is trained once for every method). Teacher and
 * assistants take the seed cfg.seed when cfg.shareTrainers (one set for every student seed), else `seed`.
 */
export function planStages(cfg: ExperimentConfig, numClasses: number, seed: number, opts: PlanOptions = {}): Plan {
  const byKey = new Map<string, Stage>();
  const teacherSeed = cfg.shareTrainers ? cfg.seed : seed;
  const seedTag = (role: Role) => (cfg.seeds > 1 && (role === 'student' || !cfg.shareTrainers) ? `-seed${seed}` : '');
  const make = (
    name: string, role: Role, arch: string, method: Stage['method'], teachers: Stage[], kd: KdSettings | null, drop: DropSettings | null = null,
    kept?: KeptModel, extra?: StageExtra,
  ): Stage => {
    // Normalising by the number of teachers changes nothing with one teacher: such stages are the same stage.
    const kdOfStage = kd && teachers.length < 2 ? { ...kd, normalise: false } : kd;
    const partial = {
      role, arch: canonicalName(arch), method, teachers, drop, kd: kdOfStage, seed: role === 'student' ? seed : teacherSeed,
      ...(kept ? { kept: { path: resolve(kept.path), sha256: kept.sha256 } } : {}),
      ...(extra ? { extra } : {}),
    };
    const key = stageKey(cfg, partial, numClasses);
    const existing = byKey.get(key);
    if (existing) return existing;
    const s = { ...partial, name: name + seedTag(role), key };
    byKey.set(key, s);
    return s;
  };
  const rows: Plan['rows'] = [];
  const chain = cfg.assistants;
  const studentKd = opts.studentKd ?? cfg.kd;
  const studentName = (m: string) => `student-${canonicalName(cfg.student)}-${m}${opts.studentTag ?? ''}`;
  const assistantName = (arch: string, teachers: Stage[], kd: KdSettings) =>
    `assistant-${canonicalName(arch)}-from-${teachers.map((t) => t.arch).join('-')}${kd.normalise && teachers.length > 1 ? '-norm' : ''}`;
  const keptTeacher = opts.kept?.teacher;
  const keptAssistant = (i: number) => opts.kept?.assistants?.[i];
  const keptStage = (name: string, role: Role, k: KeptModel) => make(`${name}-kept`, role, k.arch, 'kept', [], null, null, k);
  const teacher = () =>
    keptTeacher ? keptStage(`teacher-${canonicalName(cfg.teacher)}`, 'teacher', keptTeacher) : make(`teacher-${canonicalName(cfg.teacher)}`, 'teacher', cfg.teacher, 'ce', [], null);
  // The per-teacher loss of TAKD's and DGKD's stages (absent for Hinton KD): assistants take the run's
  // settings, students a sweep's grid point's.
  const dkdOf = { assistant: cfg.dkd, student: opts.studentDkd ?? cfg.dkd };
  const distOf = { assistant: cfg.dist, student: opts.studentDist ?? cfg.dist };
  const lossOf = (kind: TeacherLoss, who: 'assistant' | 'student'): TeacherLossSettings | undefined =>
    kind === 'dkd' ? { kind, alpha: dkdOf[who].alpha, beta: dkdOf[who].beta, warmup: warmupEpochs(dkdOf[who], cfg.recipe.epochs) }
      : kind === 'dist' ? { kind, beta: distOf[who].beta, gamma: distOf[who].gamma }
        : undefined;
  const lossExtra = (kind: TeacherLoss, who: 'assistant' | 'student'): StageExtra | undefined => (kind === 'kd' ? undefined : { teacherLoss: lossOf(kind, who) });
  const lossTag = (kind: TeacherLoss) => (kind === 'kd' ? '' : `-${kind}`);
  // TAKD: each model learns from the one before it.
  const takd = (kind: TeacherLoss) => {
    let prev = teacher();
    chain.forEach((a, i) => {
      const k = keptAssistant(i);
      prev = k
        ? keptStage(`assistant-${canonicalName(a)}`, 'assistant', k)
        : make(assistantName(a, [prev], cfg.kd) + lossTag(kind), 'assistant', a, 'kd', [prev], cfg.kd, null, undefined, lossExtra(kind, 'assistant'));
    });
    return make(studentName(`takd${lossTag(kind)}`), 'student', cfg.student, 'kd', [prev], studentKd, null, undefined, lossExtra(kind, 'student'));
  };
  // DGKD: each model learns from the teacher and every larger assistant.
  const dgkd = (drop: DropSettings | null, normalise: boolean, kind: TeacherLoss) => {
    const teachers = [teacher()];
    const kd = { ...cfg.kd, normalise };
    chain.forEach((a, i) => {
      const k = keptAssistant(i);
      teachers.push(
        k
          ? keptStage(`assistant-${canonicalName(a)}`, 'assistant', k)
          : make(assistantName(a, teachers, kd) + lossTag(kind), 'assistant', a, teachers.length === 1 ? 'kd' : 'dgkd', [...teachers], kd, null, undefined, lossExtra(kind, 'assistant')),
      );
    });
    const method = teachers.length === 1 ? 'kd' : 'dgkd';
    const tag = (drop ? 'dgkd-stochastic' : normalise ? 'dgkd-norm' : 'dgkd') + lossTag(kind);
    return make(studentName(tag), 'student', cfg.student, method, teachers, { ...studentKd, normalise }, drop, undefined, lossExtra(kind, 'student'));
  };
  // The baselines: one teacher, CE weight 1 unless --ce-weight gives a number.
  const ceWeight = typeof studentKd.ceWeight === 'number' ? studentKd.ceWeight : 1;
  const baseline = (method: 'dkd' | 'dist' | 'at' | 'fitnets' | 'rkd', extra: StageExtra) =>
    make(studentName(method), 'student', cfg.student, method, [teacher()], null, null, undefined, { ceWeight, ...extra });
  const withLoss = (label: string, kind: TeacherLoss) =>
    kind === 'kd' ? label : label.endsWith(')') ? `${label.slice(0, -1)}; ${kind.toUpperCase()} loss)` : `${label} (${kind.toUpperCase()} loss)`;
  const stochastic: DropSettings = cfg.stochastic.drop === 'none' ? { ...cfg.stochastic, drop: 'bernoulli' } : cfg.stochastic;
  const dgkdLabel = (drop: DropSettings | null, normalise: boolean) =>
    drop ? `DGKD (stochastic, ${dropLabel(drop)})` : normalise ? 'DGKD (loss ÷ teachers)' : 'DGKD';
  const loss = cfg.teacherLoss;
  const methods: Record<Method, () => void> = {
    ce: () => rows.push({ method: 'NOKD', stage: make(studentName('nokd'), 'student', cfg.student, 'ce', [], null) }),
    kd: () => rows.push({ method: 'KD', stage: make(studentName('kd'), 'student', cfg.student, 'kd', [teacher()], studentKd) }),
    takd: () => rows.push({ method: withLoss('TAKD', loss), stage: takd(loss) }),
    dgkd: () => {
      const drop = cfg.stochastic.drop === 'none' ? null : cfg.stochastic;
      rows.push({ method: withLoss(dgkdLabel(drop, studentKd.normalise), loss), stage: dgkd(drop, studentKd.normalise, loss) });
    },
    ctkd: () => rows.push({ method: 'CTKD', stage: make(studentName('ctkd'), 'student', cfg.student, 'ctkd', [teacher()], null) }),
    dkd: () => rows.push({ method: 'DKD', stage: baseline('dkd', { temperature: studentKd.temperature, teacherLoss: lossOf('dkd', 'student') }) }),
    dist: () => rows.push({ method: 'DIST', stage: baseline('dist', { temperature: studentKd.temperature, teacherLoss: lossOf('dist', 'student') }) }),
    at: () => rows.push({ method: 'AT', stage: baseline('at', { at: { ...cfg.at } }) }),
    fitnets: () => rows.push({ method: 'FitNets', stage: baseline('fitnets', { fitnets: { ...cfg.fitnets } }) }),
    rkd: () => rows.push({ method: 'RKD', stage: baseline('rkd', { rkd: { ...cfg.rkd } }) }),
  };
  // One row of the default comparison, or of a --compare list (TAKD and DGKD rows with their per-teacher loss).
  const chainRow = (row: (typeof CHAIN_ROWS)[number], kind: TeacherLoss) => {
    if (row === 'takd') rows.push({ method: withLoss('TAKD', kind), stage: takd(kind) });
    else if (!chain.length) rows.push({ method: withLoss('DGKD (= KD without assistants)', kind), stage: dgkd(null, false, kind) });
    else if (row === 'dgkd') rows.push({ method: withLoss(dgkdLabel(null, false), kind), stage: dgkd(null, false, kind) });
    else if (row === 'dgkd-stochastic') rows.push({ method: withLoss(dgkdLabel(stochastic, false), kind), stage: dgkd(stochastic, false, kind) });
    else rows.push({ method: withLoss(dgkdLabel(null, true), kind), stage: dgkd(null, true, kind) });
  };
  if (cfg.method !== 'ce' || cfg.compare) rows.push({ method: 'Teacher', stage: teacher() });
  if (Array.isArray(cfg.compare)) {
    for (const name of cfg.compare) {
      const { row, kind } = compareRow(name, loss);
      if (row === 'nokd') methods.ce();
      else if ((CHAIN_ROWS as readonly string[]).includes(row)) chainRow(row as (typeof CHAIN_ROWS)[number], kind);
      else methods[row as Method]();
    }
  } else if (cfg.compare) {
    methods.ce();
    methods.kd();
    if (chain.length) {
      chainRow('takd', loss);
      chainRow('dgkd', loss);
      chainRow('dgkd-stochastic', loss);
      chainRow('dgkd-norm', loss);
    } else {
      // Without assistants DGKD is KD with the teacher alone; stochastic teaching keeps the one teacher always.
      chainRow('dgkd', loss);
    }
    if (cfg.method === 'ctkd') methods.ctkd();
  } else {
    methods[cfg.method]();
  }
  // Every stage after its teachers.
  const ordered: Stage[] = [];
  const visit = (s: Stage) => {
    if (ordered.includes(s)) return;
    s.teachers.forEach(visit);
    ordered.push(s);
  };
  rows.forEach((r) => visit(r.stage));
  return { stages: ordered, rows };
}

/** DKD's warm-up in epochs: 'auto' is a twelfth of the run's epochs (mdistiller: 20 of 240). */
export function warmupEpochs(dkd: DkdConfig, epochs: number): number {
  return dkd.warmup === 'auto' ? epochs / 12 : dkd.warmup;
}

/** A --compare name as its row and per-teacher loss: `dgkd-dkd` → dgkd with DKD; `dgkd` → dgkd with `fallback`. */
export function compareRow(name: string, fallback: TeacherLoss): { row: string; kind: TeacherLoss } {
  const canonical = name === 'ce' ? 'nokd' : name;
  for (const row of CHAIN_ROWS) {
    if (canonical === row) return { row, kind: fallback };
    for (const kind of ['kd', 'dkd', 'dist'] as const) if (canonical === `${row}-${kind}`) return { row, kind };
  }
  return { row: canonical, kind: fallback };
}

export interface Data {
  train: Dataset;
  /** Held out of the training data for choosing the best epoch; null without --val-split. */
  val: Dataset | null;
  test: Dataset;
  numClasses: number;
}

const rename = (ds: Dataset, name: string): Dataset => ({ ...ds, name });

/** What decides a run's data: stored in checkpoints, so that `eval` scores the same split the run did. */
export type DataSettings = Pick<ExperimentConfig, 'dataset' | 'dataDir' | 'syntheticTrain' | 'syntheticTest' | 'seed' | 'valSplit' | 'testSplit' | 'trainSubset'>;

export function dataSettings(cfg: ExperimentConfig): DataSettings {
  const { dataset, dataDir, syntheticTrain, syntheticTest, seed, valSplit, testSplit, trainSubset } = cfg;
  return { dataset, ...(dataDir ? { dataDir: resolve(dataDir) } : {}), syntheticTrain, syntheticTest, seed, valSplit, testSplit, trainSubset };
}

/** The run's splits. `training: false` (eval) skips the checks that only training needs (batch size). */
export function loadData(cfg: ExperimentConfig, opts: { training?: boolean } = {}): Data {
  const loaded = loadDataset(cfg.dataset, cfg.dataDir, {
    seed: cfg.seed,
    trainSize: cfg.syntheticTrain,
    testSize: cfg.syntheticTest,
    allowMissingTest: cfg.valSplit > 0,
  });
  let train = loaded.train;
  let test = loaded.test;
  let val: Dataset | null = null;
  if (cfg.valSplit > 0) {
    const split = splitValidation(train, cfg.valSplit, 1234);
    if (split.train.size === 0) throw new DataError(`--val-split ${cfg.valSplit} leaves none of the ${train.size} images of ${train.name} to train on`);
    train = split.train;
    val = rename(split.val, `${loaded.train.name} (validation part)`);
    if (!test) {
      // No test files: a second held-out part (--test-split images, else as many as validation) is the test set.
      const testSize = cfg.testSplit || val.size;
      if (testSize >= train.size) throw new DataError(`--test-split ${testSize} leaves none of the ${train.size} images of ${train.name} to train on`);
      const again = splitValidation(train, testSize, 4321);
      train = again.train;
      test = rename(again.val, `${loaded.train.name} (held-out test part)`);
    }
  }
  if (cfg.trainSubset > 0) {
    if (cfg.trainSubset > train.size) {
      throw new DataError(`--train-subset ${cfg.trainSubset} is larger than the ${train.size} training images of ${train.name}`);
    }
    if (cfg.trainSubset < train.size) train = rename(splitValidation(train, cfg.trainSubset, cfg.seed).val, `${train.name} (${cfg.trainSubset}-image subset)`);
  }
  if ((opts.training ?? true) && cfg.recipe.batchSize > train.size) {
    throw new DataError(`--batch-size ${cfg.recipe.batchSize} is larger than the ${train.size} training images of ${train.name}`);
  }
  return { train, val, test: test!, numClasses: loaded.numClasses };
}

function modelShape(data: Data, seed: number) {
  return { numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, seed };
}

function makeObjective(cfg: ExperimentConfig, stage: Stage, data: Data): Objective {
  if (stage.method === 'ce') return new CrossEntropy();
  if (stage.method === 'ctkd') {
    const scratch = createModel(cfg.ctkd.scratch ?? cfg.teacher, modelShape(data, stage.seed + 1));
    return new CollaborativeTeaching(scratch, cfg.ctkd);
  }
  const x = stage.extra ?? {};
  const ce = x.ceWeight ?? 1;
  switch (stage.method) {
    case 'dkd':
    case 'dist':
      // DKD and DIST alone: CE plus the one teacher's term at weight 1 (their reference code's loss).
      return new Distillation(1, { temperature: x.temperature!, lambda: 1, klReduction: 'batchmean', ceWeight: ce, teacherLoss: x.teacherLoss, name: stage.method });
    case 'at':
      return new AttentionTransfer({ beta: x.at!.beta, ceWeight: ce });
    case 'fitnets': {
      const plan = planHint(featureShapes(stage.arch, data), featureShapes(stage.teachers[0].arch, data));
      return new FitNets(new HintRegressor(plan, new Rng(stage.seed ^ 0x4f17)), { weight: x.fitnets!.weight, ceWeight: ce });
    }
    case 'rkd':
      return new RelationalKd({ distance: x.rkd!.distance, angle: x.rkd!.angle, ceWeight: ce });
  }
  const kd = stage.kd!;
  const ceWeight = kd.ceWeight === 'paper' ? undefined : kd.ceWeight === 'official' ? 1 - kd.lambda : kd.ceWeight;
  const drop = stage.drop;
  return new Distillation(stage.teachers.length, {
    temperature: kd.temperature,
    lambda: kd.lambda,
    klReduction: kd.klReduction,
    ceWeight,
    normalise: kd.normalise,
    drop: drop ? drop.drop : 'none',
    keepProb: drop?.keepProb,
    dropK: drop?.k,
    ...(x.teacherLoss ? { teacherLoss: x.teacherLoss } : {}),
  });
}

/** Each stage output's size and channels for an architecture on this run's images (one eval-mode forward pass). */
function featureShapes(arch: string, data: Data): FeatureShape[] {
  const m = createModel(arch, modelShape(data, 0)).eval();
  const { height: H, width: W, channels: C } = data.train;
  let fs: FeatureShape[] = [];
  tidy(() => {
    fs = noGrad(() => m.forwardWithFeatures(zeros([1, H, W, C])).features.map((f) => ({ height: f.shape[1], width: f.shape[2], channels: f.shape[3] })));
  });
  m.dispose();
  return fs;
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
    ...(r.augment && r.viewBank ? { viewBank: r.viewBank } : {}),
    normalisation: TAKD_NORMALISATION,
    seed: stage.seed,
  };
}

interface StageResult {
  result: FitResult;
  params: number;
  reused: boolean;
}

/**
 * Frozen teachers' logits on the training images, computed once per teacher and process (without augmentation
 * they are the same every epoch and for every student that learns from that teacher).
 */
type LogitCache = Map<string, Float32Array>;

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
      const result = JSON.parse(readFileSync(donePath, 'utf8')).result as FitResult;
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
            logitCache.set(key, bank ? await viewBankLogits(cfg, from, t, data, bank, progress) : await logitsOf(t, data.train, TAKD_NORMALISATION));
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
 * A frozen teacher's logits for every view of the run's view bank ([train images × views × classes]): computed
 * once, then kept in <store>/_bank/ for every later run, process and queue worker that trains from the same
 * teacher on the same data and bank (the file name says which; the bytes are checked by size).
 */
async function viewBankLogits(cfg: ExperimentConfig, from: Stage, t: Classifier, data: Data, views: number, progress: Progress): Promise<Float32Array> {
  const identity = createHash('sha256').update(JSON.stringify({ data: dataSettings(cfg), train: data.train.size, views, bank: BANK_VERSION })).digest('hex');
  const path = join(cfg.store ?? cfg.out, '_bank', `${from.key}-${identity.slice(0, 12)}.f32`);
  const floats = data.train.size * views * t.numClasses;
  if (existsSync(path)) {
    const bytes = readFileSync(path);
    if (bytes.byteLength === floats * 4) return new Float32Array(bytes.buffer, bytes.byteOffset, floats).slice();
    progress.log(`[${from.name}] ${path} has ${bytes.byteLength} bytes, expected ${floats * 4}: computing it again`);
  }
  const t0 = Date.now();
  progress.log(`[${from.name}] logits for ${views} views of ${data.train.size} images (the view bank)…`);
  const logits = await bankLogitsOf(t, data.train, TAKD_NORMALISATION, views);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  progress.log(`[${from.name}] view bank done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path}`);
  return logits;
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

const keptWanted = (flag: string, arch: string, data: Data) => ({
  flag, arch, numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, normalisation: TAKD_NORMALISATION,
});

/** A kept stage's file, read again where it is used (a queue worker reads it too), and still the file planned with. */
function keptFile(stage: Stage, data: Data): KeptModel {
  const k = readKeptModel(stage.kept!.path, keptWanted(`${stage.name}:`, stage.arch, data));
  if (k.sha256 !== stage.kept!.sha256) throw new CheckpointError(`${stage.kept!.path} changed since this run was planned (sha256 ${k.sha256.slice(0, 16)}…, expected ${stage.kept!.sha256.slice(0, 16)}…)`);
  return k;
}

/** The models given as files (--teacher-checkpoint, --assistant-checkpoints), checked against the run. */
export function readKeptModels(cfg: ExperimentConfig, data: Data): KeptModels {
  const kept: KeptModels = {};
  const read = (flag: string, path: string, arch: string) => {
    const k = readKeptModel(path, keptWanted(flag, arch, data));
    checkHeldOutParts(k, dataSettings(cfg));
    return k;
  };
  if (cfg.teacherCheckpoint) kept.teacher = read('--teacher-checkpoint', cfg.teacherCheckpoint, cfg.teacher);
  if (cfg.assistantCheckpoints?.length) {
    if (cfg.assistantCheckpoints.length !== cfg.assistants.length) {
      throw new CheckpointError(
        `--assistant-checkpoints: ${cfg.assistantCheckpoints.length} file${cfg.assistantCheckpoints.length === 1 ? '' : 's'} for ` +
          `${cfg.assistants.length} assistant${cfg.assistants.length === 1 ? '' : 's'} (${cfg.assistants.join(', ') || 'none'}): give one per assistant, largest first`,
      );
    }
    kept.assistants = cfg.assistantCheckpoints.map((p, i) => read('--assistant-checkpoints', p, cfg.assistants[i]));
  }
  return kept;
}

/** A kept model's accuracy on this run's validation and test parts (computed once, then kept in done.json). */
async function scoreKept(stage: Stage, model: Classifier, data: Data, dir: string, progress: Progress): Promise<StageResult> {
  const params = model.parameterCount();
  const donePath = join(dir, 'done.json');
  if (existsSync(donePath)) {
    progress.log(`[${stage.name}] ${stage.kept!.path}: scored before, in ${dir}`);
    return { result: JSON.parse(readFileSync(donePath, 'utf8')).result as FitResult, params, reused: true };
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

/**
 * CTKD's and AT's attention groups and FitNets' hint layers are matched before anything trains, so that an
 * unmatchable pair fails at once.
 */
function checkAttentionPairs(cfg: ExperimentConfig, stages: Stage[], data: Data): void {
  for (const s of stages) {
    if (s.method === 'fitnets') {
      try {
        planHint(featureShapes(s.arch, data), featureShapes(s.teachers[0].arch, data));
      } catch (e) {
        if (e instanceof HintMatchError) throw new HintMatchError(`FitNets from ${s.teachers[0].arch} to ${s.arch}: ${e.message}`);
        throw e;
      }
      continue;
    }
    if (s.method !== 'ctkd' && s.method !== 'at') continue;
    if (s.method === 'ctkd' ? cfg.ctkd.beta === 0 : s.extra?.at?.beta === 0) continue;
    const targetArch = s.method === 'at' || cfg.ctkd.target === 'student' ? s.arch : (cfg.ctkd.scratch ?? cfg.teacher);
    try {
      matchAttentionGroups(featureShapes(targetArch, data), featureShapes(s.teachers[0].arch, data));
    } catch (e) {
      if (e instanceof AttentionMatchError) {
        throw new AttentionMatchError(`${s.method === 'at' ? 'AT' : 'CTKD'} between ${targetArch} and the ${s.method === 'at' ? 'teacher' : 'expert'} ${s.teachers[0].arch}: ${e.message}`);
      }
      throw e;
    }
  }
}

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
export type StageExecutor = (stages: Stage[], progress: Progress) => Promise<Set<string>>;

export async function runExperiment(
  cfg: ExperimentConfig,
  signal: { stop: boolean } = { stop: false },
  variants?: Variant[],
  executor?: StageExecutor,
): Promise<Summary> {
  const progress = new Progress(cfg.quiet);
  const data = loadData(cfg);
  const keptModels = readKeptModels(cfg, data);
  const runDir = join(cfg.out, cfg.name);
  const seeds = Array.from({ length: cfg.seeds }, (_, i) => cfg.seed + i);
  const plans = seeds.map((seed) => ({
    seed,
    plans: (variants ?? [null]).map((v) => ({
      variant: v,
      plan: planStages(cfg, data.numClasses, seed, {
        kept: keptModels,
        ...(v ? { studentKd: v.kd, studentTag: v.tag, ...(v.dkd ? { studentDkd: v.dkd } : {}), ...(v.dist ? { studentDist: v.dist } : {}) } : {}),
      }),
    })),
  }));
  const unique = new Map<string, Stage>();
  for (const p of plans) for (const { plan } of p.plans) for (const s of plan.stages) if (!unique.has(s.key)) unique.set(s.key, s);
  checkAttentionPairs(cfg, [...unique.values()], data);
  // Queue workers always resume a stage's checkpoint: an interrupted stage is their normal case.
  if (!executor) checkRunState(cfg, runDir, [...unique.values()]);
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
    const remote = executor ? await executor([...unique.values()], progress) : new Set<string>();
    const write = () => {
      const summary: Summary = {
        name: cfg.name,
        dataset: cfg.dataset,
        data: { train: describe(data.train), val: data.val ? describe(data.val) : null, test: describe(data.test) },
        selection: data.val ? 'validation' : 'test',
        sharedTrainers: cfg.shareTrainers && cfg.seeds > 1,
        adapter: runtime().adapterDescription,
        seconds: (Date.now() - started) / 1000,
        peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
        complete: false,
        config: cfg,
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
    seconds: r.reused ? 0 : r.result.seconds,
    reused: r.reused,
    seed: stage.seed,
    key: stage.key,
  };
}

function describe(ds: Dataset) {
  return { name: ds.name, size: ds.size };
}
