// RKD, "Relational Knowledge Distillation" (Park, Kim, Lu, Cho; CVPR 2019, arXiv 1904.05068), as in
// megvii-research/mdistiller (mdistiller/distillers/RKD.py, the defaults in mdistiller/engine/cfg.py):
//
//   L = w_ce·CE(z_s, y) + w_d·L_dist + w_a·L_angle          w_d = 25, w_a = 50, w_ce = 1
//   ψ_D(i, j) = ‖e_i − e_j‖ / μ,  μ = mean of ‖e_i − e_j‖ over the pairs i ≠ j      (distances, the diagonal 0)
//   ψ_A(i, j, k) = ⟨n(e_i − e_j), n(e_k − e_j)⟩,  n(v) = v / max(‖v‖, 1e-12)          (angles at e_j)
//   L_dist = mean over the B² pairs of smooth-L1(ψ_D^s − ψ_D^t); L_angle = mean over the B³ triples, likewise
//
// with squared distances clamped at 1e-12 before the square root (mdistiller's _pdist), the teacher's side
// without gradient and the student's μ with gradient. e is the penultimate embedding — mdistiller's pooled_feat,
// the classifier's input — taken here as the global average of each model's last stage output: exactly the
// classifier's input for ResNets and VGGs, the map before the final BN-ReLU for WRNs, and the pooled last map
// (not the flattened one) for the plain CNNs, whose classifiers are fully connected.
//
// Composed from engine ops without a batched matmul: with the Gram matrix G = e·eᵀ of the batch-centred
// embeddings (centring changes no distance or angle and keeps float32 cancellation small), squared distances are
// D² = g_i + g_j − 2G and the angle's numerator is ⟨e_i − e_j, e_k − e_j⟩ = (D²_ji + D²_jk − D²_ik)/2, so every
// B³ tensor is a broadcast of B × B matrices. Triples with i = j or k = j are exactly 0, as n(0) = 0 makes them.

import { add, addScalar, div, globalAvgPool, matmul, mean, mul, relu, scale, softmaxCrossEntropy, sqrt, square, sub, sum, tensor, type Tensor } from '../../engine/index.ts';
import type { ModelOutput } from '../models/index.ts';
import type { Objective, StepInputs } from './objective.ts';

export interface RkdOptions {
  distance: number;
  angle: number;
  ceWeight: number;
}

/** The penultimate embedding [B, C]: the global average of the last stage output. */
export function embedding(out: ModelOutput): Tensor {
  const last = out.features[out.features.length - 1];
  if (!last) throw new Error('RKD needs a feature map from the model');
  return globalAvgPool(last);
}

/** smooth-L1 (β = 1) of x, element-wise: 0.5x² where |x| < 1, else |x| − 0.5. Composed: m = min(|x|, 1), m·(|x| − m/2). */
export function smoothL1(x: Tensor): Tensor {
  const a = add(relu(x), relu(scale(x, -1)));
  const m = sub(a, relu(addScalar(a, -1)));
  return mul(m, sub(a, scale(m, 0.5)));
}

/** Squared pairwise distances [B, B] of the rows of e (≥ 0 up to rounding). */
function squaredDistances(e: Tensor): Tensor {
  const B = e.shape[0];
  const c = sub(e, mean(e, 0, true));
  const g = matmul(c, c, { transB: true });
  const sq = sum(square(c), 1, true);
  return sub(add(sq, sq.reshape([1, B])), scale(g, 2));
}

const constant = (B: number, f: (i: number, j: number) => number) => {
  const d = new Float32Array(B * B);
  for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) d[i * B + j] = f(i, j);
  return tensor(d, [B, B]);
};

/** ψ_D: distances over their mean off the diagonal, the diagonal 0. */
function distancePotential(d2: Tensor, offDiagonal: Tensor): Tensor {
  const B = d2.shape[0];
  const d = mul(sqrt(addScalar(relu(addScalar(d2, -1e-12)), 1e-12)), offDiagonal);
  return div(d, scale(sum(d, [0, 1], true), 1 / (B * (B - 1))));
}

/** ψ_A as [B (j), B (i), B (k)]. */
function anglePotential(d2: Tensor, offDiagonal: Tensor, diagonal: Tensor): Tensor {
  const B = d2.shape[0];
  const r = relu(d2);
  const num = scale(sub(add(r.reshape([B, B, 1]), r.reshape([B, 1, B])), r.reshape([1, B, B])), 0.5);
  // ‖e_i − e_j‖, with 1 on the diagonal (those triples are masked to 0); √(D² + 1e-24) ≥ 1e-12 elsewhere, as
  // mdistiller's max(‖v‖, 1e-12), and with a finite gradient at 0.
  const norm = sqrt(addScalar(add(r, diagonal), 1e-24));
  const den = mul(norm.reshape([B, B, 1]), norm.reshape([B, 1, B]));
  const mask = mul(offDiagonal.reshape([B, B, 1]), offDiagonal.reshape([B, 1, B]));
  return mul(div(num, den), mask);
}

/** The two RKD terms (before their weights) for student and teacher embeddings [B, Ds], [B, Dt]. */
export function rkdTerms(es: Tensor, et: Tensor): { distance: Tensor; angle: Tensor } {
  const B = es.shape[0];
  if (B < 2) throw new RangeError(`RKD needs at least 2 samples in a batch, got ${B}`);
  const offDiagonal = constant(B, (i, j) => (i === j ? 0 : 1));
  const diagonal = constant(B, (i, j) => (i === j ? 1 : 0));
  const ds = squaredDistances(es);
  const dt = squaredDistances(et.detach());
  const distance = mean(smoothL1(sub(distancePotential(ds, offDiagonal), distancePotential(dt, offDiagonal)))).reshape([1]);
  const angle = mean(smoothL1(sub(anglePotential(ds, offDiagonal, diagonal), anglePotential(dt, offDiagonal, diagonal)))).reshape([1]);
  return { distance, angle };
}

export class RelationalKd implements Objective {
  readonly name = 'rkd';
  readonly needsTeacherFeatures = true;

  constructor(readonly opts: RkdOptions) {}

  loss({ student, teachers, labels }: StepInputs) {
    const ce = softmaxCrossEntropy(student.logits, labels);
    let loss = this.opts.ceWeight === 1 ? ce.loss : scale(ce.loss, this.opts.ceWeight);
    const { distance, angle } = rkdTerms(embedding(student), embedding(teachers[0]));
    if (this.opts.distance !== 0) loss = add(loss, scale(distance, this.opts.distance));
    if (this.opts.angle !== 0) loss = add(loss, scale(angle, this.opts.angle));
    return { loss, correct: ce.correct };
  }
}
