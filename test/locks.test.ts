// Runs that collide, through the real command line: the same run folder twice at once (the second refused with
// exit 2, naming the holder), a stale lock of a dead process taken over, and two runs sharing one stage store
// (each stage trained once; the second waits for the first's stages instead of training them again).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'dgkd-locks-'));
const ARGS = ['--preset', 'paper', '--dataset', 'synthetic', '--method', 'takd', '--teacher', 'plain3', '--assistants', 'plain2',
  '--student', 'plain2', '--synthetic-train', '512', '--synthetic-test', '64', '--epochs', '3', '--batch-size', '32', '--lr', '0.01',
  '--no-augment'];
const env = { ...process.env, DGKD_QUIET: '1' };

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, env });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => text, exit };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const table = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).table;
const trainedStages = (text: string) => text.split('\n').filter((l) => /^\[[^\]]+\] training /.test(l)).map((l) => l.slice(1, l.indexOf(']')));

describe('runs that collide', () => {
  it('the same run folder twice at once: the second is refused (exit 2) naming the process that holds it', async () => {
    const out = join(work, 'same');
    const first = start([...ARGS, '--out', out, '--name', 'run']);
    for (let i = 0; !existsSync(join(out, 'run', '.lock')); i++) {
      if (i > 600) throw new Error(`the first run never locked its folder:\n${first.out()}`);
      await sleep(100);
    }
    const second = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...ARGS, '--out', out, '--name', 'run'], { cwd: root, env, encoding: 'utf8' });
    expect(second.status, second.stderr).toBe(2);
    expect(second.stderr).toContain(`${join(out, 'run')} is in use by process ${first.child.pid} on ${hostname()}`);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(await first.exit, first.out()).toBe(0);
    expect(existsSync(join(out, 'run', '.lock'))).toBe(false); // released at the end
    expect(table(join(out, 'run')).length).toBeGreaterThan(0);
  });

  it('a stale lock (its process is gone) is taken over with a note', () => {
    const out = join(work, 'stale');
    mkdirSync(join(out, 'run'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeFileSync(join(out, 'run', '.lock'), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'dgkd/train.ts (killed)' }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...ARGS, '--out', out, '--name', 'run'], { cwd: root, env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`note: took over ${join(out, 'run', '.lock')} from process ${pid} on ${hostname()}`);
  });

  it('two runs sharing one stage store: every stage trained once, the same tables', async () => {
    const store = join(work, 'shared-store');
    const a = start([...ARGS, '--store', store, '--out', join(work, 'a'), '--name', 'run']);
    await sleep(1500);
    const b = start([...ARGS, '--store', store, '--out', join(work, 'b'), '--name', 'run']);
    expect(await a.exit, a.out()).toBe(0);
    expect(await b.exit, b.out()).toBe(0);
    const stages = JSON.parse(readFileSync(join(work, 'a', 'run', 'summary.json'), 'utf8')).stages.map((s: { name: string }) => s.name);
    const trained = [...trainedStages(a.out()), ...trainedStages(b.out())];
    expect(trained.sort()).toEqual([...stages].sort()); // each once, by one of the two runs
    expect(b.out()).toMatch(/being trained by process \d+ on .*: waiting for it/);
    expect(table(join(work, 'b', 'run'))).toEqual(table(join(work, 'a', 'run')));
  });
});
