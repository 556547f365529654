// A small conv-BN-ReLU-pool-linear network learns a synthetic task well above chance in a few hundred steps.
import { beforeAll, expect, it } from 'vitest';
import * as E from '../engine/index.ts';
import { Rng, backward, noGrad, tidy, runtime } from '../engine/index.ts';
import { Conv2d, BatchNorm2d, Linear, SGD, Module } from '../engine/nn/index.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

/** 8×8×3 images of noisy stripes; the class is the stripe orientation (4 classes, chance = 25%). */
function stripes(n: number, rng: Rng) {
  const x = new Float32Array(n * 8 * 8 * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = rng.int(4);
    y[i] = cls;
    const phase = rng.next() * 2 * Math.PI;
    const colour = [rng.next(), rng.next(), rng.next()];
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        const t = [r, c, r + c, r - c][cls];
        const v = Math.sin(t * 1.6 + phase);
        for (let ch = 0; ch < 3; ch++) x[((i * 8 + r) * 8 + c) * 3 + ch] = v * colour[ch] + 0.6 * rng.normal();
      }
    }
  }
  return { x, y };
}

class Net extends Module {
  c1: Conv2d; b1: BatchNorm2d; c2: Conv2d; b2: BatchNorm2d; fc: Linear;
  constructor(rng: Rng) {
    super();
    this.c1 = this.child('c1', new Conv2d(3, 8, 3, rng));
    this.b1 = this.child('b1', new BatchNorm2d(8));
    this.c2 = this.child('c2', new Conv2d(8, 16, 3, rng));
    this.b2 = this.child('b2', new BatchNorm2d(16));
    this.fc = this.child('fc', new Linear(16 * 2 * 2, 4, rng));
  }
  forward(x: E.Tensor) {
    const h1 = E.maxPool2d(this.b1.forward(this.c1.forward(x), true));
    const h2 = E.maxPool2d(this.b2.forward(this.c2.forward(h1), true));
    return this.fc.forward(E.flatten(h2));
  }
}

it('a conv-BN-ReLU-pool-linear net learns above chance', async () => {
  const rng = new Rng(11);
  const net = new Net(rng);
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const B = 32;
  const losses: number[] = [];
  for (let step = 0; step < 300; step++) {
    const { x, y } = stripes(B, rng);
    const lossT = tidy(() => {
      opt.zeroGrad();
      const { loss } = E.softmaxCrossEntropy(net.forward(E.tensor(x, [B, 8, 8, 3])), E.tensor(y, [B], 'i32'));
      backward(loss);
      opt.step();
      return loss;
    });
    if (step % 25 === 0 || step === 299) losses.push(await lossT.item());
    lossT.dispose();
  }
  net.eval();
  const test = stripes(256, new Rng(999));
  const correct = noGrad(() =>
    tidy(() => E.sum(E.softmaxCrossEntropy(net.forward(E.tensor(test.x, [256, 8, 8, 3])), E.tensor(test.y, [256], 'i32')).correct)),
  );
  const acc = (await correct.item()) / 256;
  await runtime().sync();
  const early = losses.slice(0, 2).reduce((a, b) => a + b) / 2;
  const late = losses.slice(-3).reduce((a, b) => a + b) / 3;
  expect(late).toBeLessThan(early * 0.5);
  expect(acc).toBeGreaterThan(0.7);
  console.log(`loss ${early.toFixed(3)} → ${late.toFixed(3)}, held-out accuracy ${(acc * 100).toFixed(1)}% (chance 25%)`);
});
