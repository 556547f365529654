// Shared timing code for the kernel benchmarks (bench/matmul.ts, bench/run.ts).
//
// How a kernel is timed, and why:
// - Each sample encodes `reps` dispatches back to back, submits them once, and waits for the queue to drain;
//   the per-dispatch overhead (≈20 µs) is then small next to the kernel itself.
// - Waiting costs the driver nothing: on a CPU adapter the engine has Dawn poll every millisecond instead of
//   spinning a core (engine/node/dawn.ts), for tfjs's waits as well as ours. (The earlier workaround, sleeping
//   through a learned share of each batch, under-reported short kernels: when the work ended inside the sleep
//   the sample measured the sleep, and the estimate fell only 15% a round.)
// - Several cases are measured round-robin (one sample of each per round) and each reports its median: on a
//   shared, noisy machine that compares variants under the same conditions and ignores outliers.
// - A case names the queue its work goes to (`BenchQueue`): our engine's runtime by default, or another library
//   on the same adapter (bench/tfjs.ts), so both are timed by exactly the same code.

import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { runtime } from '../engine/runtime/index.ts';

export interface BenchCase {
  /** Printed in the table. */
  name: string;
  /**
   * Floating-point operations of one call of `run` (2 per multiply-add); results are this per second / 1e9.
   * Another count works the same way (bench/run.ts passes images per call for its img/s cases).
   */
  flops: number;
  /** Encodes one call of the kernel (no waiting); frees whatever it allocates. */
  run: () => void;
  /** Where `run` queues its work; defaults to our engine's runtime. */
  queue?: BenchQueue;
}

/** How to hand queued work to the GPU and wait for it: one per engine (ours, TensorFlow.js). */
export interface BenchQueue {
  /** Submits everything encoded so far. Must not wait. */
  submit(): void;
  /** Resolves when everything submitted has finished (raising any device error). */
  drain(): Promise<void>;
}

/** Our engine's queue: submit collects the pending encoder, drain awaits onSubmittedWorkDone. */
export const engineQueue: BenchQueue = {
  submit: () => runtime().submit(),
  drain: () => runtime().sync(),
};

export interface BenchResult {
  name: string;
  gflops: number;
  /** All samples, GFLOP/s, in the order taken. */
  samples: number[];
}

export interface BenchOptions {
  /** Rounds of the round-robin; each gives one sample per case. */
  rounds?: number;
  /** Target duration of one sample, in milliseconds (reps per sample are chosen to reach it). */
  sampleMs?: number;
}

/** Command-line flags shared by the benchmarks. */
export function parseArgs(argv = process.argv.slice(2)): { json: boolean; rounds?: number } {
  const json = argv.includes('--json');
  const r = argv.find((a) => a.startsWith('--rounds='));
  return { json, rounds: r ? Number(r.slice('--rounds='.length)) : undefined };
}

/** Acquires the GPU; in JSON mode nothing but JSON lines may reach stdout, so the engine's logging is off. */
export async function setup(json: boolean): Promise<string> {
  if (json) process.env.DGKD_QUIET = '1';
  const rt = await initGpu({ ...gpuOptionsFromEnv(), ...(json ? { log: false } : {}) });
  return rt.adapterDescription;
}

/** Encodes `reps` calls, submits them, waits for them. Returns the elapsed milliseconds. */
export async function runBatch(run: () => void, queue: BenchQueue, reps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  queue.submit();
  await queue.drain();
  return performance.now() - t0;
}

/**
 * Measures each case: one warm-up call (compiles the pipeline), a calibration batch to pick reps per sample,
 * then `rounds` round-robin samples. Returns the median GFLOP/s of each case.
 */
export async function bench(cases: BenchCase[], opts: BenchOptions = {}): Promise<BenchResult[]> {
  const rounds = opts.rounds ?? 7;
  const sampleMs = opts.sampleMs ?? 250;
  const plan = [];
  for (const c of cases) {
    const queue = c.queue ?? engineQueue;
    await runBatch(c.run, queue, 1); // warm-up: pipeline compile, first-touch of buffers
    const once = (await runBatch(c.run, queue, 2)) / 2;
    const reps = Math.max(1, Math.min(200, Math.round(sampleMs / Math.max(once, 0.01))));
    plan.push({ c, queue, reps, samples: [] as number[] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of plan) {
      const ms = await runBatch(p.c.run, p.queue, p.reps);
      p.samples.push((p.c.flops * p.reps) / (ms / 1000) / 1e9);
    }
  }
  return plan.map((p) => ({ name: p.c.name, gflops: median(p.samples), samples: p.samples }));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** GFLOP/s rounded for printing and JSON. */
export const round2 = (x: number) => Math.round(x * 100) / 100;

/** The human-readable table printed without --json. */
export function printTable(adapter: string, rows: BenchResult[]): void {
  console.log(`adapter: ${adapter}`);
  const w = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const lo = Math.min(...r.samples);
    const hi = Math.max(...r.samples);
    console.log(
      `${r.name.padEnd(w)}  ${r.gflops.toFixed(2).padStart(7)} GFLOP/s  (median of ${r.samples.length}, ` +
        `range ${lo.toFixed(1)}–${hi.toFixed(1)})`,
    );
  }
}
