// Models trained elsewhere and given to a run instead of being trained by it: `--teacher-checkpoint FILE` and
// `--assistant-checkpoints F1,F2,…` (the kept reference teachers in teachers/, or a user's own). A file is any of
//   - a training checkpoint of this trainer (a stage's best.safetensors or last.safetensors),
//   - a model-only export (`train.ts export`), or
//   - a PyTorch state dict of a dgkd/pytorch/models.py model saved as safetensors by its `save_export`
//     (metadata: arch, numClasses and the normalisation it was trained with).
// Everything is checked before anything trains, and a mismatch is bad input (exit 2) naming the flag and file:
// the architecture (every tensor's name and shape), the number of classes, and the input normalisation. A
// kept model's identity in the stage cache is its file's sha256, so a student trained from it is found again
// by any run that gives the same file, wherever it lies.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { decodeSafetensors, SafetensorsError } from '../../engine/io/safetensors.ts';
import { CheckpointError, applyCheckpoint, torchSaveHint, type CheckpointMeta, type LoadedCheckpoint } from '../fit/checkpoint.ts';
import { TAKD_NORMALISATION, type Normalisation } from '../data/index.ts';
import { canonicalName, createModel } from '../models/index.ts';
import type { ExperimentConfig } from '../settings/config.ts';
import { type Data, dataSettings } from './data.ts';
import type { KeptModels, Stage } from './plan.ts';

export interface KeptModel {
  /** The flag that named it (for messages) and the file. */
  flag: string;
  path: string;
  sha256: string;
  arch: string;
  numClasses: number;
  /** What the file is. */
  kind: 'checkpoint' | 'export' | 'pytorch';
  /** The data it was trained on, when the file says (this trainer's checkpoints do). */
  data?: Record<string, unknown>;
  checkpoint: LoadedCheckpoint;
}

/** What the run needs of a kept model. */
export interface KeptModelWanted {
  flag: string;
  arch: string;
  numClasses: number;
  inputSize: number;
  inputChannels: number;
  normalisation: Normalisation;
}

const parseMeta = (raw: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(raw).map(([k, v]) => {
      try {
        return [k, JSON.parse(v)];
      } catch {
        return [k, v];
      }
    }),
  ) as Record<string, unknown>;

function sameNormalisation(a: Normalisation, b: Normalisation): boolean {
  const close = (x: number[], y: number[]) => x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) < 1e-6);
  return close(a.mean, b.mean) && close(a.std, b.std);
}

/** Reads `path`, checks it against what the run needs, and returns it ready to load as a frozen teacher. */
export function readKeptModel(path: string, want: KeptModelWanted): KeptModel {
  const fail = (why: string) => new CheckpointError(`${want.flag} ${path}: ${why}`);
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw fail('is a folder, expected a .safetensors file');
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`);
  }
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw fail(torchSaveHint(bytes) ?? `not a safetensors file a model can come from (${e.message})`);
    throw e;
  }
  const meta = parseMeta(decoded.metadata);
  const format = String(meta.format ?? '');
  const kind: KeptModel['kind'] = format === 'dgkd-checkpoint/1' || meta.epoch !== undefined ? 'checkpoint' : format === 'dgkd-model/1' ? 'export' : 'pytorch';
  if (meta.arch === undefined) {
    throw fail(
      "its metadata names no architecture ('arch'): save a PyTorch model with dgkd/pytorch/models.py's " +
        'save_export(model, path, arch=…, normalisation=…), or give a checkpoint or export of this trainer',
    );
  }
  const arch = canonicalName(String(meta.arch));
  if (arch !== canonicalName(want.arch)) throw fail(`holds a ${arch}, but this run's model there is ${want.arch}`);
  const numClasses = Number(meta.numClasses);
  if (numClasses !== want.numClasses) throw fail(`classifies ${meta.numClasses ?? 'an unknown number of'} classes, the dataset has ${want.numClasses}`);
  // The normalisation it was trained with: this trainer's checkpoints keep it in their recipe, its exports and
  // PyTorch files in 'normalisation'. This trainer has only ever used TAKD's, so its own files without it did too.
  const recipe = meta.recipe as { normalisation?: Normalisation } | undefined;
  const norm = (meta.normalisation as Normalisation | undefined) ?? recipe?.normalisation ?? (kind === 'pytorch' ? undefined : TAKD_NORMALISATION);
  if (!norm || !Array.isArray(norm.mean) || !Array.isArray(norm.std)) {
    throw fail("its metadata does not say the input normalisation it was trained with ('normalisation': {\"mean\": […], \"std\": […]})");
  }
  if (!sameNormalisation(norm, want.normalisation)) {
    throw fail(
      `was trained on inputs normalised with mean ${JSON.stringify(norm.mean)}, std ${JSON.stringify(norm.std)}; ` +
        `this trainer normalises with mean ${JSON.stringify(want.normalisation.mean)}, std ${JSON.stringify(want.normalisation.std)}`,
    );
  }
  // Everything but the model's own tensors and PyTorch's batch counters is left out (optimizer state).
  const tensors = Object.fromEntries(Object.entries(decoded.tensors).filter(([name]) => !name.endsWith('num_batches_tracked')));
  const checkpoint: LoadedCheckpoint = { meta: { ...meta, arch, numClasses, epoch: Number(meta.epoch ?? 0) } as CheckpointMeta, tensors };
  // Every tensor's name and shape, by loading it once into a model of the wanted architecture.
  const model = createModel(arch, { numClasses, inputSize: want.inputSize, inputChannels: want.inputChannels });
  try {
    applyCheckpoint(checkpoint, path, model, null);
  } catch (e) {
    if (e instanceof CheckpointError) throw fail(e.message.startsWith(path) ? e.message.slice(path.length + 2) : e.message);
    throw e;
  } finally {
    model.dispose();
  }
  const data = meta.data && typeof meta.data === 'object' ? (meta.data as Record<string, unknown>) : undefined;
  return { flag: want.flag, path, sha256: createHash('sha256').update(bytes).digest('hex'), arch, numClasses, kind, ...(data ? { data } : {}), checkpoint };
}

/**
 * A kept model trained by this trainer on other held-out parts of the same dataset may have trained on images
 * this run tests on: refused. (Files that do not say what they were trained on — exports, PyTorch files — are the
 * user's responsibility; the run's log names them.)
 */
export function checkHeldOutParts(kept: KeptModel, run: Record<string, unknown>): void {
  const k = kept.data;
  // Another dataset shares no images with this one (a teacher may be tried on other data with as many classes).
  if (!k || k.dataset !== run.dataset) return;
  const fields = k.dataset === 'synthetic' ? ['dataset', 'syntheticTrain', 'syntheticTest', 'seed', 'valSplit', 'testSplit'] : ['dataset', 'valSplit', 'testSplit'];
  const norm = (f: string, v: unknown) => (f === 'testSplit' ? v || 0 : v);
  const differ = fields.filter((f) => norm(f, k[f]) !== norm(f, run[f]));
  if (differ.length) {
    const show = (o: Record<string, unknown>) => differ.map((f) => `${f} ${JSON.stringify(norm(f, o[f]))}`).join(', ');
    throw new CheckpointError(
      `${kept.flag} ${kept.path}: trained on other data or other held-out parts (${show(k)}) than this run (${show(run)}): ` +
        'it may have trained on images this run validates or tests on',
    );
  }
}

const keptWanted = (flag: string, arch: string, data: Data) => ({
  flag, arch, numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, normalisation: TAKD_NORMALISATION,
});

/** A kept stage's file, read again where it is used (a queue worker reads it too), and still the file planned with. */
export function keptFile(stage: Stage, data: Data): KeptModel {
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
