// `eval` scores a checkpoint on the data it was trained with — the built-in sizes and seed and the held-out
// parts come from the checkpoint's metadata — and does not apply training-only checks (a 40-image test set is
// fine with any batch size).
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeSafetensors } from '../engine/io/safetensors.ts';

const root = resolve(import.meta.dirname, '..');
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });

it('scores a checkpoint on its own test split, with the same accuracy the run reported', () => {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-eval-'));
  const train = cli(['--preset', 'paper', '--method', 'ce', '--student', 'plain2', '--dataset', 'synthetic', '--synthetic-train', '160', '--val-split', '32',
    '--synthetic-test', '40', '--seed', '3', '--epochs', '1', '--batch-size', '32', '--lr', '0.01', '--out', out, '--name', 'e', '--quiet']);
  expect(train.status, train.stderr).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'e', 'summary.json'), 'utf8'));
  const stage = summary.stages[0];
  const r = cli(['eval', '--checkpoint', join(out, '_cache', stage.key, 'best.safetensors')]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`plain2 on synthetic (synthetic/test, 40 images): top-1 ${(stage.bestAcc * 100).toFixed(2)}%`);
  const val = cli(['eval', '--checkpoint', join(out, '_cache', stage.key, 'best.safetensors'), '--val-split', '32']);
  expect(val.stdout).toMatch(/\(synthetic\/train \(validation part\), 32 images\)/);

  // The model alone, for PyTorch: no optimizer state, BN counters added, the weights unchanged.
  const model = join(out, 'plain2.safetensors');
  const ex = cli(['export', '--checkpoint', join(out, '_cache', stage.key, 'best.safetensors'), '--out', model]);
  expect(ex.status, ex.stderr).toBe(0);
  expect(ex.stdout).toMatch(/wrote .*plain2\.safetensors: plain2, 16 tensors/);
  const ck = decodeSafetensors(new Uint8Array(readFileSync(join(out, '_cache', stage.key, 'best.safetensors'))), 'checkpoint');
  const exported = decodeSafetensors(new Uint8Array(readFileSync(model)), 'export');
  expect(Object.keys(exported.tensors).some((k) => k.startsWith('optimizer.'))).toBe(false);
  expect(exported.tensors['bn1.num_batches_tracked'].dtype).toBe('I64');
  expect(exported.tensors['fc1.weight'].data).toEqual(ck.tensors['fc1.weight'].data);
  expect(exported.metadata).toMatchObject({ format: 'dgkd-model/1', arch: 'plain2', numClasses: '10' });
});
