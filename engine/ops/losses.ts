// Fused losses. Each computes its gradient in the forward kernel (it is cheap there and saves a pass) and
// keeps it for backward, which only rescales it by the upstream gradient — when one is needed at all.

import { needsGrad, record } from '../autograd.ts';
import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { mean, sumKernel } from './reduce.ts';
import { square, sub } from './elementwise.ts';
import { assertShape, dispatch, sameShape, shapeStr, WG } from './util.ts';

/** Multiplies a saved gradient by a scalar upstream gradient g (shape [1] or []). */
function scaleBySaved(saved: Tensor, g: Tensor): Tensor {
  const out = new Tensor([...saved.shape]);
  dispatch({
    shader: 'binary.wgsl',
    constants: { OP: 2, D3: saved.size },
    params: [saved.size, 0, 0, 0, 1, 0, 0, 0, 0],
    buffers: [saved.buffer, g.buffer, out.buffer],
    workgroups: [Math.ceil(saved.size / WG)],
    label: 'scale saved gradient',
  });
  return out;
}

export interface CrossEntropyResult {
  /** Mean loss over the batch, shape [1]. */
  loss: Tensor;
  /** Per row: 1 if the arg-max logit is the label, else 0 — sum it on the GPU for accuracy. */
  correct: Tensor;
}

/** Softmax cross-entropy with integer labels: logits [B, C], labels [B] (i32). */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): CrossEntropyResult {
  assertShape('softmaxCrossEntropy', 'logits', logits, 2);
  const [B, C] = logits.shape;
  if (labels.dtype !== 'i32' || labels.size !== B) {
    throw new RangeError(`softmaxCrossEntropy: labels must be i32 [${B}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  const rows = new Tensor([B]);
  const grad = new Tensor([B, C]);
  const correct = new Tensor([B]);
  dispatch({
    shader: 'softmax_ce.wgsl',
    params: [B, C, f32(1 / B), 0x7fc00000],
    buffers: [logits.buffer, labels.buffer, rows.buffer, grad.buffer, correct.buffer],
    workgroups: [Math.ceil(B / WG)],
    label: 'softmax cross-entropy',
  });
  const loss = sumKernel(rows, [0], 1 / B);
  rows.dispose();
  if (!needsGrad(logits)) grad.dispose();
  record(loss, 'softmaxCrossEntropy', [logits], (g) => [scaleBySaved(grad, g)]);
  return { loss, correct };
}

export type KlReduction = 'batchmean' | 'elementwise-mean';

/**
 * Hinton's distillation term T²·KL(softmax(zt/T) ‖ softmax(zs/T)), summed over classes and divided by B
 * ("batchmean") or by B·C ("elementwise-mean", PyTorch KLDivLoss's default as used by the official TAKD/DGKD
 * code). zt is treated as a constant.
 */
export function klDivWithTemperature(zs: Tensor, zt: Tensor, T: number, reduction: KlReduction = 'batchmean'): Tensor {
  assertShape('klDivWithTemperature', 'student logits', zs, 2);
  if (!sameShape(zs.shape, zt.shape)) {
    throw new RangeError(`klDivWithTemperature: student logits ${shapeStr(zs.shape)} and trainer logits ${shapeStr(zt.shape)} differ`);
  }
  if (!(T > 0)) throw new RangeError(`klDivWithTemperature: temperature must be > 0, got ${T}`);
  const [B, C] = zs.shape;
  const scale = (T * T) / (reduction === 'batchmean' ? B : B * C);
  const rows = new Tensor([B]);
  const grad = new Tensor([B, C]);
  dispatch({
    shader: 'softmax_kl.wgsl',
    params: [B, C, f32(1 / T), f32(scale)],
    buffers: [zs.buffer, zt.buffer, rows.buffer, grad.buffer],
    workgroups: [Math.ceil(B / WG)],
    label: 'softmax KL',
  });
  const loss = sumKernel(rows, [0]);
  rows.dispose();
  if (!needsGrad(zs)) grad.dispose();
  return record(loss, 'klDivWithTemperature', [zs], (g) => [scaleBySaved(grad, g)]);
}

/** Mean squared error over all elements (composed from primitives; autograd does the rest). */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new RangeError(`mseLoss: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  return mean(square(sub(a, b))).reshape([1]);
}

