// Fused losses (softmax_ce.wgsl, softmax_kl.wgsl): one invocation per row computes the row's loss and its
// gradient together (cheap there, and it saves a pass); backward only rescales the saved gradient.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { WG } from './grid.ts';
import { sumKernel } from './reduce.ts';
import { assertShape, sameShape, shapeStr } from './shapes.ts';

const SOFTMAX_CE = kernel({
  shader: 'softmax_ce.wgsl',
  params: { B: 'u32', C: 'u32', gradScale: 'f32', nanBits: 'u32' },
  bindings: ['z', 'labels', 'loss', 'grad', 'correct'],
});

const SOFTMAX_KL = kernel({
  shader: 'softmax_kl.wgsl',
  params: { B: 'u32', C: 'u32', invT: 'f32', lossScale: 'f32' },
  bindings: ['zs', 'zt', 'loss', 'grad'],
});

/** A quiet NaN's bits: the loss of a row whose label is out of range, so that a bad label cannot go unnoticed. */
const QUIET_NAN = 0x7fc00000;

/** Mean cross-entropy [1], its gradient with respect to the logits, and per row 1 if the arg-max is the label. */
export function softmaxCrossEntropyKernel(logits: Tensor, labels: Tensor): { loss: Tensor; grad: Tensor; correct: Tensor } {
  assertShape('softmaxCrossEntropy', 'logits', logits, 2);
  const [B, C] = logits.shape;
  if (labels.dtype !== 'i32' || labels.size !== B) {
    throw new RangeError(`softmaxCrossEntropy: labels must be i32 [${B}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  const rows = new Tensor([B]);
  const grad = new Tensor([B, C]);
  const correct = new Tensor([B]);
  runtime().launch(SOFTMAX_CE, {
    params: { B, C, gradScale: 1 / B, nanBits: QUIET_NAN },
    buffers: { z: logits.buffer, labels: labels.buffer, loss: rows.buffer, grad: grad.buffer, correct: correct.buffer },
    workgroups: [Math.ceil(B / WG)],
    label: 'softmax cross-entropy',
  });
  const loss = sumKernel(rows, [0], 1 / B);
  rows.dispose();
  return { loss, grad, correct };
}

/** T²·KL(softmax(zt/T) ‖ softmax(zs/T)) summed over classes, times `scale`, and its gradient with respect to zs. */
export function softmaxKlKernel(zs: Tensor, zt: Tensor, T: number, scale: number): { loss: Tensor; grad: Tensor } {
  assertShape('klDivWithTemperature', 'student logits', zs, 2);
  if (!sameShape(zs.shape, zt.shape)) {
    throw new RangeError(`klDivWithTemperature: student logits ${shapeStr(zs.shape)} and teacher logits ${shapeStr(zt.shape)} differ`);
  }
  if (!(T > 0)) throw new RangeError(`klDivWithTemperature: temperature must be > 0, got ${T}`);
  const [B, C] = zs.shape;
  const rows = new Tensor([B]);
  const grad = new Tensor([B, C]);
  runtime().launch(SOFTMAX_KL, {
    params: { B, C, invT: 1 / T, lossScale: scale },
    buffers: { zs: zs.buffer, zt: zt.buffer, loss: rows.buffer, grad: grad.buffer },
    workgroups: [Math.ceil(B / WG)],
    label: 'softmax KL',
  });
  const loss = sumKernel(rows, [0]);
  rows.dispose();
  return { loss, grad };
}
