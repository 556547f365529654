// CTKD, "Highlight Every Step" (Zhao et al.): a scratch teacher is trained from scratch together with the
// student (same optimizer, same batches), and a frozen expert teacher guides through attention maps:
//
//   L = CE(z_scratch, y) + CE(z_s, y)
//     + γ · mean_b Σ_c (stopgrad(z_scratch) − z_s)²        the student follows the teacher's current outputs
//     + β · Σ_{g=1..3} at_loss(F_g, E_g)                   expert attention on the three stage outputs
//
// at(x) = L2-normalised channel-mean of x²; at_loss = mean over B·HW of (at(a) − at(b))². The paper says the
// expert guides the student; the official code matches the expert against the scratch teacher's groups:
// `target` selects which (default: student). The official code also shares the first conv between the
// scratch teacher and the student; here they are separate models (documented deviation).

import { add, attentionLoss, scale, softmaxCrossEntropy, square, sub, sum, type Tensor } from '../../engine/index.ts';
import type { Classifier } from '../models/index.ts';
import type { Objective, StepInputs } from './objective.ts';

export interface CtkdOptions {
  gamma: number;
  beta: number;
  target: 'student' | 'scratch';
}

export class CollaborativeTeaching implements Objective {
  readonly name = 'ctkd';
  readonly needsTrainerFeatures = true;
  readonly companions: Classifier[];

  constructor(
    readonly scratch: Classifier,
    readonly opts: CtkdOptions,
  ) {
    this.companions = [scratch];
  }

  loss({ student, companions, trainers, labels }: StepInputs) {
    const scratchOut = companions[0];
    const B = student.logits.shape[0];
    const ceS = softmaxCrossEntropy(student.logits, labels);
    const ceT = softmaxCrossEntropy(scratchOut.logits, labels);
    let loss: Tensor = add(ceS.loss, ceT.loss);
    if (this.opts.gamma !== 0) {
      // stopgrad: the scratch teacher receives no gradient from the student's logit loss.
      const d = sub(scratchOut.logits.detach(), student.logits);
      loss = add(loss, scale(sum(square(d)).reshape([1]), this.opts.gamma / B));
    }
    const expert = trainers[0];
    if (this.opts.beta !== 0 && expert) {
      const target = this.opts.target === 'student' ? student : scratchOut;
      const n = Math.min(3, target.features.length, expert.features.length);
      for (let g = 0; g < n; g++) {
        const ft = target.features[target.features.length - n + g];
        const fe = expert.features[expert.features.length - n + g];
        loss = add(loss, scale(attentionLoss(ft, fe.detach()), this.opts.beta));
      }
    }
    return { loss, correct: ceS.correct };
  }
}
