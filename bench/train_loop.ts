// Our engine's training step on CIFAR-shaped random data, and how it is timed — shared by bench/train_step.ts
// and bench/run.ts (the comparison with TensorFlow.js), so both report the same thing.
//
// A step is the trainer's own (dgkd/fit/step.ts) with the CE objective: forward, softmax cross-entropy,
// backward, SGD with momentum and weight decay, all encoded without waiting; the loss is queued for readback
// (Runtime.readLater). Steps are timed paced as the trainer paces itself: one step in flight, the previous
// step's loss read back while the next one runs.

import { Rng, runtime } from '../engine/index.ts';
import type { PendingRead } from '../engine/runtime/index.ts';
import { SGD } from '../engine/nn/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { CrossEntropy } from '../dgkd/methods/kd.ts';
import { trainStep } from '../dgkd/fit/step.ts';

export interface TrainStep {
  /** Encodes one training step and queues its loss for readback; nothing waits. */
  step(): PendingRead;
  dispose(): void;
}

/** A model of architecture `arch` (e.g. 'resnet8') with its optimiser, on one fixed random batch. */
export function makeTrainStep(arch: string, batch: number, numClasses = 10): TrainStep {
  const rng = new Rng(0);
  const model = createModel(arch, { numClasses });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const y = Int32Array.from({ length: batch }, () => rng.int(numClasses));
  const rt = runtime();
  const objective = new CrossEntropy();
  model.train();
  return {
    step() {
      // The batch is uploaded every step, as the trainer does.
      const [loss, correct] = trainStep(model, [], objective, opt, { images: x, labels: y, shape: [batch, 32, 32, 3] }, rng);
      const r = rt.readLater([{ buffer: loss.buffer, bytes: 4 }]);
      loss.dispose();
      correct.dispose();
      return r;
    },
    dispose() {
      opt.dispose();
      model.dispose();
      rt.trim();
    },
  };
}

/**
 * Milliseconds of each of `steps` steps in the steady state, after `warmup` steps that compile every pipeline
 * and fill the buffer pool. Step k is timed from the moment step k−1's loss arrived to the moment its own did.
 * The first two steps of a call run untimed: the first starts from an idle GPU (nothing overlaps its encoding).
 */
export async function timeTrainSteps(t: TrainStep, steps: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await t.step().wait();
  const times: number[] = [];
  if (steps <= 0) return times;
  let prev = t.step();
  let last = performance.now();
  for (let i = -2; i < steps; i++) {
    const next = t.step();
    await prev.wait();
    const now = performance.now();
    if (i >= 0) times.push(now - last);
    last = now;
    prev = next;
  }
  await prev.wait();
  return times;
}
