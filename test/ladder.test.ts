// The kernel ladder (docs/kernel-ladder.md): every family — naive, tiled, cpu — of matmul and of the three
// convolution passes against the float64 reference on awkward sizes (several tiles with partial ones, K not a
// multiple of the tile's step, strides, padding, non-square kernels, split-K); and how a family is chosen:
// forced, measured for a pass or for one shape, the fallback order, and the tune cache that carries them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as E from '../engine/index.ts';
import { Rng, backward } from '../engine/index.ts';
import { DEFAULT_ORDER, FAMILIES, familyFor, getFamilies, setFamilies, withFamily, type Family } from '../engine/kernels/ladder/family.ts';
import { tiledSlices } from '../engine/kernels/ladder/tiled.ts';
import { loadTuneCache, saveTuneCache, tuneCachePath } from '../engine/node/tune-cache.ts';
import { setTiles } from '../engine/kernels/tiles.ts';
import * as R from './reference.ts';
import { down, gpuReady, up } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});
afterEach(() => {
  setFamilies({});
  setTiles({});
});

const rng = new Rng(99);
const randn = (shape: number[], std = 1) => R.randn(shape, rng, std);
const TOL = { rtol: 1e-3, atol: 1e-4 };

/** Runs the op and its backward with every laddered pass forced onto `family`; returns outputs, gradients and the passes asked for. */
async function run(family: Family, inputs: R.T[], op: (...xs: E.Tensor[]) => E.Tensor, g: R.T) {
  const xs = inputs.map((x) => up(x, true));
  let y!: E.Tensor;
  const asked = withFamily(family, () => {
    y = op(...xs);
    backward(y, up(g));
  });
  const out = await down(y);
  const grads = await Promise.all(xs.map((x) => down(x.grad!)));
  xs.forEach((x) => (x.grad?.dispose(), x.dispose()));
  return { out, grads, passes: new Set(asked.map((k) => k.split(':')[0])) };
}

describe('matmul on every family', () => {
  const cases = [
    { M: 70, K: 33, N: 67, ta: false, tb: false },   // two 64-blocks each way, both partial; K = 2 steps + 1
    { M: 5, K: 130, N: 3, ta: true, tb: false },
    { M: 1, K: 1, N: 1, ta: false, tb: true },
    { M: 129, K: 16, N: 10, ta: true, tb: true },
  ];
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${JSON.stringify(c)}`, async () => {
        const a = randn(c.ta ? [c.K, c.M] : [c.M, c.K]);
        const b = randn(c.tb ? [c.N, c.K] : [c.K, c.N]);
        const g = randn([c.M, c.N]);
        const got = await run(family, [a, b], (x, y) => E.matmul(x, y, { transA: c.ta, transB: c.tb }), g);
        expect([...got.passes]).toEqual(['matmul']);
        R.expectClose(got.out, R.matmul(a, b, c.ta, c.tb).data, TOL, `${family} matmul`);
        const r = R.matmulBackward(a, b, g, c.ta, c.tb);
        R.expectClose(got.grads[0], r.da.data, TOL, `${family} dA`);
        R.expectClose(got.grads[1], r.db.data, TOL, `${family} dB`);
      });
    }
  }
});

describe('the three convolution passes on every family', () => {
  const cases = [
    { N: 2, H: 9, W: 7, Cin: 3, Cout: 5, k: 3, stride: 1, pad: 1, bias: true },
    { N: 3, H: 11, W: 10, Cin: 5, Cout: 70, k: 3, stride: 2, pad: 1, bias: false },   // a partial second column block
    { N: 2, H: 9, W: 7, Cin: 6, Cout: 5, k: 1, stride: 2, pad: 0, bias: true },      // pixels no tap reaches
    { N: 2, H: 8, W: 10, Cin: 4, Cout: 6, k: 2, stride: 3, pad: 0, bias: false },
    { N: 1, H: 7, W: 9, Cin: 2, Cout: 3, k: 5, stride: 1, pad: 2, bias: true },
    { N: 2, H: 7, W: 20, Cin: 4, Cout: 5, k: 1, kw: 3, stride: 2, pad: 1, bias: false },   // not square
    { N: 8, H: 16, W: 16, Cin: 16, Cout: 32, k: 3, stride: 1, pad: 1, bias: false },   // many tiles; split-K
  ];
  for (const family of FAMILIES) {
    for (const c of cases as ((typeof cases)[number] & { kw?: number })[]) {
      it(`${family}: ${JSON.stringify(c)}`, async () => {
        const x = randn([c.N, c.H, c.W, c.Cin]);
        const w = randn([c.k, c.kw ?? c.k, c.Cin, c.Cout], 0.3);
        const b = randn([c.Cout]);
        const inputs = c.bias ? [x, w, b] : [x, w];
        const expected = R.conv2d(x, w, c.bias ? b : null, c.stride, c.pad);
        const g = randn(expected.shape);
        const got = await run(family, inputs, (xx, ww, bb) => E.conv2d(xx, ww, bb ?? null, { stride: c.stride, pad: c.pad }), g);
        expect([...got.passes].sort()).toEqual(['conv_dgrad', 'conv_fwd', 'conv_wgrad']);
        R.expectClose(got.out, expected.data, TOL, `${family} forward`);
        const r = R.conv2dBackward(x, w, g, c.stride, c.pad);
        R.expectClose(got.grads[0], r.dx.data, TOL, `${family} input gradient`);
        R.expectClose(got.grads[1], r.dw.data, TOL, `${family} weight gradient`);
        if (c.bias) R.expectClose(got.grads[2], r.dbias.data, TOL, `${family} bias gradient`);
      });
    }
  }
  it('grouped convolutions run their per-group passes on the family too', async () => {
    const x = randn([2, 6, 6, 8]);
    const w = randn([3, 3, 4, 6], 0.3);
    const expected = R.conv2d(x, w, null, 1, 1, 2);
    const g = randn(expected.shape);
    for (const family of ['naive', 'tiled'] as const) {
      const got = await run(family, [x, w], (xx, ww) => E.conv2d(xx, ww, null, { pad: 1, groups: 2 }), g);
      R.expectClose(got.out, expected.data, TOL, `${family} grouped forward`);
      const r = R.conv2dBackward(x, w, g, 1, 1, 2);
      R.expectClose(got.grads[0], r.dx.data, TOL, `${family} grouped input gradient`);
      R.expectClose(got.grads[1], r.dw.data, TOL, `${family} grouped weight gradient`);
    }
  });
  it('split-K slices keep 256 pixels each and stop near 256 workgroups', () => {
    expect(tiledSlices(64 * 32 * 32, 144, 16)).toBe(86);   // 3 blocks: ⌈256 / 3⌉
    expect(tiledSlices(100, 144, 16)).toBe(1);
    expect(tiledSlices(1 << 20, 9, 3)).toBe(256);
  });
});

describe('which family runs', () => {
  const dims = [4096, 32, 288];
  it('the fallback order where nothing was measured: the CPU-driver kernels first', () => {
    expect(DEFAULT_ORDER).toEqual(['cpu', 'tiled', 'naive']);
    expect(familyFor('conv_fwd', dims)).toBe('cpu');
    setFamilies({}, ['tiled', 'cpu', 'naive']);
    expect(familyFor('conv_fwd', dims)).toBe('tiled');
  });
  it('a measurement for the pass, and one for the exact shape, win over the order', () => {
    setFamilies({ conv_fwd: 'naive', 'conv_fwd:4096x32x288': 'tiled' });
    expect(familyFor('conv_fwd', dims)).toBe('tiled');
    expect(familyFor('conv_fwd', [64, 32, 288])).toBe('naive');
    expect(familyFor('matmul', dims)).toBe('cpu');
  });
  it('a forced family wins, and reports the keys it was asked for', () => {
    setFamilies({ matmul: 'naive' });
    const asked = withFamily('tiled', () => expect(familyFor('matmul', [3, 4, 5])).toBe('tiled'));
    expect(asked).toEqual(['matmul:3x4x5']);
  });
  it('the tiled family is skipped where its grid would not fit the device', () => {
    setFamilies({}, ['tiled', 'cpu']);
    const rows = 64 * (E.runtime().limits.maxComputeWorkgroupsPerDimension + 1);
    expect(familyFor('matmul', [rows, 16, 16])).toBe('cpu');
  });
  it('the tune cache carries the families and the order per adapter; a damaged entry is ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tune-'));
    saveTuneCache('Test Adapter', {}, dir, { conv_wgrad: 'tiled', 'matmul:8x8x8': 'naive' }, ['tiled', 'naive', 'cpu']);
    expect(loadTuneCache('Test Adapter', dir)).toBe(2);
    expect(getFamilies()).toEqual({ measured: { conv_wgrad: 'tiled', 'matmul:8x8x8': 'naive' }, order: ['tiled', 'naive', 'cpu'] });
    const path = tuneCachePath('Test Adapter', dir);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...file, families: { conv_fwd: 'fastest', matmul: 'cpu' }, order: ['gpu'] }));
    expect(loadTuneCache('Test Adapter', dir)).toBe(1);
    expect(getFamilies()).toEqual({ measured: { matmul: 'cpu' }, order: DEFAULT_ORDER });
  });
});
