// Autograd mechanics, ownership, error reporting and the buffer pool.
import { beforeAll, describe, expect, it } from 'vitest';
import * as E from '../engine/index.ts';
import { Rng, backward, noGrad, tidy, runtime, Runtime } from '../engine/index.ts';
import { Conv2d, BatchNorm2d, Linear, SGD } from '../engine/nn/index.ts';
import * as R from './reference.ts';
import { down, gpuReady, labelsUp, up } from './gpu.ts';
import { readShader } from '../engine/node/dawn.ts';
import { record } from '../engine/tape.ts';

beforeAll(async () => {
  await gpuReady;
});
const rng = new Rng(7);

describe('autograd', () => {
  it('accumulates gradients over two backward passes and zeroGrad clears them', async () => {
    const x = up(R.randn([4], rng), true);
    backward(E.sum(E.square(x)));
    backward(E.sum(E.scale(x, 3)));
    const xv = await down(x);
    R.expectClose(await down(x.grad!), Array.from(xv, (v) => 2 * v + 3), { rtol: 1e-5, atol: 1e-6 }, 'accumulated grad');
    E.zeroGrad([x]);
    expect(x.grad).toBeNull();
  });

  it('sums gradients where a tensor is used twice (diamond)', async () => {
    const x = up(R.randn([3, 2], rng), true);
    const y = E.mul(E.relu(x), E.exp(x));
    backward(E.sum(y));
    const xv = await down(x);
    const expected = Array.from(xv, (v) => (v > 0 ? Math.exp(v) + v * Math.exp(v) : 0));
    R.expectClose(await down(x.grad!), expected, { rtol: 1e-5, atol: 1e-6 }, 'diamond grad');
  });

  it('records nothing in noGrad and refuses backward there', async () => {
    const x = up(R.randn([3], rng), true);
    const y = noGrad(() => E.relu(E.scale(x, 2)));
    expect(y.node).toBeNull();
    expect(() => backward(E.sum(y))).toThrow(/does not depend on anything that requires a gradient/);
  });

  it('reshape is a view: same buffer, gradient flows through', async () => {
    const x = up(R.randn([2, 6], rng), true);
    const v = x.reshape([3, -1]);
    expect(v.buffer).toBe(x.buffer);
    expect(v.shape).toEqual([3, 4]);
    backward(E.sum(E.scale(v, 2)));
    R.expectClose(await down(x.grad!), new Array(12).fill(2), { atol: 1e-7 }, 'reshape grad');
    expect(() => x.reshape([5, 5])).toThrow(/reshape: cannot view \[2, 6\] \(12 elements\) as \[5, 5\]/);
  });

  it('names both shapes when broadcasting fails', () => {
    expect(() => E.add(up(R.randn([2, 3], rng)), up(R.randn([4], rng)))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
  });

  it('throws when a disposed tensor is used', () => {
    const x = up(R.randn([2], rng));
    x.dispose();
    expect(() => E.relu(x)).toThrow(/used after dispose/);
  });
});

describe('errors from the device', () => {
  it('a WGSL compile error names the file', async () => {
    const rt = runtime();
    const broken = new Runtime(rt.device, rt.adapterDescription, (f) => (f === 'broken.wgsl' ? 'fn main( {' : readShader(f)));
    broken.pipeline('broken.wgsl');
    await broken.sync().then(
      () => expect.unreachable('expected a compile error'),
      (e: Error) => expect(e.message).toMatch(/shaders\/broken\.wgsl/),
    );
  });
  it('a missing shader file is named', () => {
    expect(() => runtime().pipeline('no_such_kernel.wgsl')).toThrow(/shader file not found: shaders\/no_such_kernel\.wgsl/);
  });
});

describe('buffer pool', () => {
  it('stops allocating after warm-up over 1,000 training steps', async () => {
    const r = new Rng(3);
    const conv = new Conv2d(3, 8, 3, r);
    const bn = new BatchNorm2d(8);
    const fc = new Linear(8 * 4 * 4, 5, r);
    const params = [...conv.parameters(), ...bn.parameters(), ...fc.parameters()];
    const opt = new SGD(params, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    const x = E.keep(up(R.randn([4, 8, 8, 3], r)));
    const y = E.keep(labelsUp(Int32Array.from([0, 1, 2, 3])));
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        const h = E.maxPool2d(bn.forward(conv.forward(x), true));
        const { loss } = E.softmaxCrossEntropy(fc.forward(E.flatten(h)), y);
        backward(loss);
        opt.step();
      });
    for (let i = 0; i < 5; i++) step();
    await runtime().sync();
    const warm = runtime().pool.getStats();
    const liveTensors = E.liveTensorCount();
    for (let i = 0; i < 1000; i++) {
      step();
      if (i % 50 === 49) {
        await runtime().sync();
        expect(runtime().pool.getStats().allocatedBytes).toBe(warm.allocatedBytes);
      }
    }
    await runtime().sync();
    const after = runtime().pool.getStats();
    expect(after.created).toBe(warm.created);
    expect(after.liveBuffers).toBe(warm.liveBuffers);
    expect(E.liveTensorCount()).toBe(liveTensors);
  });
});

describe('ownership when things go wrong', () => {
  it('tidy frees what its function made before it threw', () => {
    const before = E.liveTensorCount();
    expect(() =>
      tidy(() => {
        E.zeros([3, 4]);
        E.scale(E.ones([5]), 2);
        throw new Error('mid-step');
      }),
    ).toThrow('mid-step');
    expect(E.liveTensorCount()).toBe(before);
  });

  it('a gradient rule must give its input’s exact shape, not only as many elements', () => {
    const x = up(R.randn([2, 3], rng), true);
    const y = record(E.scale(x, 1), 'transposing rule', [x], (g) => [g.reshape([3, 2])]);
    expect(() => backward(E.sum(y))).toThrow(/backward of transposing rule: gradient shape \[3, 2\] does not match input \[2, 3\]/);
  });
});
