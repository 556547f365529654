// The pipeline on a tiny config: stage order, reuse of finished stages, summary.json, report files.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickConfig, type ExperimentConfig } from '../dgkd/settings/config.ts';
import { planStages } from '../dgkd/experiment/plan.ts';
import { runExperiment } from '../dgkd/experiment/run.ts';
import { gpuReady } from './gpu.ts';
import { writeTinyCifar } from './tiny-cifar.ts';

beforeAll(async () => {
  await gpuReady;
});

function tinyConfig(out: string): ExperimentConfig {
  const c = quickConfig();
  c.out = out;
  c.name = 'tiny';
  c.syntheticTrain = 64;
  c.syntheticTest = 32;
  c.teacher = 'plain4';
  c.assistants = ['plain3'];
  c.student = 'plain2';
  c.valSplit = 16;
  c.seeds = 1;
  c.recipe = { ...c.recipe, epochs: 1, batchSize: 32 };
  c.quiet = true;
  return c;
}

describe('planning', () => {
  it('DGKD: teacher, then assistants each taught by all larger models, then the student', () => {
    const c = tinyConfig('/tmp/unused');
    c.compare = false;
    c.assistants = ['plain6', 'plain4'];
    c.teacher = 'plain8';
    const { stages } = planStages(c, 10, 0);
    expect(stages.map((s) => s.arch)).toEqual(['plain8', 'plain6', 'plain4', 'plain2']);
    expect(stages[2].teachers.map((t) => t.arch)).toEqual(['plain8', 'plain6']);
    expect(stages[3].teachers.map((t) => t.arch)).toEqual(['plain8', 'plain6', 'plain4']);
  });
  it('TAKD: a chain of single teachers; the teacher is shared across compared methods', () => {
    const c = tinyConfig('/tmp/unused');
    c.assistants = ['plain6', 'plain4'];
    c.teacher = 'plain8';
    const { stages, rows } = planStages(c, 10, 0);
    expect(stages.filter((s) => s.role === 'teacher').length).toBe(1);
    const takd = rows.find((r) => r.method === 'TAKD')!.stage;
    expect(takd.teachers.map((t) => t.arch)).toEqual(['plain4']);
    expect(takd.teachers[0].teachers.map((t) => t.arch)).toEqual(['plain6']);
    expect(rows.map((r) => r.method)).toEqual(['Teacher', 'NOKD', 'KD', 'TAKD', 'DGKD', 'DGKD (stochastic, p = 0.75)', 'DGKD (loss ÷ teachers)']);
    // Stages are named by what trained them: the first assistant is shared by TAKD and DGKD.
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining([
      'teacher-plain8', 'assistant-plain6-from-plain8', 'assistant-plain4-from-plain6', 'assistant-plain4-from-plain8-plain6',
      'assistant-plain4-from-plain8-plain6-norm', 'student-plain2-dgkd-norm',
    ]));
    expect(new Set(stages.map((s) => s.name)).size).toBe(stages.length);
    // Every stage comes after its teachers.
    stages.forEach((s, i) => s.teachers.forEach((t) => expect(stages.indexOf(t)).toBeLessThan(i)));
  });
  it('with several seeds, teacher and assistants are shared and students differ by seed', () => {
    const c = tinyConfig('/tmp/unused');
    c.seeds = 3;
    const a = planStages(c, 10, 0);
    const b = planStages(c, 10, 1);
    const key = (p: typeof a, role: string) => p.stages.filter((s) => s.role === role).map((s) => s.key);
    expect(key(a, 'teacher')).toEqual(key(b, 'teacher'));
    expect(key(a, 'assistant')).toEqual(key(b, 'assistant'));
    expect(key(a, 'student').some((k) => key(b, 'student').includes(k))).toBe(false);
    expect(a.stages.find((s) => s.role === 'student')!.name).toMatch(/-seed0$/);
    c.shareTrainers = false;
    expect(key(planStages(c, 10, 0), 'teacher')).not.toEqual(key(planStages(c, 10, 1), 'teacher'));
  });
  it('the loss-normalised DGKD row differs from DGKD only where there are several teachers', () => {
    const c = tinyConfig('/tmp/unused');
    c.assistants = ['plain3'];
    const { rows } = planStages(c, 10, 0);
    const dgkd = rows.find((r) => r.method === 'DGKD')!.stage;
    const norm = rows.find((r) => r.method === 'DGKD (loss ÷ teachers)')!.stage;
    expect(norm.key).not.toBe(dgkd.key);
    expect(norm.kd!.normalise).toBe(true);
    // plain3 learns from the teacher alone: normalising changes nothing, so it is the same stage.
    expect(norm.teachers[1].key).toBe(dgkd.teachers[1].key);
  });
});

describe('running', () => {
  it('trains every stage once, reuses them on a second run, and writes the reports', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dgkd-pipe-'));
    const c = tinyConfig(out);
    const first = await runExperiment(c);
    expect(first.stages.every((s) => !s.reused)).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'tiny', 'summary.json'), 'utf8'));
    for (const s of summary.stages) {
      for (const key of ['name', 'role', 'arch', 'method', 'teachers', 'params', 'bestEpoch', 'bestVal', 'bestAcc', 'finalAcc', 'epochs', 'seconds']) {
        expect(s).toHaveProperty(key);
      }
    }
    expect(summary.table.map((r: { method: string }) => r.method)).toContain('TAKD');
    expect(summary.complete).toBe(true);
    expect(summary.selection).toBe('validation');
    expect(existsSync(join(out, 'tiny', 'report.md'))).toBe(true);
    // Every stage's metrics under its readable name, beside the hash-named cache.
    for (const s of summary.stages) expect(existsSync(join(out, 'tiny', 'stages', `${s.name}.jsonl`))).toBe(true);
    expect(readFileSync(join(out, 'tiny', 'curves.svg'), 'utf8')).toMatch(/^<svg/);
    const second = await runExperiment({ ...c, name: 'tiny2' });
    expect(second.stages.every((s) => s.reused)).toBe(true);
    expect(second.table).toEqual(first.table);
    // A resumed run still reports what its stages cost when they were trained.
    expect(second.stages.map((s) => s.seconds)).toEqual(first.stages.map((s) => s.seconds));
    expect(second.trainingSeconds).toBeCloseTo(first.trainingSeconds!, 6);
    expect(first.trainingSeconds).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'tiny2', 'report.md'), 'utf8')).toMatch(
      /Wall time: \d+ s \(this invocation: every stage reused\)\. Training time summed over the stages, reused ones included: \d+ s\./,
    );
    expect(readFileSync(join(out, 'tiny', 'report.md'), 'utf8')).toMatch(/Wall time: \d+ s\. Training time summed/);
  });

  it('with a view bank, each frozen teacher’s logits are computed once and kept in the store for later runs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dgkd-pipe-bank-'));
    const c = tinyConfig(out);
    c.compare = false;
    c.recipe = { ...c.recipe, augment: true, viewBank: 2 };
    await runExperiment(c);
    const bank = join(out, '_bank');
    const files = readdirSync(bank).sort();
    expect(files.length).toBe(2);   // the teacher's and the assistant's (the student is taught by both)
    const before = files.map((f) => statSync(join(bank, f)));
    expect(before.every((st) => st.size === 48 * 2 * 10 * 4)).toBe(true);   // train images × views × classes floats
    // A second student seed trains from the kept banks: the files are read, not written again.
    const second = await runExperiment({ ...c, name: 'tiny-seeds', seeds: 2 });
    expect(second.stages.filter((s) => !s.reused).map((s) => s.name)).toEqual(['student-plain2-dgkd-seed1']);
    expect(readdirSync(bank).sort()).toEqual(files);
    files.forEach((f, i) => expect(statSync(join(bank, f)).ino).toBe(before[i].ino));
  });

  it('stages are keyed by the data’s content: a copy elsewhere finds them; a store keyed by the folder (before) still resumes', async () => {
    const work = mkdtempSync(join(tmpdir(), 'dgkd-pipe-moved-'));
    const [here, copy] = [writeTinyCifar(join(work, 'here')), writeTinyCifar(join(work, 'copy'))];
    const c = { ...tinyConfig(join(work, 'out')), dataset: 'cifar10', dataDir: here, valSplit: 20, compare: false };
    const first = await runExperiment(c);
    expect(first.stages.every((s) => !s.reused)).toBe(true);
    expect(first.dataId).toMatch(/^[0-9a-f]{16}$/);
    // The same data in another folder (another machine's copy): the run resumes from every stage.
    const moved = await runExperiment({ ...c, dataDir: copy, resume: true });
    expect(moved.stages.every((s) => s.reused)).toBe(true);
    expect(moved.table).toEqual(first.table);
    // A store written before (stages under keys that held the data folder's path): renamed to those keys, found.
    const store = join(c.out, '_cache');
    const byPath = planStages(c, 10, c.seed).stages.map((s) => s.key);
    first.stages.forEach((s, i) => renameSync(join(store, s.key), join(store, byPath[i])));
    const earlier = await runExperiment({ ...c, name: 'earlier' });
    expect(earlier.stages.every((s) => s.reused)).toBe(true);
    expect(earlier.stages.map((s) => s.key)).toEqual(byPath);
    expect(earlier.table).toEqual(first.table);
  });

  it('view banks are named by the data’s content too: a run on a copy elsewhere trains from the banks already made', async () => {
    const work = mkdtempSync(join(tmpdir(), 'dgkd-pipe-bank-moved-'));
    const [here, copy] = [writeTinyCifar(join(work, 'here')), writeTinyCifar(join(work, 'copy'))];
    const c = { ...tinyConfig(join(work, 'out')), dataset: 'cifar10', dataDir: here, valSplit: 20, compare: false };
    c.recipe = { ...c.recipe, augment: true, viewBank: 2 };
    await runExperiment(c);
    const bank = join(c.out, '_bank');
    const files = readdirSync(bank).sort();
    expect(files.length).toBe(2);
    const inodes = files.map((f) => statSync(join(bank, f)).ino);
    // A second student seed on the copy: it needs both teachers' banks, and reads them.
    const second = await runExperiment({ ...c, dataDir: copy, name: 'copy', seeds: 2 });
    expect(second.stages.filter((s) => !s.reused).map((s) => s.name)).toEqual(['student-plain2-dgkd-seed1']);
    expect(readdirSync(bank).sort()).toEqual(files);
    files.forEach((f, i) => expect(statSync(join(bank, f)).ino).toBe(inodes[i]));
  });
});
