// Cross-entropy and knowledge distillation objectives.
//
//   CE:              L = CE(z_s, y)
//   Hinton KD / TAKD step (one teacher):   L = (1 − λ)·CE + λ·KD(z_s, z_t)
//   DGKD (teachers 𝒯, |𝒯| = n + 1):       L = ceWeight·CE + λ·Σ_{t ∈ 𝒯} b_t·KD(z_s, z_t)
// with KD(z_s, z_t) = T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) and ceWeight = (n + 1)(1 − λ) by default (the
// paper; the official code uses (1 − λ)). Stochastic teaching draws b_t per mini-batch from the run's RNG:
// Bernoulli(p) redrawn until at least one teacher is kept (the paper), or exactly k teachers dropped uniformly
// (the official code). KD terms are summed, not averaged.
//
// Each KD term is Hinton's by default; `teacherLoss` makes it DKD's or DIST's instead (logit_losses.ts): "dense
// guidance with DKD" is DGKD whose every per-teacher term is DKD, with the same sum, weights and stochastic
// teaching. The DKD and DIST methods on their own are this objective with one teacher, λ = 1 and their CE
// weight (1 in their reference code).
//
// The summed loss grows with the number of teachers, so at one learning rate DGKD takes larger steps than KD,
// which alone helps a short schedule. `normalise` divides the whole loss by the number of teachers — (1 − λ)·CE
// + λ·mean KD — so that a comparison can tell dense teaching from step size.

import { add, scale, softmaxCrossEntropy, type KlReduction, type Rng, type Tensor } from '../../engine/index.ts';
import type { Objective, StepInputs } from './objective.ts';
import { teacherLoss, type TeacherLossSettings } from './logit_losses.ts';

export class CrossEntropy implements Objective {
  readonly name = 'ce';
  loss({ student, labels }: StepInputs) {
    return softmaxCrossEntropy(student.logits, labels);
  }
}

export type DropMode = 'none' | 'bernoulli' | 'exact-k';

export interface KdOptions {
  temperature: number;
  lambda: number;
  klReduction: KlReduction;
  /** Multiplier of the CE term; default (number of teachers)·(1 − λ). */
  ceWeight?: number;
  drop?: DropMode;
  keepProb?: number;
  dropK?: number;
  /** Divide the whole loss by the number of teachers. */
  normalise?: boolean;
  /** The per-teacher term: Hinton KD when absent, else DKD or DIST. */
  teacherLoss?: TeacherLossSettings;
  /** The objective's name in logs (default: kd with one teacher, dgkd with several). */
  name?: string;
}

/** Which teachers teach this mini-batch (true = kept). Always at least one. */
export function drawTeachers(n: number, mode: DropMode, rng: Rng, keepProb = 0.75, k = 1): boolean[] {
  if (mode === 'none' || n === 0) return new Array(n).fill(true);
  if (mode === 'exact-k') {
    const drop = Math.min(k, n - 1); // never drop everyone
    const order = rng.shuffle([...Array(n).keys()]);
    const kept = new Array(n).fill(true);
    for (let i = 0; i < drop; i++) kept[order[i]] = false;
    return kept;
  }
  for (;;) {
    const kept = Array.from({ length: n }, () => rng.next() < keepProb);
    if (kept.some(Boolean)) return kept;
  }
}

export class Distillation implements Objective {
  readonly name: string;
  private keptCounts: number[];
  private batches = 0;

  constructor(
    readonly numTeachers: number,
    readonly opts: KdOptions,
  ) {
    if (numTeachers < 1) throw new RangeError('distillation needs at least one teacher');
    this.name = opts.name ?? (numTeachers === 1 ? 'kd' : 'dgkd');
    this.keptCounts = new Array(numTeachers).fill(0);
  }

  get ceWeight(): number {
    return this.opts.ceWeight ?? this.numTeachers * (1 - this.opts.lambda);
  }

  loss({ student, teachers, labels, rng, labelValues, progress }: StepInputs) {
    const { temperature, lambda, klReduction } = this.opts;
    const kept = drawTeachers(teachers.length, this.opts.drop ?? 'none', rng, this.opts.keepProb, this.opts.dropK);
    this.batches++;
    kept.forEach((k, i) => k && this.keptCounts[i]++);
    const ce = softmaxCrossEntropy(student.logits, labels);
    let loss = this.ceWeight === 1 ? ce.loss : scale(ce.loss, this.ceWeight);
    teachers.forEach((t, i) => {
      if (!kept[i] || lambda === 0) return;
      const term = teacherLoss(this.opts.teacherLoss, student.logits, t.logits, { temperature, klReduction, labels: labelValues, progress });
      loss = add(loss, lambda === 1 ? term : scale(term, lambda));
    });
    if (this.opts.normalise && this.numTeachers > 1) loss = scale(loss, 1 / this.numTeachers);
    return { loss: loss as Tensor, correct: ce.correct };
  }

  stats() {
    return {
      batches: this.batches,
      keepRate: this.keptCounts.map((c) => (this.batches ? c / this.batches : 0)),
    };
  }

  getState() {
    return { batches: this.batches, kept: this.keptCounts };
  }

  setState(s: unknown) {
    const st = s as { batches: number; kept: number[] };
    this.batches = st.batches;
    this.keptCounts = [...st.kept];
  }
}
