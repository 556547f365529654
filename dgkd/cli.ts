// Command-line parsing: flags → an ExperimentConfig (or a subcommand). Every bad value is a UsageError that
// names the flag and what was expected.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { METHODS, PRESETS, paperConfig, quickConfig, type ExperimentConfig } from './config.ts';
import { DATASET_NAMES } from './data/index.ts';
import { checkArchitecture, UnknownArchitectureError } from './models/index.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Sizes past which a request is a typo, not an experiment: rejected before anything is allocated. */
const MAX_CLASSES = 100_000;
const MAX_SYNTHETIC = 1_000_000; // 3 GiB of images
const SYNTHETIC_SIZES = `an integer in 1..${MAX_SYNTHETIC.toLocaleString('en-US')}`;
const syntheticSize = (x: number) => Number.isInteger(x) && x >= 1 && x <= MAX_SYNTHETIC;

/** The choices of the enumerated options, shared by flag parsing and validate(). */
const SCHEDULES = ['step', 'cosine', 'constant'] as const;
const KL_REDUCTIONS = ['batchmean', 'elementwise-mean'] as const;
const DROP_MODES = ['none', 'bernoulli', 'exact-k'] as const;
const ATTENTION_TARGETS = ['student', 'scratch'] as const;

/** A run's folder name: one path component inside --out, never '.', '..' or anything with a separator. */
const RUN_NAME = /^(?!\.\.?$)[\w.-]+$/;

export const USAGE = `Usage:
  tsx dgkd/train.ts                         run the built-in quick pipeline (synthetic data, all methods compared)
  tsx dgkd/train.ts [options]               run an experiment
  tsx dgkd/train.ts sweep --method kd|dgkd --temperature T1,T2,… --lambda L1,L2,… [options]
                                            students over a T × λ grid (teacher and assistants trained once)
  tsx dgkd/train.ts models [--classes N] [--json]
  tsx dgkd/train.ts eval --checkpoint FILE [--dataset NAME --data-dir DIR] [--val-split F] [--batch-size N]

Experiment options:
  --method ce|kd|takd|dgkd|ctkd   (default dgkd)      --compare          also train NOKD, KD, TAKD, DGKD baselines
  --teacher ARCH --assistants A1,A2,… --student ARCH   (default resnet26 → resnet20,resnet14 → resnet8)
  --dataset synthetic|cifar10|cifar100|svhn|tiny-imagenet   --data-dir DIR
  --val-split F|N         held out of training to choose the best epoch (0: chosen on the test split)
  --train-subset N        train on a class-stratified subset of N images   --eval-every K   evaluate every K epochs
  --epochs N --batch-size N --lr X --plain-lr X --schedule step|cosine|constant
  --momentum X --weight-decay X --nesterov --no-augment --seed N --seeds N
  --trainers-per-seed     retrain teacher and assistants for each seed (default: once, shared by the students)
  -T, --temperature X --lambda X --kl-reduction batchmean|elementwise-mean --ce-weight paper|official|X
  --normalise-loss        divide the DGKD loss by its number of trainers (--compare reports both)
  --drop none|bernoulli|exact-k --keep-prob P --k K        (stochastic teaching of the DGKD student)
  --ctkd-gamma X --ctkd-beta X --attention-target student|scratch --scratch ARCH
  --preset paper|official-code|quick|cifar10-cpu   --config FILE.json   --name NAME --out DIR   --resume   --quiet
  --synthetic-train N --synthetic-test N`;

export type Command =
  | { kind: 'run'; config: ExperimentConfig }
  | { kind: 'sweep'; config: ExperimentConfig; temperatures: number[]; lambdas: number[] }
  | { kind: 'models'; classes: number; json: boolean }
  | { kind: 'eval'; checkpoint: string; dataset?: string; dataDir?: string; valSplit?: number; batchSize: number; syntheticTrain?: number; syntheticTest?: number; seed?: number }
  | { kind: 'help'; text?: string };

const MODELS_USAGE = `Usage: tsx dgkd/train.ts models [--classes N] [--json]
  Lists every architecture with its parameter count for N classes (default 10); --json prints one JSON object a line.`;
const EVAL_USAGE = `Usage: tsx dgkd/train.ts eval --checkpoint FILE [--dataset NAME --data-dir DIR] [--val-split F|N] [--batch-size N]
                    [--synthetic-train N --synthetic-test N --seed N]
  Top-1 (and top-5 with ≥ 100 classes) accuracy of a checkpoint on its dataset's test split. The dataset and its
  settings (folder, built-in sizes and seed, validation split, training subset) come from the checkpoint's
  metadata unless given; with --val-split the validation part held out of the training data is scored instead.`;

function num(flag: string, v: string | undefined, check: (x: number) => boolean, expected: string): number {
  if (v === undefined) throw new UsageError(`${flag}: missing value (expected ${expected})`);
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new UsageError(`${flag}: expected ${expected}, got '${v}'`);
  return x;
}
const posInt = (f: string, v?: string) => num(f, v, (x) => Number.isInteger(x) && x > 0, 'a positive integer');
const nonNeg = (f: string, v?: string) => num(f, v, (x) => x >= 0, 'a number ≥ 0');
const positive = (f: string, v?: string) => num(f, v, (x) => x > 0, 'a number > 0');

function oneOf<T extends string>(flag: string, v: string | undefined, options: readonly T[]): T {
  if (v === undefined || !options.includes(v as T)) {
    throw new UsageError(`${flag}: expected one of ${options.join(', ')}, got '${v ?? ''}'`);
  }
  return v as T;
}

/** Deep-merges a JSON config file over `base`, rejecting unknown keys (naming the file and the key). */
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
/** Keys that the defaults leave out, and their types. */
const OPTIONAL_KEYS: Record<string, string> = { dataDir: 'string', 'ctkd.scratch': 'string' };
/** Keys whose type is not the default value's. */
const LEAF_TYPES: Record<string, string> = { 'recipe.plainLr': 'number|null', 'kd.ceWeight': 'string|number' };

export function mergeConfigFile(base: ExperimentConfig, path: string): ExperimentConfig {
  if (!existsSync(path)) throw new UsageError(`--config: file ${path} does not exist`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`--config: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--config: ${path} must hold a JSON object`);
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  const merge = (target: Record<string, unknown>, src: Record<string, unknown>, at: string) => {
    for (const [k, v] of Object.entries(src)) {
      if (k === 'preset') continue;
      const key = `${at}${k}`;
      if (!(k in target) && !(key in OPTIONAL_KEYS)) throw new UsageError(`--config: ${path}: unknown key '${key}'`);
      const t = target[k];
      const isObject = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
      if (isObject(t)) {
        if (!isObject(v)) throw new UsageError(`--config: ${path}: key '${key}' expected an object of settings, got ${JSON.stringify(v)}`);
        merge(t as Record<string, unknown>, v as Record<string, unknown>, `${key}.`);
        continue;
      }
      // A value from a file must have the type the same flag would produce; ranges and choices are checked by
      // validate(), as for flags.
      const expected = OPTIONAL_KEYS[key] ?? LEAF_TYPES[key] ?? jsonType(t);
      if (!expected.split('|').includes(jsonType(v))) {
        throw new UsageError(`--config: ${path}: key '${key}' expected ${expected.replace('|', ' or ')}, got ${JSON.stringify(v)}`);
      }
      if (jsonType(v) === 'array' && !(v as unknown[]).every((x) => typeof x === 'string')) {
        throw new UsageError(`--config: ${path}: key '${key}' expected an array of strings, got ${JSON.stringify(v)}`);
      }
      target[k] = v;
    }
  };
  merge(out, parsed as Record<string, unknown>, '');
  return out as unknown as ExperimentConfig;
}

/** `sweep`: the experiment options, with --temperature and --lambda taking comma-separated lists. */
function parseSweep(args: string[]): Command {
  const lists: Record<string, number[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-T' || a === '--temperature' || a === '--lambda') {
      const key = a === '--lambda' ? '--lambda' : '--temperature';
      if (lists[key]) throw new UsageError(`sweep: ${key} given twice`);
      const raw = args[++i];
      if (raw === undefined) throw new UsageError(`sweep: ${key}: missing value (expected a comma-separated list of numbers)`);
      lists[key] = raw.split(',').map((x) =>
        key === '--lambda' ? num(key, x, (v) => v >= 0 && v <= 1, 'numbers in [0, 1]') : num(key, x, (v) => v > 0, 'numbers > 0'),
      );
      if (new Set(lists[key]).size !== lists[key].length) throw new UsageError(`sweep: ${key}: a value appears twice in '${raw}'`);
    } else rest.push(a);
  }
  const parsed = parseArgs(rest.length ? rest : ['--preset', 'quick']);
  if (parsed.kind !== 'run') throw new UsageError('sweep: expected experiment options');
  const cfg = parsed.config;
  if (!rest.includes('--method') && cfg.method !== 'kd') cfg.method = cfg.assistants.length ? 'dgkd' : 'kd';
  if (cfg.method !== 'kd' && cfg.method !== 'dgkd') throw new UsageError(`sweep: --method must be kd or dgkd, got '${cfg.method}'`);
  cfg.compare = false;
  if (!rest.includes('--name')) cfg.name = `sweep-${cfg.method}-${cfg.dataset}-${cfg.student}`;
  return {
    kind: 'sweep',
    config: cfg,
    temperatures: lists['--temperature'] ?? [cfg.kd.temperature],
    lambdas: lists['--lambda'] ?? [cfg.kd.lambda],
  };
}

export function parseArgs(argv: string[]): Command {
  if (argv.length === 0) return { kind: 'run', config: quickConfig() };
  const args = [...argv];
  const wantsHelp = args.includes('--help') || args.includes('-h');
  if (args[0] === 'models' && wantsHelp) return { kind: 'help', text: MODELS_USAGE };
  if (args[0] === 'eval' && wantsHelp) return { kind: 'help', text: EVAL_USAGE };
  if (args[0] === 'models') {
    let classes = 10;
    let json = false;
    for (let i = 1; i < args.length; i++) {
      if (args[i] === '--classes') classes = num('--classes', args[++i], (x) => Number.isInteger(x) && x >= 2 && x <= MAX_CLASSES, `an integer in 2..${MAX_CLASSES}`);
      else if (args[i] === '--json') json = true;
      else throw new UsageError(`models: unknown option '${args[i]}'`);
    }
    return { kind: 'models', classes, json };
  }
  if (args[0] === 'eval') {
    const e: Extract<Command, { kind: 'eval' }> = { kind: 'eval', checkpoint: '', batchSize: 256 };
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      if (a === '--checkpoint') e.checkpoint = args[++i] ?? '';
      else if (a === '--dataset') e.dataset = oneOf('--dataset', args[++i], DATASET_NAMES);
      else if (a === '--data-dir') e.dataDir = args[++i];
      else if (a === '--val-split') e.valSplit = nonNeg('--val-split', args[++i]);
      else if (a === '--batch-size') e.batchSize = posInt('--batch-size', args[++i]);
      else if (a === '--synthetic-train') e.syntheticTrain = num(a, args[++i], syntheticSize, SYNTHETIC_SIZES);
      else if (a === '--synthetic-test') e.syntheticTest = num(a, args[++i], syntheticSize, SYNTHETIC_SIZES);
      else if (a === '--seed') e.seed = num(a, args[++i], (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0');
      else throw new UsageError(`eval: unknown option '${a}'`);
    }
    if (!e.checkpoint) throw new UsageError('eval: --checkpoint FILE is required');
    return e;
  }
  if (args.includes('--help') || args.includes('-h')) return { kind: 'help' };
  if (args[0] === 'sweep') return parseSweep(args.slice(1));

  // An option given twice is a mistake (which one did the user mean?), not a silent override.
  const seen = new Set<string>();
  const SAME: Record<string, string> = { '-T': '--temperature', '--augment': '--no-augment' };
  for (const a of args.filter((x) => x.startsWith('-') && Number.isNaN(Number(x)))) {
    const name = SAME[a] ?? a;
    if (seen.has(name)) throw new UsageError(`${a}: given twice`);
    seen.add(name);
  }
  // Presets and config files first, so that flags override them wherever they appear.
  let cfg = paperConfig();
  const pi = args.indexOf('--preset');
  if (pi >= 0) {
    const name = args[pi + 1];
    if (!name || !PRESETS[name]) throw new UsageError(`--preset: expected one of ${Object.keys(PRESETS).join(', ')}, got '${name ?? ''}'`);
    cfg = PRESETS[name]();
    args.splice(pi, 2);
  }
  const ci = args.indexOf('--config');
  if (ci >= 0) {
    const path = args[ci + 1];
    if (!path) throw new UsageError('--config: missing file name');
    let raw: { preset?: string } = {};
    try {
      raw = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
    } catch {
      /* mergeConfigFile reports it */
    }
    if (raw && typeof raw === 'object' && raw.preset) {
      if (!PRESETS[raw.preset]) throw new UsageError(`--config: ${path}: unknown preset '${raw.preset}'`);
      cfg = PRESETS[raw.preset]();
    }
    cfg = mergeConfigFile(cfg, path);
    args.splice(ci, 2);
  }
  const r = cfg.recipe;
  let lrGiven = false;
  let plainLrGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = () => args[++i];
    switch (a) {
      case '--method': cfg.method = oneOf(a, v(), METHODS); break;
      case '--teacher': cfg.teacher = arch(a, v()); break;
      case '--student': cfg.student = arch(a, v()); break;
      case '--assistants': {
        const s = v();
        if (s === undefined) throw new UsageError(`${a}: missing value (expected a comma-separated list of architectures, or '')`);
        cfg.assistants = s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => arch(a, x));
        break;
      }
      case '--dataset': cfg.dataset = oneOf(a, v(), DATASET_NAMES); break;
      case '--data-dir': cfg.dataDir = v(); if (!cfg.dataDir) throw new UsageError(`${a}: missing folder name`); break;
      case '--val-split': cfg.valSplit = nonNeg(a, v()); break;
      case '--train-subset': cfg.trainSubset = posInt(a, v()); break;
      case '--eval-every': cfg.evalEvery = posInt(a, v()); break;
      case '--trainers-per-seed': cfg.shareTrainers = false; break;
      case '--normalise-loss': cfg.kd.normalise = true; break;
      case '--epochs': r.epochs = posInt(a, v()); break;
      case '--batch-size': r.batchSize = posInt(a, v()); break;
      case '--lr': r.lr = positive(a, v()); lrGiven = true; break;
      case '--plain-lr': r.plainLr = positive(a, v()); plainLrGiven = true; break;
      case '--schedule': r.schedule = oneOf(a, v(), SCHEDULES); break;
      case '--momentum': r.momentum = num(a, v(), (x) => x >= 0 && x < 1, 'a number in [0, 1)'); break;
      case '--weight-decay': r.weightDecay = nonNeg(a, v()); break;
      case '--nesterov': r.nesterov = true; break;
      case '--no-augment': r.augment = false; break;
      case '--augment': r.augment = true; break;
      case '--seed': cfg.seed = num(a, v(), (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0'); break;
      case '--seeds': cfg.seeds = posInt(a, v()); break;
      case '--compare': cfg.compare = true; break;
      case '--name': cfg.name = v() ?? ''; break;
      case '--out': cfg.out = v() ?? ''; if (!cfg.out) throw new UsageError(`${a}: missing folder name`); break;
      case '-T': case '--temperature': cfg.kd.temperature = positive(a, v()); break;
      case '--lambda': cfg.kd.lambda = num(a, v(), (x) => x >= 0 && x <= 1, 'a number in [0, 1]'); break;
      case '--kl-reduction': cfg.kd.klReduction = oneOf(a, v(), KL_REDUCTIONS); break;
      case '--ce-weight': {
        const s = v();
        cfg.kd.ceWeight = s === 'paper' || s === 'official' ? s : nonNeg(a, s);
        break;
      }
      case '--drop': cfg.stochastic.drop = oneOf(a, v(), DROP_MODES); break;
      case '--keep-prob': cfg.stochastic.keepProb = num(a, v(), (x) => x > 0 && x <= 1, 'a probability in (0, 1]'); break;
      case '--k': cfg.stochastic.k = posInt(a, v()); break;
      case '--ctkd-gamma': cfg.ctkd.gamma = nonNeg(a, v()); break;
      case '--ctkd-beta': cfg.ctkd.beta = nonNeg(a, v()); break;
      case '--attention-target': cfg.ctkd.target = oneOf(a, v(), ATTENTION_TARGETS); break;
      case '--scratch': cfg.ctkd.scratch = arch(a, v()); break;
      case '--resume': cfg.resume = true; break;
      case '--quiet': cfg.quiet = true; break;
      case '--synthetic-train': cfg.syntheticTrain = num(a, v(), syntheticSize, SYNTHETIC_SIZES); break;
      case '--synthetic-test': cfg.syntheticTest = num(a, v(), syntheticSize, SYNTHETIC_SIZES); break;
      default:
        throw new UsageError(`unknown option '${a}' (see --help)`);
    }
  }
  // An explicit --lr applies to every model unless --plain-lr says otherwise.
  if (lrGiven && !plainLrGiven) r.plainLr = null;
  validate(cfg);
  if (!cfg.name) cfg.name = `${cfg.compare ? 'compare' : cfg.method}-${cfg.dataset}-${cfg.student}`;
  return { kind: 'run', config: cfg };
}

function arch(flag: string, v: string | undefined): string {
  if (!v) throw new UsageError(`${flag}: missing architecture name`);
  try {
    return checkArchitecture(v);
  } catch (e) {
    if (e instanceof UnknownArchitectureError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

/** Checks that hold however the config was assembled (flags, file or preset). */
export function validate(c: ExperimentConfig): void {
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new UsageError(msg);
  };
  const r = c.recipe;
  const oneOfThese = (what: string, v: unknown, options: readonly unknown[]) =>
    need(options.includes(v), `${what}: expected one of ${options.join(', ')}, got '${String(v)}'`);
  oneOfThese('schedule', r.schedule, SCHEDULES);
  oneOfThese('kl-reduction', c.kd.klReduction, KL_REDUCTIONS);
  oneOfThese('drop', c.stochastic.drop, DROP_MODES);
  oneOfThese('attention-target', c.ctkd.target, ATTENTION_TARGETS);
  need(
    c.kd.ceWeight === 'paper' || c.kd.ceWeight === 'official' || (typeof c.kd.ceWeight === 'number' && c.kd.ceWeight >= 0),
    `ce-weight: expected paper, official or a number ≥ 0, got '${String(c.kd.ceWeight)}'`,
  );
  need(r.momentum >= 0 && r.momentum < 1, `momentum: expected a number in [0, 1), got ${r.momentum}`);
  need(r.weightDecay >= 0, `weight-decay: expected a number ≥ 0, got ${r.weightDecay}`);
  need(r.plainLr === null || r.plainLr > 0, `plain-lr: expected a number > 0, got ${r.plainLr}`);
  need(Number.isInteger(c.seeds) && c.seeds > 0, `seeds: expected a positive integer, got ${c.seeds}`);
  need(Number.isInteger(c.seed) && c.seed >= 0, `seed: expected an integer ≥ 0, got ${c.seed}`);
  need(Number.isInteger(c.stochastic.k) && c.stochastic.k > 0, `k: expected a positive integer, got ${c.stochastic.k}`);
  need(c.valSplit >= 0, `val-split: expected a number ≥ 0, got ${c.valSplit}`);
  need(c.ctkd.gamma >= 0 && c.ctkd.beta >= 0, `ctkd-gamma, ctkd-beta: expected numbers ≥ 0, got ${c.ctkd.gamma} and ${c.ctkd.beta}`);
  need(Number.isInteger(r.epochs) && r.epochs > 0, `epochs: expected a positive integer, got ${r.epochs}`);
  need(Number.isInteger(r.batchSize) && r.batchSize > 0, `batch size: expected a positive integer, got ${r.batchSize}`);
  need(r.lr > 0, `learning rate: expected > 0, got ${r.lr}`);
  need(c.kd.temperature > 0, `temperature: expected > 0, got ${c.kd.temperature}`);
  need(c.kd.lambda >= 0 && c.kd.lambda <= 1, `lambda: expected a number in [0, 1], got ${c.kd.lambda}`);
  need(c.stochastic.keepProb > 0 && c.stochastic.keepProb <= 1, `keep-prob: expected a probability in (0, 1], got ${c.stochastic.keepProb}`);
  need((METHODS as readonly string[]).includes(c.method), `method: expected one of ${METHODS.join(', ')}, got '${c.method}'`);
  need((DATASET_NAMES as readonly string[]).includes(c.dataset), `dataset: expected one of ${DATASET_NAMES.join(', ')}, got '${c.dataset}'`);
  need(c.dataset === 'synthetic' || !!c.dataDir, `--data-dir: dataset '${c.dataset}' needs the folder holding its files`);
  need(
    typeof c.name === 'string' && (c.name === '' || RUN_NAME.test(c.name)),
    `--name: expected a folder name of letters, digits, '.', '_' or '-' (not '.' or '..'), got '${String(c.name)}'`,
  );
  need(syntheticSize(c.syntheticTrain) && syntheticSize(c.syntheticTest), `synthetic sizes: expected ${SYNTHETIC_SIZES}, got ${c.syntheticTrain} and ${c.syntheticTest}`);
  need(c.method !== 'takd' || c.compare || c.assistants.length > 0, `--method takd needs at least one assistant (--assistants A1,…): without one, TAKD is KD (--method kd)`);
  need(Number.isInteger(c.evalEvery) && c.evalEvery > 0, `eval-every: expected a positive integer, got ${c.evalEvery}`);
  need(Number.isInteger(c.trainSubset) && c.trainSubset >= 0, `train-subset: expected an integer ≥ 0, got ${c.trainSubset}`);
  if (existsSync(c.out)) need(statSync(c.out).isDirectory(), `--out: ${c.out} exists and is not a folder`);
  for (const [what, a] of [['teacher', c.teacher], ['student', c.student], ...c.assistants.map((a) => ['assistants', a])]) {
    try {
      checkArchitecture(a);
    } catch (e) {
      throw new UsageError(`${what}: ${(e as Error).message}`);
    }
  }
  if (c.dataDir && existsSync(c.dataDir)) need(statSync(c.dataDir).isDirectory(), `--data-dir: ${c.dataDir} is not a folder`);
}
