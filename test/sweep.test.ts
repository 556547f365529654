// `train.ts sweep` through the real command line on tiny grids: the teacher is trained once, every grid point's
// student once, and the run's folder gets the table and the heat map (T × λ for KD, α × β for DKD); a second, larger
// grid reuses them.
import { beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gpuReady } from './gpu.ts';

const root = resolve(import.meta.dirname, '..');

beforeAll(async () => {
  await gpuReady;
});

function sweep(out: string, temperatures: string) {
  const args = ['sweep', '--preset', 'quick', '--method', 'kd', '--teacher', 'plain3', '--student', 'plain2', '--seeds', '1',
    '--temperature', temperatures, '--lambda', '0.5,0.9', '--synthetic-train', '160', '--val-split', '32', '--synthetic-test', '64',
    '--epochs', '1', '--out', out, '--name', 'grid', '--quiet'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, 'grid', 'summary.json'), 'utf8'));
}

it('trains the teacher once and one student per grid point, and writes a table and a heat map', () => {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-sweep-'));
  const first = sweep(out, '2,4');
  expect(first.stages.filter((s: { role: string }) => s.role === 'teacher').length).toBe(1);
  expect(first.stages.filter((s: { role: string }) => s.role === 'student').length).toBe(4);
  expect(first.table.map((r: { method: string }) => r.method)).toEqual(['Teacher', 'T=2 λ=0.5', 'T=2 λ=0.9', 'T=4 λ=0.5', 'T=4 λ=0.9']);
  const md = readFileSync(join(out, 'grid', 'sweep.md'), 'utf8');
  expect(md).toMatch(/\| T \\ λ \| λ = 0.5 \| λ = 0.9 \|/);
  expect(md).toMatch(/\| T = 4 \| \d+\.\d\d \| \d+\.\d\d \|/);
  const svg = readFileSync(join(out, 'grid', 'heatmap.svg'), 'utf8');
  expect(svg).toMatch(/^<svg/);
  expect((svg.match(/<rect x="\d+" y="\d+" width="110"/g) ?? []).length).toBe(4);
  // A larger grid reuses the teacher and the four finished students.
  const second = sweep(out, '2,4,8');
  const reused = second.stages.filter((s: { reused: boolean }) => s.reused).length;
  expect(reused).toBe(5);
  expect(second.stages.length).toBe(7);
  // The first sweep's reports were not overwritten: they moved to previous/<time>/.
  const previous = readdirSync(join(out, 'grid', 'previous'));
  expect(previous.length).toBe(1);
  expect(JSON.parse(readFileSync(join(out, 'grid', 'previous', previous[0], 'summary.json'), 'utf8')).stages.length).toBe(5);
});

it('DKD: one student per (α, β), the same teacher, an α × β table', () => {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-sweep-dkd-'));
  const args = ['sweep', '--preset', 'quick', '--method', 'dkd', '--teacher', 'plain3', '--student', 'plain2', '--seeds', '1',
    '--dkd-alpha', '0.5,1', '--dkd-beta', '2,8', '--synthetic-train', '160', '--val-split', '32', '--synthetic-test', '64',
    '--epochs', '1', '--out', out, '--name', 'dkd', '--quiet'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });
  expect(r.status, r.stderr).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'dkd', 'summary.json'), 'utf8'));
  expect(summary.stages.filter((s: { role: string }) => s.role === 'teacher').length).toBe(1);
  expect(summary.stages.filter((s: { role: string; method: string }) => s.role === 'student' && s.method === 'dkd').length).toBe(4);
  expect(summary.table.map((r: { method: string }) => r.method)).toEqual(['Teacher', 'α=0.5 β=2', 'α=0.5 β=8', 'α=1 β=2', 'α=1 β=8']);
  expect(readFileSync(join(out, 'dkd', 'sweep.md'), 'utf8')).toMatch(/\| α \\ β \| β = 2 \| β = 8 \|\n\|---\|---\|---\|\n\| α = 0.5 \| \d+\.\d\d \| \d+\.\d\d \|/);
});
