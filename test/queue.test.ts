// Stages across machines: a real redis-server on a free loopback port (no persistence), real worker processes
// and coordinators through the command line. A worker SIGKILLed mid-stage: another takes the job over after the
// stall interval and resumes the stage's checkpoint, and the run ends bit-identical to the in-process run. Two
// coordinators submitting one pipeline train each stage once. Redis down: exit 2 with the URL, nothing written.
// A stage that fails on bad input fails its dependants, without retries. Redis restarted empty mid-run: the same
// table; Redis gone for good: exit 2 after --queue-timeout, and --resume later trains no stage twice; SIGTERM while
// the coordinator waits: 143 at once; a store the worker cannot write: the job fails once, naming the path; a
// worker's --data-dir on a copy of the data trains, on other content fails once, naming the folder; a worker
// running other code than the coordinator's fails the stage once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeSafetensors } from '../engine/io/safetensors.ts';
import { checkRedis } from '../dgkd/queue/connection.ts';
import { writeTinyCifar } from './tiny-cifar.ts';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'dgkd-queue-'));
const ARGS = ['--preset', 'paper', '--dataset', 'synthetic', '--method', 'dgkd', '--teacher', 'plain3', '--assistants', 'plain2',
  '--student', 'plain2', '--synthetic-train', '512', '--synthetic-test', '64', '--epochs', '3', '--batch-size', '32', '--lr', '0.01',
  '--no-augment', '--quiet'];
const STALL_SECONDS = 2;

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });

type Proc = { child: ChildProcess; out: () => string; exit: Promise<number | null> };
const procs: ChildProcess[] = [];
/** A node process of the CLI in its own process group (so that a SIGKILL takes its children too). */
function start(script: string, args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, detached: true, env: { ...process.env, DGKD_QUIET: '1' } });
  procs.push(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => text, exit };
}
const killGroup = (p: Proc, signal: NodeJS.Signals = 'SIGKILL') => {
  try {
    process.kill(-p.child.pid!, signal);
  } catch {
    /* already gone */
  }
};

/** A redis-server without persistence on a loopback port, answering once this resolves. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  procs.push(redis);
  for (let i = 0; ; i++) {
    try {
      await checkRedis(`redis://127.0.0.1:${port}`);
      return redis;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
const stopRedis = (redis: ChildProcess) =>
  new Promise<void>((done) => {
    redis.once('exit', () => done());
    redis.kill('SIGKILL');
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what: string, ok: () => boolean, seconds = 120): Promise<void> {
  for (const until = Date.now() + seconds * 1000; !ok(); await sleep(100)) if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
}

let url = '';
beforeAll(async () => {
  const port = await freePort();
  await startRedis(port);
  url = `redis://127.0.0.1:${port}`;
});

afterAll(() => {
  for (const p of procs) {
    try {
      if (p.pid) process.kill(p.spawnargs[0] === 'redis-server' ? p.pid : -p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** Each stage's tensors, by stage name: what "bit-identical" compares. */
function checkpoints(store: string, stages: { name: string; key: string }[]): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const s of stages) {
    const ck = decodeSafetensors(new Uint8Array(readFileSync(join(store, '_cache', s.key, 'last.safetensors'))), s.name);
    out[s.name] = Object.fromEntries(Object.entries(ck.tensors).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
  }
  return out;
}
const summaryOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
const accuracies = (summary: { table: { method: string; best: unknown; final: unknown }[] }) => summary.table.map((r) => [r.method, r.best, r.final]);
const countLines = (text: string, pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l)).length;

describe('the pipeline on a queue', () => {
  let reference: ReturnType<typeof summaryOf>;
  it('in-process reference run', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...ARGS, '--out', join(work, 'ref'), '--name', 'run'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    reference = summaryOf(join(work, 'ref', 'run'));
    expect(reference.stages.map((s: { name: string }) => s.name)).toEqual(['teacher-plain3', 'assistant-plain2-from-plain3', 'student-plain2-dgkd']);
  });

  it('two workers, one SIGKILLed mid-stage: the other resumes the stage and the run ends bit-identical', async () => {
    const store = join(work, 'store');
    const worker = (name: string) => start('dgkd/worker.ts', ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const a = worker('a');
    const coordinator = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'q'), '--name', 'run']);
    // Wait until worker a has saved the teacher after its first epoch (the stage is not done).
    const teacherDir = join(store, '_cache', reference.stages[0].key);
    for (let i = 0; !existsSync(join(teacherDir, 'last.safetensors')); i++) {
      if (i > 1200) throw new Error(`worker a never checkpointed the teacher:\n${a.out()}\n${coordinator.out()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    killGroup(a);
    expect(existsSync(join(teacherDir, 'done.json'))).toBe(false);
    const b = worker('b');
    const code = await coordinator.exit;
    expect(code, `${coordinator.out()}\n--- worker b:\n${b.out()}`).toBe(0);
    expect(b.out()).toMatch(/\[teacher-plain3\] resuming after epoch [12] from/);
    const queued = summaryOf(join(work, 'q', 'run'));
    expect(accuracies(queued)).toEqual(accuracies(reference));
    expect(checkpoints(store, reference.stages)).toEqual(checkpoints(join(work, 'ref'), reference.stages));
    // No stage trained to completion twice: one final epoch line per stage across both workers.
    for (const s of reference.stages) expect(countLines(a.out() + b.out(), new RegExp(`^\\[${s.name}\\] epoch 3/3`))).toBe(1);
    killGroup(b, 'SIGTERM');
    expect(await b.exit).toBe(0);
  });

  it('two coordinators submitting the same pipeline train each stage once', async () => {
    const store = join(work, 'store2');
    const w = start('dgkd/worker.ts', ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c1 = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'c1'), '--name', 'run']);
    const c2 = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'c2'), '--name', 'run']);
    expect(await c1.exit, `${c1.out()}\n--- worker:\n${w.out()}`).toBe(0);
    expect(await c2.exit, `${c2.out()}\n--- worker:\n${w.out()}`).toBe(0);
    for (const s of reference.stages) expect(countLines(w.out(), new RegExp(`^\\[${s.name}\\] training `))).toBe(1);
    expect(accuracies(summaryOf(join(work, 'c2', 'run')))).toEqual(accuracies(reference));
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('a stage failing on bad input fails its dependants, with no retries', async () => {
    // The teacher arrives in the store trained, but its checkpoint is garbage: the assistant cannot load it.
    const store = join(work, 'store3');
    const key = reference.stages[0].key;
    cpSync(join(work, 'ref', '_cache', key), join(store, '_cache', key), { recursive: true });
    writeFileSync(join(store, '_cache', key, 'last.safetensors'), 'not a checkpoint');
    const w = start('dgkd/worker.ts', ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'c3'), '--name', 'run']);
    expect(await c.exit, c.out()).toBe(2);
    expect(c.out(), `${c.out()}\n--- worker:\n${w.out()}`).toMatch(/2 of 3 stages failed:\n {2}assistant-plain2-from-plain3: bad input: .*last\.safetensors.*\n {2}student-plain2-dgkd: not trained: it learns from assistant-plain2-from-plain3, which failed/);
    expect(countLines(w.out(), /assistant-plain2-from-plain3: started/)).toBe(1);
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('a diverged loss on a worker: exit 3 as in process, no retries, dependants not trained', async () => {
    const store = join(work, 'store-nan');
    const w = start('dgkd/worker.ts', ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c = start('dgkd/train.ts', [...ARGS.map((a) => (a === '0.01' ? '1e30' : a)), '--queue', url, '--store', store, '--out', join(work, 'nan'), '--name', 'run']);
    expect(await c.exit, `${c.out()}\n--- worker:\n${w.out()}`).toBe(3);
    expect(c.out()).toMatch(/3 of 3 stages failed:\n {2}teacher-plain3: diverged: .*teacher-plain3.*epoch 1, step \d+/);
    expect(countLines(w.out(), /teacher-plain3: started/)).toBe(1);
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('Redis restarted empty after the first stage: the run carries on and ends with the same table as in process', async () => {
    const port = await freePort();
    const q = `redis://127.0.0.1:${port}`;
    let redis = await startRedis(port);
    const store = join(work, 'store-restart');
    const w = start('dgkd/worker.ts', ['--queue', q, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c = start('dgkd/train.ts', [...ARGS, '--queue', q, '--store', store, '--out', join(work, 'restart'), '--name', 'run']);
    await waitFor('the teacher', () => existsSync(join(store, '_cache', reference.stages[0].key, 'done.json')));
    await stopRedis(redis);
    await sleep(1500);
    redis = await startRedis(port);
    expect(await c.exit, `${c.out()}\n--- worker:\n${w.out()}`).toBe(0);
    expect(accuracies(summaryOf(join(work, 'restart', 'run')))).toEqual(accuracies(reference));
    expect(countLines(w.out(), /lost Redis at /)).toBe(1);
    expect(w.out()).toMatch(new RegExp(`Redis at ${q.replace(/[/.]/g, '\\$&')} is back after \\d+ s`));
    for (const s of reference.stages) expect(countLines(w.out(), new RegExp(`^\\[${s.name}\\] training `))).toBe(1);
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('Redis gone for good: exit 2 after --queue-timeout naming the queue and the --resume command; resumed, no stage trains twice', async () => {
    const port = await freePort();
    const q = `redis://127.0.0.1:${port}`;
    const redis = await startRedis(port);
    const store = join(work, 'store-gone');
    const args = [...ARGS, '--queue', q, '--queue-timeout', '2', '--store', store, '--out', join(work, 'gone'), '--name', 'run'];
    const w = start('dgkd/worker.ts', ['--queue', q, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c = start('dgkd/train.ts', args);
    await waitFor('the teacher', () => existsSync(join(store, '_cache', reference.stages[0].key, 'done.json')));
    await stopRedis(redis);
    const lostAt = Date.now();
    expect(await c.exit, c.out()).toBe(2);
    // 2 s of --queue-timeout after the first call that went unanswered (5 s at most), and the polls around them.
    expect(Date.now() - lostAt).toBeLessThan(15_000);
    expect(c.out()).toMatch(new RegExp(`lost Redis at ${q.replace(/[/.]/g, '\\$&')} .*trying again for up to 2 s \\(--queue-timeout\\)`));
    expect(c.out()).toMatch(new RegExp(`error: --queue ${q.replace(/[/.]/g, '\\$&')}: Redis has not answered for 2 s .*continue with: npx tsx dgkd/train.ts .*--resume`));
    expect(c.out()).not.toMatch(/\n\s+at /); // no stack trace
    await waitFor('the worker to notice', () => /lost Redis at /.test(w.out()));
    // Back: the same command with --resume finishes the run, and the teacher is not trained again.
    await startRedis(port);
    const c2 = start('dgkd/train.ts', [...args, '--resume']);
    expect(await c2.exit, `${c2.out()}\n--- worker:\n${w.out()}`).toBe(0);
    expect(accuracies(summaryOf(join(work, 'gone', 'run')))).toEqual(accuracies(reference));
    expect(countLines(w.out(), /lost Redis at /)).toBe(1);
    for (const s of reference.stages) expect(countLines(w.out(), new RegExp(`^\\[${s.name}\\] training `))).toBe(1);
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('SIGTERM while the coordinator waits for a lost Redis: exit 143 at once', async () => {
    const port = await freePort();
    const q = `redis://127.0.0.1:${port}`;
    const redis = await startRedis(port);
    const c = start('dgkd/train.ts', [...ARGS.filter((a) => a !== '--quiet'), '--queue', q, '--store', join(work, 'store-term'), '--out', join(work, 'term'), '--name', 'run']);
    await waitFor('the teacher to be submitted', () => /teacher-plain3: submitted/.test(c.out()));
    await stopRedis(redis);
    await waitFor('the coordinator to notice', () => /lost Redis at /.test(c.out()), 30);
    const sent = Date.now();
    c.child.kill('SIGTERM');
    expect(await c.exit, c.out()).toBe(143);
    expect(Date.now() - sent).toBeLessThan(3000);
    expect(c.out()).toMatch(/stopped: 0 of 3 stages are in the store .*continue with: npx tsx dgkd\/train.ts .*--resume/);
  });

  it('a store the worker cannot write: the job fails once with the path, and the coordinator reports it (exit 2)', async () => {
    const store = join(work, 'store-readonly');
    mkdirSync(store);
    // Root ignores permission bits: the immutable attribute (chattr +i) stops it too.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) expect(spawnSync('chattr', ['+i', store], { encoding: 'utf8' }).status).toBe(0);
    else chmodSync(store, 0o555);
    try {
      const w = start('dgkd/worker.ts', ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
      const c = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'readonly'), '--name', 'run']);
      expect(await c.exit, c.out()).toBe(2);
      const dir = store.replace(/[/.]/g, '\\$&');
      expect(c.out()).toMatch(new RegExp(`3 of 3 stages failed:\n {2}teacher-plain3: bad input: ${dir}/\\S+: (operation not permitted|permission denied)`));
      expect(countLines(w.out(), /teacher-plain3: started/)).toBe(1);
      killGroup(w, 'SIGTERM');
      await w.exit;
    } finally {
      if (asRoot) spawnSync('chattr', ['-i', store]);
      else chmodSync(store, 0o755);
    }
  });

  it('a worker whose dataset lies elsewhere: --data-dir with a copy trains; other content fails once naming the folder (exit 2)', async () => {
    // A small CIFAR-10 folder for the coordinator, an exact copy and a copy with one pixel changed for the workers.
    const cifar = writeTinyCifar;
    const [here, copy, other] = [cifar(join(work, 'cifar-here')), cifar(join(work, 'cifar-copy')), cifar(join(work, 'cifar-other'), true)];
    const RUN = ['--dataset', 'cifar10', '--data-dir', here, '--method', 'ce', '--student', 'plain2', '--epochs', '1', '--batch-size', '32',
      '--val-split', '20', '--seeds', '1', '--quiet'];
    for (const [dir, ok] of [[copy, true], [other, false]] as const) {
      const store = join(work, ok ? 'store-copy' : 'store-other');
      const w = start('dgkd/worker.ts', ['--queue', url, '--store', store, '--data-dir', dir, '--stall-seconds', String(STALL_SECONDS)]);
      const c = start('dgkd/train.ts', [...RUN, '--queue', url, '--store', store, '--out', join(work, ok ? 'copy' : 'other'), '--name', 'run']);
      const code = await c.exit;
      killGroup(w, 'SIGTERM');
      await w.exit;
      if (ok) {
        expect(code, `${c.out()}\n--- worker:\n${w.out()}`).toBe(0);
        expect(countLines(w.out(), /student-plain2-nokd\S*: trained/), w.out()).toBe(1);
      } else {
        expect(code, c.out()).toBe(2);
        expect(c.out()).toMatch(new RegExp(`student-plain2-nokd\\S*: bad input: --data-dir ${dir.replace(/[/.]/g, '\\$&')}: not the data the coordinator trains on`));
        expect(countLines(w.out(), /student-plain2-nokd\S*: started/)).toBe(1);
      }
    }
  });

  it('a worker running other code than the coordinator (a host not updated): the stage fails once, saying so (exit 2)', async () => {
    const other = join(work, 'other-code');
    for (const d of ['engine', 'shaders', 'dgkd']) cpSync(join(root, d), join(other, d), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(other, 'node_modules'));
    writeFileSync(join(other, 'package.json'), readFileSync(join(root, 'package.json')));
    writeFileSync(join(other, 'dgkd', 'fit', 'trainer.ts'), readFileSync(join(root, 'dgkd', 'fit', 'trainer.ts'), 'utf8') + '\n// a later edit\n');
    const store = join(work, 'store-code');
    const w = start(join(other, 'dgkd', 'worker.ts'), ['--queue', url, '--store', store, '--stall-seconds', String(STALL_SECONDS)]);
    const c = start('dgkd/train.ts', [...ARGS, '--queue', url, '--store', store, '--out', join(work, 'code'), '--name', 'run']);
    expect(await c.exit, `${c.out()}\n--- worker:\n${w.out()}`).toBe(2);
    expect(c.out()).toMatch(/teacher-plain3: bad input: this worker's training code \(engine\/, shaders\/, dgkd\/: [0-9a-f]{16}\) is not the coordinator's \([0-9a-f]{16}\)/);
    expect(countLines(w.out(), /teacher-plain3: started/)).toBe(1);
    killGroup(w, 'SIGTERM');
    await w.exit;
  });

  it('Redis unreachable: exit 2 naming the URL, nothing written', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...ARGS, '--queue', dead, '--store', join(work, 'never'), '--out', join(work, 'never-out')], {
      cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--queue ${dead.replace(/[/.]/g, '\\$&')}: cannot reach Redis`));
    expect(readdirSync(work)).not.toContain('never');
    expect(readdirSync(work)).not.toContain('never-out');
    const w = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/worker.ts', '--queue', dead, '--store', join(work, 'never')], { cwd: root, encoding: 'utf8' });
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/cannot reach Redis/);
  });
});
