// Checks the float64 CPU reference itself: every backward against central finite differences, and a few
// forward values against hand computations. If these pass, a GPU kernel that disagrees with the reference
// is the one at fault.

import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/random.ts';
import * as R from './reference.ts';
import { type T, t, randn, rand, dot, expectClose, finiteDiffGrad } from './reference.ts';

const TIGHT = { rtol: 1e-6, atol: 1e-8 };

/**
 * Gradient check of a tensor-valued op through the scalar loss L(x) = Σ r·f(x) with a random r, whose
 * gradient is exactly the op's backward applied to the upstream gradient r.
 */
function checkGrad(what: string, x: T, f: (x: T) => T, backward: (g: T) => T, rng: Rng): void {
  const r = randn(f(x).shape, rng);
  const numeric = finiteDiffGrad((xp) => dot(r, f(xp)), x);
  expectClose(backward(r).data, numeric, TIGHT, what);
}

/** Gradient check of a scalar-valued function. */
function checkScalarGrad(what: string, x: T, f: (x: T) => number, analytic: T): void {
  expectClose(analytic.data, finiteDiffGrad(f, x), TIGHT, what);
}

describe('helpers', () => {
  it('t copies data and checks the size', () => {
    const src = [1, 2, 3, 4, 5, 6];
    const x = t([2, 3], src);
    src[0] = 99;
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => t([2, 2], src)).toThrow(/needs 4 values/);
  });

  it('expectClose names the first mismatching index', () => {
    expect(() => expectClose([1, 2, 3], [1, 2.5, 4], { atol: 0.1 }, 'thing')).toThrow(
      /thing: mismatch at index 1: actual 2, expected 2.5.*2 of 3 elements/,
    );
    expect(() => expectClose([NaN], [NaN], { atol: 1 }, 'nan')).toThrow(/index 0/);
    expect(() => expectClose([1], [1, 2], {}, 'len')).toThrow(/length 1, expected 2/);
    expectClose([1, 100], [1.05, 101], { rtol: 0.01, atol: 0.06 }, 'ok');
  });

  it('maxRelErr', () => {
    expect(R.maxRelErr([0, 2, -4], [0, 2, -2])).toBeCloseTo(0.5);
    expect(R.maxRelErr([1], [1])).toBe(0);
  });

  it('finiteDiffGrad of a known function, leaving x unchanged', () => {
    const x = t([3], [1, -2, 0.5]);
    const g = finiteDiffGrad((v) => v.data[0] ** 3 + v.data[1] * v.data[2], x);
    expectClose(g, [3, 0.5, -2], TIGHT, 'fd');
    expect(Array.from(x.data)).toEqual([1, -2, 0.5]);
  });
});

describe('broadcasting elementwise ops', () => {
  it('forward follows numpy broadcasting', () => {
    const a = t([2, 1], [1, 2]);
    const b = t([3], [10, 20, 30]);
    const s = R.add(a, b);
    expect(s.shape).toEqual([2, 3]);
    expect(Array.from(s.data)).toEqual([11, 21, 31, 12, 22, 32]);
    expect(Array.from(R.sub(a, b).data)).toEqual([-9, -19, -29, -8, -18, -28]);
    expect(Array.from(R.mul(t([2, 2], [1, 2, 3, 4]), t([], [2])).data)).toEqual([2, 4, 6, 8]);
    expect(Array.from(R.div(t([1, 2], [1, 2]), t([2, 1], [2, 4])).data)).toEqual([0.5, 1, 0.25, 0.5]);
    expect(() => R.add(t([2, 3]), t([2]))).toThrow(/broadcast/);
  });

  it('sumToShape reduces a broadcast gradient', () => {
    const g = t([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(Array.from(R.sumToShape(g, [3]).data)).toEqual([5, 7, 9]);
    expect(Array.from(R.sumToShape(g, [2, 1]).data)).toEqual([6, 15]);
    expect(Array.from(R.sumToShape(g, [1, 1]).data)).toEqual([21]);
    expect(Array.from(R.sumToShape(g, []).data)).toEqual([21]);
    expect(Array.from(R.sumToShape(g, [2, 3]).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => R.sumToShape(g, [2])).toThrow();
  });

  const cases: [string, number[], number[]][] = [
    ['same shape', [3, 5], [3, 5]],
    ['row vector', [3, 5], [5]],
    ['column', [3, 1], [1, 5]],
    ['scalar', [2, 3, 5], []],
    ['middle axis', [2, 1, 3], [4, 1]],
  ];
  for (const [name, sa, sb] of cases) {
    it(`gradients (${name}: [${sa}] with [${sb}])`, () => {
      const rng = new Rng(sa.length * 7 + sb.length);
      const a = randn(sa, rng);
      // positive, away from zero, so that division is smooth
      const b = rand(sb, rng, 0.5, 2);
      const ops = [
        ['add', R.add, R.addBackward],
        ['sub', R.sub, R.subBackward],
        ['mul', R.mul, R.mulBackward],
        ['div', R.div, R.divBackward],
      ] as const;
      for (const [op, f, back] of ops) {
        checkGrad(`${op} da`, a, (ap) => f(ap, b), (g) => back(a, b, g).da, rng);
        checkGrad(`${op} db`, b, (bp) => f(a, bp), (g) => back(a, b, g).db, rng);
      }
    });
  }
});

describe('unary ops', () => {
  it('forward values', () => {
    const x = t([4], [-1, 0, 2, 4]);
    expect(Array.from(R.relu(x).data)).toEqual([0, 0, 2, 4]);
    expect(Array.from(R.neg(x).data)).toEqual([1, -0, -2, -4]);
    expect(Array.from(R.square(x).data)).toEqual([1, 0, 4, 16]);
    expect(Array.from(R.scale(x, 3).data)).toEqual([-3, 0, 6, 12]);
    expect(Array.from(R.sqrt(t([2], [4, 9])).data)).toEqual([2, 3]);
    expectClose(R.exp(t([2], [0, 1])).data, [1, Math.E], TIGHT, 'exp');
    expectClose(R.log(t([2], [1, Math.E])).data, [0, 1], TIGHT, 'log');
    // relu'(0) = 0
    expect(Array.from(R.reluBackward(x, t([4], [1, 1, 1, 1])).data)).toEqual([0, 0, 1, 1]);
  });

  it('gradients', () => {
    const rng = new Rng(1);
    const x = randn([3, 5], rng);
    const pos = rand([3, 5], rng, 0.5, 2);
    checkGrad('relu', x, R.relu, (g) => R.reluBackward(x, g), rng);
    checkGrad('neg', x, R.neg, (g) => R.negBackward(x, g), rng);
    checkGrad('exp', x, R.exp, (g) => R.expBackward(x, g), rng);
    checkGrad('square', x, R.square, (g) => R.squareBackward(x, g), rng);
    checkGrad('scale', x, (v) => R.scale(v, -1.7), (g) => R.scaleBackward(x, g, -1.7), rng);
    checkGrad('log', pos, R.log, (g) => R.logBackward(pos, g), rng);
    checkGrad('sqrt', pos, R.sqrt, (g) => R.sqrtBackward(pos, g), rng);
  });
});

describe('sum and mean', () => {
  it('forward values and shapes', () => {
    const x = t([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(Array.from(R.sum(x).data)).toEqual([21]);
    expect(R.sum(x).shape).toEqual([]);
    expect(R.sum(x, [0]).shape).toEqual([3]);
    expect(Array.from(R.sum(x, [0]).data)).toEqual([5, 7, 9]);
    expect(R.sum(x, [1], true).shape).toEqual([2, 1]);
    expect(Array.from(R.sum(x, [-1], true).data)).toEqual([6, 15]);
    expect(Array.from(R.mean(x, [1]).data)).toEqual([2, 5]);
    expect(Array.from(R.mean(x).data)).toEqual([3.5]);
  });

  it('gradients', () => {
    const rng = new Rng(2);
    const x = randn([2, 3, 5], rng);
    const variants: [number[] | undefined, boolean][] = [
      [undefined, false],
      [[0], false],
      [[1], true],
      [[0, 2], false],
      [[-1], true],
    ];
    for (const [axes, keep] of variants) {
      const tag = `[${axes}] keepDims=${keep}`;
      checkGrad(`sum ${tag}`, x, (v) => R.sum(v, axes, keep), (g) => R.sumBackward(x, g, axes, keep), rng);
      checkGrad(`mean ${tag}`, x, (v) => R.mean(v, axes, keep), (g) => R.meanBackward(x, g, axes, keep), rng);
    }
  });
});

describe('matmul', () => {
  it('forward values with transposes', () => {
    const a = t([2, 2], [1, 2, 3, 4]);
    const b = t([2, 2], [5, 6, 7, 8]);
    expect(Array.from(R.matmul(a, b).data)).toEqual([19, 22, 43, 50]);
    expect(Array.from(R.matmul(a, b, true).data)).toEqual([26, 30, 38, 44]);
    expect(Array.from(R.matmul(a, b, false, true).data)).toEqual([17, 23, 39, 53]);
    expect(R.matmul(t([3, 5]), t([5, 1])).shape).toEqual([3, 1]);
    expect(() => R.matmul(t([3, 5]), t([4, 1]))).toThrow(/inner/);
  });

  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ]) {
    it(`gradients transA=${transA} transB=${transB}`, () => {
      const rng = new Rng(3);
      const [M, K, N] = [3, 5, 4];
      const a = randn(transA ? [K, M] : [M, K], rng);
      const b = randn(transB ? [N, K] : [K, N], rng);
      const f = (ap: T, bp: T) => R.matmul(ap, bp, transA, transB);
      expect(f(a, b).shape).toEqual([M, N]);
      checkGrad('da', a, (ap) => f(ap, b), (g) => R.matmulBackward(a, b, g, transA, transB).da, rng);
      checkGrad('db', b, (bp) => f(a, bp), (g) => R.matmulBackward(a, b, g, transA, transB).db, rng);
    });
  }
});

describe('conv2d', () => {
  it('forward on a known one-channel image', () => {
    // 3×3 image 1..9, 2×2 kernel of ones: each output is the sum of a 2×2 window
    const x = t([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ones = R.full([2, 2, 1, 1], 1);
    expect(Array.from(R.conv2d(x, ones, null, 1, 0).data)).toEqual([12, 16, 24, 28]);
    // 3×3 kernel with a single 1 at the centre, pad 1, stride 2: samples x at (0,0), (0,2), (2,0), (2,2)
    const centre = t([3, 3, 1, 1], [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    const y = R.conv2d(x, centre, t([1], [0.5]), 2, 1);
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.data)).toEqual([1.5, 3.5, 7.5, 9.5]);
    // 3×3 ones, pad 1: the top-left output sees only the 2×2 corner (zero padding)
    const y2 = R.conv2d(x, R.full([3, 3, 1, 1], 1), null, 1, 1);
    expect(y2.data[0]).toBe(1 + 2 + 4 + 5);
    expect(y2.data[4]).toBe(45);
  });

  it('forward mixes channels with [KH][KW][Cin][Cout] weights', () => {
    // 1×1 conv: out[co] = Σ_ci x[ci]·w[ci][co]
    const x = t([1, 1, 1, 2], [1, 2]);
    const w = t([1, 1, 2, 3], [1, 2, 3, 4, 5, 6]);
    expect(Array.from(R.conv2d(x, w).data)).toEqual([9, 12, 15]);
  });

  const configs = [
    { name: '3x3 pad 1 stride 1', N: 2, H: 5, W: 4, Cin: 3, Cout: 2, K: 3, stride: 1, pad: 1 },
    { name: '3x3 pad 1 stride 2, odd size', N: 1, H: 7, W: 5, Cin: 2, Cout: 3, K: 3, stride: 2, pad: 1 },
    { name: '1x1 stride 2 (shortcut)', N: 2, H: 5, W: 5, Cin: 3, Cout: 4, K: 1, stride: 2, pad: 0 },
    { name: '3x3 no pad', N: 1, H: 5, W: 6, Cin: 1, Cout: 2, K: 3, stride: 1, pad: 0 },
  ];
  for (const c of configs) {
    it(`gradients (${c.name})`, () => {
      const rng = new Rng(4);
      const x = randn([c.N, c.H, c.W, c.Cin], rng);
      const w = randn([c.K, c.K, c.Cin, c.Cout], rng);
      const bias = randn([c.Cout], rng);
      const f = (xp: T, wp: T, bp: T) => R.conv2d(xp, wp, bp, c.stride, c.pad);
      const back = (g: T) => R.conv2dBackward(x, w, g, c.stride, c.pad);
      const Ho = R.convOutSize(c.H, c.K, c.stride, c.pad);
      expect(f(x, w, bias).shape).toEqual([c.N, Ho, R.convOutSize(c.W, c.K, c.stride, c.pad), c.Cout]);
      checkGrad('dx', x, (xp) => f(xp, w, bias), (g) => back(g).dx, rng);
      checkGrad('dw', w, (wp) => f(x, wp, bias), (g) => back(g).dw, rng);
      checkGrad('dbias', bias, (bp) => f(x, w, bp), (g) => back(g).dbias, rng);
    });
  }

  it('groups: each group of channels convolved on its own (by hand)', () => {
    // 2 groups, 1×1: out[0] = x[0]·w[0][0] + x[1]·w[1][0] (group 0: channels 0, 1); out[1] = x[2]·w[0][1] + x[3]·w[1][1]
    const x = t([1, 1, 1, 4], [1, 2, 3, 4]);
    const w = t([1, 1, 2, 2], [10, 20, 30, 40]);
    expect(Array.from(R.conv2d(x, w, null, 1, 0, 2).data)).toEqual([1 * 10 + 2 * 30, 3 * 20 + 4 * 40]);
    // depthwise: a 3×3 box filter per channel, the channels kept apart
    const img = t([1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40]);
    expect(Array.from(R.conv2d(img, R.full([3, 3, 1, 2], 1), null, 1, 1, 2).data)).toEqual([10, 100, 10, 100, 10, 100, 10, 100]);
    expect(() => R.conv2d(t([1, 1, 1, 3]), t([1, 1, 1, 2]), null, 1, 0, 2)).toThrow(/groups/);
  });

  const grouped = [
    { name: 'depthwise 3×3 stride 1', N: 2, H: 5, W: 6, Cin: 3, Cout: 3, K: 3, stride: 1, pad: 1, groups: 3 },
    { name: 'depthwise 3×3 stride 2, odd size', N: 1, H: 7, W: 5, Cin: 5, Cout: 5, K: 3, stride: 2, pad: 1, groups: 5 },
    { name: '3 groups of 2 → 3, 3×3 stride 2', N: 2, H: 5, W: 5, Cin: 6, Cout: 9, K: 3, stride: 2, pad: 1, groups: 3 },
    { name: '1×1 in 3 groups (ShuffleNet)', N: 2, H: 3, W: 4, Cin: 9, Cout: 6, K: 1, stride: 1, pad: 0, groups: 3 },
    { name: 'channel multiplier 2 (groups = Cin)', N: 1, H: 4, W: 4, Cin: 3, Cout: 6, K: 3, stride: 1, pad: 1, groups: 3 },
  ];
  for (const c of grouped) {
    it(`gradients, grouped (${c.name})`, () => {
      const rng = new Rng(5);
      const x = randn([c.N, c.H, c.W, c.Cin], rng);
      const w = randn([c.K, c.K, c.Cin / c.groups, c.Cout], rng);
      const bias = randn([c.Cout], rng);
      const f = (xp: T, wp: T, bp: T) => R.conv2d(xp, wp, bp, c.stride, c.pad, c.groups);
      const back = (g: T) => R.conv2dBackward(x, w, g, c.stride, c.pad, c.groups);
      checkGrad('dx', x, (xp) => f(xp, w, bias), (g) => back(g).dx, rng);
      checkGrad('dw', w, (wp) => f(x, wp, bias), (g) => back(g).dw, rng);
      checkGrad('dbias', bias, (bp) => f(x, w, bp), (g) => back(g).dbias, rng);
    });
  }
});

describe('channel ops, ReLU6 and padded average pooling', () => {
  it('channel shuffle by hand, slice and concatenation', () => {
    // 6 channels in 2 groups: [0 1 2 | 3 4 5] → 0 3 1 4 2 5; in 3 groups: [0 1 | 2 3 | 4 5] → 0 2 4 1 3 5
    const x = t([1, 1, 1, 6], [0, 1, 2, 3, 4, 5]);
    expect(Array.from(R.channelShuffle(x, 2).data)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(R.channelShuffle(x, 3).data)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(Array.from(R.sliceChannels(x, 2, 3).data)).toEqual([2, 3, 4]);
    expect(Array.from(R.concatChannels([t([2, 1], [7, 8]), t([2, 2], [1, 2, 3, 4])]).data)).toEqual([7, 1, 2, 8, 3, 4]);
    expect(Array.from(R.relu6(t([4], [-1, 3, 6.5, 6])).data)).toEqual([0, 3, 6, 6]);
    // 3×3 / 2 pad 1 over a 2×2 ones image: the one window sees 4 ones and 5 zeros of padding
    expect(Array.from(R.avgpool2dPadded(R.full([1, 2, 2, 1], 1), 3, 2, 1).data)).toEqual([4 / 9]);
  });
  it('gradients', () => {
    const rng = new Rng(6);
    const x = randn([2, 3, 2, 6], rng, 4);
    checkGrad('relu6', x, R.relu6, (g) => R.relu6Backward(x, g), rng);
    checkGrad('shuffle', x, (xp) => R.channelShuffle(xp, 3), (g) => R.channelShuffleBackward(x, g, 3), rng);
    checkGrad('slice', x, (xp) => R.sliceChannels(xp, 1, 4), (g) => R.sliceChannelsBackward(x, g, 1, 4), rng);
    const y = randn([2, 3, 2, 3], rng);
    checkGrad('concat (first)', x, (xp) => R.concatChannels([xp, y]), (g) => R.concatChannelsBackward([x, y], g)[0], rng);
    checkGrad('concat (second)', y, (yp) => R.concatChannels([x, yp]), (g) => R.concatChannelsBackward([x, y], g)[1], rng);
    const img = randn([2, 5, 6, 3], rng);
    checkGrad('avgpool 3×3/2 pad 1', img, (xp) => R.avgpool2dPadded(xp, 3, 2, 1), (g) => R.avgpool2dPaddedBackward(img, g, 3, 2, 1), rng);
  });
});

describe('batchnorm2d', () => {
  it('training forward and running update by hand', () => {
    // one channel with values 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased var 5/3
    const x = t([1, 2, 2, 1], [1, 2, 3, 4]);
    const out = R.batchnorm2dTrain(x, t([1], [2]), t([1], [1]), {
      eps: 0,
      momentum: 0.1,
      runningMean: t([1], [1]),
      runningVar: t([1], [2]),
    });
    expectClose(out.mean.data, [2.5], TIGHT, 'mean');
    expectClose(out.var.data, [1.25], TIGHT, 'var');
    const s = Math.sqrt(1.25);
    expectClose(out.y.data, [1, 2, 3, 4].map((v) => (2 * (v - 2.5)) / s + 1), TIGHT, 'y');
    expectClose(out.runningMean.data, [0.9 * 1 + 0.1 * 2.5], TIGHT, 'running mean');
    expectClose(out.runningVar.data, [0.9 * 2 + 0.1 * (5 / 3)], TIGHT, 'running var (unbiased)');
  });

  it('statistics are per channel over N, H, W', () => {
    // two channels interleaved (NHWC): channel 0 = 0, 2, 4, 6; channel 1 = 10 each
    const x = t([2, 1, 2, 2], [0, 10, 2, 10, 4, 10, 6, 10]);
    const out = R.batchnorm2dTrain(x, R.full([2], 1), R.zeros([2]));
    expectClose(out.mean.data, [3, 10], TIGHT, 'mean');
    expectClose(out.var.data, [5, 0], TIGHT, 'var');
    expectClose(out.runningVar.data, [0.9 + 0.1 * (20 / 3), 0.9], TIGHT, 'running var defaults');
  });

  it('eval mode uses the running statistics', () => {
    const x = t([1, 1, 2, 2], [1, 2, 3, 4]);
    const y = R.batchnorm2dEval(x, t([2], [1, 2]), t([2], [0, 1]), t([2], [1, 2]), t([2], [4, 1]), 0);
    expectClose(y.data, [0, 1, 1, 5], TIGHT, 'eval');
  });

  it('training gradients', () => {
    const rng = new Rng(5);
    const x = randn([2, 3, 5, 3], rng);
    const gamma = rand([3], rng, 0.5, 1.5);
    const beta = randn([3], rng);
    const eps = 1e-5;
    const f = (xp: T, gp: T, bp: T) => R.batchnorm2dTrain(xp, gp, bp, { eps }).y;
    const back = (g: T) => R.batchnorm2dBackward(x, gamma, g, eps);
    checkGrad('dx', x, (xp) => f(xp, gamma, beta), (g) => back(g).dx, rng);
    checkGrad('dgamma', gamma, (gp) => f(x, gp, beta), (g) => back(g).dgamma, rng);
    checkGrad('dbeta', beta, (bp) => f(x, gamma, bp), (g) => back(g).dbeta, rng);
  });

  it('training gradients with batch 1 and a 1×1 image per channel pair', () => {
    const rng = new Rng(6);
    const x = randn([1, 1, 3, 2], rng);
    const gamma = rand([2], rng, 0.5, 1.5);
    const beta = randn([2], rng);
    const f = (xp: T) => R.batchnorm2dTrain(xp, gamma, beta).y;
    checkGrad('dx', x, f, (g) => R.batchnorm2dBackward(x, gamma, g).dx, rng);
    expect(() => R.batchnorm2dTrain(t([1, 1, 1, 2], [1, 2]), gamma, beta)).toThrow(/more than one/);
  });

  it('eval gradients', () => {
    const rng = new Rng(7);
    const x = randn([2, 3, 3, 2], rng);
    const gamma = randn([2], rng);
    const beta = randn([2], rng);
    const rm = randn([2], rng);
    const rv = rand([2], rng, 0.5, 2);
    const f = (xp: T, gp: T, bp: T) => R.batchnorm2dEval(xp, gp, bp, rm, rv);
    const back = (g: T) => R.batchnorm2dEvalBackward(x, gamma, rm, rv, g);
    checkGrad('dx', x, (xp) => f(xp, gamma, beta), (g) => back(g).dx, rng);
    checkGrad('dgamma', gamma, (gp) => f(x, gp, beta), (g) => back(g).dgamma, rng);
    checkGrad('dbeta', beta, (bp) => f(x, gamma, bp), (g) => back(g).dbeta, rng);
  });
});

describe('pooling', () => {
  it('maxpool forward, odd sizes and the tie rule', () => {
    // 3×3 one-channel image: floor mode keeps only the top-left 2×2 window
    const x = t([1, 3, 3, 1], [1, 5, 9, 5, 2, 9, 9, 9, 9]);
    const y = R.maxpool2d(x);
    expect(y.shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(y.data)).toEqual([5]);
    // the two 5s tie: only the first in row-major window order (index 1) gets the gradient
    const dx = R.maxpool2dBackward(x, t([1, 1, 1, 1], [7]));
    expect(Array.from(dx.data)).toEqual([0, 7, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('maxpool works per channel', () => {
    // 2×2 image, 2 channels interleaved
    const x = t([1, 2, 2, 2], [1, 8, 4, 7, 3, 6, 2, 5]);
    expect(Array.from(R.maxpool2d(x).data)).toEqual([4, 8]);
  });

  it('avgpool and global average pool forward', () => {
    const x = t([1, 4, 4, 1], [...Array(16).keys()]);
    expect(Array.from(R.avgpool2d(x, 2).data)).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(Array.from(R.avgpool2d(x, 4).data)).toEqual([7.5]);
    expect(R.avgpool2d(t([1, 5, 5, 1]), 2).shape).toEqual([1, 2, 2, 1]);
    const g = R.globalAvgPool(t([2, 1, 2, 2], [1, 10, 3, 20, 5, 0, 7, 0]));
    expect(g.shape).toEqual([2, 2]);
    expect(Array.from(g.data)).toEqual([2, 15, 6, 0]);
  });

  it('gradients', () => {
    const rng = new Rng(8);
    for (const shape of [
      [2, 4, 6, 3],
      [1, 5, 7, 2],
      [1, 2, 2, 1],
    ]) {
      const x = randn(shape, rng);
      checkGrad(`maxpool [${shape}]`, x, R.maxpool2d, (g) => R.maxpool2dBackward(x, g), rng);
      checkGrad(`avgpool2 [${shape}]`, x, (v) => R.avgpool2d(v, 2), (g) => R.avgpool2dBackward(x, g, 2), rng);
      checkGrad(`gap [${shape}]`, x, R.globalAvgPool, (g) => R.globalAvgPoolBackward(x, g), rng);
    }
    const x = randn([2, 4, 5, 2], rng);
    checkGrad('avgpool4', x, (v) => R.avgpool2d(v, 4), (g) => R.avgpool2dBackward(x, g, 4), rng);
  });
});

describe('losses', () => {
  it('cross entropy of uniform logits is log C', () => {
    const { loss, dlogits } = R.softmaxCrossEntropy(R.full([3, 5], 0.7), new Int32Array([0, 4, 2]));
    expect(loss).toBeCloseTo(Math.log(5), 12);
    // (1/C − onehot)/B
    expectClose(dlogits.data.subarray(0, 5), [-0.8, 0.2, 0.2, 0.2, 0.2].map((v) => v / 3), TIGHT, 'dlogits');
  });

  it('cross entropy is stable for large logits', () => {
    const { loss } = R.softmaxCrossEntropy(t([1, 2], [1000, 0]), new Int32Array([1]));
    expect(loss).toBeCloseTo(1000, 9);
    expect(() => R.softmaxCrossEntropy(t([1, 2]), new Int32Array([2]))).toThrow(/out of range/);
  });

  it('cross entropy gradient', () => {
    const rng = new Rng(9);
    const logits = randn([4, 7], rng, 2);
    const labels = new Int32Array([3, 0, 6, 3]);
    const f = (z: T) => R.softmaxCrossEntropy(z, labels).loss;
    checkScalarGrad('dlogits', logits, f, R.softmaxCrossEntropy(logits, labels).dlogits);
    const one = randn([1, 3], rng);
    const l1 = new Int32Array([2]);
    checkScalarGrad('batch 1', one, (z) => R.softmaxCrossEntropy(z, l1).loss, R.softmaxCrossEntropy(one, l1).dlogits);
  });

  it('KL of equal logits is 0, and a hand-computed value', () => {
    const rng = new Rng(10);
    const z = randn([3, 5], rng);
    for (const red of ['batchmean', 'elementwise-mean'] as const) {
      const { loss, dzs } = R.klDivTemperature(z, z, 4, red);
      expect(Math.abs(loss)).toBeLessThan(1e-14);
      expectClose(dzs.data, new Float64Array(15), { atol: 1e-15 }, 'dzs at equality');
    }
    // T = 2, zt/T = [log 3, 0] → p_t = [3/4, 1/4]; zs = 0 → p_s = [1/2, 1/2]
    const zt = t([1, 2], [2 * Math.log(3), 0]);
    const zs = t([1, 2], [0, 0]);
    const kl = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
    expect(R.klDivTemperature(zs, zt, 2, 'batchmean').loss).toBeCloseTo(4 * kl, 12);
    expect(R.klDivTemperature(zs, zt, 2, 'elementwise-mean').loss).toBeCloseTo((4 * kl) / 2, 12);
    // dzs = T·(p_s − p_t)/B
    expectClose(R.klDivTemperature(zs, zt, 2, 'batchmean').dzs.data, [-0.5, 0.5], TIGHT, 'dzs');
  });

  it('KL gradient w.r.t. the student', () => {
    const rng = new Rng(11);
    const zs = randn([3, 5], rng, 3);
    const zt = randn([3, 5], rng, 3);
    for (const T of [1, 4]) {
      for (const red of ['batchmean', 'elementwise-mean'] as const) {
        const f = (z: T) => R.klDivTemperature(z, zt, T, red).loss;
        checkScalarGrad(`T=${T} ${red}`, zs, f, R.klDivTemperature(zs, zt, T, red).dzs);
      }
    }
  });

  it('mse forward and gradients', () => {
    const r = R.mse(t([3], [1, 2, 3]), t([3], [1, 0, 0]));
    expect(r.loss).toBeCloseTo(13 / 3, 14);
    const rng = new Rng(12);
    const a = randn([3, 5], rng);
    const b = randn([3, 5], rng);
    const { da, db } = R.mse(a, b);
    checkScalarGrad('da', a, (ap) => R.mse(ap, b).loss, da);
    checkScalarGrad('db', b, (bp) => R.mse(a, bp).loss, db);
  });
});

describe('attention map', () => {
  it('forward by hand', () => {
    // one sample, 1×2 pixels, 2 channels: a = [(1+1)/2, (4+0)/2] = [1, 2] → [1, 2]/√5
    const a = R.attentionMap(t([1, 1, 2, 2], [1, -1, 2, 0]));
    expect(a.shape).toEqual([1, 2]);
    expectClose(a.data, [1 / Math.sqrt(5), 2 / Math.sqrt(5)], TIGHT, 'map');
    // an all-zero sample is clamped instead of dividing by zero
    const z = R.attentionMap(R.zeros([2, 2, 2, 1]));
    expect(Array.from(z.data)).toEqual(new Array(8).fill(0));
  });

  it('gradients', () => {
    const rng = new Rng(13);
    for (const shape of [
      [2, 3, 5, 4],
      [1, 1, 1, 3],
      [1, 4, 4, 1],
    ]) {
      const x = randn(shape, rng);
      checkGrad(`[${shape}]`, x, R.attentionMap, (g) => R.attentionMapBackward(x, g), rng);
    }
  });
});

describe('linear and flatten', () => {
  it('linear forward uses [Out, In] weights', () => {
    const y = R.linear(t([1, 2], [1, 2]), t([3, 2], [1, 0, 0, 1, 1, 1]), t([3], [0.5, 0, -1]));
    expect(Array.from(y.data)).toEqual([1.5, 2, 2]);
  });

  it('linear gradients', () => {
    const rng = new Rng(14);
    const x = randn([3, 5], rng);
    const w = randn([4, 5], rng);
    const b = randn([4], rng);
    const back = (g: T) => R.linearBackward(x, w, g);
    checkGrad('dx', x, (xp) => R.linear(xp, w, b), (g) => back(g).dx, rng);
    checkGrad('dw', w, (wp) => R.linear(x, wp, b), (g) => back(g).dw, rng);
    checkGrad('db', b, (bp) => R.linear(x, w, bp), (g) => back(g).db, rng);
  });

  it('flattenNCHW uses PyTorch order c·H·W + h·W + w', () => {
    // N=1, H=1, W=2, C=3 stored NHWC: (w0: c0 c1 c2), (w1: c0 c1 c2)
    const x = t([1, 1, 2, 3], [0, 1, 2, 10, 11, 12]);
    const y = R.flattenNCHW(x);
    expect(y.shape).toEqual([1, 6]);
    expect(Array.from(y.data)).toEqual([0, 10, 1, 11, 2, 12]);
  });

  it('flatten gradient', () => {
    const rng = new Rng(15);
    const x = randn([2, 3, 5, 2], rng);
    checkGrad('flatten', x, R.flattenNCHW, (g) => R.flattenNCHWBackward(x, g), rng);
  });
});

describe('sgdStep', () => {
  const p0 = t([1], [1]);
  const g = t([1], [0.5]);
  const opts = { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: false };

  it('plain momentum, two steps by hand', () => {
    const s1 = R.sgdStep(p0, g, R.zeros([1]), opts);
    // g' = 0.5 + 0.01·1 = 0.51; v = 0.51; p = 1 − 0.051
    expectClose(s1.v.data, [0.51], TIGHT, 'v1');
    expectClose(s1.p.data, [0.949], TIGHT, 'p1');
    const s2 = R.sgdStep(s1.p, g, s1.v, opts);
    const g2 = 0.5 + 0.01 * 0.949;
    const v2 = 0.9 * 0.51 + g2;
    expectClose(s2.v.data, [v2], TIGHT, 'v2');
    expectClose(s2.p.data, [0.949 - 0.1 * v2], TIGHT, 'p2');
    // inputs are not modified
    expect(Array.from(p0.data)).toEqual([1]);
  });

  it('nesterov', () => {
    const s1 = R.sgdStep(p0, g, R.zeros([1]), { ...opts, nesterov: true });
    expectClose(s1.v.data, [0.51], TIGHT, 'v');
    expectClose(s1.p.data, [1 - 0.1 * (0.51 + 0.9 * 0.51)], TIGHT, 'p');
  });

  it('no momentum, no decay is plain gradient descent', () => {
    const s = R.sgdStep(t([2], [1, 2]), t([2], [1, -1]), R.zeros([2]), {
      lr: 0.5,
      momentum: 0,
      weightDecay: 0,
      nesterov: false,
    });
    expectClose(s.p.data, [0.5, 2.5], TIGHT, 'p');
  });
});
