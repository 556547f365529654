// Every option of the command line, written once: its flag, the config key it sets, the values it accepts and
// its help text. The table drives `--help`, flag parsing, config-file merging and validate(), so a value from a
// config file is checked exactly like the same value given as a flag, and the help shows each preset's default.

import { DATASET_NAMES } from '../data/index.ts';
import { checkArchitecture, UnknownArchitectureError } from '../models/index.ts';
import { CHAIN_ROWS, COMPARE_BASES, COMPARE_NAMES, METHODS, PRESETS, TEACHER_LOSSES } from './config.ts';
import { BadInput } from '../errors.ts';

/** What a coordinator is told about its queue on the command line (`--queue URL --queue-timeout S`). */
export interface QueueSettings {
  /** The Redis the stages go through: redis://HOST:PORT. */
  url: string;
  /** How long Redis may stay unreachable mid-run before the coordinator stops (exit 2, resumable). */
  timeoutSeconds: number;
}

export const DEFAULT_QUEUE_TIMEOUT_S = 300;

export class UsageError extends BadInput {
  override name = 'UsageError';
}

/** Sizes past which a request is a typo, not an experiment: rejected before anything is allocated. */
export const MAX_CLASSES = 100_000;
export const MAX_SYNTHETIC = 1_000_000; // 3 GiB of images

/** The kind of value an option takes: how a flag's text becomes a value, and which values are acceptable. */
export interface ValueType {
  /** The placeholder shown in help (N, X, ARCH, step|cosine|constant). */
  meta: string;
  /** What is acceptable, in words ('a positive integer'). */
  expected: string;
  /** A flag's text as a value of this type (checked afterwards by `problem`). */
  parse(text: string): unknown;
  /** Why `v` is not acceptable (a phrase such as "expected …, got 'x'"), or undefined when it is. */
  problem(v: unknown, shown: string): string | undefined;
  /** The canonical form of an acceptable value (architecture aliases → their names). */
  canonical?(v: unknown): unknown;
}

const expectedGot = (expected: string) => (shown: string) => `expected ${expected}, got ${shown}`;

export function numeric(expected: string, ok: (x: number) => boolean, meta = 'X'): ValueType {
  return {
    meta,
    expected,
    parse: (s) => (s.trim() === '' ? NaN : Number(s)),
    problem: (v, shown) => (typeof v === 'number' && Number.isFinite(v) && ok(v) ? undefined : expectedGot(expected)(shown)),
  };
}

const integer = (min: number, max?: number) =>
  numeric(
    max !== undefined ? `an integer in ${min}..${max.toLocaleString('en-US')}` : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`,
    (x) => Number.isInteger(x) && x >= min && (max === undefined || x <= max),
    'N',
  );

function choice(options: readonly string[]): ValueType {
  return {
    meta: options.join('|'),
    expected: `one of ${options.join(', ')}`,
    parse: (s) => s,
    problem: (v, shown) => (options.includes(v as string) ? undefined : expectedGot(`one of ${options.join(', ')}`)(shown)),
  };
}

export const text = (meta: string, expected: string, pattern = /./s): ValueType => ({
  meta,
  expected,
  parse: (s) => s,
  problem: (v, shown) => (typeof v === 'string' && pattern.test(v) ? undefined : expectedGot(expected)(shown)),
});

function archProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'expected an architecture name';
  try {
    checkArchitecture(v);
    return undefined;
  } catch (e) {
    if (e instanceof UnknownArchitectureError) return e.message;
    throw e;
  }
}

const architecture: ValueType = {
  meta: 'ARCH',
  expected: 'an architecture name (see the `models` command)',
  parse: (s) => s,
  problem: (v, shown) => (typeof v === 'string' ? archProblem(v) : `expected an architecture name, got ${shown}`),
  canonical: (v) => checkArchitecture(v as string),
};

const architectures: ValueType = {
  meta: 'A1,A2,…',
  expected: 'a list of architecture names, largest first',
  parse: (s) => s.split(',').map((x) => x.trim()).filter(Boolean),
  problem: (v, shown) => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return `expected a list of architecture names, got ${shown}`;
    for (const a of v) {
      const p = archProblem(a);
      if (p) return p;
    }
    return undefined;
  },
  canonical: (v) => (v as string[]).map((a) => checkArchitecture(a)),
};

const ceWeight: ValueType = {
  meta: 'paper|official|X',
  expected: 'paper, official or a number ≥ 0',
  parse: (s) => (s === 'paper' || s === 'official' ? s : s.trim() === '' ? NaN : Number(s)),
  problem: (v, shown) =>
    v === 'paper' || v === 'official' || (typeof v === 'number' && Number.isFinite(v) && v >= 0)
      ? undefined
      : expectedGot('paper, official or a number ≥ 0')(shown),
};

/** A learning rate for the plain CNNs, or null (JSON) for "the same as --lr". */
const plainLr: ValueType = {
  meta: 'X',
  expected: 'a number > 0 (null in a file: the same as --lr)',
  parse: (s) => (s.trim() === '' ? NaN : Number(s)),
  problem: (v, shown) =>
    v === null || (typeof v === 'number' && Number.isFinite(v) && v > 0) ? undefined : expectedGot('a number > 0 or null')(shown),
};

const BOOLEAN: ValueType = {
  meta: '',
  expected: 'true or false',
  parse: () => true,
  problem: (v, shown) => (typeof v === 'boolean' ? undefined : expectedGot('true or false')(shown)),
};

/** A run's folder name: one path component inside --out, never '.', '..' or anything with a separator. */
const RUN_NAME = /^(?!\.\.?$)[\w.-]+$/;

export const SCHEDULES = ['step', 'cosine', 'constant'] as const;
export const KL_REDUCTIONS = ['batchmean', 'elementwise-mean'] as const;
export const DROP_MODES = ['none', 'bernoulli', 'exact-k'] as const;
export const ATTENTION_TARGETS = ['student', 'scratch'] as const;

export interface OptionSpec {
  /** The flag (`--epochs`) and any other spelling of it (`-T`). */
  flag: string;
  aliases?: string[];
  /** The ExperimentConfig field it sets (dotted: `recipe.epochs`); absent for options that steer the command. */
  key?: string;
  /** The value it takes; a switch (no value) sets `sets` instead. */
  type?: ValueType;
  sets?: unknown;
  /** A switch's opposite spelling (`--no-augment`), which sets the other boolean. */
  negation?: string;
  /** A switch that may also take a value (`--compare` or `--compare a,b`): the next argument, unless it is a flag. */
  optionalValue?: boolean;
  /** Setting this option also sets another key, unless that key is set by the same source (flags or a file). */
  implies?: { key: string; value: unknown };
  help: string;
  group: string;
}

const SYNTHETIC = integer(1, MAX_SYNTHETIC);

const FILES: ValueType = {
  meta: 'F1,F2,…',
  expected: 'a list of file names',
  parse: (s) => s.split(',').map((x) => x.trim()).filter(Boolean),
  problem: (v, shown) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && /\S/.test(x)) ? undefined : `expected a list of file names, got ${shown}`,
};

/** `--compare`'s value: on (the default set), off, or a list of rows; `ce` is accepted for `nokd`. */
const COMPARE_EXPECTED = `true, false or a list of ${COMPARE_BASES.join(', ')} (${CHAIN_ROWS.join(', ')} also with -${TEACHER_LOSSES.join(', -')}: their per-teacher loss)`;
const COMPARE: ValueType = {
  meta: '[M1,M2,…]',
  expected: COMPARE_EXPECTED,
  parse: (s) => s.split(',').map((x) => x.trim()).filter(Boolean),
  problem: (v, shown) => {
    if (typeof v === 'boolean') return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) return expectedGot(COMPARE_EXPECTED)(shown);
    const unknown = v.find((x) => !COMPARE_NAMES.includes(x === 'ce' ? 'nokd' : x));
    if (unknown !== undefined) return `unknown method '${unknown}' (expected ${COMPARE_EXPECTED})`;
    const names = v.map((x) => (x === 'ce' ? 'nokd' : x));
    const twice = names.find((x, i) => names.indexOf(x) !== i);
    if (twice !== undefined) return `'${twice}' appears twice in ${shown}`;
    return undefined;
  },
  canonical: (v) => (Array.isArray(v) ? v.map((x) => (x === 'ce' ? 'nokd' : x)) : v),
};

const WEIGHT = numeric('a number ≥ 0', (x) => x >= 0);

const warmup: ValueType = {
  meta: 'auto|N',
  expected: 'auto or a number of epochs ≥ 0',
  parse: (s) => (s === 'auto' ? s : s.trim() === '' ? NaN : Number(s)),
  problem: (v, shown) => (v === 'auto' || (typeof v === 'number' && Number.isFinite(v) && v >= 0) ? undefined : expectedGot('auto or a number of epochs ≥ 0')(shown)),
};

/** The experiment options of `train.ts` and `train.ts sweep`, in the order --help lists them. */
export const EXPERIMENT_OPTIONS: OptionSpec[] = [
  // What is trained
  { group: 'Method and models', flag: '--method', key: 'method', type: choice(METHODS), implies: { key: 'compare', value: false },
    help: 'the method that trains the student (alone, unless --compare)' },
  { group: 'Method and models', flag: '--compare', negation: '--no-compare', key: 'compare', sets: true, optionalValue: true, type: COMPARE,
    help: 'also train the NOKD, KD, TAKD and DGKD baselines, side by side; a list: those rows (dkd,dgkd-dkd,…)' },
  { group: 'Method and models', flag: '--teacher', key: 'teacher', type: architecture, help: 'the largest model' },
  { group: 'Method and models', flag: '--assistants', key: 'assistants', type: architectures, help: "teacher assistants, largest first ('' for none)" },
  { group: 'Method and models', flag: '--teacher-checkpoint', key: 'teacherCheckpoint', type: text('FILE', 'a file name', /\S/),
    help: 'the teacher from a file instead of training it: a checkpoint, an export, or a PyTorch model saved by models.py' },
  { group: 'Method and models', flag: '--assistant-checkpoints', key: 'assistantCheckpoints', type: FILES,
    help: 'the assistants from files, one per assistant (TAKD and DGKD then share them)' },
  { group: 'Method and models', flag: '--student', key: 'student', type: architecture, help: 'the model being distilled into' },
  // Data
  { group: 'Data', flag: '--dataset', key: 'dataset', type: choice(DATASET_NAMES), help: "'synthetic' is built in; the others read --data-dir" },
  { group: 'Data', flag: '--data-dir', key: 'dataDir', type: text('DIR', 'a folder name', /\S/), help: "the dataset's files (as published)" },
  { group: 'Data', flag: '--download', help: 'first fetch the dataset into --data-dir from its publisher (MD5 checked)' },
  { group: 'Data', flag: '--val-split', key: 'valSplit', type: numeric('a number ≥ 0', (x) => x >= 0, 'F|N'),
    help: 'held out of training to choose the best epoch: fraction or count (0: use test)' },
  { group: 'Data', flag: '--test-split', key: 'testSplit', type: integer(0),
    help: 'without test files: N training images held out as the test set (0: as many as --val-split)' },
  { group: 'Data', flag: '--train-subset', key: 'trainSubset', type: integer(0), help: 'train on a class-stratified subset of N images (0: all)' },
  { group: 'Data', flag: '--synthetic-train', key: 'syntheticTrain', type: SYNTHETIC, help: 'training images of the built-in dataset' },
  { group: 'Data', flag: '--synthetic-test', key: 'syntheticTest', type: SYNTHETIC, help: 'test images of the built-in dataset' },
  { group: 'Data', flag: '--augment', negation: '--no-augment', key: 'recipe.augment', sets: true,
    help: 'random crops and flips (off: frozen teachers’ logits are computed once per image)' },
  { group: 'Data', flag: '--view-bank', key: 'recipe.viewBank', type: integer(0),
    help: 'with --augment: a fixed bank of N augmented views per image, teachers’ logits computed once for all (0: off)' },
  // Recipe
  { group: 'Training recipe', flag: '--epochs', key: 'recipe.epochs', type: integer(1), help: 'epochs per model' },
  { group: 'Training recipe', flag: '--batch-size', key: 'recipe.batchSize', type: integer(1), help: 'images per step' },
  { group: 'Training recipe', flag: '--lr', key: 'recipe.lr', type: numeric('a number > 0', (x) => x > 0), implies: { key: 'recipe.plainLr', value: null },
    help: 'learning rate (for every model, unless --plain-lr is also given)' },
  { group: 'Training recipe', flag: '--plain-lr', key: 'recipe.plainLr', type: plainLr, help: 'learning rate of the plain CNNs (null in a file: as --lr)' },
  { group: 'Training recipe', flag: '--schedule', key: 'recipe.schedule', type: choice(SCHEDULES), help: 'step: ×0.1 at 50% and 75% of the epochs' },
  { group: 'Training recipe', flag: '--momentum', key: 'recipe.momentum', type: numeric('a number in [0, 1)', (x) => x >= 0 && x < 1), help: 'SGD momentum' },
  { group: 'Training recipe', flag: '--weight-decay', key: 'recipe.weightDecay', type: numeric('a number ≥ 0', (x) => x >= 0), help: 'L2 weight decay' },
  { group: 'Training recipe', flag: '--nesterov', negation: '--no-nesterov', key: 'recipe.nesterov', sets: true, help: 'Nesterov momentum' },
  { group: 'Training recipe', flag: '--seed', key: 'seed', type: integer(0), help: 'first seed (data order, initialisation)' },
  { group: 'Training recipe', flag: '--seeds', key: 'seeds', type: integer(1), help: 'students per method, seeds seed…seed+N−1' },
  { group: 'Training recipe', flag: '--teachers-per-seed', aliases: ['--trainers-per-seed'], negation: '--shared-teachers', key: 'shareTrainers', sets: false,
    help: 'retrain teacher and assistants for every seed (off: trained once, shared)' },
  { group: 'Training recipe', flag: '--eval-every', key: 'evalEvery', type: integer(1), help: 'evaluate every N epochs (and after the last)' },
  // Distillation
  { group: 'Distillation', flag: '--temperature', aliases: ['-T'], key: 'kd.temperature', type: numeric('a number > 0', (x) => x > 0), help: 'softmax temperature T (KD, DKD, DIST)' },
  { group: 'Distillation', flag: '--lambda', key: 'kd.lambda', type: numeric('a number in [0, 1]', (x) => x >= 0 && x <= 1), help: 'weight λ of the distillation terms' },
  { group: 'Distillation', flag: '--kl-reduction', key: 'kd.klReduction', type: choice(KL_REDUCTIONS), help: 'batchmean (the papers) or KLDivLoss’s element-wise mean (their code)' },
  { group: 'Distillation', flag: '--ce-weight', key: 'kd.ceWeight', type: ceWeight, help: 'weight of the CE term: paper (1 − λ), official (the code’s) or a number' },
  { group: 'Distillation', flag: '--normalise-loss', negation: '--no-normalise-loss', key: 'kd.normalise', sets: true,
    help: 'divide the DGKD loss by its number of teachers (--compare then reports both)' },
  { group: 'Distillation', flag: '--drop', key: 'stochastic.drop', type: choice(DROP_MODES), help: 'stochastic teaching: drop teachers per mini-batch' },
  { group: 'Distillation', flag: '--keep-prob', key: 'stochastic.keepProb', type: numeric('a probability in (0, 1]', (x) => x > 0 && x <= 1, 'P'),
    help: 'bernoulli: probability that a teacher teaches a batch' },
  { group: 'Distillation', flag: '--k', key: 'stochastic.k', type: integer(1), help: 'exact-k: teachers dropped per batch' },
  { group: 'Distillation', flag: '--teacher-loss', key: 'teacherLoss', type: choice(TEACHER_LOSSES),
    help: 'the per-teacher term in TAKD’s chain and DGKD’s guidance: Hinton KD, DKD or DIST' },
  { group: 'Distillation', flag: '--dkd-alpha', key: 'dkd.alpha', type: WEIGHT, help: 'DKD (Zhao et al., CVPR 2022): weight α of target-class KD (TCKD)' },
  { group: 'Distillation', flag: '--dkd-beta', key: 'dkd.beta', type: WEIGHT, help: 'DKD: weight β of non-target-class KD (NCKD; mdistiller: 8, 2 or 6 by pair)' },
  { group: 'Distillation', flag: '--dkd-warmup', key: 'dkd.warmup', type: warmup,
    help: 'DKD: epochs over which its term ramps up, per step (auto: epochs/12, as 20 of 240)' },
  { group: 'Distillation', flag: '--dist-beta', key: 'dist.beta', type: WEIGHT, help: 'DIST (Huang et al., NeurIPS 2022): weight β of the inter-class relation (×T²)' },
  { group: 'Distillation', flag: '--dist-gamma', key: 'dist.gamma', type: WEIGHT, help: 'DIST: weight γ of the intra-class relation (×T²)' },
  { group: 'Distillation', flag: '--at-beta', key: 'at.beta', type: WEIGHT, help: 'AT (Zagoruyko & Komodakis, ICLR 2017): weight β of the attention maps' },
  { group: 'Distillation', flag: '--fitnets-weight', key: 'fitnets.weight', type: WEIGHT,
    help: 'FitNets (Romero et al., ICLR 2015): weight of the hint through a trained regressor' },
  { group: 'Distillation', flag: '--rkd-distance', key: 'rkd.distance', type: WEIGHT, help: 'RKD (Park et al., CVPR 2019): weight of the distance term' },
  { group: 'Distillation', flag: '--rkd-angle', key: 'rkd.angle', type: WEIGHT, help: 'RKD: weight of the angle term' },
  { group: 'Distillation', flag: '--ctkd-gamma', key: 'ctkd.gamma', type: numeric('a number ≥ 0', (x) => x >= 0), help: 'CTKD: weight of following the scratch teacher’s logits' },
  { group: 'Distillation', flag: '--ctkd-beta', key: 'ctkd.beta', type: numeric('a number ≥ 0', (x) => x >= 0), help: 'CTKD: weight of the attention maps' },
  { group: 'Distillation', flag: '--attention-target', key: 'ctkd.target', type: choice(ATTENTION_TARGETS), help: 'CTKD: the model that follows the expert’s attention' },
  { group: 'Distillation', flag: '--scratch', key: 'ctkd.scratch', type: architecture, help: 'CTKD: the scratch teacher (default: the teacher’s architecture)' },
  // The run
  { group: 'The run', flag: '--preset', type: choice(Object.keys(PRESETS)), help: 'start from these settings (default: quick); the other options change them' },
  { group: 'The run', flag: '--config', type: text('FILE.json', 'a file name', /\S/), help: 'a JSON file of settings, keyed like the config in a run’s summary.json' },
  { group: 'The run', flag: '--name', key: 'name', type: text('NAME', "a folder name of letters, digits, '.', '_' or '-' (not '.' or '..')", RUN_NAME),
    help: 'the run’s folder inside --out (default: from method, dataset and student)' },
  { group: 'The run', flag: '--out', key: 'out', type: text('DIR', 'a folder name', /\S/), help: 'where runs are written' },
  { group: 'The run', flag: '--store', key: 'store', type: text('DIR', 'a folder name', /\S/), help: 'stages’ checkpoints (default: --out); with --queue, storage every worker shares' },
  { group: 'The run', flag: '--queue', type: text('URL', 'a redis:// URL', /^rediss?:\/\/\S+$/),
    help: 'run the stages as jobs on this Redis (BullMQ) for `tsx dgkd/worker.ts` processes (README, "Many machines")' },
  { group: 'The run', flag: '--queue-timeout', type: numeric('a number of seconds > 0', (x) => x > 0, 'S'),
    help: 'with --queue: how long Redis may stay unreachable before the run stops (exit 2; --resume continues it; default 300)' },
  { group: 'The run', flag: '--resume', key: 'resume', sets: true, help: 'continue an interrupted run with the same settings' },
  { group: 'The run', flag: '--quiet', key: 'quiet', sets: true, help: 'no progress lines' },
];

export function optionByFlag(options: OptionSpec[], flag: string): OptionSpec | undefined {
  return options.find((o) => o.flag === flag || o.negation === flag || o.aliases?.includes(flag));
}

export function optionByKey(key: string): OptionSpec | undefined {
  return EXPERIMENT_OPTIONS.find((o) => o.key === key);
}

/** The type of a config key: its option's value type, or a boolean for a switch. */
export function typeOfKey(key: string): ValueType | undefined {
  const o = optionByKey(key);
  return o ? (o.type ?? BOOLEAN) : undefined;
}

/** Checks a value against its option's type; returns the canonical value or throws `where: reason`. */
export function checkValue(type: ValueType, v: unknown, where: string, shown: string): unknown {
  const p = type.problem(v, shown);
  if (p) throw new UsageError(`${where}: ${p}`);
  return type.canonical ? type.canonical(v) : v;
}

export const getPath = (obj: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);

export function setPath(obj: Record<string, unknown>, key: string, v: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]] = v;
}

/**
 * Values set by one source (the flags, or one config file) → applied to `cfg`, with each option's implied
 * settings (`--lr` alone also sets the plain CNNs' rate; `--method` alone trains just that method).
 */
export function applySettings(cfg: Record<string, unknown>, given: Map<string, unknown>): void {
  for (const [key, v] of given) setPath(cfg, key, v);
  for (const key of given.keys()) {
    const implied = optionByKey(key)?.implies;
    if (implied && !given.has(implied.key)) setPath(cfg, implied.key, implied.value);
  }
}

/** One help line per option: flag, placeholder, help text and the presets' defaults. */
export function helpLines(options: OptionSpec[], defaultsOf: Record<string, Record<string, unknown>> = {}): string[] {
  const lines: string[] = [];
  let group = '';
  const show = (o: OptionSpec, v: unknown): string => {
    if (o.sets !== undefined && typeof v === 'boolean') return v === o.sets ? 'on' : 'off';
    if (v === undefined) return '–';
    if (v === '') return 'auto';
    if (v === null) return o.key === 'recipe.plainLr' ? 'as --lr' : 'none';
    if (Array.isArray(v)) return v.length ? v.join(',') : "''";
    return String(v);
  };
  for (const o of options) {
    if (o.group !== group) {
      lines.push('', `${o.group}:`);
      group = o.group;
    }
    const meta = o.type?.meta ?? '';
    // Short aliases (-T) are shown; long ones are old spellings, still accepted but not advertised.
    const spelled = [...(o.aliases ?? []).filter((a) => !a.startsWith('--')), o.flag].join(', ') + (meta ? ` ${meta}` : '') + (o.negation ? ` | ${o.negation}` : '');
    let defaults = '';
    if (o.key) {
      const values = Object.entries(defaultsOf).map(([preset, cfg]) => [preset, show(o, getPath(cfg, o.key!))] as const);
      const first = values[0]?.[1];
      const others = new Map<string, string[]>(); // value → the presets that differ from the first with it
      for (const [preset, v] of values.slice(1)) if (v !== first) others.set(v, [...(others.get(v) ?? []), preset]);
      const rest = [...others].map(([v, presets]) => `${presets.join(', ')}: ${v}`);
      if (values.length) defaults = `[${[first, ...rest].join('; ')}]`;
    }
    const head = `  ${spelled}`;
    const indent = ' '.repeat(34);
    const body = head.length < 34 ? `${head.padEnd(34)}${o.help}` : `${head}\n${indent}${o.help}`;
    const lastLine = body.slice(body.lastIndexOf('\n') + 1);
    lines.push(!defaults ? body : lastLine.length + defaults.length < 118 ? `${body} ${defaults}` : `${body}\n${indent}${defaults}`);
  }
  return lines;
}

/**
 * Reads `args` against `options`: every flag known, every value checked, none given twice. Returns the config
 * keys set, and the command options (no key) with their texts.
 */
export function readFlags(
  options: OptionSpec[],
  args: string[],
  command: string,
): { given: Map<string, unknown>; commandOptions: Map<string, string | true> } {
  const given = new Map<string, unknown>();
  const commandOptions = new Map<string, string | true>();
  const seen = new Map<OptionSpec, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const o = optionByFlag(options, a);
    if (!o) throw new UsageError(`${command ? `${command}: ` : ''}unknown option '${a}' (see ${command ? `${command} ` : ''}--help)`);
    if (seen.has(o)) {
      const first = seen.get(o)!;
      throw new UsageError(`${a}: given twice${first !== a ? ` (also as ${first})` : ''}; which one did you mean?`);
    }
    seen.set(o, a);
    if (o.sets !== undefined) {
      const next = args[i + 1];
      if (o.optionalValue && o.type && a !== o.negation && next !== undefined && !next.startsWith('-')) {
        given.set(o.key!, checkValue(o.type, o.type.parse(args[++i]), a, `'${next}'`));
        continue;
      }
      given.set(o.key!, a === o.negation ? !o.sets : o.sets);
      continue;
    }
    if (!o.type) {
      commandOptions.set(o.flag, true);
      continue;
    }
    const raw = args[++i];
    if (raw === undefined || (raw.startsWith('--') && raw.length > 2)) {
      throw new UsageError(`${a}: missing value (expected ${o.type.expected})`);
    }
    const value = checkValue(o.type, o.type.parse(raw), a, `'${raw}'`);
    if (o.key) given.set(o.key, value);
    else commandOptions.set(o.flag, value as string);
  }
  return { given, commandOptions };
}
