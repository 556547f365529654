// Memory that stays flat over a long run: the engine's caches (uniform buffers, bind groups, pipelines, the buffer
// pool) stop growing once a training run has seen its shapes, however many distinct steps follow, and the
// uniform cache — keyed by content, so a value that changes every step makes a new entry — is bounded.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtime, scale, softmaxCrossEntropy, tensor } from '../engine/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { makeSynthetic, TAKD_NORMALISATION } from '../dgkd/data/index.ts';
import { fit } from '../dgkd/fit/trainer.ts';
import { Progress } from '../dgkd/fit/progress.ts';
import type { Objective, StepInputs } from '../dgkd/methods/objective.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

it('the uniform cache is bounded, and kernels stay correct across its flushes', async () => {
  const x = tensor([1, 2, 3, 4, 5], [5]);
  let last = x;
  for (let i = 0; i < 5000; i++) {
    const y = scale(x, 1 + i / 8192); // a distinct parameter block each launch
    if (last !== x) last.dispose();
    last = y;
    expect(runtime().cacheSizes().uniforms).toBeLessThanOrEqual(4096);
  }
  const f = 1 + 4999 / 8192;
  expect(Array.from(await last.read())).toEqual(Array.from(new Float32Array([1, 2, 3, 4, 5].map((v) => v * f))));
  x.dispose();
  last.dispose();
});

/** CE scaled by a factor that differs at every step (as a schedule's would): a new uniform each step. */
class SteppedLoss implements Objective {
  readonly name = 'stepped';
  private step = 0;
  loss({ student, labels }: StepInputs) {
    const ce = softmaxCrossEntropy(student.logits, labels);
    return { loss: scale(ce.loss, 1 + (this.step++ % 3000) / 3000), correct: ce.correct };
  }
}

/** Samples the engine's caches at each epoch's end (the trainer logs one line per epoch). */
class Sampler extends Progress {
  samples: ReturnType<ReturnType<typeof runtime>['cacheSizes']>[] = [];
  constructor() {
    super(true);
  }
  override log(line: string): void {
    if (/\] epoch \d+\//.test(line)) this.samples.push(runtime().cacheSizes());
  }
}

it('a long run: caches stop growing after the first epochs, resident memory stays flat', async () => {
  const { train, test } = makeSynthetic({ seed: 1, trainSize: 96, testSize: 32 });
  const model = createModel('plain2', { numClasses: 10, seed: 0 });
  const progress = new Sampler();
  const epochs = 150;
  const r = await fit({
    stage: 'long',
    model,
    teachers: [],
    objective: new SteppedLoss(),
    train,
    test,
    recipe: {
      epochs, batchSize: 40, schedule: { kind: 'cosine', lr: 0.01, epochs }, momentum: 0.9, weightDecay: 5e-4,
      nesterov: false, augment: true, normalisation: TAKD_NORMALISATION, seed: 0,
    },
    evalEvery: 5,
    dir: mkdtempSync(join(tmpdir(), 'dgkd-long-')),
    dataset: 'synthetic',
    progress,
  });
  model.dispose();
  expect(progress.samples).toHaveLength(epochs);
  // 750 distinct steps (three a epoch, the last one short) and 50 evaluations: after the first ten epochs the
  // pipelines and pooled buffers are all there; uniforms grow by the stepped factor only (bounded: the first test),
  // and bind groups by the two launches that use it (forward and backward of the scale; bounded at 20,000).
  const early = progress.samples[9];
  const end = progress.samples[epochs - 1];
  expect(end.pipelines).toBe(early.pipelines);
  expect(end.pooledBuffers).toBe(early.pooledBuffers);
  expect(end.bindGroups - early.bindGroups).toBeLessThanOrEqual(2 * (end.uniforms - early.uniforms) + 2);
  expect(end.uniforms - early.uniforms).toBeLessThanOrEqual(3 * (epochs - 10));
  const rss = r.history.map((h) => h.rssMB!);
  const growth = Math.max(...rss.slice(epochs / 2)) - rss[9];
  console.log(`caches after epoch 10: ${JSON.stringify(early)}; after ${epochs}: ${JSON.stringify(end)}; RSS ${rss[9]} → ${rss[epochs - 1]} MB`);
  expect(growth).toBeLessThan(40);
});
