// What a run must keep to resume exactly, and where it goes: the model and its optimizer's momentum, the models
// trained alongside it (CTKD), the data order, the method's RNG and counters, the metrics so far, and the sums of
// an epoch stopped mid-way. Saved atomically as last.safetensors after every epoch (and at a stop), and as
// best.safetensors when the selection score improves.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../../engine/index.ts';
import type { SGD } from '../../engine/nn/index.ts';
import type { DataLoader, LoaderState } from '../data/index.ts';
import { CheckpointError, applyCheckpoint, readCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../engine/io/safetensors.ts';
import { loadStateDict, stateDict, type Module } from '../../engine/nn/index.ts';
import { writeFileAtomic } from './atomic.ts';
import type { LossReference, Sums } from './loss_watch.ts';
import type { EpochMetrics, FitOptions } from './trainer.ts';

export const LAST = 'last.safetensors';
export const BEST = 'best.safetensors';

export interface FitState {
  /** Epochs completed. */
  epoch: number;
  history: EpochMetrics[];
  /** The best selection score so far (−1: none yet). */
  bestAcc: number;
  reference: LossReference;
  /** The running sums of an epoch stopped mid-way. */
  partial: Sums | null;
}

/** The parts of a run that change as it trains, besides the model and the state above. */
export interface FitParts {
  opt: SGD;
  loader: DataLoader;
  rng: Rng;
}

export const freshState = (): FitState => ({ epoch: 0, history: [], bestAcc: -1, reference: { value: 0, steps: 0 }, partial: null });

/** The state of `o.dir`'s last checkpoint, applied to the model, optimizer, companions, loader and RNG. */
export function resumeFit(o: FitOptions, p: FitParts): FitState {
  const lastPath = join(o.dir, LAST);
  const ck = readCheckpoint(lastPath);
  applyCheckpoint(ck, lastPath, o.model, p.opt);
  for (const [i, c] of (o.objective.companions ?? []).entries()) {
    const path = join(o.dir, `companion${i}.${LAST}`);
    applyCheckpoint(readCheckpoint(path), path, c, null);
  }
  if (o.objective.trainables?.length) loadTrainables(join(o.dir, TRAINABLES), o.objective.trainables);
  p.loader.setState(ck.meta.loader as LoaderState);
  p.rng.setState(ck.meta.methodRng as [number, number, number, number]);
  if (ck.meta.objective !== undefined) o.objective.setState?.(ck.meta.objective);
  return {
    epoch: ck.meta.epoch,
    history: (ck.meta.history as EpochMetrics[]) ?? [],
    bestAcc: (ck.meta.bestAcc as number) ?? -1,
    reference: (ck.meta.lossReference as LossReference) ?? { value: 0, steps: 0 },
    partial: (ck.meta.partial as Sums | null) ?? null,
  };
}

export const hasCheckpoint = (o: FitOptions) => existsSync(join(o.dir, LAST));

/** Writes `file` (LAST or BEST) for a run `epochsDone` epochs in; LAST also saves the companions. */
export async function saveFit(o: FitOptions, p: FitParts, s: FitState, epochsDone: number, partial: Sums | null, file = LAST): Promise<void> {
  if (file === LAST) {
    for (const [i, c] of (o.objective.companions ?? []).entries()) {
      await saveCheckpoint(join(o.dir, `companion${i}.${LAST}`), c, null, {
        format: 'dgkd-checkpoint/1', arch: c.arch, numClasses: c.numClasses, dataset: o.dataset, epoch: epochsDone,
      });
    }
  }
  if (file === LAST && o.objective.trainables?.length) await saveTrainables(join(o.dir, TRAINABLES), o.objective.trainables);
  const meta: CheckpointMeta = {
    format: 'dgkd-checkpoint/1',
    arch: o.model.arch,
    numClasses: o.model.numClasses,
    dataset: o.dataset,
    epoch: epochsDone,
    partial,
    history: s.history,
    bestAcc: s.bestAcc,
    lossReference: s.reference,
    loader: p.loader.getState(),
    methodRng: p.rng.getState(),
    objective: o.objective.getState?.() ?? null,
    recipe: o.recipe,
    ...o.meta,
  };
  await saveCheckpoint(join(o.dir, file), o.model, p.opt, meta);
}

/** The method's own trained modules (FitNets' regressor), beside last.safetensors: `<index>.<name>` tensors. */
const TRAINABLES = `trainables.${LAST}`;

async function saveTrainables(path: string, modules: Module[]): Promise<void> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [i, m] of modules.entries()) for (const [name, e] of await stateDict(m)) tensors[`${i}.${name}`] = { dtype: 'F32', shape: e.shape, data: e.data };
  writeFileAtomic(path, encodeSafetensors(tensors, { format: 'dgkd-trainables/1' }));
}

function loadTrainables(path: string, modules: Module[]): void {
  if (!existsSync(path)) throw new CheckpointError(`${path} does not exist: the method's trained modules (FitNets' regressor) cannot be resumed`);
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
  modules.forEach((m, i) => {
    const state = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of Object.entries(tensors)) if (name.startsWith(`${i}.`)) state.set(name.slice(`${i}.`.length), { shape: t.shape, data: t.data as Float32Array });
    loadStateDict(m, state, path);
  });
}
