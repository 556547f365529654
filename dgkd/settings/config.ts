// One experiment's settings, with the papers' defaults, and the presets. A JSON config file (--config) holds
// the same fields; flags override it.

import type { KlReduction } from '../../engine/index.ts';
import type { DropMode } from '../methods/kd.ts';
import type { ScheduleKind } from '../fit/schedule.ts';

export const METHODS = ['ce', 'kd', 'takd', 'dgkd', 'ctkd', 'dkd', 'dist', 'at', 'fitnets', 'rkd'] as const;
export type Method = (typeof METHODS)[number];

/** The per-teacher logit loss inside TAKD's chain and DGKD's dense guidance (methods/logit_losses.ts). */
export const TEACHER_LOSSES = ['kd', 'dkd', 'dist'] as const;
export type TeacherLoss = (typeof TEACHER_LOSSES)[number];

/**
 * What `--compare LIST` may name: the rows of the default comparison, the baselines, and TAKD/DGKD rows with a
 * per-teacher loss (`dgkd-dkd`: dense guidance whose every term is DKD). A chain name without a loss uses
 * --teacher-loss.
 */
export const COMPARE_BASES = ['nokd', 'kd', 'takd', 'dgkd', 'dgkd-stochastic', 'dgkd-norm', 'ctkd', 'dkd', 'dist', 'at', 'fitnets', 'rkd'] as const;
export const CHAIN_ROWS = ['takd', 'dgkd', 'dgkd-stochastic', 'dgkd-norm'] as const;
export const COMPARE_NAMES: readonly string[] = [
  ...COMPARE_BASES,
  ...CHAIN_ROWS.flatMap((c) => TEACHER_LOSSES.map((l) => `${c}-${l}`)),
];

export interface DkdConfig {
  alpha: number;
  beta: number;
  /** Warm-up of the DKD term in epochs (0: none); 'auto': a twelfth of the epochs (mdistiller: 20 of 240). */
  warmup: number | 'auto';
}

export interface RecipeConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleKind;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  augment: boolean;
  /**
   * With augment: every model trains on a fixed bank of this many augmented views per image, whose frozen
   * teachers' logits are computed once (FKD's soft-label bank; absent or 0: fresh crops and flips every epoch).
   */
  viewBank?: number;
  /** Learning rate for the plain CNNs (the papers train them at 0.01); null = `lr`. */
  plainLr: number | null;
}

export interface KdSettings {
  temperature: number;
  lambda: number;
  klReduction: KlReduction;
  ceWeight: 'paper' | 'official' | number;
  /** Divide a DGKD loss by its number of teachers, so its step size matches KD's (see methods/kd.ts). */
  normalise: boolean;
}

export interface ExperimentConfig {
  name: string;
  out: string;
  /** Where stages' checkpoints live (`<store>/_cache/<stage key>/`); default: --out. Shared by queue workers. */
  store?: string;
  dataset: string;
  dataDir?: string;
  /**
   * Validation split held out of the training set (a fraction in (0, 1) or a count): the best epoch is chosen
   * on it. When the dataset has no test split, a second part of the same size is held out as the test set.
   * 0 = no validation split: the best epoch is chosen on the test split (and the report says so).
   */
  valSplit: number;
  /**
   * The test part held out of the training set when the dataset has no test files (CIFAR-10 without
   * test_batch.bin): a count of images; absent or 0 = as many as the validation split.
   */
  testSplit?: number;
  /** Train on this many training images (a class-stratified subset drawn with --seed); 0 = all. */
  trainSubset: number;
  /** Evaluate every K epochs (and always after the last). */
  evalEvery: number;
  /** Built-in dataset sizes. */
  syntheticTrain: number;
  syntheticTest: number;
  method: Method;
  teacher: string;
  /** The teacher as a file (kept_models.ts) instead of trained by the run. */
  teacherCheckpoint?: string;
  /** The assistants as files, one per assistant, largest first; TAKD's and DGKD's chains then share them. */
  assistantCheckpoints?: string[];
  assistants: string[];
  student: string;
  /** The default comparison (true), a list of rows (COMPARE_NAMES), or only --method (false). */
  compare: boolean | string[];
  seeds: number;
  seed: number;
  /**
   * Train the teacher and assistants once (with --seed) and share them among the students of every seed, as the
   * papers' code effectively does; false retrains them for each seed.
   */
  shareTrainers: boolean;
  recipe: RecipeConfig;
  kd: KdSettings;
  stochastic: { drop: DropMode; keepProb: number; k: number };
  ctkd: { gamma: number; beta: number; target: 'student' | 'scratch'; scratch?: string };
  teacherLoss: TeacherLoss;
  dkd: DkdConfig;
  dist: { beta: number; gamma: number };
  at: { beta: number };
  fitnets: { weight: number };
  rkd: { distance: number; angle: number };
  resume: boolean;
  quiet: boolean;
}

/** The paper-intended recipe (methods.md): SGD 0.9, wd 1e-4, batch 128, lr 0.1, ×0.1 at 50% and 75%, 160 epochs. */
export function paperConfig(): ExperimentConfig {
  return {
    name: '',
    out: 'runs',
    dataset: 'cifar10',
    valSplit: 0,
    trainSubset: 0,
    evalEvery: 1,
    syntheticTrain: 10000,
    syntheticTest: 2000,
    method: 'dgkd',
    teacher: 'resnet26',
    assistants: ['resnet20', 'resnet14'],
    student: 'resnet8',
    compare: false,
    seeds: 1,
    seed: 0,
    shareTrainers: true,
    recipe: { epochs: 160, batchSize: 128, lr: 0.1, schedule: 'step', momentum: 0.9, weightDecay: 1e-4, nesterov: false, augment: true, plainLr: 0.01 },
    kd: { temperature: 4, lambda: 0.5, klReduction: 'batchmean', ceWeight: 'paper', normalise: false },
    stochastic: { drop: 'none', keepProb: 0.75, k: 1 },
    ctkd: { gamma: 1, beta: 1000, target: 'student' },
    // The baselines' reference defaults (mdistiller's CIFAR-100 configs; DIST_KD's dist_cifar.yaml).
    teacherLoss: 'kd',
    dkd: { alpha: 1, beta: 8, warmup: 'auto' },
    dist: { beta: 2, gamma: 2 },
    at: { beta: 1000 },
    fitnets: { weight: 100 },
    rkd: { distance: 25, angle: 50 },
    resume: false,
    quiet: false,
  };
}

/**
 * What the official TAKD/DGKD code actually does (methods.md): ResNets at lr 0.01 → 0.001 (a bug), no
 * augmentation, KLDivLoss's element-wise mean, and (1 − λ)·CE in DGKD.
 */
export function officialCodeConfig(): ExperimentConfig {
  const c = paperConfig();
  c.recipe.lr = 0.01;
  c.recipe.augment = false;
  c.kd.klReduction = 'elementwise-mean';
  c.kd.ceWeight = 'official';
  c.stochastic = { drop: 'exact-k', keepProb: 0.75, k: 1 };
  return c;
}

/**
 * With no arguments: the built-in dataset, a plain-CNN chain (plain6 → plain4 → plain2) and every method compared
 * over three student seeds, sized to finish in under 10 minutes on two CPU cores with a software Vulkan driver.
 * The teacher and assistant are trained once and shared by the seeds. No augmentation: the built-in images
 * already vary in position, rotation, scale and colour, and without it the frozen teachers' logits are computed
 * once per image instead of in every step (methods then cost what NOKD costs, so more images fit in the budget).
 * A cosine schedule, because with few epochs the papers' step schedule spends the last quarter at lr/100.
 */
export function quickConfig(): ExperimentConfig {
  const c = paperConfig();
  c.name = 'quick';
  c.dataset = 'synthetic';
  c.syntheticTrain = 9216;
  c.valSplit = 0.1; // a fraction, so that --synthetic-train N keeps a tenth for validation at any size
  c.syntheticTest = 2000;
  c.teacher = 'plain6';
  c.assistants = ['plain4'];
  c.student = 'plain2';
  c.compare = true;
  c.seeds = 3;
  // Plain CNNs diverge above lr ≈ 0.01 here (their first FC layer has thousands of inputs): the papers' 0.01.
  c.recipe = { ...c.recipe, epochs: 3, batchSize: 32, lr: 0.01, plainLr: null, schedule: 'cosine', augment: false };
  return c;
}

/**
 * CIFAR-10 (binary format) at CPU scale: the plain chain plain8 → plain4 → plain2 on every training image but
 * a 2,000-image validation split (which chooses the best epoch), 4 epochs with a cosine schedule, three student
 * seeds. Evaluation on test_batch.bin when the folder has it, else on 10,000 images held out of the training
 * batches (CIFAR-10's test-set size: 2,000 test images have ~1 point of sampling noise). No augmentation, so
 * teachers' logits are computed once (see quickConfig). plain8 rather than plain6 as the teacher: it costs about
 * the same per image (its extra layers work on 4×4 maps), and without augmentation plain6 led plain2 by only ~6
 * points (10,000 images, 15 epochs: 65.6% against 60.0%). 6,863 s of training for all three seeds on two cores
 * with lavapipe shared with another run (README, "Results on CIFAR-10 (CPU scale)").
 */
export function cifar10CpuConfig(): ExperimentConfig {
  const c = quickConfig();
  c.name = 'cifar10-cpu';
  c.dataset = 'cifar10';
  c.valSplit = 2000;
  c.testSplit = 10000;
  c.teacher = 'plain8';
  c.recipe = { ...c.recipe, epochs: 4 };
  return c;
}

/**
 * The papers' plain-CNN experiment at a teacher–student gap like theirs, on CIFAR-10's five training batches
 * (README, "Results at the papers' gap"): 10,000 images held out as the test set (CIFAR-10's own test-set size:
 * a 2,000-image test set has ~1 point of sampling noise, the size of the effects measured) and 5,000 as the
 * validation split, 35,000 to train on; crop + flip augmentation; the chain plain8 → plain6 → plain4 → plain2
 * (the papers' plain10 → 8 → 6 → 4 → 2 without its top: plain10 costs five times plain8 per image); five student
 * seeds. A cosine schedule: with 20 epochs instead of 160 the step schedule spends a quarter of them at lr/100.
 * Batch 64 at the plain CNNs' lr 0.01 (the papers: batch 128 at 0.01): on two cores batch 64 trains plain8 as
 * fast per image as 128 and takes twice the steps. The reference teacher is trained once for 40 epochs by its own
 * command and kept (teachers/cifar10/), then given to the comparison with --teacher-checkpoint. Every other model
 * trains on a bank of 20 augmented views per image (FKD), so that the frozen teachers' logits are computed once
 * instead of in every step of 30 students (README: what the bank changes, measured).
 */
export function cifar10GapConfig(): ExperimentConfig {
  const c = quickConfig();
  c.name = 'cifar10-gap';
  c.dataset = 'cifar10';
  c.valSplit = 5000;
  c.testSplit = 10000;
  c.teacher = 'plain8';
  c.assistants = ['plain6', 'plain4'];
  c.seeds = 5;
  c.evalEvery = 1;
  c.recipe = { ...c.recipe, epochs: 20, batchSize: 64, lr: 0.01, plainLr: null, schedule: 'cosine', augment: true, viewBank: 20 };
  return c;
}

export const PRESETS: Record<string, () => ExperimentConfig> = {
  paper: paperConfig,
  'official-code': officialCodeConfig,
  quick: quickConfig,
  'cifar10-cpu': cifar10CpuConfig,
  'cifar10-gap': cifar10GapConfig,
};
