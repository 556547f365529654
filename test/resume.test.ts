// Kill a real training process with SIGKILL at a random moment, resume it, and check that it ends with exactly
// the weights, optimizer state and metrics of an uninterrupted run with the same seed.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeSafetensors } from '../engine/io/safetensors.ts';
import { Rng } from '../engine/index.ts';

const root = resolve(import.meta.dirname, '..');
const ARGS = ['--preset', 'paper', '--method', 'kd', '--teacher', 'plain3', '--student', 'plain2', '--dataset', 'synthetic', '--synthetic-train', '256',
  '--synthetic-test', '64', '--epochs', '3', '--batch-size', '32', '--lr', '0.01', '--quiet'];

function train(out: string, extra: string[] = []) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...ARGS, '--out', out, '--name', 'r', ...extra], {
    cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
  });
}

/** Tensors of the student's final checkpoint (weights + momentum) and its per-epoch metrics without timings. */
function finalState(out: string) {
  const cache = join(out, '_cache');
  const summary = JSON.parse(readFileSync(join(out, 'r', 'summary.json'), 'utf8'));
  const student = summary.stages.find((s: { role: string }) => s.role === 'student');
  const dir = join(cache, student.key);
  const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'last.safetensors'))));
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const m = JSON.parse(l);
    return [m.epoch, m.lr, m.trainLoss, m.trainAcc, m.testAcc];
  });
  const data = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
  return { data, metrics };
}

/** Whether a run in `out` finished (its summary says complete; partial summaries are written after each stage). */
function finished(out: string): boolean {
  const p = join(out, 'r', 'summary.json');
  return existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).complete === true;
}

/** Runs the training command and sends `signal` (`times` times at once) `delay` ms after start, or after stderr first matches `after`. */
function runUntil(out: string, signal: NodeJS.Signals, delay: number, after?: RegExp, times = 1): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const args = after ? ARGS.filter((a) => a !== '--quiet') : ARGS;
    const child = spawn(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args, '--out', out, '--name', 'r'], {
      cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DGKD_QUIET: '1' },
    });
    let stderr = '';
    const send = () => {
      for (let i = 0; i < times; i++) child.kill(signal);
    };
    let timer: NodeJS.Timeout | undefined = after ? undefined : setTimeout(send, delay);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (after && !timer && after.test(stderr)) timer = setTimeout(send, delay);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
  });
}

describe('interruptions', () => {
  let reference: ReturnType<typeof finalState>;
  let duration = 0;
  beforeAll(() => {
    const clean = mkdtempSync(join(tmpdir(), 'dgkd-clean-'));
    const t0 = Date.now();
    const r = train(clean);
    duration = Date.now() - t0;
    expect(r.status, r.stderr).toBe(0);
    reference = finalState(clean);
  });

  it('SIGTERM does the same, with exit 143; a doubled SIGINT (Ctrl-C under npx) still saves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-term-'));
    const r = await runUntil(dir, 'SIGTERM', 500, /\[student-plain2-kd\] training/);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM: stopping after this step/);
    expect(r.stderr).toMatch(/checkpoint saved to .*last\.safetensors/);
    const twice = mkdtempSync(join(tmpdir(), 'dgkd-int2-'));
    const r2 = await runUntil(twice, 'SIGINT', 500, /\[student-plain2-kd\] training/, 2);
    expect(r2.code, r2.stderr).toBe(130);
    expect(r2.stderr).toMatch(/checkpoint saved to .*last\.safetensors/);
    const resumed = train(twice, ['--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(finalState(twice).metrics).toEqual(reference.metrics);
  });

  it('SIGHUP (the terminal gone) saves like SIGTERM and exits 129; --resume ends bit-identical', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-hup-'));
    const r = await runUntil(dir, 'SIGHUP', 500, /\[student-plain2-kd\] training/);
    expect(r.code, r.stderr).toBe(129);
    expect(r.stderr).toMatch(/checkpoint saved to .*last\.safetensors/);
    const resumed = train(dir, ['--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(finalState(dir).metrics).toEqual(reference.metrics);
  });

  it('SIGINT stops after the step, saves, exits 130, and --resume ends bit-identical', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-int-'));
    // Interrupt the student's training (its first epoch takes a few seconds).
    const r = await runUntil(dir, 'SIGINT', 500, /\[student-plain2-kd\] training/);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted (at epoch \d+, step \d+|after epoch \d+); checkpoint saved to .*last\.safetensors/);
    // Without --resume the partial stage is not thrown away; --resume with other settings is refused.
    const again = train(dir);
    expect(again.status, again.stderr).toBe(2);
    expect(again.stderr).toMatch(/stage student-plain2-kd was interrupted earlier: .*last\.safetensors holds it after \d+ epoch\(s\)\. Add --resume/);
    const changed = train(dir, ['--resume', '--momentum', '0.8']);
    expect(changed.status, changed.stderr).toBe(2);
    expect(changed.stderr).toMatch(/--resume: the settings differ from the run in .*: recipe\.momentum: was 0\.9, now 0\.8/);
    const resumed = train(dir, ['--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = finalState(dir);
    expect(after.metrics).toEqual(reference.metrics);
    for (const k of Object.keys(reference.data)) expect(after.data[k], k).toEqual(reference.data[k]);
  });

  it('an unreadable done.json (a merge conflict) stops the run naming it; deleted, --resume rebuilds it from the checkpoint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-done-'));
    expect(train(dir).status).toBe(0);
    const student = JSON.parse(readFileSync(join(dir, 'r', 'summary.json'), 'utf8')).stages.find((s: { role: string }) => s.role === 'student');
    const done = join(dir, '_cache', student.key, 'done.json');
    const original = readFileSync(done, 'utf8');
    const checkpoint = readFileSync(join(dir, '_cache', student.key, 'last.safetensors'));
    writeFileSync(done, `<<<<<<< HEAD\n${original}\n=======\n${original}\n>>>>>>> other\n`);
    const r = train(dir, ['--resume']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${done}: not a finished stage's record`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(dir, '_cache', student.key, 'last.safetensors')).equals(checkpoint)).toBe(true);
    rmSync(done);
    const again = train(dir, ['--resume']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(readFileSync(done, 'utf8')).result).toEqual(JSON.parse(original).result);
  });

  it('a non-finite loss stops with the stage, epoch and step named (exit 3)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-nan-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', '--preset', 'paper', '--method', 'ce', '--student', 'plain2', '--dataset', 'synthetic',
      '--synthetic-train', '256', '--synthetic-test', '64', '--epochs', '2', '--batch-size', '32', '--lr', '1e30', '--quiet', '--out', dir, '--name', 'n'], {
      cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/\[student-plain2-nokd\] non-finite loss \(\w+\) at epoch 1, step \d+/);
  });

  it('SIGKILL at a random moment, then --resume, ends bit-identical to an uninterrupted run', async () => {

    // A random moment between 20% and 70% of a whole run; if the machine happened to be faster this time and
    // the run finished first, try again earlier (the point is to kill it mid-way, wherever that lands).
    const rng = new Rng(Date.now() % 100000);
    let killed = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      killed = mkdtempSync(join(tmpdir(), 'dgkd-killed-'));
      await runUntil(killed, 'SIGKILL', duration * (0.2 + 0.5 * rng.next()) * 0.6 ** attempt);
      if (!finished(killed)) break;
    }
    expect(finished(killed), 'the kill came after the run had finished').toBe(false);
    // No half-written file may remain looking complete: only whole checkpoints or temporary files.
    if (existsSync(join(killed, '_cache'))) {
      for (const d of readdirSync(join(killed, '_cache'))) {
        for (const f of readdirSync(join(killed, '_cache', d)).filter((f) => f.endsWith('.safetensors'))) {
          expect(() => decodeSafetensors(new Uint8Array(readFileSync(join(killed, '_cache', d, f))))).not.toThrow();
        }
      }
    }
    const resumed = train(killed, ['--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = finalState(killed);
    expect(after.metrics).toEqual(reference.metrics);
    expect(Object.keys(after.data).sort()).toEqual(Object.keys(reference.data).sort());
    for (const k of Object.keys(reference.data)) expect(after.data[k], k).toEqual(reference.data[k]);
  });
});

// Models and modules trained beside the student — CTKD's scratch teacher, FitNets' regressor — are saved with it
// and resumed exactly, their momentum included (stored as optimizer.momentum_buffer.param<index>: before issue 27
// applying it looked for 'optimizer.momentum_buffer.undefined', and CTKD's --resume failed with exit 2).
describe('resuming a student trained with companions or trainable modules', () => {
  const extraArgs = (method: string) => ['--preset', 'paper', '--method', method, '--teacher', 'plain3', '--student', 'plain2', '--dataset', 'synthetic',
    '--synthetic-train', '1024', '--synthetic-test', '64', '--epochs', '3', '--batch-size', '32', '--lr', '0.01', '--name', 'r'];
  const tensorsOf = (path: string) => {
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(path)));
    return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
  };
  for (const [method, beside] of [['fitnets', 'trainables.last.safetensors'], ['ctkd', 'companion0.last.safetensors']]) {
    it(`${method}: SIGINT mid-epoch, then --resume, ends bit-identical (student, ${beside}, metrics)`, async () => {
      const run = (out: string, extra: string[] = []) =>
        spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...extraArgs(method), '--quiet', '--out', out, ...extra], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });
      const clean = mkdtempSync(join(tmpdir(), `dgkd-${method}-clean-`));
      expect(run(clean).status).toBe(0);
      const dir = mkdtempSync(join(tmpdir(), `dgkd-${method}-int-`));
      const code = await new Promise<number | null>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...extraArgs(method), '--out', dir], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DGKD_QUIET: '1' } });
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
          if (new RegExp(`\\[student-plain2-${method}\\] epoch 1/3`).test(stderr)) child.kill('SIGINT');
        });
        child.on('exit', (c) => done(c));
      });
      expect(code).toBe(130);
      const resumed = run(dir, ['--resume']);
      expect(resumed.status, resumed.stderr).toBe(0);
      const key = (out: string) => JSON.parse(readFileSync(join(out, 'r', 'summary.json'), 'utf8')).stages.find((s: { role: string }) => s.role === 'student').key;
      expect(key(dir)).toBe(key(clean));
      for (const f of ['last.safetensors', beside, 'metrics.jsonl']) {
        const [a, b] = [join(clean, '_cache', key(clean), f), join(dir, '_cache', key(dir), f)];
        if (f.endsWith('.jsonl')) {
          const strip = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => {
            const m = JSON.parse(l);
            return [m.epoch, m.trainLoss, m.trainAcc, m.testAcc];
          });
          expect(strip(b)).toEqual(strip(a));
        } else expect(tensorsOf(b), f).toEqual(tensorsOf(a));
      }
    });
  }
});
