// AT, attention transfer: "Paying More Attention to Attention: Improving the Performance of Convolutional Neural
// Networks via Attention Transfer" (Zagoruyko & Komodakis, ICLR 2017, arXiv 1612.03928), as in
// megvii-research/mdistiller (mdistiller/distillers/AT.py, the CIFAR-100 defaults of mdistiller/engine/cfg.py):
//
//   L = w_ce·CE(z_s, y) + β · Σ_g at_loss(S_g, T_g)
//   at(x) = L2-normalise over positions of (mean over channels of x²)          (p = 2)
//   at_loss(a, b) = mean over B·HW of (at(a) − at(b))²
//
// over the stage outputs (mdistiller's feats[1:]: the three stage outputs of a CIFAR ResNet, not the stem),
// β = 1000, w_ce = 1. The paper writes the loss as β/2·‖at(a) − at(b)‖₂ per layer; mdistiller's (and the
// authors' code's) squared mean with β = 1000 is the default here. Maps of different resolutions are paired and
// pooled as attention_pairs.ts says (mdistiller average-pools the larger map of each pair too).

import { add, attentionLoss, avgPool2d, scale, softmaxCrossEntropy, type Tensor } from '../../engine/index.ts';
import type { Objective, StepInputs } from './objective.ts';
import { matchAttentionGroups, type AttentionPair } from './attention_pairs.ts';

export interface AtOptions {
  beta: number;
  ceWeight: number;
}

const sizes = (fs: Tensor[]) => fs.map((f) => ({ height: f.shape[1], width: f.shape[2] }));
const pooled = (f: Tensor, k: number) => (k === 1 ? f : avgPool2d(f, k));

/** β·Σ over matched pairs of at_loss, the student's maps against the (frozen) teacher's. */
export function attentionTransfer(student: Tensor[], teacher: Tensor[], pairs: AttentionPair[], beta: number): Tensor {
  let loss: Tensor | null = null;
  for (const p of pairs) {
    const term = attentionLoss(pooled(student[p.target], p.targetPool), pooled(teacher[p.expert].detach(), p.expertPool));
    loss = loss ? add(loss, term) : term;
  }
  if (!loss) throw new Error('attention transfer: no pair of feature maps');
  return scale(loss, beta);
}

export class AttentionTransfer implements Objective {
  readonly name = 'at';
  readonly needsTeacherFeatures = true;
  private pairs: AttentionPair[] | null = null;

  constructor(readonly opts: AtOptions) {}

  loss({ student, teachers, labels }: StepInputs) {
    const ce = softmaxCrossEntropy(student.logits, labels);
    let loss = this.opts.ceWeight === 1 ? ce.loss : scale(ce.loss, this.opts.ceWeight);
    const teacher = teachers[0];
    if (this.opts.beta !== 0) {
      this.pairs ??= matchAttentionGroups(sizes(student.features), sizes(teacher.features));
      loss = add(loss, attentionTransfer(student.features, teacher.features, this.pairs, this.opts.beta));
    }
    return { loss, correct: ce.correct };
  }
}
