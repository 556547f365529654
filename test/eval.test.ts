// `eval` scores a checkpoint on the data it was trained with — the built-in sizes and seed and the held-out
// parts come from the checkpoint's metadata — and does not apply training-only checks (a 40-image test set is
// fine with any batch size).
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });

it('scores a checkpoint on its own test split, with the same accuracy the run reported', () => {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-eval-'));
  const train = cli(['--method', 'ce', '--student', 'plain2', '--dataset', 'synthetic', '--synthetic-train', '160', '--val-split', '32',
    '--synthetic-test', '40', '--seed', '3', '--epochs', '1', '--batch-size', '32', '--lr', '0.01', '--out', out, '--name', 'e', '--quiet']);
  expect(train.status, train.stderr).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'e', 'summary.json'), 'utf8'));
  const stage = summary.stages[0];
  const r = cli(['eval', '--checkpoint', join(out, '_cache', stage.key, 'best.safetensors')]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`plain2 on synthetic (synthetic/test, 40 images): top-1 ${(stage.bestAcc * 100).toFixed(2)}%`);
  const val = cli(['eval', '--checkpoint', join(out, '_cache', stage.key, 'best.safetensors'), '--val-split', '32']);
  expect(val.stdout).toMatch(/\(synthetic\/train \(validation part\), 32 images\)/);
});
