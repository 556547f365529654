// The kernel ladder measured (docs/kernel-ladder.md): for matmul and each pass of the convolutions of CIFAR
// ResNets / plain CNNs, the GFLOP/s of every family — naive, tiled, cpu — on this adapter, and the winner. With
// --save, the winners go into the adapter's tune cache (.cache/tune/), from which initGpu() then chooses; the
// fallback order for shapes not measured is the families ranked by how many passes they won.
//
//   npx tsx bench/ladder.ts [--batch 64] [--quick] [--json] [--save]
// `npm run tune` runs the same measurement after tuning the tiles, and saves both.

import { pathToFileURL } from 'node:url';
import { Rng } from '../engine/random.ts';
import { randn } from '../engine/tensor.ts';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, convGeometry } from '../engine/kernels/conv2d/index.ts';
import { matmulKernel } from '../engine/kernels/matmul.ts';
import { DEFAULT_ORDER, FAMILIES, withFamily, type Family, type LadderPass } from '../engine/kernels/ladder/family.ts';
import { bench, round2, setup } from './common.ts';

/** (H, Cin → Cout, kernel, stride) of the convolutions in CIFAR ResNets and plain CNNs. */
export const LADDER_CONVS = [
  { H: 32, Cin: 3, Cout: 16, k: 3, s: 1 },
  { H: 32, Cin: 16, Cout: 16, k: 3, s: 1 },
  { H: 32, Cin: 16, Cout: 32, k: 3, s: 2 },
  { H: 16, Cin: 32, Cout: 32, k: 3, s: 1 },
  { H: 8, Cin: 64, Cout: 64, k: 3, s: 1 },
  { H: 16, Cin: 32, Cout: 64, k: 1, s: 2 },
];

export interface LadderRow {
  pass: LadderPass;
  shape: string;
  gflops: Record<Family, number>;
  best: Family;
}

export interface LadderResult {
  rows: LadderRow[];
  /** The winner per measured shape (tileKey) and per pass (most wins), as the tune cache stores them. */
  families: Record<string, Family>;
  order: Family[];
}

/** Times every family on every pass and shape; `quick`: fewer shapes and shorter samples. */
export async function measureLadder(batch: number, quick: boolean, log = (row: LadderRow) => {}): Promise<LadderResult> {
  const rng = new Rng(11);
  const rows: LadderRow[] = [];
  const families: Record<string, Family> = {};
  const wins: Record<string, Record<Family, number>> = {};
  const measure = async (pass: LadderPass, shape: string, flops: number, run: () => void) => {
    let keys: string[] = [];
    const cases = FAMILIES.map((family) => ({
      name: family,
      flops,
      run: () => {
        keys = withFamily(family, run).filter((k) => k.startsWith(`${pass}:`));
      },
    }));
    const results = await bench(cases, { rounds: quick ? 2 : 3, sampleMs: quick ? 60 : 150 });
    const gflops = Object.fromEntries(results.map((r) => [r.name, round2(r.gflops)])) as Record<Family, number>;
    const best = FAMILIES.reduce((a, b) => (gflops[b] > gflops[a] ? b : a));
    for (const key of keys) families[key] = best;
    (wins[pass] ??= { naive: 0, tiled: 0, cpu: 0 })[best]++;
    const row = { pass, shape, gflops, best };
    rows.push(row);
    log(row);
  };

  for (const c of quick ? LADDER_CONVS.slice(1, 3) : LADDER_CONVS) {
    const g = convGeometry([batch, c.H, c.H, c.Cin], [c.k, c.k, c.Cin, c.Cout], c.s, c.k === 3 ? 1 : 0);
    const x = randn([batch, c.H, c.H, c.Cin], rng);
    const w = randn([c.k, c.k, c.Cin, c.Cout], rng, 0.1);
    const dy = randn([batch, g.Ho, g.Wo, c.Cout], rng);
    const flops = 2 * batch * g.Ho * g.Wo * c.Cout * c.k * c.k * c.Cin;
    const shape = `${batch}x${c.H}x${c.H}x${c.Cin}->${c.Cout} k${c.k}s${c.s}`;
    await measure('conv_fwd', shape, flops, () => conv2dForward(x, w, null, g).dispose());
    if (c.Cin > 3) await measure('conv_dgrad', shape, flops, () => conv2dInputGrad(dy, w, g).dispose());
    await measure('conv_wgrad', shape, flops, () => conv2dWeightGrad(x, dy, g).dispose());
    [x, w, dy].forEach((t) => t.dispose());
  }
  const n = quick ? 256 : 1024;
  const a = randn([n, n], rng);
  const b = randn([n, n], rng);
  await measure('matmul', `${n}x${n}x${n}`, 2 * n ** 3, () => matmulKernel(a, b).dispose());
  [a, b].forEach((t) => t.dispose());

  // Per pass, the family that won most of its shapes (ties: the default order); the order, by wins overall.
  const rank = (count: Record<Family, number>) =>
    [...DEFAULT_ORDER].sort((p, q) => count[q] - count[p] || DEFAULT_ORDER.indexOf(p) - DEFAULT_ORDER.indexOf(q));
  const total: Record<Family, number> = { naive: 0, tiled: 0, cpu: 0 };
  for (const [pass, count] of Object.entries(wins)) {
    families[pass] = rank(count)[0];
    for (const f of FAMILIES) total[f] += count[f];
  }
  return { rows, families, order: rank(total) };
}

const formatRow = (r: LadderRow) =>
  `${r.pass.padEnd(11)} ${r.shape.padEnd(28)} ` + FAMILIES.map((f) => `${f} ${r.gflops[f].toFixed(1).padStart(6)}`).join('  ') + `  → ${r.best}`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => process.argv.includes(name);
  const i = process.argv.indexOf('--batch');
  const batch = i >= 0 ? Number(process.argv[i + 1]) : 64;
  const json = arg('--json');
  process.env.DGKD_NO_TUNE_CACHE = '1'; // measure the default tiles and choices, not an earlier tune
  const adapter = await setup(json);
  if (!json) console.log(`adapter: ${adapter}\nGFLOP/s per family, batch ${batch}`);
  const result = await measureLadder(batch, arg('--quick'), (r) =>
    console.log(json ? JSON.stringify({ case: `ladder ${r.pass} ${r.shape}`, ...r }) : formatRow(r)),
  );
  if (!json) console.log(`order where nothing was measured: ${result.order.join(' → ')}`);
  if (arg('--save')) {
    const { loadTuneFile, saveTuneCache } = await import('../engine/node/tune-cache.ts');
    const dir = process.env.DGKD_TUNE_DIR || undefined;
    const earlier = loadTuneFile(adapter, dir);
    console.error(`wrote ${saveTuneCache(adapter, earlier?.tiles ?? {}, dir, result.families, result.order)}`);
  }
  process.exit(0);
}
