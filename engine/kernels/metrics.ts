// Accuracy counters that stay on the GPU (topk_correct.wgsl): summed over batches and read back once.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { WG } from './grid.ts';
import { assertShape, shapeStr } from './shapes.ts';

const TOPK_CORRECT = kernel({ shader: 'topk_correct.wgsl', params: { B: 'u32', C: 'u32', K: 'u32' }, bindings: ['z', 'labels', 'out'] });

/** [2, B] of 0/1: row 0 top-1 correct, row 1 top-k correct (a label's logit beaten by fewer than k others; a non-finite row counts as wrong). */
export function topkCorrect(logits: Tensor, labels: Tensor, k = 5): Tensor {
  assertShape('topkCorrect', 'logits', logits, 2);
  const [B, C] = logits.shape;
  if (labels.dtype !== 'i32' || labels.size !== B) {
    throw new RangeError(`topkCorrect: labels must be i32 [${B}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  const out = new Tensor([2, B]);
  runtime().launch(TOPK_CORRECT, {
    params: { B, C, K: k },
    buffers: { z: logits.buffer, labels: labels.buffer, out: out.buffer },
    workgroups: [Math.ceil(B / WG)],
    label: 'top-k correct',
  });
  return out;
}
