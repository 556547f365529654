// Matmul benchmark: C = A·B, square fp32 matrices of 256, 512 and 1024, using the raw kernel (no autograd).
//   npx tsx bench/matmul.ts           a table
//   npx tsx bench/matmul.ts --json    one JSON line per size: {"op":"matmul","size":N,"gflops":G,"adapter":"..."}

import { Rng } from '../engine/random.ts';
import { randn } from '../engine/tensor.ts';
import { matmulKernel } from '../engine/kernels/matmul.ts';
import { bench, parseArgs, printTable, round2, setup, type BenchCase } from './common.ts';

const SIZES = [256, 512, 1024];

const { json, rounds } = parseArgs();
const adapter = await setup(json);
const rng = new Rng(1);
const cases: BenchCase[] = SIZES.map((n) => {
  const a = randn([n, n], rng);
  const b = randn([n, n], rng);
  return { name: `matmul ${n}³`, flops: 2 * n ** 3, run: () => matmulKernel(a, b).dispose() };
});
const results = await bench(cases, { rounds });
if (json) {
  results.forEach((r, i) => {
    console.log(JSON.stringify({ op: 'matmul', size: SIZES[i], gflops: round2(r.gflops), adapter }));
  });
} else {
  printTable(adapter, results);
}
// Dawn's instance can keep the event loop alive; the numbers are out, so leave.
process.exit(0);
