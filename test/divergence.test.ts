// A finite loss that runs away (not only NaN or Inf) stops training with a message naming stage, epoch and step.
import { beforeAll, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scale, softmaxCrossEntropy } from '../engine/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { makeSynthetic, TAKD_NORMALISATION } from '../dgkd/data/index.ts';
import { fit, NonFiniteLossError } from '../dgkd/fit/trainer.ts';
import { Progress } from '../dgkd/fit/progress.ts';
import type { Objective, StepInputs } from '../dgkd/methods/objective.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

/** CE times a factor that grows 10× per step from step 12 on: finite, but diverging. */
class RunawayLoss implements Objective {
  readonly name = 'runaway';
  private step = 0;
  loss({ student, labels }: StepInputs) {
    const ce = softmaxCrossEntropy(student.logits, labels);
    const factor = 10 ** Math.max(0, this.step++ - 11);
    return { loss: scale(ce.loss, factor), correct: ce.correct };
  }
}

it('stops a run whose loss grows without bound, naming stage, epoch and step', async () => {
  const { train, test } = makeSynthetic({ seed: 0, trainSize: 256, testSize: 32 });
  const model = createModel('plain2', { numClasses: 10, seed: 0 });
  const run = fit({
    stage: 'runaway-stage',
    model,
    teachers: [],
    objective: new RunawayLoss(),
    train,
    test,
    recipe: {
      epochs: 2, batchSize: 8, schedule: { kind: 'constant', lr: 1e-4, epochs: 2 }, momentum: 0, weightDecay: 0,
      nesterov: false, augment: false, normalisation: TAKD_NORMALISATION, seed: 0,
    },
    dir: mkdtempSync(join(tmpdir(), 'dgkd-diverge-')),
    dataset: 'synthetic',
    progress: new Progress(true),
  });
  await expect(run).rejects.toThrow(NonFiniteLossError);
  await expect(run).rejects.toThrow(/\[runaway-stage\] the loss diverged: .* at epoch 1, step 1[6-9]/);
  model.dispose();
});
