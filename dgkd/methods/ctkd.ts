// CTKD, "Highlight Every Step" (Zhao et al.): a scratch teacher is trained from scratch together with the
// student (same optimizer, same batches), and a frozen expert teacher guides through attention maps:
//
//   L = CE(z_scratch, y) + CE(z_s, y)
//     + γ · mean_{b,c} (stopgrad(z_scratch) − z_s)²        the student follows the teacher's current outputs
//     + β · Σ_g at_loss(F_g, E_g)                          expert attention on up to three stage outputs
//
// at(x) = L2-normalised channel-mean of x²; at_loss = mean over B·HW of (at(a) − at(b))². Groups of different
// resolutions are matched as attention_pairs.ts says (average-pooling the larger map).
//
// The logit term is a mean over the B·C logits (PyTorch's MSELoss), not a per-sample sum over classes: its
// curvature along the last layer's weights is 2γ·‖h‖²/C for the layer's input h, and a plain CNN's flattened
// input has ‖h‖² in the thousands, so the per-sample sum at γ = 1 made each SGD step at lr 0.01 overshoot ~10×
// and the logits grew 10× a step (loss 1e33 in one epoch; docs/ctkd.md has the measurements).
//
// The paper says the expert guides the student; the official code matches the expert against the scratch
// teacher's groups: `target` selects which (default: student). The official code also shares the first conv
// between the scratch teacher and the student; here they are separate models (documented deviation).

import { add, attentionLoss, avgPool2d, scale, softmaxCrossEntropy, square, sub, mean, type Tensor } from '../../engine/index.ts';
import type { Classifier } from '../models/index.ts';
import type { Objective, StepInputs } from './objective.ts';
import { matchAttentionGroups, type AttentionPair } from './attention_pairs.ts';

export interface CtkdOptions {
  gamma: number;
  beta: number;
  target: 'student' | 'scratch';
}

const sizes = (fs: Tensor[]) => fs.map((f) => ({ height: f.shape[1], width: f.shape[2] }));
const pooled = (f: Tensor, k: number) => (k === 1 ? f : avgPool2d(f, k));

export class CollaborativeTeaching implements Objective {
  readonly name = 'ctkd';
  readonly needsTeacherFeatures = true;
  readonly companions: Classifier[];
  private pairs: AttentionPair[] | null = null;

  constructor(
    readonly scratch: Classifier,
    readonly opts: CtkdOptions,
  ) {
    this.companions = [scratch];
  }

  loss({ student, companions, teachers, labels }: StepInputs) {
    const scratchOut = companions[0];
    const ceS = softmaxCrossEntropy(student.logits, labels);
    const ceT = softmaxCrossEntropy(scratchOut.logits, labels);
    let loss: Tensor = add(ceS.loss, ceT.loss);
    if (this.opts.gamma !== 0) {
      // stopgrad: the scratch teacher receives no gradient from the student's logit loss.
      const d = sub(scratchOut.logits.detach(), student.logits);
      loss = add(loss, scale(mean(square(d)).reshape([1]), this.opts.gamma));
    }
    const expert = teachers[0];
    if (this.opts.beta !== 0 && expert) {
      const target = this.opts.target === 'student' ? student : scratchOut;
      this.pairs ??= matchAttentionGroups(sizes(target.features), sizes(expert.features));
      for (const p of this.pairs) {
        const ft = pooled(target.features[p.target], p.targetPool);
        const fe = pooled(expert.features[p.expert].detach(), p.expertPool);
        loss = add(loss, scale(attentionLoss(ft, fe), this.opts.beta));
      }
    }
    return { loss, correct: ceS.correct };
  }
}
