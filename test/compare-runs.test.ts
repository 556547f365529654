// scripts/compare-runs.ts: two runs paired by seed, per method row; bad input exits 2 naming the file.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare-runs.ts', ...args], { cwd: root, encoding: 'utf8' });

function summary(dir: string, name: string, rows: [string, number, number, number][]) {
  mkdirSync(join(dir, name), { recursive: true });
  const perSeed = [
    { method: 'Teacher', arch: 'plain8', seed: 0, shared: true, best: 0.8, final: 0.8 },
    ...rows.map(([method, seed, best, final]) => ({ method, arch: 'plain2', seed, shared: false, best, final })),
  ];
  writeFileSync(join(dir, name, 'summary.json'), JSON.stringify({ name, perSeed }));
  return join(dir, name);
}

it('pairs the rows two runs share by seed, B − A, with both tests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-'));
  const a = summary(dir, 'a', [['KD', 0, 0.6, 0.61], ['KD', 1, 0.62, 0.62], ['NOKD', 0, 0.5, 0.5]]);
  const b = summary(dir, 'b', [['KD', 0, 0.61, 0.61], ['KD', 1, 0.64, 0.6], ['DGKD', 0, 0.7, 0.7]]);
  const r = run(a, b);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('b − a, paired by seed');
  expect(r.stdout).toMatch(/\| KD plain2 \| best \| 2 \| 61\.00 \| 62\.50 \| \+1\.00, \+2\.00 \| \+1\.50 \| 0\.205 \| 2–0 \| 0\.500 \|/);
  expect(r.stdout).toMatch(/\| KD plain2 \| final \| 2 \| 61\.50 \| 60\.50 \| \+0\.00, −2\.00 \| −1\.00 \|/);
  expect(r.stdout).not.toMatch(/NOKD|DGKD|Teacher/);
});

it('exits 2 naming the file when a summary is missing or the runs share nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compare-'));
  const missing = run(join(dir, 'nope'), join(dir, 'nope'));
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/RUN_A .*nope: expected a run's summary\.json/);
  const a = summary(dir, 'a', [['KD', 0, 0.6, 0.6]]);
  const b = summary(dir, 'b', [['NOKD', 0, 0.5, 0.5]]);
  const r = run(a, b);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('a and b have no method row in common');
});
