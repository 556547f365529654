// The reference teachers kept in teachers/ (scripts/kept-teachers.ts): each file is what its manifest says — its
// sha256, its architecture (every tensor), and the logits it computed on the probe batch when it was kept — and
// it teaches a run through --teacher-checkpoint. None of this needs the CIFAR-10 files.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../dgkd/models/index.ts';
import { applyCheckpoint, CheckpointError, readCheckpoint } from '../dgkd/fit/checkpoint.ts';
import { exportModel } from '../dgkd/fit/export.ts';
import { readKeptModel } from '../dgkd/experiment/kept_models.ts';
import { TAKD_NORMALISATION } from '../dgkd/data/index.ts';
import { ROOT, probeLogits, readManifest } from '../scripts/kept-teachers.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

const manifest = readManifest();

describe('kept teachers', () => {
  it('the manifest lists the cifar10-gap reference teacher and its first assistant', () => {
    expect(manifest.models.map((m) => m.file)).toEqual(expect.arrayContaining(['teachers/cifar10/plain8.safetensors', 'teachers/cifar10/plain6-from-plain8.safetensors']));
  });

  for (const m of manifest.models) {
    describe(m.file, () => {
      const path = join(ROOT, m.file);
      it('sha256 and size as in the manifest', () => {
        const bytes = readFileSync(path);
        expect(bytes.byteLength).toBe(m.bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256);
      });
      it('reads as a kept model of its architecture, and computes the probe logits it computed when kept', async () => {
        const k = readKeptModel(path, { flag: '--teacher-checkpoint', arch: m.arch, numClasses: m.numClasses, inputSize: 32, inputChannels: 3, normalisation: TAKD_NORMALISATION });
        const model = createModel(m.arch, { numClasses: m.numClasses });
        applyCheckpoint(k.checkpoint, k.path, model, null);
        expect(model.parameterCount()).toBe(m.params);
        const logits = await probeLogits(model);
        model.dispose();
        expect(logits).toHaveLength(m.probe.length);
        const worst = Math.max(...logits.map((v, i) => Math.abs(v - m.probe[i]) / Math.max(1, Math.abs(m.probe[i]))));
        expect(worst).toBeLessThan(1e-4);
      });
      it('is never written over by an export of itself', () => {
        expect(() => exportModel(null as never, path, path)).toThrow(CheckpointError);
        expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(m.sha256);
      });
    });
  }

  // Each kept model is the export of the stage checkpoint it was kept from, committed with its run's results.
  for (const m of manifest.models.filter((e) => e.from)) {
    it(`${m.file} is the export of ${m.from}`, () => {
      const stage = join(ROOT, m.from!);
      const ck = readCheckpoint(stage);
      expect(ck.meta.epoch).toBe(m.epochs);
      const out = join(mkdtempSync(join(tmpdir(), 'dgkd-kept-export-')), 'model.safetensors');
      exportModel(ck, stage, out);
      expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(m.sha256);
    });
  }

  it('every kept model’s teachers are kept too', () => {
    const files = new Set(manifest.models.map((m) => m.file));
    for (const m of manifest.models) for (const t of m.stage?.teachers ?? []) expect(files, `${m.file} learned from ${t}`).toContain(t);
  });

  it('teaches a short run through --teacher-checkpoint (kept, then KD)', () => {
    const out = mkdtempSync(join(tmpdir(), 'dgkd-kept-teacher-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', '--preset', 'paper', '--dataset', 'synthetic', '--teacher', 'plain8',
      '--teacher-checkpoint', 'teachers/cifar10/plain8.safetensors', '--assistants', '', '--student', 'plain2', '--method', 'kd',
      '--synthetic-train', '320', '--synthetic-test', '64', '--epochs', '1', '--batch-size', '32', '--no-augment', '--quiet', '--out', out, '--name', 'k'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'k', 'summary.json'), 'utf8'));
    expect(summary.stages.map((s: { method: string }) => s.method)).toEqual(['kept', 'kd']);
  });

  it('a kept teacher and a kept assistant teach a short DGKD run (--assistant-checkpoints)', () => {
    const assistant = manifest.models.find((m) => m.stage?.name.startsWith('assistant-'));
    expect(assistant, 'a kept assistant in the manifest').toBeDefined();
    const out = mkdtempSync(join(tmpdir(), 'dgkd-kept-assistant-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', '--preset', 'paper', '--dataset', 'synthetic', '--teacher', 'plain8',
      '--teacher-checkpoint', 'teachers/cifar10/plain8.safetensors', '--assistants', assistant!.arch, '--assistant-checkpoints', assistant!.file,
      '--student', 'plain2', '--method', 'dgkd', '--synthetic-train', '320', '--synthetic-test', '64', '--epochs', '1', '--batch-size', '32',
      '--no-augment', '--quiet', '--out', out, '--name', 'k'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'k', 'summary.json'), 'utf8'));
    expect(summary.stages.map((s: { method: string }) => s.method)).toEqual(['kept', 'kept', 'dgkd']);
  });
});
