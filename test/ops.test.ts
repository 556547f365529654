// Every kernel against the float64 reference on random inputs of awkward sizes; every backward against the
// reference's analytic gradient (itself checked against finite differences in reference.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as E from '../engine/index.ts';
import { Rng, backward, tidy, Tensor } from '../engine/index.ts';
import * as R from './reference.ts';
import { convGeometry, convKind, groupedForward, groupedInputGrad, groupedWeightGrad, usesRowKernel } from '../engine/kernels/conv2d/index.ts';
import { runtime } from '../engine/runtime/index.ts';
import { tileFor } from '../engine/kernels/tiles.ts';
import { down, gpuReady, labelsUp, up } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

const TOL = { rtol: 2e-4, atol: 2e-5 };
const rng = new Rng(1234);
const randn = (shape: number[], std = 1) => R.randn(shape, rng, std);
const positive = (shape: number[]) => R.rand(shape, rng, 0.5, 2);

/**
 * Runs `gpu` on uploaded copies of `inputs`, back-propagates a random upstream gradient, and compares the
 * output and every input gradient with the reference.
 */
async function check(
  name: string,
  inputs: R.T[],
  gpu: (...xs: Tensor[]) => Tensor,
  ref: (...xs: R.T[]) => R.T,
  refBackward: (g: R.T, ...xs: R.T[]) => (R.T | null)[],
  tol = TOL,
) {
  const expected = ref(...inputs);
  const g = randn(expected.shape);
  const got = await (async () => {
    const xs = inputs.map((x) => up(x, true));
    const y = gpu(...xs);
    expect(y.shape).toEqual(expected.shape);
    const yv = await down(y);
    backward(y, up(g));
    const grads = await Promise.all(xs.map((x) => (x.grad ? down(x.grad) : null)));
    xs.forEach((x) => (x.grad?.dispose(), x.dispose()));
    return { yv, grads };
  })();
  R.expectClose(got.yv, expected.data, tol, `${name} forward`);
  const refGrads = refBackward(g, ...inputs);
  refGrads.forEach((rg, i) => {
    if (!rg) return;
    expect(got.grads[i], `${name}: input ${i} got no gradient`).not.toBeNull();
    R.expectClose(got.grads[i]!, rg.data, tol, `${name} grad of input ${i}`);
  });
}

describe('elementwise', () => {
  const cases: [number[], number[]][] = [
    [[3, 5], [3, 5]],
    [[3, 5], [5]],
    [[2, 4, 4, 3], [3]],
    [[2, 3, 1, 5], [1, 3, 4, 1]],
    [[2, 3, 2, 2, 3], [3]],
    [[7], [1]],
  ];
  for (const [sa, sb] of cases) {
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      it(`${op} ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`, async () => {
        const a = randn(sa);
        const b = op === 'div' ? positive(sb) : randn(sb);
        const back = { add: R.addBackward, sub: R.subBackward, mul: R.mulBackward, div: R.divBackward }[op];
        await check(op, [a, b], E[op], R[op], (g, x, y) => {
          const r = back(x, y, g);
          return [r.da, r.db];
        });
      });
    }
  }
  const unary = [
    ['relu', E.relu, R.relu, R.reluBackward, randn],
    ['exp', E.exp, R.exp, R.expBackward, randn],
    ['log', E.log, R.log, R.logBackward, positive],
    ['sqrt', E.sqrt, R.sqrt, R.sqrtBackward, positive],
    ['square', E.square, R.square, R.squareBackward, randn],
  ] as const;
  for (const [name, gpu, ref, refB, gen] of unary) {
    it(`${name} [3, 7, 5]`, async () => {
      await check(name, [gen([3, 7, 5])], gpu, ref, (g, x) => [refB(x, g)]);
    });
  }
  it('addRelu (fused residual add + ReLU)', async () => {
    await check(
      'addRelu',
      [randn([2, 3, 5, 7]), randn([2, 3, 5, 7])],
      E.addRelu,
      (a, b) => R.relu(R.add(a, b)),
      (g, a, b) => {
        const d = R.reluBackward(R.add(a, b), g);
        return [d, d];
      },
    );
  });
  // Several workgroups of the vec4 kernels (1024 vectors each) and a ragged last one.
  it('add, relu and addRelu over 21021 elements', async () => {
    const shape = [3, 1001, 7];
    await check('add', [randn(shape), randn(shape)], E.add, R.add, (g, x, y) => {
      const r = R.addBackward(x, y, g);
      return [r.da, r.db];
    });
    await check('relu', [randn(shape)], E.relu, R.relu, (g, x) => [R.reluBackward(x, g)]);
    await check('addRelu', [randn(shape), randn(shape)], E.addRelu, (a, b) => R.relu(R.add(a, b)), (g, a, b) => {
      const d = R.reluBackward(R.add(a, b), g);
      return [d, d];
    });
  });
  it('scale', async () => {
    await check('scale', [randn([4, 9])], (x) => E.scale(x, -2.5), (x) => R.scale(x, -2.5), (g, x) => [R.scaleBackward(x, g, -2.5)]);
  });
});

describe('reductions', () => {
  const cases: [number[], number[] | undefined, boolean][] = [
    [[5, 7], [1], false],
    [[5, 7], [0], true],
    [[3, 4, 5, 6], [0, 1, 2], false],
    [[3, 4, 5, 6], [1, 3], true],
    [[2, 3, 4], undefined, false],
    [[1, 130], [1], false],
    // Over 256 elements: one workgroup per output with a tree sum (shorter sums run one per invocation).
    [[3, 300], [1], false],
    [[2, 20, 20, 3], [0, 1, 2], false],
  ];
  for (const [shape, axes, keep] of cases) {
    it(`sum and mean of ${JSON.stringify(shape)} over ${JSON.stringify(axes)} keepDims=${keep}`, async () => {
      const x = randn(shape);
      await check('sum', [x], (t) => E.sum(t, axes, keep), (t) => R.sum(t, axes, keep), (g, t) => [R.sumBackward(t, g, axes, keep)]);
      await check('mean', [x], (t) => E.mean(t, axes, keep), (t) => R.mean(t, axes, keep), (g, t) => [R.meanBackward(t, g, axes, keep)]);
    });
  }
});

describe('matmul', () => {
  const sizes = [
    [1, 1, 1],
    [5, 7, 3],
    [67, 33, 19],
    [130, 70, 129],
    [1, 300, 17],
    [200, 160, 96], // > 2M multiply-adds: the large-problem tiles
  ];
  for (const [M, N, K] of sizes) {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`${M}×${K} · ${K}×${N} transA=${ta} transB=${tb}`, async () => {
        const a = randn(ta ? [K, M] : [M, K]);
        const b = randn(tb ? [N, K] : [K, N]);
        await check(
          'matmul',
          [a, b],
          (x, y) => E.matmul(x, y, { transA: ta, transB: tb }),
          (x, y) => R.matmul(x, y, ta, tb),
          (g, x, y) => {
            const r = R.matmulBackward(x, y, g, ta, tb);
            return [r.da, r.db];
          },
          { rtol: 1e-3, atol: 1e-4 },
        );
      });
    }
  }
  it('names both shapes when inner dimensions differ', async () => {
    const a = up(randn([3, 4]));
    const b = up(randn([5, 6]));
    expect(() => E.matmul(a, b)).toThrow(/matmul: inner dimensions differ: \[3, 4\] · \[5, 6\]/);
  });
});

describe('conv2d', () => {
  const cases = [
    { N: 1, H: 5, W: 7, Cin: 3, Cout: 5, k: 3, stride: 1, pad: 1, bias: true },
    { N: 2, H: 9, W: 8, Cin: 4, Cout: 6, k: 3, stride: 2, pad: 1, bias: false },
    { N: 2, H: 6, W: 6, Cin: 5, Cout: 7, k: 1, stride: 1, pad: 0, bias: true },
    { N: 3, H: 8, W: 8, Cin: 16, Cout: 17, k: 1, stride: 2, pad: 0, bias: false },
    // pixel classes no tap reaches (their input gradient is a fill), odd sizes and stride 3
    { N: 2, H: 9, W: 7, Cin: 3, Cout: 5, k: 1, stride: 2, pad: 0, bias: true },
    { N: 2, H: 8, W: 10, Cin: 4, Cout: 6, k: 2, stride: 3, pad: 0, bias: false },
    { N: 1, H: 7, W: 5, Cin: 2, Cout: 3, k: 5, stride: 1, pad: 2, bias: true },
    { N: 4, H: 10, W: 10, Cin: 16, Cout: 32, k: 3, stride: 2, pad: 1, bias: false },
    { N: 2, H: 12, W: 12, Cin: 19, Cout: 20, k: 3, stride: 1, pad: 1, bias: true },
    { N: 2, H: 10, W: 9, Cin: 4, Cout: 5, k: 3, stride: 3, pad: 1, bias: false },
    { N: 1, H: 7, W: 7, Cin: 3, Cout: 4, k: 5, stride: 2, pad: 0, bias: true },
    // Large enough (> 2M multiply-adds) to take the tuned tiles, as in real training:
    { N: 8, H: 16, W: 16, Cin: 16, Cout: 32, k: 3, stride: 1, pad: 1, bias: false },
    { N: 16, H: 16, W: 16, Cin: 3, Cout: 16, k: 3, stride: 1, pad: 1, bias: true },   // weight gradient in 12-row blocks
    { N: 6, H: 12, W: 12, Cin: 32, Cout: 64, k: 3, stride: 2, pad: 1, bias: false },
    // The row kernel (stride 1, weights read once per workgroup): a 43-wide row (five 8-pixel segments and a partial
    // one), several column blocks with a partial last one; and weights too big for it (the implicit GEMM then
    // runs the forward pass, resp. the input gradient, while the other pass keeps the row kernel).
    { N: 2, H: 3, W: 43, Cin: 5, Cout: 37, k: 3, stride: 1, pad: 1, bias: true },
    { N: 1, H: 3, W: 16, Cin: 120, Cout: 8, k: 3, stride: 1, pad: 1, bias: false },
    { N: 1, H: 4, W: 17, Cin: 8, Cout: 120, k: 3, stride: 1, pad: 1, bias: true },
    { N: 2, H: 5, W: 18, Cin: 4, Cout: 6, k: 3, stride: 1, pad: 0, bias: false },
    { N: 1, H: 4, W: 20, Cin: 3, Cout: 5, k: 5, stride: 1, pad: 2, bias: true },
    // ... narrow column blocks: 4 output channels in 16-pixel segments (a partial one), and at stride 2 (whose
    // 16-pixel window would not fit: 8-pixel segments)
    { N: 2, H: 4, W: 21, Cin: 6, Cout: 4, k: 3, stride: 1, pad: 1, bias: true },
    { N: 2, H: 6, W: 35, Cin: 3, Cout: 2, k: 3, stride: 2, pad: 1, bias: false },
    // ... strided forward passes on it (kernels at least as wide as the stride; a partial last segment)
    { N: 2, H: 5, W: 19, Cin: 5, Cout: 9, k: 3, stride: 2, pad: 1, bias: true },
    { N: 1, H: 7, W: 26, Cin: 4, Cout: 18, k: 3, stride: 3, pad: 1, bias: false },
    { N: 1, H: 6, W: 21, Cin: 3, Cout: 5, k: 5, stride: 2, pad: 2, bias: true },
    { N: 2, H: 6, W: 18, Cin: 6, Cout: 7, k: 2, stride: 2, pad: 0, bias: false },
    // ... and 1- and 2-wide kernels on it (the tap loop the kernel unrolls innermost)
    { N: 2, H: 3, W: 17, Cin: 6, Cout: 10, k: 1, stride: 1, pad: 0, bias: true },
    { N: 1, H: 4, W: 18, Cin: 5, Cout: 7, k: 2, stride: 1, pad: 1, bias: false },
    // The weight gradient along output rows (conv2d_wgrad_rows.wgsl: stride 1, kernels up to 3 wide, KH·Cin/4 ≥ 8;
    // the 16→32, 19→20 and strided 16→32, 32→64 cases above take it too): 2- and 1-wide kernels, padded channels,
    // no padding, slices of several rows with a shorter last one, and strides of 2 and 3 (a window that keeps
    // one entry, none, or that the stride skips past).
    { N: 2, H: 6, W: 7, Cin: 13, Cout: 24, k: 2, stride: 1, pad: 0, bias: false },
    { N: 2, H: 5, W: 4, Cin: 33, Cout: 5, k: 1, stride: 1, pad: 0, bias: true },
    { N: 2, H: 5, W: 9, Cin: 12, Cout: 8, k: 3, stride: 1, pad: 0, bias: false },
    { N: 3, H: 13, W: 11, Cin: 16, Cout: 16, k: 3, stride: 1, pad: 1, bias: false },
    { N: 2, H: 9, W: 9, Cin: 16, Cout: 12, k: 2, stride: 2, pad: 0, bias: false },
    { N: 2, H: 10, W: 9, Cin: 12, Cout: 8, k: 3, stride: 3, pad: 1, bias: false },
    { N: 2, H: 9, W: 9, Cin: 32, Cout: 8, k: 1, stride: 2, pad: 0, bias: false },
    // Strided input gradients on the row kernel, one class of input rows per pass (the 3×3 stride-2 cases above
    // take it too): odd sizes, a partial last segment and two column blocks; stride 4 with a 5×5 kernel, where
    // one row class reads the dY row below its own (negative padding) and some columns get no tap at all.
    { N: 2, H: 11, W: 17, Cin: 20, Cout: 12, k: 3, stride: 2, pad: 1, bias: false },
    { N: 1, H: 9, W: 19, Cin: 4, Cout: 6, k: 5, stride: 4, pad: 2, bias: false },
    // Kernels that are not square (kw: the kernel's width), whose input gradients pad one axis by −1.
    { N: 2, H: 4, W: 19, Cin: 5, Cout: 6, k: 1, kw: 3, stride: 1, pad: 1, bias: false },
    { N: 1, H: 5, W: 18, Cin: 4, Cout: 7, k: 3, kw: 1, stride: 1, pad: 1, bias: true },
    { N: 2, H: 7, W: 20, Cin: 4, Cout: 5, k: 1, kw: 3, stride: 2, pad: 1, bias: false },
  ];
  for (const c of cases as ((typeof cases)[number] & { kw?: number })[]) {
    it(JSON.stringify(c), async () => {
      const x = randn([c.N, c.H, c.W, c.Cin]);
      const w = randn([c.k, c.kw ?? c.k, c.Cin, c.Cout], 0.3);
      const inputs = c.bias ? [x, w, randn([c.Cout])] : [x, w];
      await check(
        'conv2d',
        inputs,
        (xx, ww, bb) => E.conv2d(xx, ww, bb ?? null, { stride: c.stride, pad: c.pad }),
        (xx, ww, bb) => R.conv2d(xx, ww, bb ?? null, c.stride, c.pad),
        (g, xx, ww) => {
          const r = R.conv2dBackward(xx, ww, g, c.stride, c.pad);
          return c.bias ? [r.dx, r.dw, r.dbias] : [r.dx, r.dw];
        },
        { rtol: 1e-3, atol: 1e-4 },
      );
    });
  }
  it('runs the ResNet layers on the row kernel wherever it fits', () => {
    const g = (H: number, Cin: number, Cout: number, k: number, stride: number) =>
      convGeometry([64, H, H, Cin], [k, k, Cin, Cout], stride, (k - 1) / 2);
    const passes = (geo: ReturnType<typeof g>) => [usesRowKernel(geo, 'forward'), usesRowKernel(geo, 'input-grad')];
    const unrolled = E.runtime().caps.unrollLoops;   // SwiftShader: strided passes stay on the GEMM
    expect(passes(g(32, 16, 16, 3, 1))).toEqual([true, true]);
    expect(passes(g(8, 64, 64, 3, 1))).toEqual([true, true]);
    expect(passes(g(32, 16, 32, 3, 2))).toEqual([!unrolled, !unrolled]);
    expect(passes(g(32, 16, 32, 1, 2))).toEqual([false, false]);   // 1×1 at stride 2: the GEMM measured faster
    expect(passes(g(32, 3, 16, 3, 1))).toEqual([true, true]);
  });
  it('fits the weight-gradient GEMM blocks to the row quads (tap, 4 channels)', () => {
    if (E.runtime().caps.unrollLoops) return;   // SwiftShader: the small tiles, whatever the shape
    expect(tileFor('conv_wgrad', 9 * 4, 16, 65536).TM).toBe(12);    // 3 input channels: 9 quads, 3 blocks of 3
    expect(tileFor('conv_wgrad', 9 * 16, 16, 65536).TM).toBe(16);   // 16 channels: 36 quads, 9 blocks of 4
    expect(tileFor('conv_wgrad', 5 * 4, 16, 65536).TM).toBe(12);    // 5 quads: blocks of 3 or 2 waste 1: the taller
    expect(tileFor('conv_wgrad', 2 * 4, 64, 65536).TM).toBe(8);     // 1×1, 8 channels: one block of 2 quads
  });
  it('rejects mismatched channels with both shapes', async () => {
    const x = up(randn([1, 4, 4, 3]));
    const w = up(randn([3, 3, 2, 4]));
    expect(() => E.conv2d(x, w)).toThrow(/conv2d: input channels differ: x \[1, 4, 4, 3\] vs w \[3, 3, 2, 4\]/);
  });
});

describe('grouped and depthwise conv2d', () => {
  // Depthwise (groups = Cin = Cout) runs its own kernels (conv2d_dw*.wgsl): vec4 loads when C % 4 = 0, scalar
  // ones otherwise; rows of 4-pixel segments with a partial last one; the input gradient at stride 1 on the
  // forward kernel with mirrored taps, at stride 2 on conv2d_dw_dgrad.wgsl; non-square kernels take the latter at
  // stride 1 too. Other group counts run one dense convolution per group (grouped.ts).
  const cases = [
    { N: 2, H: 5, W: 7, Cin: 8, Cout: 8, k: 3, stride: 1, pad: 1, groups: 8, bias: true },
    { N: 2, H: 6, W: 9, Cin: 6, Cout: 6, k: 3, stride: 1, pad: 1, groups: 6, bias: false },
    { N: 1, H: 7, W: 6, Cin: 5, Cout: 5, k: 3, stride: 1, pad: 0, groups: 5, bias: true },
    { N: 2, H: 9, W: 7, Cin: 12, Cout: 12, k: 3, stride: 2, pad: 1, groups: 12, bias: false },
    { N: 2, H: 8, W: 11, Cin: 7, Cout: 7, k: 3, stride: 2, pad: 1, groups: 7, bias: true },
    { N: 1, H: 9, W: 10, Cin: 4, Cout: 4, k: 5, stride: 1, pad: 2, groups: 4, bias: false },
    { N: 2, H: 5, W: 3, Cin: 3, Cout: 3, k: 5, stride: 2, pad: 2, groups: 3, bias: false },
    { N: 1, H: 5, W: 9, Cin: 6, Cout: 6, k: 1, kw: 3, stride: 1, pad: 1, groups: 6, bias: false },
    { N: 4, H: 16, W: 16, Cin: 32, Cout: 32, k: 3, stride: 1, pad: 1, groups: 32, bias: false },   // many wgrad slices
    { N: 4, H: 16, W: 16, Cin: 58, Cout: 58, k: 3, stride: 2, pad: 1, groups: 58, bias: false },   // ShuffleNetV2's
    // groups > 1, not depthwise: channels not a multiple of 4, stride 2, 1×1 (ShuffleNet's, in 3 groups), a
    // channel multiplier (groups = Cin < Cout), and ShuffleNet V1's first grouped 1×1 (240 → 60 in 3 groups).
    { N: 2, H: 5, W: 5, Cin: 6, Cout: 9, k: 3, stride: 2, pad: 1, groups: 3, bias: true },
    { N: 2, H: 6, W: 9, Cin: 10, Cout: 14, k: 3, stride: 1, pad: 1, groups: 2, bias: false },
    { N: 2, H: 4, W: 5, Cin: 18, Cout: 12, k: 1, stride: 1, pad: 0, groups: 3, bias: false },
    { N: 2, H: 7, W: 7, Cin: 9, Cout: 6, k: 1, stride: 2, pad: 0, groups: 3, bias: true },
    { N: 1, H: 4, W: 6, Cin: 3, Cout: 6, k: 3, stride: 1, pad: 1, groups: 3, bias: false },
    { N: 2, H: 8, W: 8, Cin: 240, Cout: 60, k: 1, stride: 1, pad: 0, groups: 3, bias: false },
    // Rows at least 8 wide: the row kernel reads and writes each group's channels in place (a channel window) for
    // the forward pass and the input gradient, at stride 1 and at stride 2 (one pass per class of input rows).
    { N: 2, H: 9, W: 11, Cin: 12, Cout: 18, k: 3, stride: 1, pad: 1, groups: 3, bias: true },
    { N: 2, H: 10, W: 17, Cin: 10, Cout: 15, k: 3, stride: 2, pad: 1, groups: 5, bias: false },
    { N: 1, H: 8, W: 16, Cin: 60, Cout: 240, k: 1, stride: 1, pad: 0, groups: 3, bias: true },
    // Groups of whole vec4s: the weight gradient along rows reads them in place too, 1×1 and 3×3 at stride 2.
    { N: 2, H: 9, W: 11, Cin: 96, Cout: 48, k: 1, stride: 1, pad: 0, groups: 3, bias: false },
    { N: 2, H: 7, W: 9, Cin: 24, Cout: 24, k: 3, stride: 2, pad: 1, groups: 2, bias: true },
  ];
  for (const c of cases as ((typeof cases)[number] & { kw?: number })[]) {
    it(JSON.stringify(c), async () => {
      const x = randn([c.N, c.H, c.W, c.Cin]);
      const w = randn([c.k, c.kw ?? c.k, c.Cin / c.groups, c.Cout], 0.3);
      const inputs = c.bias ? [x, w, randn([c.Cout])] : [x, w];
      await check(
        'conv2d',
        inputs,
        (xx, ww, bb) => E.conv2d(xx, ww, bb ?? null, { stride: c.stride, pad: c.pad, groups: c.groups }),
        (xx, ww, bb) => R.conv2d(xx, ww, bb ?? null, c.stride, c.pad, c.groups),
        (g, xx, ww) => {
          const r = R.conv2dBackward(xx, ww, g, c.stride, c.pad, c.groups);
          return c.bias ? [r.dx, r.dw, r.dbias] : [r.dx, r.dw];
        },
        { rtol: 1e-3, atol: 1e-4 },
      );
    });
  }
  it('sends each convolution to its kernels by groups', () => {
    const kind = (Cin: number, Cout: number, groups: number, k = 3) => convKind(convGeometry([2, 8, 8, Cin], [k, k, Cin / groups, Cout], 1, 1, groups));
    expect(kind(16, 16, 1)).toBe('dense');
    expect(kind(16, 16, 16)).toBe('depthwise');
    expect(kind(58, 58, 58)).toBe('depthwise');
    expect(kind(16, 32, 16)).toBe('grouped');   // a channel multiplier
    expect(kind(240, 60, 3, 1)).toBe('grouped');
  });
  it('a grouped convolution on the row kernels reads and writes its groups’ channels in place: no activation copied', () => {
    // ShuffleNetV1's expanding 1×1 (60 → 240 in 3 groups), 16 pixels wide. Per group, only the weights' columns are
    // copied (1 launch) and packed (1); the row kernel runs once per block of 16 output columns.
    const g = convGeometry([1, 8, 16, 60], [1, 1, 20, 240], 1, 0, 3);
    const [x, w, dy] = [randn([1, 8, 16, 60]), randn([1, 1, 20, 240]), randn([1, 8, 16, 240])].map((t) => up(t));
    const launches = (run: () => Tensor) => {
      const before = runtime().dispatchCount;
      run().dispose();
      return runtime().dispatchCount - before;
    };
    expect(launches(() => groupedForward(x, w, null, g))).toBe(3 * (2 + Math.ceil(80 / 16)));
    expect(launches(() => groupedInputGrad(dy, w, g))).toBe(3 * (2 + Math.ceil(20 / 16)));
    [x, w, dy].forEach((t) => t.dispose());
    // The weight gradient of the reducing 1×1 (240 → 60): per group the kernel along rows, the sum of its slices,
    // and the group's columns copied into dW.
    const g2 = convGeometry([1, 8, 16, 240], [1, 1, 80, 60], 1, 0, 3);
    const [x2, dy2] = [randn([1, 8, 16, 240]), randn([1, 8, 16, 60])].map((t) => up(t));
    expect(launches(() => groupedWeightGrad(x2, dy2, g2))).toBe(3 * 3);
    [x2, dy2].forEach((t) => t.dispose());
  });
  it('rejects groups that do not divide the channels, naming the shapes', async () => {
    const x = up(randn([1, 4, 4, 6]));
    expect(() => E.conv2d(x, up(randn([3, 3, 2, 4])), null, { groups: 4 })).toThrow(/conv2d: 4 groups do not divide the channels: x \[1, 4, 4, 6\], w \[3, 3, 2, 4\]/);
    expect(() => E.conv2d(x, up(randn([3, 3, 3, 6])), null, { groups: 3 })).toThrow(/input channels differ: x \[1, 4, 4, 6\] vs w \[3, 3, 3, 6\] \(3 groups of 2\)/);
  });
});

describe('channel ops, ReLU6 and padded average pooling', () => {
  it('relu6', async () => {
    await check('relu6', [randn([3, 7, 5], 5)], E.relu6, R.relu6, (g, x) => [R.relu6Backward(x, g)]);
  });
  for (const [shape, groups] of [[[2, 3, 4, 6], 2], [[2, 4, 4, 240], 3], [[3, 2, 2, 58 * 2], 2]] as [number[], number][]) {
    it(`channel shuffle ${JSON.stringify(shape)} in ${groups} groups`, async () => {
      await check('channelShuffle', [randn(shape)], (x) => E.channelShuffle(x, groups), (x) => R.channelShuffle(x, groups), (g, x) => [R.channelShuffleBackward(x, g, groups)]);
    });
  }
  // channel_copy.wgsl where a count or offset is not a multiple of 4, channel_copy4.wgsl where all are (the last)
  for (const [shape, start, count] of [[[2, 3, 4, 116], 0, 58], [[2, 3, 4, 116], 58, 58], [[2, 5, 3, 7], 2, 3], [[2, 3, 4, 240], 80, 80]] as [number[], number, number][]) {
    it(`slice channels [${start}, ${start + count}) of ${JSON.stringify(shape)}`, async () => {
      await check('sliceChannels', [randn(shape)], (x) => E.sliceChannels(x, start, count), (x) => R.sliceChannels(x, start, count), (g, x) => [R.sliceChannelsBackward(x, g, start, count)]);
    });
  }
  for (const widths of [[58, 58], [216, 24], [5, 3, 6]]) {
    it(`concatenate channels ${JSON.stringify(widths)}`, async () => {
      const xs = widths.map((c) => randn([2, 3, 4, c]));
      await check('concatChannels', xs, (...ts) => E.concatChannels(ts), (...ts) => R.concatChannels(ts), (g, ...ts) => R.concatChannelsBackward(ts, g));
    });
  }
  it('a slice used twice and a concatenation of slices of one tensor (ShuffleNet V2\'s split) add their gradients', async () => {
    await check(
      'split and join',
      [randn([2, 3, 3, 10])],
      (x) => E.concatChannels([E.sliceChannels(x, 5, 5), E.sliceChannels(x, 0, 5), E.sliceChannels(x, 5, 5)]),
      (x) => R.concatChannels([R.sliceChannels(x, 5, 5), R.sliceChannels(x, 0, 5), R.sliceChannels(x, 5, 5)]),
      (g, x) => {
        const [a, b, c] = R.concatChannelsBackward([R.sliceChannels(x, 5, 5), R.sliceChannels(x, 0, 5), R.sliceChannels(x, 5, 5)], g);
        return [R.add(R.add(R.sliceChannelsBackward(x, a, 5, 5), R.sliceChannelsBackward(x, b, 0, 5)), R.sliceChannelsBackward(x, c, 5, 5))];
      },
    );
  });
  for (const shape of [[2, 8, 8, 24], [1, 7, 5, 6]]) {
    it(`average pool 3×3, stride 2, pad 1 (the padding counted) ${JSON.stringify(shape)}`, async () => {
      await check('avgPool2dPadded', [randn(shape)], (x) => E.avgPool2dPadded(x, 3, 2, 1), (x) => R.avgpool2dPadded(x, 3, 2, 1), (g, x) => [R.avgpool2dPaddedBackward(x, g, 3, 2, 1)]);
    });
  }
});

describe('batchnorm', () => {
  // [3, 5, 4]: one chunk of the vec4 reductions; [3, 9, 11]: 297 rows, five chunks of 64 with a short last one,
  // and apply passes whose last invocation has fewer than its 16 rows; an offset of 50 tests the variance merge.
  const cases = [[false, 6, [3, 5, 4], 1], [true, 6, [3, 5, 4], 1], [false, 8, [3, 5, 4], 1], [true, 16, [3, 5, 4], 1],
    [true, 8, [3, 9, 11], 1], [false, 12, [3, 9, 11], 50]] as const;
  for (const [relu, C, rows, offset] of cases) {
    it(`training mode, running statistics and backward (relu=${relu}, ${C} channels, ${rows.join('×')} rows, offset ${offset})`, async () => {
      const x = R.add(randn([...rows, C], 2), R.rand([C], rng, -offset, offset));
      const gamma = R.rand([C], rng, 0.5, 1.5);
      const beta = randn([C]);
      const rm = randn([C]);
      const rv = positive([C]);
      const refRun = R.batchnorm2dTrain(x, gamma, beta, { runningMean: rm, runningVar: rv, momentum: 0.1 });
      const runMean = up(rm);
      const runVar = up(rv);
      const bnRef = (xx: R.T, gg: R.T, bb: R.T) => {
        const y = R.batchnorm2dTrain(xx, gg, bb).y;
        return relu ? R.relu(y) : y;
      };
      await check(
        'batchnorm',
        [x, gamma, beta],
        (xx, gg, bb) => E.batchNorm(xx, gg, bb, runMean, runVar, { training: true, relu }),
        bnRef,
        (g, xx, gg) => {
          const gIn = relu ? R.reluBackward(R.batchnorm2dTrain(xx, gg, beta).y, g) : g;
          const r = R.batchnorm2dBackward(xx, gg, gIn);
          return [r.dx, r.dgamma, r.dbeta];
        },
      );
      R.expectClose(await down(runMean), refRun.runningMean.data, TOL, 'running mean');
      R.expectClose(await down(runVar), refRun.runningVar.data, TOL, 'running var');
    });
  }
  for (const C of [3, 4]) it(`eval mode uses the running statistics (${C} channels)`, async () => {
    const x = randn([2, 3, 3, C]);
    const gamma = R.rand([C], rng, 0.5, 1.5);
    const beta = randn([C]);
    const rm = randn([C]);
    const rv = positive([C]);
    await check(
      'batchnorm eval',
      [x, gamma, beta],
      (xx, gg, bb) => E.batchNorm(xx, gg, bb, up(rm), up(rv), { training: false }),
      (xx, gg, bb) => R.batchnorm2dEval(xx, gg, bb, rm, rv),
      (g, xx, gg) => {
        const r = R.batchnorm2dEvalBackward(xx, gg, rm, rv, g);
        return [r.dx, r.dgamma, r.dbeta];
      },
    );
  });
});

describe('pooling', () => {
  for (const shape of [[2, 4, 6, 3], [1, 5, 7, 2], [3, 8, 8, 16]]) {
    it(`max-pool 2×2 ${JSON.stringify(shape)}`, async () => {
      await check('maxPool2d', [randn(shape)], (x) => E.maxPool2d(x), R.maxpool2d, (g, x) => [R.maxpool2dBackward(x, g)]);
    });
    it(`avg-pool 2×2 ${JSON.stringify(shape)}`, async () => {
      await check('avgPool2d', [randn(shape)], (x) => E.avgPool2d(x, 2), (x) => R.avgpool2d(x, 2), (g, x) => [R.avgpool2dBackward(x, g, 2)]);
    });
    it(`global average pool ${JSON.stringify(shape)}`, async () => {
      await check('globalAvgPool', [randn(shape)], E.globalAvgPool, R.globalAvgPool, (g, x) => [R.globalAvgPoolBackward(x, g)]);
    });
  }
  it('max-pool ties go to the first maximum', async () => {
    const x = R.t([1, 2, 2, 1], [3, 3, 3, 1]);
    await check('maxPool2d ties', [x], (t) => E.maxPool2d(t), R.maxpool2d, (g, t) => [R.maxpool2dBackward(t, g)]);
  });
  // Channels in fours and windows tiling the input: the four-channel backward kernel (pool2d_backward4.wgsl).
  for (const shape of [[2, 6, 4, 8], [1, 2, 2, 4], [3, 4, 10, 12]]) {
    it(`max-pool 2×2 backward, four channels at a time ${JSON.stringify(shape)}`, async () => {
      await check('maxPool2d', [randn(shape)], (x) => E.maxPool2d(x), R.maxpool2d, (g, x) => [R.maxpool2dBackward(x, g)]);
    });
  }
  it('avg-pool 3×3 backward, four channels at a time', async () => {
    await check('avgPool2d', [randn([2, 6, 9, 4])], (x) => E.avgPool2d(x, 3), (x) => R.avgpool2d(x, 3), (g, x) => [R.avgpool2dBackward(x, g, 3)]);
  });
  it('max-pool ties go to the first maximum, per channel, four channels at a time', async () => {
    // Channel 0: all equal (the first wins); 1: the last is largest; 2: two maxima (the first wins); 3: the second.
    const x = R.t([1, 2, 2, 4], [1, 0, 5, 7, 1, 0, 5, 9, 1, 0, 2, 7, 1, 3, 2, 1]);
    await check('maxPool2d ties', [x], (t) => E.maxPool2d(t), R.maxpool2d, (g, t) => [R.maxpool2dBackward(t, g)]);
  });
});

describe('losses', () => {
  for (const [B, C] of [[1, 10], [7, 10], [33, 100]]) {
    it(`softmax cross-entropy ${B}×${C}`, async () => {
      const z = randn([B, C], 3);
      const labels = Int32Array.from({ length: B }, () => rng.int(C));
      const ref = R.softmaxCrossEntropy(z, labels);
      const zt = up(z, true);
      const { loss, correct } = E.softmaxCrossEntropy(zt, labelsUp(labels));
      R.expectClose(await down(loss), [ref.loss], TOL, 'CE loss');
      const argmaxCorrect = labels.reduce((n, y, b) => {
        const row = Array.from(z.data.slice(b * C, (b + 1) * C));
        return n + (row.indexOf(Math.max(...row)) === y ? 1 : 0);
      }, 0);
      expect((await down(correct)).reduce((a, b) => a + b, 0)).toBe(argmaxCorrect);
      const g = 1.7;
      backward(loss, up(R.t([1], [g])));
      R.expectClose(await down(zt.grad!), R.scale(ref.dlogits, g).data, TOL, 'CE grad');
    });
  }
  it('cross-entropy of a label out of range is NaN, not a wrong number', async () => {
    const { loss } = E.softmaxCrossEntropy(up(randn([2, 3])), labelsUp(Int32Array.from([0, 3])));
    expect(Number.isNaN(await loss.item())).toBe(true);
  });
  for (const reduction of ['batchmean', 'elementwise-mean'] as const) {
    for (const T of [1, 2.5, 4]) {
      it(`KL with temperature ${T}, ${reduction}`, async () => {
        const zs = randn([9, 13], 2);
        const zt = randn([9, 13], 2);
        const ref = R.klDivTemperature(zs, zt, T, reduction);
        const s = up(zs, true);
        const loss = E.klDivWithTemperature(s, up(zt), T, reduction);
        R.expectClose(await down(loss), [ref.loss], TOL, 'KL loss');
        backward(loss);
        R.expectClose(await down(s.grad!), ref.dzs.data, TOL, 'KL grad');
      });
    }
  }
  it('mse', async () => {
    const a = randn([4, 6]);
    const b = randn([4, 6]);
    const ref = R.mse(a, b);
    await check('mse', [a, b], (x, y) => E.mseLoss(x, y), () => R.t([1], [ref.loss]), (g) => {
      const r = R.mse(a, b);
      return [R.scale(r.da, g.data[0]), R.scale(r.db, g.data[0])];
    });
  });
  it('attention map', async () => {
    await check('attentionMap', [randn([3, 4, 5, 6])], E.attentionMap, R.attentionMap, (g, x) => [R.attentionMapBackward(x, g)]);
  });
});

describe('layout and layers', () => {
  it('flatten in NCHW order', async () => {
    await check('flatten', [randn([2, 3, 4, 5])], E.flatten, R.flattenNCHW, (g, x) => [R.flattenNCHWBackward(x, g)]);
  });
  it('linear (PyTorch weight layout)', async () => {
    await check(
      'linear',
      [randn([5, 11]), randn([7, 11]), randn([7])],
      (x, w, b) => E.add(E.matmul(x, w, { transB: true }), b),
      (x, w, b) => R.linear(x, w, b),
      (g, x, w) => {
        const r = R.linearBackward(x, w, g);
        return [r.dx, r.dw, r.db];
      },
    );
  });
  for (const nesterov of [false, true]) {
    it(`SGD step (nesterov=${nesterov}) matches PyTorch semantics over 3 steps`, async () => {
      const p0 = randn([37]);
      const grads = [randn([37]), randn([37]), randn([37])];
      const o = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov };
      const p = up(p0, true);
      const opt = new E.SGD([p], o);
      let ref = { p: p0, v: R.zeros([37]) };
      for (const g of grads) {
        p.grad = up(g);
        opt.step();
        ref = R.sgdStep(ref.p, g, ref.v, o);
      }
      R.expectClose(await down(p), ref.p.data, TOL, 'SGD params');
      R.expectClose(await down(opt.velocity[0]), ref.v.data, TOL, 'SGD velocity');
    });
  }
});

describe('tidy', () => {
  it('frees everything but the result', async () => {
    const before = E.liveTensorCount();
    const out = tidy(() => {
      const a = up(randn([3, 3]));
      return E.relu(E.add(a, a));
    });
    expect(E.liveTensorCount()).toBe(before + 1);
    out.dispose();
    expect(E.liveTensorCount()).toBe(before);
  });
});

type VariantConv = { N: number; H: number; W: number; Cin: number; Cout: number; k: number; stride: number; pad: number };

/** A matmul [m, k] · [k, n] and convolutions, each with its gradients against the reference: what a block that
 *  switches the engine to another kernel variant re-runs. */
function variantTests([m, k, n]: [number, number, number], convs: VariantConv[]): void {
  it(`matmul ${m}×${k} · ${k}×${n} and its gradients`, async () => {
    await check(
      'matmul',
      [randn([m, k]), randn([k, n])],
      (x, y) => E.matmul(x, y),
      (x, y) => R.matmul(x, y, false, false),
      (g, x, y) => {
        const r = R.matmulBackward(x, y, g, false, false);
        return [r.da, r.db];
      },
      { rtol: 1e-3, atol: 1e-4 },
    );
  });
  for (const c of convs) {
    it(`conv2d ${JSON.stringify(c)} and its gradients`, async () => {
      await check(
        'conv2d',
        [randn([c.N, c.H, c.W, c.Cin]), randn([c.k, c.k, c.Cin, c.Cout], 0.3)],
        (xx, ww) => E.conv2d(xx, ww, null, { stride: c.stride, pad: c.pad }),
        (xx, ww) => R.conv2d(xx, ww, null, c.stride, c.pad),
        (g, xx, ww) => {
          const r = R.conv2dBackward(xx, ww, g, c.stride, c.pad);
          return [r.dx, r.dw];
        },
        { rtol: 1e-3, atol: 1e-4 },
      );
    });
  }
}

// The same kernels with their loops unrolled in the WGSL text and the small tiles, as they run on SwiftShader
// (engine/unroll.ts), here on whatever adapter the tests have.
describe('kernels unrolled in the text (the SwiftShader path)', () => {
  // Restores what the device had: on SwiftShader unrolling is on, and switching it off there for the tests that
  // follow would run kernels SwiftShader never gets (its compiler ran out of memory on one of them).
  let had = false;
  beforeAll(() => {
    had = E.runtime().caps.unrollLoops;
    E.runtime().caps.unrollLoops = true;
  });
  afterAll(() => {
    E.runtime().caps.unrollLoops = had;
  });
  variantTests([67, 19, 33], [
    { N: 2, H: 9, W: 17, Cin: 5, Cout: 6, k: 3, stride: 1, pad: 1 },
    { N: 2, H: 9, W: 8, Cin: 4, Cout: 9, k: 3, stride: 2, pad: 1 },
  ]);
});

// Where the device has 8-lane subgroups (lavapipe), the kernels read shared operands through subgroupBroadcast
// (Runtime.subgroups8); the same cases again with the variants every other device runs.
describe('kernels without subgroup broadcasts', () => {
  let had = false;
  beforeAll(() => {
    had = E.runtime().caps.subgroups8;
    E.runtime().caps.subgroups8 = false;
  });
  afterAll(() => {
    E.runtime().caps.subgroups8 = had;
  });
  variantTests([45, 70, 37], [
    { N: 2, H: 3, W: 43, Cin: 5, Cout: 37, k: 3, stride: 1, pad: 1 },
    { N: 2, H: 9, W: 8, Cin: 4, Cout: 9, k: 3, stride: 2, pad: 1 },
    { N: 1, H: 4, W: 20, Cin: 3, Cout: 5, k: 5, stride: 1, pad: 2 },
    { N: 2, H: 6, W: 7, Cin: 13, Cout: 24, k: 2, stride: 1, pad: 0 },
  ]);
});

describe('waiting for the GPU', () => {
  // On a CPU adapter engine/node/dawn.ts routes Dawn's event polling through a 1 ms timer (no spinning core).
  it('leaves every other setImmediate caller on the immediate queue, and waits still complete', async () => {
    const rt = await gpuReady;
    const order: string[] = [];
    await new Promise<void>((done) => {
      setTimeout(() => {
        order.push('timer');
        done();
      }, 1);
      setImmediate(() => order.push('immediate'));
      setImmediate(function named() {
        order.push('named');
      });
    });
    expect(order).toEqual(['immediate', 'named', 'timer']);
    // What Dawn passes, an unnamed native function (a proxy of an anonymous arrow looks the same), goes through a
    // timer instead: it runs after callbacks queued later on the immediate queue. Only where it was installed
    // (CPU adapters; CI has no other kind).
    if ((globalThis as Record<symbol, unknown>)[Symbol.for('dgkd.pollDawnEventsGently')]) {
      const seen: string[] = [];
      await new Promise<void>((done) => {
        setImmediate(new Proxy(() => { seen.push('native'); done(); }, {}));
        setImmediate(() => seen.push('js'));
      });
      expect(seen).toEqual(['js', 'native']);
    }
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) + 2);
    const t = E.tensor(x, [1000]);
    expect(Array.from(await t.readF32())).toEqual(Array.from(x));
    t.dispose();
    rt.check();
  });
});

describe('subgroup detection', () => {
  it('agrees with the device: subgroups of 8 on llvmpipe, none where the feature is missing', async () => {
    const rt = E.runtime();
    const had = rt.caps.subgroups8;
    const found = await rt.detectSubgroups();
    rt.caps.subgroups8 = had;
    if (!rt.device.features.has('subgroups')) expect(found).toBe(false);
    if (/llvmpipe/i.test(rt.adapterDescription)) expect(found).toBe(true);
  });
});
