// The plan of an experiment: the stages a method needs (teacher → assistants → student) and the table rows that
// report them. Each stage has a key, a hash of everything that decides its result (architecture, the data's
// content, recipe, seed, its teachers' keys, the method's settings), so a stage trained once is reused by every
// run that needs it — on any machine, wherever that machine keeps the data. Stores written before the 17th session
// keyed stages by the data folder's path instead; their stages are still found (PlanOptions.existing).
// Pure: no data and no GPU.

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { canonicalName } from '../models/index.ts';
import type { TeacherLossSettings } from '../methods/logit_losses.ts';
import type { KeptModel } from './kept_models.ts';
import { CHAIN_ROWS, type DkdConfig, type ExperimentConfig, type KdSettings, type Method, type TeacherLoss } from '../settings/config.ts';

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

/** A kept model's stage key: its file's content, wherever the file lies. */
export function keptStageKey(sha256: string): string {
  return `kept-${sha256.slice(0, 16)}`;
}

/** A stage's key: its description's hash, the data named by its content (dataId) or, for earlier stores, by its folder. */
function stageKey(cfg: ExperimentConfig, s: Omit<Stage, 'key' | 'name'>, numClasses: number, dataId: string | null): string {
  if (s.kept) return keptStageKey(s.kept.sha256);
  // The content covers the splits too (every pixel and label of train, validation and test).
  const data = dataId ? { content: dataId } : {
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

export function dropLabel(d: DropSettings): string {
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
  /**
   * The content of the run's data (experiment/data.ts, dataFingerprint), which stage keys hold; absent (plans
   * that never touch a store, e.g. tests of the planning), the data's settings and folder stand in for it.
   */
  dataId?: string;
  /**
   * Whether the store holds a stage under this key: a stage found only under its earlier, path-based key (a store
   * written before keys held the content) is planned under that key, so its run goes on from it.
   */
  existing?: (key: string) => boolean;
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
    const byPath = stageKey(cfg, partial, numClasses, null);
    const byContent = opts.dataId ? stageKey(cfg, partial, numClasses, opts.dataId) : byPath;
    const key = byContent !== byPath && !opts.existing?.(byContent) && opts.existing?.(byPath) ? byPath : byContent;
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
