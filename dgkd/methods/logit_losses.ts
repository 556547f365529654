// The logit losses a student can learn from one trainer's logits, each composed from engine ops:
//
//   Hinton KD (Hinton et al., 2015):  T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), the fused kernel of engine/ops.ts.
//
//   DKD, Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu, Liang; CVPR 2022, arXiv 2203.08679), as in
//   megvii-research/mdistiller (mdistiller/distillers/DKD.py):
//     TCKD = T²/B · Σ_b KL(b_t ‖ b_s),  b = (p_y, 1 − p_y), p = softmax(z/T), y the label   (target class)
//     NCKD = T²/B · Σ_b KL(p̂_t ‖ p̂_s),  p̂ = softmax over the non-target classes of z/T      (non-target classes)
//     DKD  = w · (α·TCKD + β·NCKD),     w = min(epochs done / warm-up epochs, 1)
//   mdistiller's CIFAR-100 defaults: α = 1, β = 8 (β = 2 for resnet56 → resnet20, 6 for vgg13 → vgg8 and
//   wrn-40-2 → wrn-16-2), T = 4, warm-up 20 of 240 epochs, CE weight 1. mdistiller steps w once per epoch
//   (epoch e of 1…: e/20); here w grows with every step (epochs done, fractional), so that a warm-up shorter
//   than an epoch still ramps.
//
//   DIST, "Knowledge Distillation from A Stronger Teacher" (Huang, You, Wang, Qian, Xu; NeurIPS 2022,
//   arXiv 2205.10536), as in hunto/DIST_KD (lib/models/losses/dist_kd.py of hunto/image_classification_sota):
//     y = softmax(z/τ) per row; ρ(a, b) = Pearson correlation = cos(a − mean a, b − mean b)
//     inter = 1 − mean over samples of ρ(y_s[b, :], y_t[b, :])      (relations between classes, per sample)
//     intra = 1 − mean over classes of ρ(y_s[:, c], y_t[:, c])      (relations between samples, per class)
//     DIST  = β·τ²·inter + γ·τ²·intra
//   CIFAR-100 (configs/strategies/distill/dist_cifar.yaml): τ = 4, CE weight 1, and the KD term weighted 2 with
//   β = γ = 1 inside it: β = γ = 2 here, as the paper states for CIFAR-100.
//
// Both DKD and DIST are averaged over the batch as their reference code does (batchmean); --kl-reduction
// applies to Hinton KD only.

import { add, addScalar, div, exp, klDivWithTemperature, log, maxPool2d, mean, mul, noGrad, scale, sqrt, square, sub, sum, tensor, zeros, type KlReduction, type Tensor } from '../../engine/index.ts';

export type TeacherLossKind = 'kd' | 'dkd' | 'dist';

/** The per-teacher logit loss of a stage: Hinton KD (absent), DKD or DIST, with their weights. */
export type TeacherLossSettings =
  | { kind: 'dkd'; alpha: number; beta: number; /** warm-up in epochs; 0: none */ warmup: number }
  | { kind: 'dist'; beta: number; gamma: number };

/**
 * Each row's maximum, [B, C] → [B, 1], without gradient: the shift that keeps exp() from overflowing. Composed
 * from existing kernels: the row is repeated into a C × C map, [B, C, C, 1] with map[b, i, j] = x[b, i], and
 * max-pooled with one C × C window (B·C² elements: 1.3M for 128 rows of 100 classes).
 */
export function rowMax(x: Tensor): Tensor {
  const [B, C] = x.shape;
  return noGrad(() => maxPool2d(add(x.detach().reshape([B, C, 1, 1]), zeros([1, 1, C, 1])), C).reshape([B, 1]));
}

/** log softmax over each row, x − max − log Σ exp(x − max); the max is a constant (softmax ignores shifts). */
export function logSoftmax(x: Tensor): Tensor {
  const shifted = sub(x, rowMax(x));
  return sub(shifted, log(sum(exp(shifted), 1, true)));
}

export const softmax = (x: Tensor) => exp(logSoftmax(x));

/** [B, C] float one-hot of the labels (a constant). */
export function oneHot(labels: Int32Array, C: number): Tensor {
  const data = new Float32Array(labels.length * C);
  labels.forEach((y, b) => {
    if (!(y >= 0 && y < C)) throw new RangeError(`oneHot: label ${y} of row ${b} is not a class of ${C}`);
    data[b * C + y] = 1;
  });
  return tensor(data, [labels.length, C]);
}

/**
 * The binary (target, every other class) distribution of softmax(z/T) as two logits whose softmax at
 * temperature T is (p_y, 1 − p_y): T·(z_y/T − m, log Σ_{c≠y} exp(z_c/T − m)) with m the row's maximum.
 * 1e-30 inside the log keeps a row whose non-target mass underflows finite (mdistiller would give log 0).
 */
function targetPair(z: Tensor, gt: Tensor, other: Tensor, T: number): Tensor {
  const B = z.shape[0];
  const u = scale(z, 1 / T);
  const v = sub(u, rowMax(u));
  const target = sum(mul(v, gt), 1, true);
  const rest = log(addScalar(sum(mul(exp(v), other), 1, true), 1e-30));
  const pair = add(mul(target, tensor([1, 0], [1, 2])), mul(rest, tensor([0, 1], [1, 2])));
  return scale(pair, T).reshape([B, 2]);
}

/** DKD's two terms for logits [B, C] and labels, before α, β and the warm-up (see the top of the file). */
export function dkdTerms(zs: Tensor, zt: Tensor, labels: Int32Array, T: number): { tckd: Tensor; nckd: Tensor } {
  const [B, C] = zs.shape;
  if (labels.length !== B) throw new RangeError(`DKD: ${labels.length} labels for ${B} rows`);
  const gt = oneHot(labels, C);
  const other = addScalar(scale(gt, -1), 1);
  const tckd = klDivWithTemperature(targetPair(zs, gt, other, T), targetPair(zt.detach(), gt, other, T), T, 'batchmean');
  // The target class pushed 1000 below the others at temperature T (mdistiller's mask): softmax is then the
  // renormalised distribution over the non-target classes, and the fused KL does the rest.
  const mask = scale(gt, 1000 * T);
  const nckd = klDivWithTemperature(sub(zs, mask), sub(zt.detach(), mask), T, 'batchmean');
  return { tckd, nckd };
}

/** DKD's warm-up factor after `progress` epochs (fractional) of a `warmup`-epoch ramp. */
export const dkdWarmup = (progress: number | undefined, warmup: number) => (warmup > 0 && progress !== undefined ? Math.min(progress / warmup, 1) : 1);

/** Pearson correlation of a and b along `axis` (1: each row, 0: each column), averaged over the other axis. */
function meanPearson(a: Tensor, b: Tensor, axis: 0 | 1): Tensor {
  const ac = sub(a, mean(a, axis, true));
  const bc = sub(b, mean(b, axis, true));
  // √(Σx² + 1e-24): the norm, smooth at zero; DIST_KD's cosine adds 1e-8 to the product of the norms.
  const norm = (x: Tensor) => sqrt(addScalar(sum(square(x), axis), 1e-24));
  const cos = div(sum(mul(ac, bc), axis), addScalar(mul(norm(ac), norm(bc)), 1e-8));
  return mean(cos).reshape([1]);
}

/** DIST's two relations at temperature τ (before β, γ): τ²·inter and τ²·intra. */
export function distTerms(zs: Tensor, zt: Tensor, tau: number): { inter: Tensor; intra: Tensor } {
  const ys = softmax(scale(zs, 1 / tau));
  const yt = softmax(scale(zt.detach(), 1 / tau));
  const relation = (axis: 0 | 1) => scale(addScalar(scale(meanPearson(ys, yt, axis), -1), 1), tau * tau);
  return { inter: relation(1), intra: relation(0) };
}

export interface TeacherLossContext {
  temperature: number;
  klReduction: KlReduction;
  /** The batch's labels (DKD), and the epochs done so far, fractional (DKD's warm-up). */
  labels?: Int32Array;
  progress?: number;
}

/** One trainer's term: Hinton KD when `settings` is absent, else DKD or DIST with their weights. */
export function teacherLoss(settings: TeacherLossSettings | undefined, zs: Tensor, zt: Tensor, ctx: TeacherLossContext): Tensor {
  const T = ctx.temperature;
  if (!settings) return klDivWithTemperature(zs, zt, T, ctx.klReduction);
  if (settings.kind === 'dkd') {
    if (!ctx.labels) throw new Error('DKD needs the batch labels’ values (StepInputs.labelValues)');
    const { tckd, nckd } = dkdTerms(zs, zt, ctx.labels, T);
    const w = dkdWarmup(ctx.progress, settings.warmup);
    return add(scale(tckd, w * settings.alpha), scale(nckd, w * settings.beta));
  }
  const { inter, intra } = distTerms(zs, zt, T);
  return add(scale(inter, settings.beta), scale(intra, settings.gamma));
}
