// One training step, the same for every method and for the benchmark (bench/train_loop.ts): the frozen
// teachers' outputs, the student's forward pass, the method's loss, backward, the SGD update. Everything is
// encoded and nothing waits: the loss and the count of correct predictions come back as tensors to read later.

import { Rng, backward, noGrad, sum, tensor, tidy, type Tensor } from '../../engine/index.ts';
import type { SGD } from '../../engine/nn/index.ts';
import type { Classifier, ModelOutput } from '../models/index.ts';
import type { Objective } from '../methods/objective.ts';

export interface StepBatch {
  /** Normalised images [B, H, W, C] and their labels. */
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
  /** The teachers' logits for these images, when precomputed (no augmentation): else the teachers run. */
  teacherLogits?: Float32Array[];
  /** Epochs done at the end of this step, fractional (DKD's warm-up). */
  progress?: number;
}

export function trainStep(model: Classifier, teachers: Classifier[], objective: Objective, opt: SGD, batch: StepBatch, rng: Rng): [Tensor, Tensor] {
  return tidy(() => {
    const x = tensor(batch.images, batch.shape);
    const labels = tensor(batch.labels, [batch.shape[0]], 'i32');
    const teacherOut: ModelOutput[] = batch.teacherLogits
      ? batch.teacherLogits.map((z, i) => ({ logits: tensor(z, [batch.shape[0], teachers[i].numClasses]), features: [] }))
      : noGrad(() => teachers.map((t) => (objective.needsTeacherFeatures ? t.forwardWithFeatures(x) : { logits: t.forward(x), features: [] })));
    opt.zeroGrad();
    const student = model.forwardWithFeatures(x);
    const companions = (objective.companions ?? []).map((c) => c.forwardWithFeatures(x));
    const { loss, correct } = objective.loss({
      x, labels, student, companions, teachers: teacherOut, rng, labelValues: batch.labels,
      ...(batch.progress !== undefined ? { progress: batch.progress } : {}),
    });
    backward(loss);
    opt.step();
    return [loss, sum(correct)] as [Tensor, Tensor];
  });
}

/** Rows `indices` of a [rows × C] table (a teacher's logits for every training image): the batch's rows. */
export function gatherRows(table: Float32Array, indices: Int32Array, B: number, C: number): Float32Array {
  const rows = new Float32Array(B * C);
  for (let i = 0; i < B; i++) rows.set(table.subarray(indices[i] * C, (indices[i] + 1) * C), i * C);
  return rows;
}
