// Side-by-side benchmark of our engine and TensorFlow.js (tfjs-backend-webgpu) on the same WebGPU adapter, in
// one process, both warm. `npm run bench` runs this.
//
//   npm run bench                       every case, one table (3–4 minutes on the 2-core lavapipe machine)
//   npm run bench -- --quick            fewer repetitions (about 2 minutes)
//   npm run bench -- --cases conv-wgrad,train-resnet8
//                                       only cases whose name contains one of these (see --list)
//   npm run bench -- --json             one JSON line per case: {"case","adapter","ours","tfjs","unit","ratio"}
//                                       (npm prints its own banner on stdout: `npm run -s bench -- --json`
//                                       or `npx tsx bench/run.ts --json` for JSON lines only)
//   npm run bench -- --list             the case names
//
// ratio = ours / tfjs; every unit is higher-is-better (GFLOP/s counts 2 per multiply-add; img/s counts the
// images, or rows of logits, processed per second). Each value is a median over repeated runs:
// - kernel cases (matmul, conv passes, batch norm, softmax-KL): all cases of both engines are timed round-robin
//   (bench/common.ts), so a burst of load on this shared machine hits both alike;
// - training steps: our engine paced as the trainer paces itself (bench/train_loop.ts), tfjs one step at a
//   time, taking turns; each after warm-up steps that compile every pipeline.
// The results are also merged into bench/results/<adapter>.json (written atomically), each case with the
// time and command line that produced it.

import { readFileSync, renameSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bench, median, runBatch, setup, type BenchCase } from './common.ts';
import { allCases, ourKernelCase, type CaseDef, type KernelCase } from './cases.ts';
import { makeTrainStep, timeTrainSteps } from './train_loop.ts';
import { setupTfjs, tfjsKernelCase, tfjsTrainStep } from './tfjs.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---- options ----------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(name + '='));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].slice(name.length + 1) : argv[i + 1];
}
const known = ['--json', '--quick', '--list', '--cases'];
for (const [i, a] of argv.entries()) {
  if (a.startsWith('--') && !known.includes(a.split('=')[0])) fail(`unknown option ${a} (options: ${known.join(', ')})`);
  if (!a.startsWith('--') && argv[i - 1] !== '--cases') fail(`unexpected argument ${a}`);
}
const json = argv.includes('--json');
const quick = argv.includes('--quick');
const filter = option('--cases')?.split(',').map((s) => s.trim()).filter(Boolean);

/**
 * Repetitions. tfjs is slow here (a ResNet-20 step takes 10–20 s on lavapipe), so training uses few steps. On
 * the 2-core lavapipe machine the full run took 3–4 minutes and --quick 2 (longer while others load it).
 */
const plan = quick
  ? { rounds: 3, sampleMs: 150, trainRounds: 2, ourSteps: 3, tfjsSteps: 2, warmup: 2 }
  : { rounds: 7, sampleMs: 300, trainRounds: 3, ourSteps: 4, tfjsSteps: 2, warmup: 2 };

function fail(msg: string): never {
  console.error(`bench: ${msg}`);
  process.exit(2);
}

let cases = allCases();
if (argv.includes('--list')) {
  for (const c of cases) console.log(c.name);
  process.exit(0);
}
if (filter) {
  cases = cases.filter((c) => filter.some((f) => c.name.includes(f)));
  if (!cases.length) fail(`--cases ${filter.join(',')} matches no case; --list shows them`);
}

// ---- measuring --------------------------------------------------------------------------------------------

interface Row {
  case: string;
  adapter: string;
  ours: number;
  tfjs: number;
  unit: string;
  ratio: number;
  target?: number;
  /** Every sample, in the unit, in the order taken (medians above). */
  oursSamples: number[];
  tfjsSamples: number[];
}

const t0 = performance.now();
/** Progress on stderr (stdout is the table or the JSON lines), with the seconds since start. */
const log = (msg: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const adapter = await setup(json);
// The issue sets the ResNet-8 target at 20× on lavapipe and 10× on SwiftShader.
if (/swiftshader/i.test(adapter)) cases.filter((c) => c.name === 'train-resnet8').forEach((c) => (c.target = 10));
const tfjs = await setupTfjs();
if (tfjs.adapter !== adapter) log(`warning: tfjs got a different adapter: ${tfjs.adapter}`);
const rows: Row[] = [];

function row(c: CaseDef, ours: number[], theirs: number[]): Row {
  const o = median(ours);
  const t = median(theirs);
  const r: Row = { case: c.name, adapter, ours: o, tfjs: t, unit: c.unit, ratio: o / t, target: c.target, oursSamples: ours, tfjsSamples: theirs };
  rows.push(r);
  if (json) console.log(JSON.stringify({ case: r.case, adapter, ours: round(o), tfjs: round(t), unit: r.unit, ratio: round(r.ratio) }));
  return r;
}

// Kernel cases: ours and tfjs's version of each, all in one round-robin.
const kernels = cases.filter((c) => c.spec.kind !== 'train');
if (kernels.length) {
  log(`${kernels.length} kernel cases × 2 engines, ${plan.rounds} rounds round-robin…`);
  const built: { def: CaseDef; side: 'ours' | 'tfjs'; k: KernelCase }[] = [];
  for (const def of kernels) {
    built.push({ def, side: 'ours', k: ourKernelCase(def.spec) });
    built.push({ def, side: 'tfjs', k: tfjsKernelCase(def.spec) });
  }
  const benchCases: BenchCase[] = built.map((b) => ({
    name: `${b.def.name} ${b.side}`,
    flops: b.def.work,
    run: b.k.run,
    queue: b.side === 'tfjs' ? tfjs.queue : undefined,
  }));
  const results = await bench(benchCases, { rounds: plan.rounds, sampleMs: plan.sampleMs });
  // bench() reports work per second / 1e9, the work of a call being `flops` (here: FLOPs, or images).
  const inUnit = (def: CaseDef, i: number) =>
    def.unit === 'GFLOP/s' ? results[i].samples : results[i].samples.map((g) => g * 1e9);
  for (let i = 0; i < built.length; i += 2) row(built[i].def, inUnit(built[i].def, i), inUnit(built[i].def, i + 1));
  for (const b of built) b.k.dispose();
}

// Training steps, images per second. The engines take turns (a block of steps of ours, then of tfjs, `rounds`
// times), so load from other users of the machine falls on both alike, as in the round-robin above.
for (const c of cases) {
  if (c.spec.kind !== 'train') continue;
  const { arch, batch } = c.spec;
  const { trainRounds, ourSteps, tfjsSteps, warmup } = plan;
  log(`${c.name}: warm-up…`);
  const ours = makeTrainStep(arch, batch);
  const theirs = tfjsTrainStep(Number(arch.replace('resnet', '')), batch);
  await timeTrainSteps(ours, 0, warmup);
  for (let i = 0; i < warmup; i++) await runBatch(theirs.step, tfjs.queue, 1); // the first compiles
  const ourMs: number[] = [];
  const tfjsMs: number[] = [];
  log(`${c.name}: ${trainRounds} rounds of ${ourSteps} steps of ours, ${tfjsSteps} of tfjs (slow)…`);
  for (let r = 0; r < trainRounds; r++) {
    ourMs.push(...(await timeTrainSteps(ours, ourSteps, 0)));
    for (let i = 0; i < tfjsSteps; i++) tfjsMs.push(await runBatch(theirs.step, tfjs.queue, 1));
  }
  ours.dispose();
  theirs.dispose();
  row(c, ourMs.map((ms) => (batch * 1000) / ms), tfjsMs.map((ms) => (batch * 1000) / ms));
}
log('done');

// ---- output -----------------------------------------------------------------------------------------------

function round(x: number): number {
  return Number(x.toPrecision(4));
}

if (!json) printTable();
writeResults();
// Dawn's instances keep the event loop alive; the numbers are out, so leave.
process.exit(0);

function printTable(): void {
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const head = ['case', 'ours', 'tfjs', 'unit', 'ours/tfjs', 'target'];
  const body = rows.map((r) => [
    r.case,
    fmt(r.ours),
    fmt(r.tfjs),
    r.unit,
    `${fmt(r.ratio)}×`,
    r.target ? `≥${r.target}× ${r.ratio >= r.target ? 'met' : 'MISSED'}` : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (i === 0 || i === 3 || i === 5 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  ').trimEnd();
  console.log(`adapter: ${adapter}`);
  console.log(`tfjs ${tfjs.versions.tfjs} (tfjs-backend-webgpu ${tfjs.versions['tfjs-backend-webgpu']}) on the same adapter` +
    `${quick ? '; --quick' : ''}; medians`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

/** Merges this run's rows into bench/results/<adapter-slug>.json: temp file + rename, never a torn file. */
function writeResults(): void {
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const slug = adapter.split(' / ')[0].toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
  const file = join(dir, `${slug || 'unknown-adapter'}.json`);
  let previous: { cases?: Record<string, unknown> } = {};
  if (existsSync(file)) {
    try {
      previous = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      log(`warning: ${file} was not valid JSON; starting it afresh`);
    }
  }
  const timestamp = new Date().toISOString();
  const command = commandLine();
  const versions = { node: process.version, webgpu: packageVersion('webgpu'), ...tfjs.versions };
  const merged: Record<string, unknown> = { ...(previous.cases ?? {}) };
  for (const r of rows) merged[r.case] = { ...r, timestamp, command, quick, versions };
  const out = { adapter, updated: timestamp, command, cases: merged };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n');
  renameSync(tmp, file);
  log(`results in ${file.slice(root.length + 1)}`);
}

function commandLine(): string {
  const args = argv.join(' ');
  return process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ' -- ' + args : ''}` : `npx tsx bench/run.ts ${args}`.trim();
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
