// A queue worker: `tsx dgkd/worker.ts --queue redis://HOST:PORT --store DIR [--data-dir DIR] [--concurrency 1] [--stall-seconds 30]`.
// Takes stage jobs from the queue (dgkd/queue/coordinator.ts submits them) and trains each in a child process
// (dgkd/queue/stage_process.ts), reading the stages it learns from and writing its own under DIR — storage every
// worker and the coordinator share. One worker per GPU. While a child trains, this process only keeps the job's
// lock renewed, so a long step never looks like a stall; if this process dies (even by SIGKILL), its child
// follows, and after --stall-seconds another worker takes the job and resumes the stage's last checkpoint.
// Exit codes: 0 after SIGHUP/SIGINT/SIGTERM (current stages stopped after saving, to be resumed), 2 bad input.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker } from 'bullmq';
import { QUEUE_NAME, checkRedis, connectionOptions, type StageJob } from './queue/connection.ts';
import { EXIT, failureReason } from './errors.ts';
import { UsageError } from './settings/options.ts';
import { badInputMessage } from './bad_input.ts';

const USAGE = `Usage: tsx dgkd/worker.ts --queue redis://HOST:PORT --store DIR [--data-dir DIR] [--concurrency N] [--stall-seconds S]
  Trains the stages a coordinator (tsx dgkd/train.ts … --queue URL --store DIR) submits. --store: the stages'
  checkpoints, on storage every worker and the coordinator share. --data-dir: where this machine holds the
  dataset (default: the coordinator's --data-dir path); either way its content must be the coordinator's (checked:
  a stage on other data fails with exit 2, not retried). --concurrency: stages at once (default 1, one per GPU).
  --stall-seconds: how long a dead worker's stage waits before another worker takes it (default 30).`;

/** Errors that mean Redis cannot be reached (as opposed to a job's or a command's own failure). */
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|connect/i;
/** The longest wait between two reconnection attempts. */
const RETRY_MAX_MS = 10_000;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const children = new Set<ChildProcess>();

function parse(argv: string[]) {
  const o = { queue: '', store: '', dataDir: '', concurrency: 1, stallSeconds: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new UsageError(`${a}: missing value`);
    if (a === '--queue') o.queue = v;
    else if (a === '--store') o.store = v;
    else if (a === '--data-dir') o.dataDir = v;
    else if (a === '--concurrency' || a === '--stall-seconds') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${a}: expected a positive integer, got '${v}'`);
      if (a === '--concurrency') o.concurrency = n;
      else o.stallSeconds = n;
    } else throw new UsageError(`unknown option '${a}'\n${USAGE}`);
  }
  if (!o.queue || !o.store) throw new UsageError(`--queue and --store are required\n${USAGE}`);
  return o;
}

/** Trains one job's stage in a child process; throws what BullMQ should do with a failure. */
function trainInChild(job: StageJob, store: string, dataDir: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'dgkd/queue/stage_process.ts')], {
      cwd: root,
      stdio: ['pipe', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    let outcome: { code: number; message: string } | null = null;
    child.on('message', (m) => (outcome = m as { code: number; message: string }));
    child.on('exit', (code, signal) => {
      children.delete(child);
      const o = outcome ?? { code: code ?? 1, message: `the stage process ended (${signal ?? `exit ${code}`})` };
      if (o.code === 0) done(o.message);
      // Bad input and a diverged loss fail the same way on every retry: not retried.
      else if (o.code === EXIT.badInput || o.code === EXIT.diverged) fail(new UnrecoverableError(failureReason(o.code, o.message)));
      else fail(new Error(o.message));
    });
    child.stdin!.end(JSON.stringify({ ...job, store, ...(dataDir ? { dataDir } : {}) }));
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const o = parse(argv);
  await checkRedis(o.queue);
  const store = resolve(o.store);
  mkdirSync(store, { recursive: true });
  const dataDir = o.dataDir ? resolve(o.dataDir) : '';
  if (dataDir && !existsSync(dataDir)) throw new UsageError(`--data-dir ${o.dataDir}: no such folder (expected this machine's copy of the run's dataset)`);
  const worker = new Worker<StageJob>(QUEUE_NAME, async (job) => trainInChild(job.data, store, dataDir), {
    connection: { ...connectionOptions(o.queue), retryStrategy: (n: number) => Math.min(250 * 2 ** Math.min(n, 8), RETRY_MAX_MS) },
    concurrency: o.concurrency,
    lockDuration: o.stallSeconds * 1000,
    stalledInterval: o.stallSeconds * 1000,
    maxStalledCount: 5,
  });
  worker.on('active', (job) => console.error(`[worker ${process.pid}] ${job.data.stage.name}: started (attempt ${job.attemptsMade + 1})`));
  worker.on('completed', (job, result) => console.error(`[worker ${process.pid}] ${job.data.stage.name}: ${result}`));
  worker.on('failed', (job, e) => console.error(`[worker ${process.pid}] ${job?.data.stage.name}: failed: ${e.message}`));
  // Redis gone: said once, then ioredis reconnects with the backoff of workerConnection; said again when back.
  let lostSince = 0;
  worker.on('error', (e) => {
    if (!CONNECTION_ERROR.test(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`)) console.error(`[worker ${process.pid}] ${e.message}`);
    else if (!lostSince) {
      lostSince = Date.now();
      console.error(`[worker ${process.pid}] lost Redis at ${o.queue} (${e.message}); retrying with backoff (every ${RETRY_MAX_MS / 1000} s at most) until it is back`);
    }
  });
  (await worker.client).on('ready', () => {
    if (!lostSince) return;
    console.error(`[worker ${process.pid}] Redis at ${o.queue} is back after ${((Date.now() - lostSince) / 1000).toFixed(0)} s; taking stages again`);
    lostSince = 0;
  });
  console.error(`[worker ${process.pid}] waiting for stages on ${o.queue} (store ${store}, concurrency ${o.concurrency})`);
  await new Promise<void>((stop) => {
    const quit = () => {
      for (const c of children) c.kill('SIGTERM'); // they save after the current step; the job is retried later
      stop();
    };
    for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.once(sig, quit);
  });
  await worker.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error;
    const badInput = badInputMessage(err);
    if (badInput !== null) {
      console.error(`error: ${badInput}`);
      process.exit(EXIT.badInput);
    }
    console.error(err?.stack ?? String(e));
    process.exit(EXIT.unexpected);
  },
);
