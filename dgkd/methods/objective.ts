// An objective turns one mini-batch's outputs into the loss to back-propagate. The teacher computes every
// frozen teacher's logits (no grad, eval mode) before the student's forward pass, and nothing is read back.

import type { Module, Rng, Tensor } from '../../engine/index.ts';
import type { Classifier, ModelOutput } from '../models/index.ts';

export interface StepInputs {
  x: Tensor;
  labels: Tensor;
  /** The model being trained (train mode), and any models trained alongside it (CTKD's scratch teacher). */
  student: ModelOutput;
  companions: ModelOutput[];
  /** Frozen teachers' outputs, largest first, computed without gradients. */
  teachers: ModelOutput[];
  /** The run's seeded generator for per-batch random choices (stochastic teaching). */
  rng: Rng;
  /** The labels' values on the host (DKD's target masks), when the caller has them. */
  labelValues?: Int32Array;
  /** Epochs done at the end of this step, fractional (DKD's warm-up); absent: warm-ups are over. */
  progress?: number;
}

export interface Objective {
  readonly name: string;
  /** Models trained together with the student (same optimizer, same batches). */
  readonly companions?: Classifier[];
  /** Whether teachers' feature maps are needed (attention transfer), not only their logits. */
  readonly needsTeacherFeatures?: boolean;
  /**
   * Modules trained with the student that are not models (FitNets' regressor): same optimizer, train mode, saved
   * beside the checkpoint for resume, never part of the exported student.
   */
  readonly trainables?: Module[];
  loss(inputs: StepInputs): { loss: Tensor; correct: Tensor };
  /** Aggregate statistics for the log (e.g. how often each teacher was kept), JSON-serialisable. */
  stats?(): Record<string, unknown>;
  /** State to restore on resume (counters); the RNG lives with the teacher. */
  getState?(): unknown;
  setState?(s: unknown): void;
}
