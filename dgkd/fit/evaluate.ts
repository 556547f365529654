// Evaluation in dataset order, in eval mode and without gradients: accuracy counters summed on the GPU and read
// once (evaluate), or a frozen teacher's logits for every image (logitsOf, which the trainer then looks up instead
// of running the teacher in every step when there is no augmentation).

import { add, keep, noGrad, runtime, sum, tensor, tidy, topkCorrect, type Tensor } from '../../engine/index.ts';
import type { Classifier } from '../models/index.ts';
import { DataLoader } from '../data/loader.ts';
import type { Dataset } from '../data/dataset.ts';
import type { Normalisation } from '../data/augment.ts';
import { Interrupted } from './interrupted.ts';

/**
 * Runs `step` on every batch of `data` in dataset order, with `model` in eval mode and no augmentation: `step`
 * gets the batch's images and labels as tensors (inside tidy and noGrad) and returns the one tensor to keep,
 * which `after` receives and must dispose of.
 */
async function inEvalOrder(
  model: Classifier,
  data: Dataset,
  norm: Normalisation,
  batchSize: number,
  step: (x: Tensor, y: Tensor) => Tensor,
  after: (kept: Tensor, b: number) => Promise<void>,
  bankView?: { views: number; view: number },
): Promise<void> {
  const wasTraining = model.training;
  model.eval();
  const loader = new DataLoader(data, {
    batchSize, shuffle: false, augment: false, mean: norm.mean, std: norm.std, prefetch: false,
    ...(bankView ? { views: bankView.views, fixedView: bankView.view } : {}),
  });
  const { height: H, width: W, channels: C } = data;
  try {
    for (let b = 0; b < loader.batchesPerEpoch; b++) {
      const batch = loader.nextBatch();
      const kept = tidy(() =>
        noGrad(() => step(tensor(batch.x.subarray(0, batch.size * H * W * C), [batch.size, H, W, C]), tensor(batch.y.subarray(0, batch.size), [batch.size], 'i32'))),
      );
      await after(kept, b);
    }
  } finally {
    loader.close();
    model.train(wasTraining);
  }
}

/** Top-1 (and top-5) accuracy; a non-finite row counts as wrong. */
export async function evaluate(model: Classifier, data: Dataset, norm: Normalisation, batchSize = 256): Promise<{ top1: number; top5: number }> {
  let acc: Tensor | null = null;
  await inEvalOrder(
    model,
    data,
    norm,
    batchSize,
    (x, y) => {
      const counts = sum(topkCorrect(model.forward(x), y, 5), 1);
      return acc ? add(acc, counts) : counts;
    },
    async (next, b) => {
      acc?.dispose();
      acc = keep(next);
      // Let the GPU catch up every few batches, so the queue (and the memory it holds) stays short.
      if (b % 8 === 7) await runtime().sync();
    },
  );
  const total = acc as Tensor | null;
  const v = total ? await total.readF32() : new Float32Array(2);
  total?.dispose();
  return { top1: v[0] / data.size, top5: v[1] / data.size };
}

/**
 * A frozen model's logits for every view of a bank of `views` augmented views of every image (augment.ts,
 * bankView): [size × views × classes], row image · views + view, as the loader's `rows` index it.
 */
export async function bankLogitsOf(
  model: Classifier,
  data: Dataset,
  norm: Normalisation,
  views: number,
  batchSize = 256,
  signal?: { stop: boolean },
): Promise<Float32Array> {
  const C = model.numClasses;
  const out = new Float32Array(data.size * views * C);
  for (let v = 0; v < views; v++) {
    await inEvalOrder(model, data, norm, batchSize, (x) => model.forward(x), async (logits, b) => {
      const rows = await logits.readF32();
      logits.dispose();
      // Minutes of work for a large bank: a signal stops it between batches (nothing is kept; it starts over).
      if (signal?.stop) throw new Interrupted(`stopped while computing the view bank (view ${v + 1} of ${views}); it is computed again next time`);
      const first = b * batchSize;
      for (let k = 0; k < rows.length / C; k++) out.set(rows.subarray(k * C, (k + 1) * C), ((first + k) * views + v) * C);
    }, { views, view: v });
  }
  return out;
}

/** A frozen model's logits for every image of `data`, in dataset order ([size × classes]). */
export async function logitsOf(model: Classifier, data: Dataset, norm: Normalisation, batchSize = 256): Promise<Float32Array> {
  const out = new Float32Array(data.size * model.numClasses);
  await inEvalOrder(model, data, norm, batchSize, (x) => model.forward(x), async (logits, b) => {
    out.set(await logits.readF32(), b * batchSize * model.numClasses);
    logits.dispose();
  });
  return out;
}
