// A short one-time tune of the tile shapes (TM × TN per invocation, WG invocations per workgroup) for this
// adapter, at the problem shapes of CIFAR ResNet/plain-CNN training. For every (kernel, shape) it times a few
// candidates round-robin and keeps the fastest; the table goes to .cache/tune/<adapter>.json, which initGpu()
// loads from then on. Without it, the defaults in engine/kernels/tiles.ts apply. Then it times the kernel
// ladder's families with those tiles (bench/ladder.ts) and caches which one wins each pass.
//
//   npm run tune [-- --batch 64,128] [--quick]
// Each candidate is a new pipeline (0.5–3 s to compile on lavapipe), so this takes a few minutes there.

import { Rng } from '../engine/random.ts';
import { randn } from '../engine/tensor.ts';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, convGeometry, usesRowKernel, usesWgradRows } from '../engine/kernels/conv2d/index.ts';
import { runtime } from '../engine/runtime/index.ts';
import { matmulKernel } from '../engine/kernels/matmul.ts';
import { setTiles, withTile, type Tile } from '../engine/kernels/tiles.ts';
import { FAMILIES } from '../engine/kernels/ladder/family.ts';
import { measureLadder } from './ladder.ts';
import { saveTuneCache } from '../engine/node/tune-cache.ts';
import { bench, setup } from './common.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const quick = process.argv.includes('--quick');
const batches = flag('--batch', '64').split(',').map(Number);
process.env.DGKD_NO_TUNE_CACHE = '1'; // tune from the defaults, not from an earlier tune
const adapter = await setup(false);

// Candidates: the gathering kernels (conv forward, input gradient) like wide blocks, the vec4 ones square
// blocks (see engine/kernels/tiles.ts); a couple of neighbours of each, all within the kernels' limits.
const GATHER: Tile[] = [
  { TM: 8, TN: 32, WG: 16 },
  { TM: 12, TN: 16, WG: 8 },
  { TM: 8, TN: 16, WG: 8 },
  { TM: 4, TN: 32, WG: 16 },
];
const VEC4: Tile[] = [
  { TM: 16, TN: 16, WG: 8 },
  { TM: 12, TN: 16, WG: 8 },
  { TM: 8, TN: 16, WG: 8 },
  { TM: 16, TN: 8, WG: 8 },
  { TM: 8, TN: 32, WG: 16 },
];
// Where loops are unrolled in the kernel text (SwiftShader), big blocks take minutes to compile: small ones only.
const SMALL: Tile[] = [
  { TM: 4, TN: 8, WG: 16 },
  { TM: 4, TN: 8, WG: 8 },
  { TM: 8, TN: 4, WG: 8 },
  { TM: 4, TN: 4, WG: 16 },
];
const gather = runtime().caps.unrollLoops ? SMALL : GATHER;
const vec4 = runtime().caps.unrollLoops ? SMALL : VEC4;

// (H, Cin → Cout, stride) of the 3×3 convs in CIFAR ResNets, plus the 1×1 stride-2 shortcuts.
const CONVS = [
  { H: 32, Cin: 3, Cout: 16, k: 3, s: 1 },
  { H: 32, Cin: 16, Cout: 16, k: 3, s: 1 },
  { H: 32, Cin: 16, Cout: 32, k: 3, s: 2 },
  { H: 16, Cin: 32, Cout: 32, k: 3, s: 1 },
  { H: 16, Cin: 32, Cout: 64, k: 3, s: 2 },
  { H: 8, Cin: 64, Cout: 64, k: 3, s: 1 },
  { H: 32, Cin: 16, Cout: 32, k: 1, s: 2 },
  { H: 16, Cin: 32, Cout: 64, k: 1, s: 2 },
];

const rng = new Rng(7);
const table: Record<string, Tile> = {};
const rounds = quick ? 2 : 3;

async function tune(name: string, candidates: Tile[], flops: number, run: () => void): Promise<void> {
  // The table keys the op asked for (a strided input gradient asks once per pixel class).
  let keys: string[] = [];
  const cases = candidates.map((tile) => ({
    name: `${tile.TM}x${tile.TN}/${tile.WG}`,
    flops,
    run: () => {
      keys = withTile(tile, run);
    },
  }));
  const results = await bench(cases, { rounds, sampleMs: quick ? 80 : 150 });
  let best = 0;
  results.forEach((r, i) => r.gflops > results[best].gflops && (best = i));
  for (const key of keys) table[key] = candidates[best];
  const row = results.map((r) => `${r.name} ${r.gflops.toFixed(1)}`).join('  ');
  console.log(`${name.padEnd(34)} ${row}  → ${results[best].name}`);
}

for (const N of batches) {
  for (const c of CONVS) {
    const g = convGeometry([N, c.H, c.H, c.Cin], [c.k, c.k, c.Cin, c.Cout], c.s, c.k === 3 ? 1 : 0);
    const x = randn([N, c.H, c.H, c.Cin], rng);
    const w = randn([c.k, c.k, c.Cin, c.Cout], rng, 0.1);
    const dy = randn([N, g.Ho, g.Wo, c.Cout], rng);
    const flops = 2 * N * g.Ho * g.Wo * c.Cout * c.k * c.k * c.Cin;
    const shape = `${N}x${c.H}x${c.H}x${c.Cin}->${c.Cout} k${c.k}s${c.s}`;
    // Passes that run on the row kernel have no tiles to tune.
    if (!usesRowKernel(g, 'forward')) await tune(`fwd   ${shape}`, gather, flops, () => conv2dForward(x, w, null, g).dispose());
    if (c.Cin > 3 && !usesRowKernel(g, 'input-grad')) {
      await tune(`dgrad ${shape}`, gather, flops, () => conv2dInputGrad(dy, w, g).dispose());
    }
    if (!usesWgradRows(g)) await tune(`wgrad ${shape}`, vec4, flops, () => conv2dWeightGrad(x, dy, g).dispose());
    [x, w, dy].forEach((t) => t.dispose());
  }
}
const a = randn([1024, 1024], rng);
const b = randn([1024, 1024], rng);
await tune('matmul 1024', vec4, 2 * 1024 ** 3, () => matmulKernel(a, b).dispose());
// Then the kernel ladder with the tiles just found: which family (naive, tiled, cpu) wins each pass here.
setTiles(table);
console.log('kernel families (GFLOP/s):');
const ladder = await measureLadder(batches[0], quick, (r) =>
  console.log(`  ${r.pass.padEnd(11)} ${r.shape.padEnd(28)} ${FAMILIES.map((f) => `${f} ${r.gflops[f].toFixed(1)}`).join('  ')}  → ${r.best}`),
);
const path = saveTuneCache(adapter, table, process.env.DGKD_TUNE_DIR || undefined, ladder.families, ladder.order);
console.log(`wrote ${path} (${Object.keys(table).length} tiles, ${Object.keys(ladder.families).length} family choices; order ${ladder.order.join(' → ')})`);
process.exit(0);
