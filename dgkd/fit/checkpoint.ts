// Checkpoints as safetensors: the model's state dict (PyTorch names and layouts), the optimizer's momentum
// buffers (`optimizer.momentum_buffer.<param>`), and a metadata block with everything needed to resume exactly
// (architecture, classes, dataset, epoch, data-loader and RNG state, metrics so far). Written atomically.

import { readFileSync, existsSync, statSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafetensorsTensor } from '../../engine/io/safetensors.ts';
import { convFromTorch, convToTorch, loadStateDict, stateDict, StateDictError, type StateEntry } from '../../engine/nn/index.ts';
import type { SGD } from '../../engine/nn/index.ts';
import type { Classifier } from '../models/index.ts';
import { writeFileAtomic } from './atomic.ts';
import { BadInput } from '../errors.ts';

export const MOMENTUM_PREFIX = 'optimizer.momentum_buffer.';

export interface CheckpointMeta {
  format: 'dgkd-checkpoint/1';
  arch: string;
  numClasses: number;
  dataset: string;
  /** Epochs completed. */
  epoch: number;
  /** Anything else (JSON): loader state, RNG state, metrics history, best accuracy, recipe. */
  [key: string]: unknown;
}

export class CheckpointError extends BadInput {
  override name = 'CheckpointError';
}

export async function saveCheckpoint(path: string, model: Classifier, opt: SGD | null, meta: CheckpointMeta): Promise<void> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, e] of await stateDict(model)) tensors[name] = { dtype: 'F32', shape: e.shape, data: e.data };
  if (opt) {
    const names = new Map(model.namedParameters().map(([n, t]) => [t, n]));
    for (let i = 0; i < opt.params.length; i++) {
      const name = names.get(opt.params[i]) ?? `param${i}`;
      const v = await opt.velocity[i].readF32();
      const shape = tensors[name]?.shape ?? [...opt.params[i].shape];
      // Velocity has the parameter's internal layout; store it in the parameter's exported layout.
      tensors[MOMENTUM_PREFIX + name] = { dtype: 'F32', shape, data: toExportLayout(model, name, v) };
    }
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Momentum buffers have their parameter's internal layout; checkpoints hold the exported (PyTorch) one. */
function toExportLayout(model: Classifier, name: string, data: Float32Array): Float32Array {
  const entry = model.namedState().find(([n]) => n === name);
  return entry && entry[2] === 'conv' ? convToTorch(data, entry[1].shape) : data;
}

function fromExportLayout(model: Classifier, name: string, data: Float32Array): Float32Array {
  const entry = model.namedState().find(([n]) => n === name);
  if (!entry || entry[2] !== 'conv') return data;
  const [KH, KW, Cin, Cout] = entry[1].shape;
  return convFromTorch(data, [Cout, Cin, KH, KW]);
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  tensors: Record<string, SafetensorsTensor>;
}

/**
 * What a file that is not safetensors is, when it is the likeliest mistake: a PyTorch model saved with torch.save
 * (a zip archive, or a bare pickle before PyTorch 1.6). Null for anything else.
 */
export function torchSaveHint(bytes: Uint8Array): string | null {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const pickle = bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
  if (!zip && !pickle) return null;
  return 'it is a PyTorch file saved with torch.save (a pickle), not safetensors: load it in PyTorch and save it with ' +
    "dgkd/pytorch/models.py's save_export(model, path, arch=…), which writes the architecture and normalisation too";
}

/** Reads and validates a checkpoint file (not yet applied to a model). */
export function readCheckpoint(path: string): LoadedCheckpoint {
  if (!existsSync(path)) throw new CheckpointError(`checkpoint ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new CheckpointError(`checkpoint ${path} is a folder, expected a .safetensors checkpoint file`);
  let decoded;
  const bytes = new Uint8Array(readFileSync(path));
  try {
    decoded = decodeSafetensors(bytes, path);
  } catch (e) {
    const hint = torchSaveHint(bytes);
    if (e instanceof SafetensorsError) throw new CheckpointError(hint ? `${path}: ${hint}` : e.message);
    throw e;
  }
  const raw = decoded.metadata;
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    try {
      meta[k] = JSON.parse(v);
    } catch {
      meta[k] = v;
    }
  }
  for (const key of ['arch', 'numClasses', 'epoch']) {
    if (meta[key] === undefined) throw new CheckpointError(`${path}: not a dgkd checkpoint (metadata has no '${key}')`);
  }
  meta.arch = String(meta.arch);
  return { meta: meta as CheckpointMeta, tensors: decoded.tensors };
}

/** Tensors of a checkpoint holding NaN or infinite values, with how many: worth a warning, since such a model scores as wrong everywhere. */
export function nonFiniteTensors(ck: LoadedCheckpoint): { name: string; count: number }[] {
  const found: { name: string; count: number }[] = [];
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (t.dtype !== 'F32') continue;
    let count = 0;
    for (const v of t.data as Float32Array) if (!Number.isFinite(v)) count++;
    if (count) found.push({ name, count });
  }
  return found;
}

/** Loads weights (and momentum buffers, when an optimizer is given) into a model of the same architecture. */
export function applyCheckpoint(ck: LoadedCheckpoint, path: string, model: Classifier, opt: SGD | null = null): void {
  const bad = nonFiniteTensors(ck);
  if (bad.length) {
    const list = bad.slice(0, 3).map((b) => `'${b.name}' (${b.count} values)`).join(', ');
    console.error(`warning: ${path} holds non-finite values in ${bad.length} tensor${bad.length > 1 ? 's' : ''}: ${list}${bad.length > 3 ? ', …' : ''}`);
  }
  if (ck.meta.arch !== model.arch || ck.meta.numClasses !== model.numClasses) {
    throw new CheckpointError(
      `${path}: checkpoint is ${ck.meta.arch} with ${ck.meta.numClasses} classes, the model is ${model.arch} with ${model.numClasses}`,
    );
  }
  const state = new Map<string, StateEntry>();
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (name.startsWith(MOMENTUM_PREFIX)) continue;
    if (t.dtype !== 'F32') throw new CheckpointError(`${path}: tensor '${name}' has dtype ${t.dtype}, expected F32`);
    state.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  try {
    loadStateDict(model, state, path);
  } catch (e) {
    if (e instanceof StateDictError) throw new CheckpointError(e.message);
    throw e;
  }
  if (opt) {
    const names = new Map(model.namedParameters().map(([n, t]) => [t, n]));
    opt.params.forEach((p, i) => {
      // Parameters outside the model (CTKD's scratch teacher, FitNets' regressor) are saved as param<index>.
      const name = names.get(p) ?? `param${i}`;
      const v = ck.tensors[MOMENTUM_PREFIX + name];
      if (!v) throw new CheckpointError(`${path}: missing optimizer state '${MOMENTUM_PREFIX + name}'`);
      opt.velocity[i].write(fromExportLayout(model, name, v.data as Float32Array));
    });
  }
}
