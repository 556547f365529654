// Command-line parsing: flags → an ExperimentConfig (or a subcommand). The options themselves — flags, config
// keys, accepted values, help — are one table in options.ts; this file assembles a command from them. Every bad
// value is a UsageError that names the flag (or the file and key) and what was expected.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { CHAIN_ROWS, PRESETS, TEACHER_LOSSES, quickConfig, type ExperimentConfig } from './config.ts';
import { SWEEP_FLAGS, SWEEP_METHODS, axisPairs, type SweepAxis, type SweepGrid } from './sweep_axes.ts';
import {
  DEFAULT_QUEUE_TIMEOUT_S, type QueueSettings, EXPERIMENT_OPTIONS, MAX_CLASSES, UsageError, applySettings, checkValue, getPath, helpLines, numeric, optionByFlag,
  readFlags, text, typeOfKey, type OptionSpec,
} from './options.ts';

export { UsageError } from './options.ts';

/** Each preset's settings, the default (quick) first: --help shows every option's value in each. */
const presetDefaults = () =>
  Object.fromEntries([['quick', quickConfig()], ...Object.entries(PRESETS).filter(([name]) => name !== 'quick').map(([name, make]) => [name, make()])]) as Record<
    string,
    Record<string, unknown>
  >;

export function usage(): string {
  return [
    'Usage:',
    '  tsx dgkd/train.ts                         the quick preset: built-in data, every method compared (about 8 min)',
    '  tsx dgkd/train.ts [options]               an experiment: the quick preset changed by the options below',
    '  tsx dgkd/train.ts sweep --method kd|takd|dgkd --temperature T1,T2,… --lambda L1,L2,… [options]',
    '                                            students over a T × λ grid (teacher and assistants trained once)',
    '  tsx dgkd/train.ts sweep --method dkd --dkd-alpha A1,… --dkd-beta B1,… [options]',
    '                                            DKD over α × β (dist: --dist-beta × --dist-gamma; takd and dgkd',
    '                                            with --teacher-loss dkd|dist: T × λ or that loss’s pair)',
    '  tsx dgkd/train.ts eval --checkpoint FILE [options]     a checkpoint’s accuracy (eval --help)',
    '  tsx dgkd/train.ts export --checkpoint FILE --out FILE  the model alone, for PyTorch (export --help)',
    '  tsx dgkd/train.ts models [--classes N] [--json]        the architectures (models --help)',
    '',
    'Presets (--preset NAME):',
    '  quick          built-in data, plain6 → plain4 → plain2, 3 epochs, all methods over 3 student seeds',
    '  cifar10-cpu    CIFAR-10 at CPU scale: plain8 → plain4 → plain2, 4 epochs, 3 seeds (1–2 hours)',
    '  cifar10-gap    the papers’ gap on CIFAR-10: a kept plain8 teacher → plain6 → plain4 → plain2, 20 epochs with',
    '                 augmentation and a view bank, all methods over 5 seeds (README, "Results at the papers’ gap")',
    '  paper          the papers’ recipe: CIFAR-10, resnet26 → resnet20,resnet14 → resnet8, 160 epochs, lr 0.1 step',
    '  official-code  what the official TAKD/DGKD code does (lr 0.01, no augmentation, element-wise KL, exact-k drop)',
    '',
    'Methods (--method NAME, or rows of --compare LIST):',
    '  ce (nokd)  cross-entropy alone',
    '  kd         Hinton, Vinyals & Dean 2015: (1 − λ)·CE + λ·T²·KL(teacher ‖ student) at temperature T',
    '  takd       Mirzadeh et al., AAAI 2020: KD along the chain teacher → assistants → student',
    '  dgkd       Son et al., ICCV 2021: each model learns from every larger one, KD terms summed (stochastic',
    '             teaching with --drop); --teacher-loss dkd|dist makes every per-teacher term DKD or DIST',
    '  ctkd       Zhao et al. 2019, "Highlight Every Step": a scratch teacher trained alongside, expert attention',
    '             (not the 2023 Curriculum Temperature KD)',
    '  dkd        Zhao et al., CVPR 2022: CE + warm-up·(α·target-class KD + β·non-target-class KD)',
    '  dist       Huang et al., NeurIPS 2022: CE + β·T²·(1 − inter-class ρ) + γ·T²·(1 − intra-class ρ), ρ Pearson',
    '  at         Zagoruyko & Komodakis, ICLR 2017: CE + β·Σ attention-map distances over the stage outputs',
    '  fitnets    Romero et al., ICLR 2015: CE + w·MSE(regressor(student middle stage), teacher’s), regressor trained',
    '  rkd        Park et al., CVPR 2019: CE + distance and angle relations of the pooled last features',
    'The baselines dkd, dist, at, fitnets and rkd use CE weight 1 (their code’s) unless --ce-weight is a number, and',
    'the defaults of mdistiller’s CIFAR-100 configs (DIST: DIST_KD’s). --compare also takes dgkd-stochastic and',
    'dgkd-norm, and takd/dgkd rows with -kd, -dkd or -dist: their per-teacher loss (dgkd-dkd: dense guidance with DKD).',
    '',
    'Experiment options. In brackets: the quick preset’s value, then the other presets’ where they differ.',
    'Options without --preset change the quick preset; --method alone trains just that method.',
    ...helpLines(EXPERIMENT_OPTIONS, presetDefaults()),
  ].join('\n');
}

export type EvalCommand = {
  kind: 'eval';
  checkpoint: string;
  batchSize: number;
  download: boolean;
  dataset?: string;
  dataDir?: string;
  valSplit?: number;
  testSplit?: number;
  syntheticTrain?: number;
  syntheticTest?: number;
  seed?: number;
};

export type Command =
  | { kind: 'run'; config: ExperimentConfig; download: boolean; origin: string; queue?: QueueSettings }
  | { kind: 'sweep'; config: ExperimentConfig; download: boolean; origin: string; queue?: QueueSettings; grid: SweepGrid }
  | { kind: 'models'; classes: number; json: boolean }
  | EvalCommand
  | { kind: 'export'; checkpoint: string; out: string }
  | { kind: 'help'; text?: string };

/** An experiment option reused by a subcommand, under the subcommand's own key and help group. */
const reuse = (flag: string, key?: string, help?: string): OptionSpec => {
  const o = optionByFlag(EXPERIMENT_OPTIONS, flag)!;
  return { ...o, key: key ?? o.key, help: help ?? o.help, group: 'Options', implies: undefined };
};
const FILE = text('FILE', 'a file name', /\S/);
const CHECKPOINT: OptionSpec = { group: 'Options', flag: '--checkpoint', key: 'checkpoint', type: FILE, help: 'a .safetensors checkpoint written by training' };

const EVAL_OPTIONS: OptionSpec[] = [
  CHECKPOINT,
  reuse('--dataset', undefined, 'the dataset to score on (default: the checkpoint’s)'),
  reuse('--data-dir'),
  reuse('--download'),
  reuse('--val-split', undefined, 'score the validation part held out of the training data instead of the test split'),
  reuse('--test-split', undefined, 'without test files: the size of the test part held out of the training data (default: the checkpoint’s)'),
  reuse('--synthetic-train'),
  reuse('--synthetic-test'),
  reuse('--seed', undefined, 'the built-in dataset’s seed (default: the checkpoint’s)'),
  reuse('--batch-size', 'batchSize', 'images per evaluation step (default 256)'),
];

const MODELS_OPTIONS: OptionSpec[] = [
  { group: 'Options', flag: '--classes', key: 'classes', type: numeric(`an integer in 2..${MAX_CLASSES}`, (x) => Number.isInteger(x) && x >= 2 && x <= MAX_CLASSES, 'N'),
    help: 'classes of the output layer (default 10)' },
  { group: 'Options', flag: '--json', key: 'json', sets: true, help: 'one JSON object a line' },
];

const EXPORT_OPTIONS: OptionSpec[] = [
  CHECKPOINT,
  { ...reuse('--out', 'out', 'the model-only .safetensors file to write'), type: FILE },
];

const subUsage = (head: string, about: string, options: OptionSpec[]) => [head, about, ...helpLines(options)].join('\n');
const MODELS_USAGE = subUsage('Usage: tsx dgkd/train.ts models [--classes N] [--json]', '  Every architecture with its parameter count.', MODELS_OPTIONS);
const EVAL_USAGE = subUsage(
  'Usage: tsx dgkd/train.ts eval --checkpoint FILE [options]',
  '  Top-1 (and top-5 with ≥ 100 classes) accuracy of a checkpoint on its dataset’s test split. The dataset and its\n' +
    '  settings (folder, built-in sizes and seed, validation split, training subset) come from the checkpoint’s\n' +
    '  metadata unless given here.',
  EVAL_OPTIONS,
);
const EXPORT_USAGE = subUsage(
  'Usage: tsx dgkd/train.ts export --checkpoint FILE --out FILE',
  '  Writes the model alone (no optimizer state) as a PyTorch state dict in safetensors: it loads with\n' +
    '  load_state_dict(..., strict=True) into the definitions in dgkd/pytorch/models.py (see its docstring).',
  EXPORT_OPTIONS,
);

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);

/** A config file's JSON object, or a UsageError naming the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(`--config: file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new UsageError(`--config: ${path} is a folder, expected a JSON file`);
  let parsed: unknown;
  try {
    // A byte-order mark (editors on Windows write one) is not JSON, but not the user's mistake either.
    parsed = JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`--config: ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(parsed)) throw new UsageError(`--config: ${path} must hold a JSON object, got ${jsonType(parsed)}`);
  return parsed;
}

/**
 * The settings a config file gives, each checked by its option's type exactly as the flag's value would be
 * (the message names the file and the key). Sections (`recipe`, `kd`, …) nest as in ExperimentConfig.
 */
function settingsOfFile(base: ExperimentConfig, raw: Record<string, unknown>, path: string): Map<string, unknown> {
  const given = new Map<string, unknown>();
  const walk = (src: Record<string, unknown>, at: string) => {
    for (const [k, v] of Object.entries(src)) {
      const key = `${at}${k}`;
      if (key === 'preset') continue;
      const type = typeOfKey(key);
      if (type) {
        given.set(key, checkValue(type, v, `${path}: key '${key}'`, JSON.stringify(v)));
      } else if (isObject(getPath(base, key))) {
        if (!isObject(v)) throw new UsageError(`${path}: key '${key}' expected an object of settings, got ${JSON.stringify(v)}`);
        walk(v, `${key}.`);
      } else {
        throw new UsageError(`${path}: unknown key '${key}' (the keys are those of a run's summary.json config)`);
      }
    }
  };
  walk(raw, '');
  return given;
}

/** Deep-merges a JSON config file over `base` (for tests and tools; the command line does this in parseArgs). */
export function mergeConfigFile(base: ExperimentConfig, path: string): ExperimentConfig {
  const out = structuredClone(base);
  applySettings(out as unknown as Record<string, unknown>, settingsOfFile(base, readConfigFile(path), path));
  return out;
}

/**
 * `sweep`: the experiment options, with the flags of the method's two swept settings (sweep_axes.ts) taking
 * comma-separated lists. A list of one value is an ordinary setting.
 */
function parseSweep(args: string[]): Command {
  const lists = new Map<string, number[]>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const flag = a === '-T' ? '--temperature' : a;
    if (SWEEP_FLAGS.includes(flag)) {
      if (lists.has(flag)) throw new UsageError(`sweep: ${flag} given twice`);
      const raw = args[++i];
      if (raw === undefined) throw new UsageError(`sweep: ${flag}: missing value (expected a comma-separated list of numbers)`);
      const type = optionByFlag(EXPERIMENT_OPTIONS, flag)!.type!;
      const values = raw.split(',').map((x) => checkValue(type, type.parse(x), flag, `'${x}'`) as number);
      if (new Set(values).size !== values.length) throw new UsageError(`sweep: ${flag}: a value appears twice in '${raw}'`);
      if (values.length === 1) rest.push(flag, raw.trim());
      else lists.set(flag, values);
    } else rest.push(a);
  }
  const parsed = parseArgs(rest.length ? rest : ['--preset', 'quick']);
  if (parsed.kind !== 'run') throw new UsageError('sweep: expected experiment options');
  const cfg = parsed.config;
  if (!rest.includes('--method') && cfg.method !== 'kd') cfg.method = cfg.assistants.length ? 'dgkd' : 'kd';
  if (!SWEEP_METHODS.includes(cfg.method)) throw new UsageError(`sweep: --method must be ${SWEEP_METHODS.join(', ')}, got '${cfg.method}'`);
  cfg.compare = false;
  const pairs = axisPairs(cfg);
  const swept = [...lists.keys()];
  const pair = swept.length ? pairs.find((p) => swept.every((f) => p.some((a) => a.flag === f))) : pairs[0];
  if (!pair) {
    const possible = pairs.map((p) => `${p[0].flag} × ${p[1].flag}`).join(' or ');
    throw new UsageError(`sweep: --method ${cfg.method}${cfg.teacherLoss !== 'kd' && ['takd', 'dgkd'].includes(cfg.method) ? ` --teacher-loss ${cfg.teacherLoss}` : ''} sweeps ${possible}, not ${swept.join(' and ')}`);
  }
  const axis = (i: 0 | 1): SweepAxis => ({ ...pair[i], values: lists.get(pair[i].flag) ?? [getPath(cfg, pair[i].key) as number] });
  if (!rest.includes('--name')) cfg.name = `sweep-${cfg.method}-${cfg.dataset}-${cfg.student}`;
  return { ...parsed, kind: 'sweep', config: cfg, grid: { rows: axis(0), cols: axis(1) } };
}

/** Options that say where and how a preset runs, not what it trains: a preset with only these keeps its name. */
const RUN_CONTROL = new Set(['out', 'quiet', 'resume', 'dataDir', 'store']);

export function parseArgs(argv: string[]): Command {
  const args = [...argv];
  const wantsHelp = args.includes('--help') || args.includes('-h');
  const sub = args[0];
  if (wantsHelp) {
    const text = { models: MODELS_USAGE, eval: EVAL_USAGE, export: EXPORT_USAGE }[sub];
    return { kind: 'help', text: text ?? usage() };
  }
  if (sub === 'models') {
    const { given } = readFlags(MODELS_OPTIONS, args.slice(1), 'models');
    return { kind: 'models', classes: (given.get('classes') as number) ?? 10, json: given.get('json') === true };
  }
  if (sub === 'eval') {
    const { given, commandOptions } = readFlags(EVAL_OPTIONS, args.slice(1), 'eval');
    if (!given.has('checkpoint')) throw new UsageError('eval: --checkpoint FILE is required');
    return { kind: 'eval', batchSize: 256, ...Object.fromEntries(given), download: commandOptions.has('--download') } as EvalCommand;
  }
  if (sub === 'export') {
    const { given } = readFlags(EXPORT_OPTIONS, args.slice(1), 'export');
    for (const k of ['checkpoint', 'out']) if (!given.has(k)) throw new UsageError(`export: --${k} FILE is required`);
    return { kind: 'export', checkpoint: given.get('checkpoint') as string, out: given.get('out') as string };
  }
  if (sub === 'sweep') return parseSweep(args.slice(1));

  const { given, commandOptions } = readFlags(EXPERIMENT_OPTIONS, args, '');
  // Settings in layers: a preset, then a config file, then flags (whatever their order on the line).
  const configPath = commandOptions.get('--config') as string | undefined;
  const file = configPath === undefined ? undefined : readConfigFile(configPath);
  let preset = (commandOptions.get('--preset') as string | undefined) ?? 'quick';
  if (!commandOptions.has('--preset') && file?.preset !== undefined) {
    preset = checkValue(optionByFlag(EXPERIMENT_OPTIONS, '--preset')!.type!, file.preset, `${configPath}: key 'preset'`, JSON.stringify(file.preset)) as string;
  }
  const cfg = PRESETS[preset]();
  const fromFile = file ? settingsOfFile(cfg, file, configPath!) : new Map<string, unknown>();
  applySettings(cfg as unknown as Record<string, unknown>, fromFile);
  applySettings(cfg as unknown as Record<string, unknown>, given);
  validate(cfg);

  const named = given.has('name') || fromFile.has('name');
  const onlyRunControl = [...given.keys(), ...fromFile.keys()].every((k) => RUN_CONTROL.has(k));
  if (!named && !onlyRunControl) cfg.name = '';
  if (!cfg.name) cfg.name = `${cfg.compare ? 'compare' : cfg.method}-${cfg.dataset}-${cfg.student}`;
  const what = Array.isArray(cfg.compare) ? cfg.compare.join(', ') : cfg.compare ? 'every method' : cfg.method;
  const changes = argv.filter((a, i) => !['--preset', '--config'].includes(a) && !['--preset', '--config'].includes(argv[i - 1]));
  const origin =
    `preset ${preset}${configPath ? `, then ${configPath}` : ''}${changes.length ? `, then ${changes.join(' ')}` : ''}: ` +
    `${cfg.dataset}, ${[cfg.teacher, ...cfg.assistants, cfg.student].join(' → ')}, ` +
    `${what}${cfg.teacherLoss !== 'kd' ? ` (per-teacher loss ${cfg.teacherLoss})` : ''}, ${cfg.recipe.epochs} epoch${cfg.recipe.epochs === 1 ? '' : 's'}, ` +
    `${cfg.seeds} seed${cfg.seeds === 1 ? '' : 's'}` +
    keptTeacherNote(preset, cfg);
  const url = commandOptions.get('--queue') as string | undefined;
  const timeout = commandOptions.get('--queue-timeout') as number | undefined;
  if (timeout !== undefined && !url) throw new UsageError('--queue-timeout: only with --queue URL');
  const queue = url ? { url, timeoutSeconds: timeout ?? DEFAULT_QUEUE_TIMEOUT_S } : undefined;
  return { kind: 'run', config: cfg, download: commandOptions.has('--download'), origin, ...(queue ? { queue } : {}) };
}

/** The file the README's cifar10-gap comparison starts from (trained once for 40 epochs; scripts/cifar10-gap.sh). */
const GAP_TEACHER = 'teachers/cifar10/plain8.safetensors';

/**
 * The cifar10-gap preset's comparison starts from the kept 40-epoch teacher; run without --teacher-checkpoint it
 * trains its own plain8 for the preset's 20 epochs, another experiment than the README's: said at the start.
 */
function keptTeacherNote(preset: string, cfg: ExperimentConfig): string {
  const taught = cfg.compare || cfg.method !== 'ce';
  if (preset !== 'cifar10-gap' || cfg.teacherCheckpoint || !taught) return '';
  return `. Note: no --teacher-checkpoint, so the teacher ${cfg.teacher} is trained here for ${cfg.recipe.epochs} epochs; ` +
    `the README's comparison starts from the kept 40-epoch one (--teacher-checkpoint ${GAP_TEACHER})`;
}

/**
 * Checks that hold however the config was assembled (preset, file or flags): every key by its option's type,
 * then the checks that involve several keys or the file system.
 */
export function validate(c: ExperimentConfig): void {
  for (const o of EXPERIMENT_OPTIONS) {
    if (!o.key || !o.type) continue;
    const v = getPath(c, o.key);
    if (v === undefined && ['dataDir', 'ctkd.scratch', 'store', 'teacherCheckpoint', 'assistantCheckpoints', 'testSplit', 'recipe.viewBank'].includes(o.key)) continue;
    if (o.key === 'name' && v === '') continue; // named after the method, dataset and student once valid
    checkValue(o.type, v, o.flag, typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
  }
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new UsageError(msg);
  };
  need(c.dataset === 'synthetic' || !!c.dataDir, `--data-dir: dataset '${c.dataset}' needs the folder holding its files (or --download to fetch them)`);
  need(!c.recipe.viewBank || c.recipe.augment, `--view-bank ${c.recipe.viewBank}: a bank of augmented views needs --augment`);
  need(c.method !== 'takd' || !!c.compare || c.assistants.length > 0, `--method takd needs at least one assistant (--assistants A1,…): without one, TAKD is KD (--method kd)`);
  if (Array.isArray(c.compare) && !c.assistants.length) {
    // Without assistants these rows would train the KD stage again under other names.
    const needy = c.compare.filter((n) => CHAIN_ROWS.some((r) => r !== 'dgkd' && (n === r || TEACHER_LOSSES.some((l) => n === `${r}-${l}`))));
    need(!needy.length, `--compare: ${needy.join(', ')} need${needy.length === 1 ? 's' : ''} at least one assistant (--assistants A1,…): without one, TAKD and DGKD are KD`);
  }
  if (existsSync(c.out)) need(statSync(c.out).isDirectory(), `--out: ${c.out} exists and is not a folder`);
  if (c.dataDir && existsSync(c.dataDir)) need(statSync(c.dataDir).isDirectory(), `--data-dir: ${c.dataDir} is not a folder`);
}
