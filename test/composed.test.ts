// The fused ops against their composed twins (engine/composed.ts): batch norm (training and evaluation, with and
// without the fused ReLU), softmax cross-entropy and the softened KL (both reductions), forward and every
// gradient, on random inputs of awkward sizes. The composed versions get their gradients from the elementary
// ops' rules (engine/ops.ts), each of which test/ops.test.ts checks against finite differences.
import { beforeAll, describe, expect, it } from 'vitest';
import * as E from '../engine/index.ts';
import { Rng, backward, tensor } from '../engine/index.ts';
import { batchNormEvalComposed, batchNormTrainComposed, klDivComposed, softmaxCrossEntropyComposed } from '../engine/composed.ts';
import * as R from './reference.ts';
import { down, gpuReady, labelsUp, up } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});
const rng = new Rng(11);
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** The loss Σ y·w for a fixed random w: every output element gets its own upstream gradient. */
function weighted(y: E.Tensor, w: E.Tensor): E.Tensor {
  return E.sum(E.mul(y, w));
}

describe('batch norm: fused kernels = composed formula', () => {
  for (const [shape, relu] of [[[3, 5, 7, 6], false], [[2, 4, 3, 13], true], [[9, 10], false], [[5, 3, 3, 8], true]] as [number[], boolean][]) {
    it(`training, x ${JSON.stringify(shape)}${relu ? ', ReLU fused' : ''}: y, dx, dγ, dβ`, async () => {
      const C = shape[shape.length - 1];
      const xv = R.randn(shape, rng, 2);
      const gv = R.rand([C], rng, 0.5, 1.5);
      const bv = R.randn([C], rng, 0.3);
      const wv = R.randn(shape, rng);
      const run = async (fused: boolean) => {
        const [x, g, b, w] = [up(xv, true), up(gv, true), up(bv, true), up(wv)];
        const y = fused
          ? E.batchNorm(x, g, b, E.zeros([C]), E.ones([C]), { training: true, relu })
          : relu
            ? E.relu(batchNormTrainComposed(x, g, b))
            : batchNormTrainComposed(x, g, b);
        backward(weighted(y, w));
        return Promise.all([down(y), down(x.grad!), down(g.grad!), down(b.grad!)]);
      };
      const [fused, composed] = [await run(true), await run(false)];
      ['y', 'dx', 'dγ', 'dβ'].forEach((name, i) => R.expectClose(fused[i], composed[i], TOL, name));
    });
  }

  it('evaluation, running statistics as constants: y, dx, dγ, dβ', async () => {
    const shape = [4, 3, 5, 7];
    const C = 7;
    const [xv, gv, bv, mv, vv, wv] = [R.randn(shape, rng), R.rand([C], rng, 0.5, 1.5), R.randn([C], rng), R.randn([C], rng, 0.5), R.rand([C], rng, 0.2, 2), R.randn(shape, rng)];
    const run = async (fused: boolean) => {
      const [x, g, b, w] = [up(xv, true), up(gv, true), up(bv, true), up(wv)];
      const y = fused ? E.batchNorm(x, g, b, up(mv), up(vv), { training: false }) : batchNormEvalComposed(x, g, b, up(mv), up(vv));
      backward(weighted(y, w));
      return Promise.all([down(y), down(x.grad!), down(g.grad!), down(b.grad!)]);
    };
    const [fused, composed] = [await run(true), await run(false)];
    ['y', 'dx', 'dγ', 'dβ'].forEach((name, i) => R.expectClose(fused[i], composed[i], TOL, name));
  });
});

describe('losses: fused kernels = composed formula', () => {
  it('softmax cross-entropy, logits [7, 13]: loss and dlogits', async () => {
    const [B, C] = [7, 13];
    const zv = R.randn([B, C], rng, 3);
    const labels = Int32Array.from({ length: B }, () => Math.floor(rng.next() * C));
    const oneHot = tensor(Array.from({ length: B * C }, (_, i) => (labels[Math.floor(i / C)] === i % C ? 1 : 0)), [B, C]);
    const z1 = up(zv, true);
    const fused = E.softmaxCrossEntropy(z1, labelsUp(labels)).loss;
    backward(fused);
    const z2 = up(zv, true);
    const composed = softmaxCrossEntropyComposed(z2, oneHot);
    backward(composed);
    R.expectClose(await down(fused), await down(composed), TOL, 'loss');
    R.expectClose(await down(z1.grad!), await down(z2.grad!), TOL, 'dlogits');
  });

  for (const reduction of ['batchmean', 'elementwise-mean'] as const) {
    it(`T²·KL at T = 4 and T = 1.5, ${reduction}: loss and dstudent (no gradient to the teacher)`, async () => {
      const [B, C] = [6, 11];
      for (const T of [4, 1.5]) {
        const [sv, tv] = [R.randn([B, C], rng, 3), R.randn([B, C], rng, 3)];
        const s1 = up(sv, true);
        const fused = E.klDivWithTemperature(s1, up(tv), T, reduction);
        backward(fused);
        const s2 = up(sv, true);
        const t2 = up(tv);
        const composed = klDivComposed(s2, t2, T, reduction);
        backward(composed);
        R.expectClose(await down(fused), await down(composed), TOL, `loss T=${T}`);
        R.expectClose(await down(s1.grad!), await down(s2.grad!), TOL, `dzs T=${T}`);
        expect(t2.grad).toBeNull();
      }
    });
  }
});
