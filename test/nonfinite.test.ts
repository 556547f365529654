// Non-finite numbers are never good results: a checkpoint whose weights are NaN evaluates as 0% (it used to score
// 100%, since every comparison with NaN is false), and loading it warns, naming the tensors.
import { beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createModel } from '../dgkd/models/index.ts';
import { saveCheckpoint } from '../dgkd/fit/checkpoint.ts';
import { gpuReady } from './gpu.ts';

const root = resolve(import.meta.dirname, '..');

beforeAll(async () => {
  await gpuReady;
});

it('a NaN checkpoint scores 0% and loading it names the non-finite tensors', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dgkd-nan-')), 'nan.safetensors');
  const m = createModel('plain2', { numClasses: 10 });
  for (const [name, t] of m.namedParameters()) if (name.startsWith('fc')) t.write(new Float32Array(t.size).fill(NaN));
  await saveCheckpoint(path, m, null, { format: 'dgkd-checkpoint/1', arch: 'plain2', numClasses: 10, dataset: 'synthetic', epoch: 1 });
  m.dispose();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', 'eval', '--checkpoint', path, '--dataset', 'synthetic'], {
    cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/warning: .*nan\.safetensors holds non-finite values in 2 tensors: 'fc1\.bias' \(10 values\), 'fc1\.weight' \(10240 values\)/);
  expect(r.stdout).toMatch(/top-1 0\.00%/);
});
