// The engine tour's first example (docs/engine-tour.md, "A few steps of a two-layer network"), as a file that
// runs: `npx tsx docs/tour/first-steps.ts`. test/tour.test.ts runs it, checks that the loss falls and that the
// tour's numbers (kernel launches per phase, what tidy() frees) are what the engine does, and that the code
// block in the tour is this file's code between the markers.

import { initGpu } from '../../engine/node/dawn.ts';
import { Rng, backward, relu, runtime, softmaxCrossEntropy, tensor, tidy } from '../../engine/index.ts';
import { Linear, SGD } from '../../engine/nn/index.ts';

export interface TourResult {
  losses: number[];
  /** Kernel launches of the last step: forward with the loss (9 + 2), backward, update. */
  launches: { forward: number; backward: number; update: number };
}

export async function firstSteps(steps = 20, print = true): Promise<TourResult> {
  const count = () => runtime().dispatchCount;             // kernel launches so far
  const launches = { forward: 0, backward: 0, update: 0 };
  const losses: number[] = [];
  // tour: begin
  await initGpu({ log: false });                            // engine/node/dawn.ts: Dawn → a Runtime
  const rng = new Rng(0);
  const fc1 = new Linear(4, 8, rng), fc2 = new Linear(8, 3, rng);
  const opt = new SGD([...fc1.parameters(), ...fc2.parameters()], { lr: 0.1, momentum: 0.9 });
  const x = tensor(Array.from({ length: 8 }, () => rng.normal()), [2, 4]);   // two samples of four features
  const y = tensor([0, 2], [2], 'i32');                     // their classes

  for (let step = 0; step < steps; step++) {
    const loss = tidy(() => {
      opt.zeroGrad();                                       // backward() adds into .grad: drop last step's first
      const c0 = count();
      const logits = fc2.forward(relu(fc1.forward(x)));     // 9 launches (a matmul packs its operands), a graph of Nodes
      const { loss } = softmaxCrossEntropy(logits, y);      // 2 more: fused softmax + CE, then the batch mean
      const c1 = count();
      backward(loss);                                       // the rules in reverse (10 launches): gradients in .grad
      const c2 = count();
      opt.step();                                           // one sgd.wgsl launch per parameter (4)
      Object.assign(launches, { forward: c1 - c0, backward: c2 - c1, update: count() - c2 });
      return loss;                                          // kept; tidy() frees everything else the step made
    });
    losses.push((await loss.read())[0]);                    // the one value read back
    if (print) console.log(`step ${step + 1}: loss ${losses[step].toFixed(4)}`);
    loss.dispose();
  }
  // tour: end
  return { losses, launches };
}

if (process.argv[1]?.endsWith('first-steps.ts')) {
  const r = await firstSteps();
  console.log(`launches in a step: forward ${r.launches.forward}, backward ${r.launches.backward}, update ${r.launches.update}`);
  process.exit(0);
}
