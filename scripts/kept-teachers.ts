// The reference teachers kept in the repository (teachers/): trained once, with the command in the manifest, and
// given to comparisons with --teacher-checkpoint / --assistant-checkpoints instead of being trained again.
//
//   npx tsx scripts/kept-teachers.ts keep --checkpoint C --file teachers/cifar10/plain8.safetensors \
//        --command "the command that trained it" [--data-dir DIR]
//       the model alone (train.ts export) as FILE, and its manifest entry: sha256, architecture, recipe, data
//       settings, epochs, accuracy on the run's validation and test parts and on a fixed 500-image slice of the
//       test part, and its logits on a fixed probe batch (seeded noise), which the tests check without the data;
//       for a stage's checkpoint also how it was taught (method, settings, teachers: by kept file where kept)
//   npx tsx scripts/kept-teachers.ts check [--data-dir DIR]
//       every manifest entry against its file: sha256, architecture, probe logits, and with the data the
//       accuracy on the slice
//
// The manifest is teachers/manifest.json; paths in it are relative to the repository.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { Rng, Tensor } from '../engine/index.ts';
import { createModel, type Classifier } from '../dgkd/models/index.ts';
import { readCheckpoint, applyCheckpoint } from '../dgkd/fit/checkpoint.ts';
import { exportModel } from '../dgkd/fit/export.ts';
import { evaluate } from '../dgkd/fit/evaluate.ts';
import { writeFileAtomic } from '../dgkd/fit/atomic.ts';
import { readKeptModel } from '../dgkd/experiment/kept_models.ts';
import { keptStageKey } from '../dgkd/experiment/plan.ts';
import { loadData, type DataSettings } from '../dgkd/experiment/data.ts';
import { paperConfig } from '../dgkd/settings/config.ts';
import { subset, TAKD_NORMALISATION } from '../dgkd/data/index.ts';

export const ROOT = resolve(import.meta.dirname, '..');
export const MANIFEST = join(ROOT, 'teachers', 'manifest.json');
/** The fixed slice: the first images of the run's held-out test part. */
export const SLICE = 500;

export interface KeptTeacherEntry {
  file: string;
  sha256: string;
  bytes: number;
  arch: string;
  numClasses: number;
  params: number;
  dataset: string;
  data: DataSettings;
  recipe: unknown;
  epochs: number;
  command: string;
  trainingSeconds: number;
  adapter?: string;
  accuracy: { val: number | null; test: number; testImages: number; slice: number; sliceImages: number };
  /** Logits on probeInput(): the model computes what it computed when it was kept. */
  probe: number[];
  /**
   * How it was trained, from its stage's done.json: the stage, its method and distillation settings, and what
   * taught it (the kept files, where the teachers are kept; otherwise their stage keys).
   */
  stage?: { name: string; key: string; method: string; teachers: string[]; kd: unknown; drop: unknown };
  /** The checkpoint it was exported from, relative to the repository (committed with the run's results). */
  from?: string;
}

/** Eight seeded N(0, 1) images of 32×32×3 (NHWC), the same everywhere. */
export function probeInput(): Tensor {
  const rng = new Rng(2026);
  const x = new Tensor([8, 32, 32, 3]);
  x.write(Float32Array.from({ length: 8 * 32 * 32 * 3 }, () => rng.normal()));
  return x;
}

export async function probeLogits(model: Classifier): Promise<number[]> {
  model.eval();
  return Array.from(await model.forward(probeInput()).readF32(), (v) => Number(v.toPrecision(7)));
}

export function readManifest(): { models: KeptTeacherEntry[] } {
  return existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : { models: [] };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function accuracyOn(model: Classifier, data: DataSettings, dataDir: string | undefined) {
  const cfg = { ...paperConfig(), ...data, ...(dataDir ? { dataDir } : {}) };
  const d = loadData(cfg, { training: false });
  const slice = subset(d.test, Array.from({ length: Math.min(SLICE, d.test.size) }, (_, i) => i), `${d.test.name} (first ${SLICE})`);
  const test = await evaluate(model, d.test, TAKD_NORMALISATION);
  const val = d.val ? await evaluate(model, d.val, TAKD_NORMALISATION) : null;
  const sl = await evaluate(model, slice, TAKD_NORMALISATION);
  return { val: val?.top1 ?? null, test: test.top1, testImages: d.test.size, slice: sl.top1, sliceImages: slice.size };
}

/** The stage a checkpoint belongs to (its done.json, beside it), with its teachers named by kept file where kept. */
function stageOf(checkpoint: string, kept: KeptTeacherEntry[]): KeptTeacherEntry['stage'] {
  const done = join(dirname(checkpoint), 'done.json');
  if (!existsSync(done)) return undefined;
  const s = JSON.parse(readFileSync(done, 'utf8')).stage as NonNullable<KeptTeacherEntry['stage']>;
  const fileOf = (key: string) =>
    kept.find((m) => m.stage?.key === key || keptStageKey(m.sha256) === key)?.file ?? key;
  return { name: s.name, key: s.key, method: s.method, teachers: s.teachers.map(fileOf), kd: s.kd, drop: s.drop };
}

async function keep(args: string[]): Promise<void> {
  const checkpoint = flag(args, '--checkpoint');
  const file = flag(args, '--file');
  const command = flag(args, '--command');
  if (!checkpoint || !file || !command) throw new Error('keep needs --checkpoint C --file F --command "…"');
  const ck = readCheckpoint(checkpoint);
  if (!ck.meta.data) throw new Error(`${checkpoint}: no data settings in its metadata (not a checkpoint of a training stage)`);
  exportModel(ck, checkpoint, file);
  const bytes = readFileSync(file);
  const model = createModel(ck.meta.arch, { numClasses: ck.meta.numClasses });
  applyCheckpoint(ck, checkpoint, model, null);
  const history = (ck.meta.history as { seconds: number }[]) ?? [];
  const entry: KeptTeacherEntry = {
    file: relative(ROOT, resolve(file)),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.byteLength,
    arch: ck.meta.arch,
    numClasses: ck.meta.numClasses,
    params: model.parameterCount(),
    dataset: ck.meta.dataset,
    data: ck.meta.data as DataSettings,
    recipe: ck.meta.recipe,
    epochs: ck.meta.epoch,
    command,
    trainingSeconds: Math.round(history.reduce((a, h) => a + h.seconds, 0)),
    ...(flag(args, '--adapter') ? { adapter: flag(args, '--adapter') } : {}),
    accuracy: await accuracyOn(model, ck.meta.data as DataSettings, flag(args, '--data-dir')),
    probe: await probeLogits(model),
  };
  const manifest = readManifest();
  const stage = stageOf(checkpoint, manifest.models);
  if (stage) entry.stage = stage;
  entry.from = relative(ROOT, resolve(checkpoint));
  // The data folder is where it was on the machine that trained it; the manifest says only that it was there.
  entry.data = { ...entry.data, dataDir: entry.data.dataDir ? relative(ROOT, entry.data.dataDir) : undefined } as DataSettings;
  model.dispose();
  manifest.models = [...manifest.models.filter((m) => m.file !== entry.file), entry];
  writeFileAtomic(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`kept ${entry.file}: ${entry.arch}, sha256 ${entry.sha256.slice(0, 16)}…, test ${(entry.accuracy.test * 100).toFixed(2)}%`);
}

async function check(args: string[]): Promise<number> {
  let failed = 0;
  for (const m of readManifest().models) {
    const path = join(ROOT, m.file);
    const problems: string[] = [];
    const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (sha !== m.sha256) problems.push(`sha256 ${sha}, manifest ${m.sha256}`);
    const k = readKeptModel(path, { flag: 'manifest', arch: m.arch, numClasses: m.numClasses, inputSize: 32, inputChannels: 3, normalisation: TAKD_NORMALISATION });
    const model = createModel(m.arch, { numClasses: m.numClasses });
    applyCheckpoint(k.checkpoint, path, model, null);
    const probe = await probeLogits(model);
    const diff = Math.max(...probe.map((v, i) => Math.abs(v - m.probe[i])));
    if (!(diff < 1e-4 * Math.max(1, ...m.probe.map(Math.abs)))) problems.push(`probe logits differ by ${diff}`);
    const dataDir = flag(args, '--data-dir');
    if (dataDir) {
      const acc = await accuracyOn(model, m.data, dataDir);
      if (acc.slice !== m.accuracy.slice) problems.push(`slice accuracy ${acc.slice}, manifest ${m.accuracy.slice}`);
    }
    model.dispose();
    console.log(`${m.file}: ${problems.length ? `FAILED: ${problems.join('; ')}` : 'ok'}`);
    if (problems.length) failed++;
  }
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  await initGpu({ ...gpuOptionsFromEnv(), log: false });
  const [cmd, ...rest] = process.argv.slice(2);
  const code = cmd === 'keep' ? (await keep(rest), 0) : cmd === 'check' ? await check(rest) : (console.error(readFileSync(import.meta.filename, 'utf8').split('\n\n')[0]), 2);
  process.exit(code);
}
