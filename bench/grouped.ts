// Grouped convolution benchmark: ShuffleNetV1's grouped 1×1 convolutions (3 groups) at batch 64, each pass run
// both ways engine/kernels/conv2d/grouped.ts can run it — the groups' channels read and written in place by the
// row kernels, and each group's channels copied out and its result copied back (the fallback for other kernels) —
// timed round-robin in one process, so the ratio holds while this shared machine's speed drifts.
//   npx tsx bench/grouped.ts           a table, and the in-place / copies ratio per pass and shape
//   npx tsx bench/grouped.ts --json    one JSON line per (shape, pass, way): {"op","shape","way","gflops","adapter"}
// GFLOP/s counts 2 FLOPs per multiply-add: N·Ho·Wo·Cout·Cin/groups of them per pass.

import { Rng } from '../engine/random.ts';
import { randn } from '../engine/tensor.ts';
import {
  convGeometry, groupedForward, groupedInputGrad, groupedWeightGrad,
} from '../engine/kernels/conv2d/index.ts';
import { groupedForwardCopies, groupedInputGradCopies, groupedWeightGradCopies } from '../engine/kernels/conv2d/grouped.ts';
import { bench, parseArgs, printTable, round2, setup, type BenchCase } from './common.ts';

/** The bottlenecks' 1×1 convolutions of ShuffleNetV1's first two stages (the third's 4×4 rows are too short for the row kernel). */
const SHAPES = [
  { N: 64, H: 16, W: 16, Cin: 240, Cout: 60 },
  { N: 64, H: 16, W: 16, Cin: 60, Cout: 240 },
  { N: 64, H: 8, W: 8, Cin: 480, Cout: 120 },
  { N: 64, H: 8, W: 8, Cin: 120, Cout: 480 },
];
const GROUPS = 3;

const { json, rounds } = parseArgs();
const adapter = await setup(json);
const rng = new Rng(1);
const cases: BenchCase[] = [];
const labels: { op: string; shape: string; way: string }[] = [];
for (const s of SHAPES) {
  const g = convGeometry([s.N, s.H, s.W, s.Cin], [1, 1, s.Cin / GROUPS, s.Cout], 1, 0, GROUPS);
  const x = randn([s.N, s.H, s.W, s.Cin], rng);
  const w = randn([1, 1, s.Cin / GROUPS, s.Cout], rng, 0.1);
  const dy = randn([s.N, s.H, s.W, s.Cout], rng);
  const flops = (2 * s.N * s.H * s.W * s.Cout * s.Cin) / GROUPS;
  const shape = `${s.N}x${s.H}x${s.W}x${s.Cin}->${s.Cout}/g${GROUPS}`;
  const passes: [string, string, () => void][] = [
    ['conv_fwd', 'in place', () => groupedForward(x, w, null, g).dispose()],
    ['conv_fwd', 'copies', () => groupedForwardCopies(x, w, null, g).dispose()],
    ['conv_dgrad', 'in place', () => groupedInputGrad(dy, w, g).dispose()],
    ['conv_dgrad', 'copies', () => groupedInputGradCopies(dy, w, g).dispose()],
    ['conv_wgrad', 'in place', () => groupedWeightGrad(x, dy, g).dispose()],
    ['conv_wgrad', 'copies', () => groupedWeightGradCopies(x, dy, g).dispose()],
  ];
  for (const [op, way, run] of passes) {
    cases.push({ name: `${op.padEnd(10)} ${shape} ${way}`, flops, run });
    labels.push({ op, shape, way });
  }
}
const results = await bench(cases, { rounds });
if (json) {
  results.forEach((r, i) => console.log(JSON.stringify({ ...labels[i], gflops: round2(r.gflops), adapter })));
} else {
  printTable(adapter, results);
  console.log('\nin place / copies (the same round-robin):');
  for (let i = 0; i < results.length; i += 2) {
    console.log(`  ${labels[i].op.padEnd(10)} ${labels[i].shape}  ${(results[i].gflops / results[i + 1].gflops).toFixed(2)}×`);
  }
}
process.exit(0);
