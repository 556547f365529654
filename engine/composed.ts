// The fused ops written out with elementary differentiable ops (ops.ts): batch norm, softmax cross-entropy and
// Hinton's softened KL. Each fused kernel computes its forward and its gradient in a few passes of hand-derived
// WGSL; these compute the same formula the slow, obvious way, and autograd derives their gradients from the
// one-line rules of the elementary ops. test/composed.test.ts checks every fused op against its composed twin,
// forward and backward — the calculus the fused kernels carry, checked by the calculus the engine already trusts.
// For learning and testing: several times slower, more memory, and no max-subtraction in the softmaxes (fine for
// logits of moderate size, which is what the tests use).

import { add, div, exp, log, mean, mul, scale, sqrt, square, sub, sum, addScalar } from './ops.ts';
import type { Tensor } from './tensor.ts';

/** Every axis but the last (the channel axis of NHWC data, or the feature axis of [N, C]). */
const allButChannels = (x: Tensor) => x.shape.slice(0, -1).map((_, i) => i);

/**
 * Batch norm in training mode: per channel c, over every other axis,
 *   μ = mean(x),  σ² = mean((x − μ)²)  (biased, as the forward pass normalises),
 *   y = γ · (x − μ) / √(σ² + ε) + β.
 */
export function batchNormTrainComposed(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const axes = allButChannels(x);
  const mu = mean(x, axes, true);
  const centred = sub(x, mu);
  const variance = mean(square(centred), axes, true);
  const xhat = div(centred, sqrt(addScalar(variance, eps)));
  return add(mul(xhat, gamma), beta);
}

/** Batch norm in evaluation mode: the running statistics are constants, y = γ · (x − m) / √(v + ε) + β. */
export function batchNormEvalComposed(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, eps = 1e-5): Tensor {
  return add(mul(div(sub(x, runningMean), sqrt(addScalar(runningVar, eps))), gamma), beta);
}

/** log softmax over the last axis of [B, C]: z − log Σ exp(z). */
function logSoftmax(z: Tensor): Tensor {
  return sub(z, log(sum(exp(z), 1, true)));
}

/** Softmax cross-entropy with one-hot targets [B, C]: −(1/B) Σ_b Σ_c y_bc · log softmax(z)_bc. */
export function softmaxCrossEntropyComposed(logits: Tensor, oneHot: Tensor): Tensor {
  const B = logits.shape[0];
  return scale(sum(mul(oneHot, logSoftmax(logits))), -1 / B);
}

/**
 * Hinton's term T² · KL(p_t ‖ p_s) with p = softmax(z / T), summed over classes and divided by B ("batchmean")
 * or by B·C ("elementwise-mean"): T² · Σ p_t · (log p_t − log p_s) / (B or B·C). The teacher's logits are a
 * constant (they require no gradient).
 */
export function klDivComposed(zs: Tensor, zt: Tensor, T: number, reduction: 'batchmean' | 'elementwise-mean' = 'batchmean'): Tensor {
  const [B, C] = zs.shape;
  const logPs = logSoftmax(scale(zs, 1 / T));
  const logPt = logSoftmax(scale(zt, 1 / T));
  const kl = sum(mul(exp(logPt), sub(logPt, logPs)));
  return scale(kl, (T * T) / (reduction === 'batchmean' ? B : B * C));
}
