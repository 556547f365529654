// FitNets, "FitNets: Hints for Thin Deep Nets" (Romero, Ballas, Kahou, Chassang, Gatta, Bengio; ICLR 2015,
// arXiv 1412.6550), as in megvii-research/mdistiller (mdistiller/distillers/FitNet.py, ConvReg in _common.py,
// the defaults in mdistiller/engine/cfg.py):
//
//   L = w_ce·CE(z_s, y) + w_hint · mean over elements of (r(S_h) − T_h)²
//
// S_h is the student's guided layer, T_h the teacher's hint layer, and r a convolutional regressor from the
// student's channels to the teacher's — conv (with bias) → batch norm → ReLU — trained with the student by the
// same optimizer and thrown away afterwards (it is not part of the exported student). w_hint = 100, w_ce = 1.
// mdistiller trains everything in one stage (its CIFAR setting); the paper first trains the student up to the
// guided layer on the hint alone, then the whole student with KD: the one-stage form is implemented here.
//
// Which layers: mdistiller's hint layer 2 of a CIFAR ResNet's (stem, stage 1, stage 2, stage 3) is the middle
// stage's output. Here the guided layer is the middle one of the student's stage outputs (ceil(n/2) − 1: the
// second of three, the first of two) and the hint layer is the teacher's stage output of the same resolution
// nearest its own middle (else its middle one). The regressor is mdistiller's: a 1×1 conv when the sizes agree,
// a 3×3 stride-2 conv when the student's map is twice the teacher's, a (1 + Hs − Ht)-wide conv without padding
// when it is otherwise larger; where the teacher's map is larger, it is average-pooled to the student's size
// (mdistiller uses a transposed conv on the student's side for 2×).

import { add, mseLoss, avgPool2d, scale, softmaxCrossEntropy, type Rng, type Tensor } from '../../engine/index.ts';
import { BatchNorm2d, Conv2d, Module } from '../../engine/nn/index.ts';
import type { Objective, StepInputs } from './objective.ts';
import { BadInput } from '../errors.ts';

export interface FeatureShape {
  height: number;
  width: number;
  channels: number;
}

export interface HintPlan {
  /** Indices into the student's and the teacher's feature maps. */
  student: number;
  teacher: number;
  /** The regressor's conv, student channels → teacher channels. */
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  /** Average-pooling window applied to the teacher's hint (1: none). */
  teacherPool: number;
}

export class HintMatchError extends BadInput {
  override name = 'HintMatchError';
}

const show = (fs: FeatureShape[]) => fs.map((f) => `${f.height}×${f.width}×${f.channels}`).join(', ') || 'none';

export function planHint(student: FeatureShape[], teacher: FeatureShape[]): HintPlan {
  if (!student.length || !teacher.length) throw new HintMatchError(`FitNets needs feature maps on both sides (student: ${show(student)}; teacher: ${show(teacher)})`);
  const s = Math.ceil(student.length / 2) - 1;
  const fs = student[s];
  const middle = Math.ceil(teacher.length / 2) - 1;
  const same = [...teacher.keys()].filter((i) => teacher[i].height === fs.height && teacher[i].width === fs.width);
  const t = same.length ? same.sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle) || b - a)[0] : middle;
  const ft = teacher[t];
  const base = { student: s, teacher: t, inChannels: fs.channels, outChannels: ft.channels, kernel: 1, stride: 1, pad: 0, teacherPool: 1 };
  const dh = fs.height - ft.height;
  if (dh === 0 && fs.width === ft.width) return base;
  if (fs.height === 2 * ft.height && fs.width === 2 * ft.width) return { ...base, kernel: 3, stride: 2, pad: 1 };
  if (dh > 0 && fs.width - ft.width === dh) return { ...base, kernel: 1 + dh };
  const k = ft.height / fs.height;
  if (Number.isInteger(k) && k > 1 && ft.width === fs.width * k) return { ...base, teacherPool: k };
  throw new HintMatchError(
    `FitNets cannot match the student's guided layer ${fs.height}×${fs.width} (of ${show(student)}) with the teacher's maps (${show(teacher)})`,
  );
}

/** mdistiller's ConvReg: conv (with bias) → batch norm → ReLU, from the student's channels to the teacher's. */
export class HintRegressor extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(readonly plan: HintPlan, rng: Rng) {
    super();
    this.conv = this.child('conv', new Conv2d(plan.inChannels, plan.outChannels, plan.kernel, rng, { stride: plan.stride, pad: plan.pad, bias: true }));
    this.bn = this.child('bn', new BatchNorm2d(plan.outChannels));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x), true);
  }
}

export interface FitNetsOptions {
  weight: number;
  ceWeight: number;
}

export class FitNets implements Objective {
  readonly name = 'fitnets';
  readonly needsTeacherFeatures = true;
  readonly trainables: Module[];

  constructor(
    readonly regressor: HintRegressor,
    readonly opts: FitNetsOptions,
  ) {
    this.trainables = [regressor];
  }

  loss({ student, teachers, labels }: StepInputs) {
    const ce = softmaxCrossEntropy(student.logits, labels);
    let loss = this.opts.ceWeight === 1 ? ce.loss : scale(ce.loss, this.opts.ceWeight);
    const plan = this.regressor.plan;
    const hint = teachers[0].features[plan.teacher].detach();
    const target = plan.teacherPool === 1 ? hint : avgPool2d(hint, plan.teacherPool);
    loss = add(loss, scale(mseLoss(this.regressor.forward(student.features[plan.student]), target), this.opts.weight));
    return { loss, correct: ce.correct };
  }
}
