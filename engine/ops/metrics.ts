// Accuracy counters that stay on the GPU (shaders/topk_correct.wgsl): summed over batches and read back once.

import { Tensor } from '../tensor.ts';
import { assertShape, dispatch, shapeStr, WG } from './util.ts';

/** [2, B] of 0/1: row 0 top-1 correct, row 1 top-k correct (a label's logit beaten by fewer than k others). */
export function topkCorrect(logits: Tensor, labels: Tensor, k = 5): Tensor {
  assertShape('topkCorrect', 'logits', logits, 2);
  const [B, C] = logits.shape;
  if (labels.dtype !== 'i32' || labels.size !== B) {
    throw new RangeError(`topkCorrect: labels must be i32 [${B}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  const out = new Tensor([2, B]);
  dispatch({
    shader: 'topk_correct.wgsl',
    params: [B, C, k],
    buffers: [logits.buffer, labels.buffer, out.buffer],
    workgroups: [Math.ceil(B / WG)],
    label: 'top-k correct',
  });
  return out;
}
