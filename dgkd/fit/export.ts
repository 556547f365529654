// Model-only export: a checkpoint's weights and batch-norm statistics as a PyTorch state dict in safetensors,
// without the optimizer's momentum buffers, with the `num_batches_tracked` counters PyTorch's BatchNorm2d has,
// so that `model.load_state_dict(state, strict=True)` accepts it (dgkd/pytorch/models.py has the models).
// Checkpoints already use PyTorch's names and layouts (conv weights [Cout, Cin, KH, KW], flatten in NCHW order),
// so nothing is permuted here.

import { encodeSafetensors, type SafetensorsTensor } from '../../engine/io/safetensors.ts';
import { MOMENTUM_PREFIX, CheckpointError, type LoadedCheckpoint } from './checkpoint.ts';
import { writeFileAtomic } from './atomic.ts';
import { sameFile } from '../fs_errors.ts';
import { TAKD_NORMALISATION, type Normalisation } from '../data/augment.ts';

export const MODEL_FORMAT = 'dgkd-model/1';

/** The model's tensors of a checkpoint, in state-dict order, with a `num_batches_tracked` after each BN's buffers. */
export function modelStateOf(ck: LoadedCheckpoint, path: string): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (name.startsWith(MOMENTUM_PREFIX) || name.endsWith('.num_batches_tracked')) continue;
    if (t.dtype !== 'F32') throw new CheckpointError(`${path}: tensor '${name}' has dtype ${t.dtype}, expected F32`);
    out[name] = t;
    if (name.endsWith('.running_var')) {
      // PyTorch reads the counter only when BatchNorm's momentum is None (a cumulative average); ours is 0.1.
      out[name.replace(/running_var$/, 'num_batches_tracked')] = { dtype: 'I64', shape: [], data: new BigInt64Array(1) };
    }
  }
  return out;
}

export function exportModel(ck: LoadedCheckpoint, checkpointPath: string, outPath: string): { tensors: number } {
  // Written over the checkpoint itself (by name, a symbolic or a hard link), it would lose the training state.
  if (sameFile(outPath, checkpointPath)) throw new CheckpointError(`${outPath} is the checkpoint being exported (${checkpointPath}); write the model elsewhere`);
  const tensors = modelStateOf(ck, checkpointPath);
  // The normalisation it was trained with, so that a model brought back with --teacher-checkpoint is checked.
  const norm = (ck.meta.recipe as { normalisation?: Normalisation } | undefined)?.normalisation ?? TAKD_NORMALISATION;
  // And the data it was trained on (dataset and held-out parts), so that such a model is refused by a run that
  // tests on images it trained on (kept_models.ts).
  const meta: Record<string, string> = {
    format: MODEL_FORMAT, arch: ck.meta.arch, numClasses: String(ck.meta.numClasses), dataset: String(ck.meta.dataset ?? ''), normalisation: JSON.stringify(norm),
    ...(ck.meta.data ? { data: JSON.stringify(ck.meta.data) } : {}),
  };
  writeFileAtomic(outPath, encodeSafetensors(tensors, meta));
  return { tensors: Object.keys(tensors).length };
}
