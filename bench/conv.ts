// Conv2d benchmark: forward, input gradient and weight gradient of a 3×3, stride 1, pad 1 convolution at batch 64
// (NHWC activations, [KH, KW, Cin, Cout] weights), using the raw kernels (no autograd).
//   npx tsx bench/conv.ts           a table
//   npx tsx bench/conv.ts --json    one JSON line per (shape, pass):
//                                   {"op":"conv_fwd","shape":"64x32x32x16->16","gflops":G,"adapter":"..."}
// GFLOP/s counts 2 FLOPs per multiply-add, and every pass does N·Ho·Wo·Cout·KH·KW·Cin of them.

import { Rng } from '../engine/random.ts';
import { randn } from '../engine/tensor.ts';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, convGeometry } from '../engine/kernels/conv2d/index.ts';
import { bench, parseArgs, printTable, round2, setup, type BenchCase } from './common.ts';

const SHAPES = [
  { N: 64, H: 32, W: 32, Cin: 16, Cout: 16 },
  { N: 64, H: 8, W: 8, Cin: 64, Cout: 64 },
];
const K = 3;

const { json, rounds } = parseArgs();
const adapter = await setup(json);
const rng = new Rng(1);
const cases: BenchCase[] = [];
const labels: { op: string; shape: string }[] = [];
for (const s of SHAPES) {
  const g = convGeometry([s.N, s.H, s.W, s.Cin], [K, K, s.Cin, s.Cout], 1, 1);
  const x = randn([s.N, s.H, s.W, s.Cin], rng);
  const w = randn([K, K, s.Cin, s.Cout], rng, 0.1);
  const dy = randn([s.N, g.Ho, g.Wo, s.Cout], rng);
  const flops = 2 * s.N * g.Ho * g.Wo * s.Cout * K * K * s.Cin;
  const shape = `${s.N}x${s.H}x${s.W}x${s.Cin}->${s.Cout}`;
  const passes: [string, () => void][] = [
    ['conv_fwd', () => conv2dForward(x, w, null, g).dispose()],
    ['conv_dgrad', () => conv2dInputGrad(dy, w, g).dispose()],
    ['conv_wgrad', () => conv2dWeightGrad(x, dy, g).dispose()],
  ];
  for (const [op, run] of passes) {
    cases.push({ name: `${op.padEnd(10)} ${shape}`, flops, run });
    labels.push({ op, shape });
  }
}
const results = await bench(cases, { rounds });
if (json) {
  results.forEach((r, i) => console.log(JSON.stringify({ ...labels[i], gflops: round2(r.gflops), adapter })));
} else {
  printTable(adapter, results);
}
process.exit(0);
