// --resume on another machine: the run's settings are compared with the ones it was started with. A run whose
// stages are keyed by the data's content (its summary records dataId) resumes from a moved data folder holding the
// same data, and refuses other content; for a run made before that (stages keyed by the folder's path), the
// refusal says how to let the run find its stages.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative as relativePath } from 'node:path';
import { checkRunState } from '../dgkd/experiment/folders.ts';
import { cifar10CpuConfig } from '../dgkd/settings/config.ts';

function runWith(dataDir: string, dataId?: string) {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-state-'));
  const runDir = join(out, 'run');
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify({ config: { ...cifar10CpuConfig(), dataDir, out }, ...(dataId ? { dataId } : {}) }));
  return { out, runDir };
}
const ID = '0123456789abcdef';

describe('--resume with the data elsewhere, a run keyed by the data’s content', () => {
  it('only the data folder differs, the content is the same: it resumes', () => {
    const { out, runDir } = runWith('/mnt/old/cifar', ID);
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out, resume: true }, runDir, [], ID)).not.toThrow();
  });
  it('other content: refused, naming both', () => {
    const { out, runDir } = runWith('/mnt/old/cifar', ID);
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out, resume: true }, runDir, [], 'fedcba9876543210')).toThrow(
      /--resume: the data differ from the run in .*: its content was 0123456789abcdef, \/srv\/new\/cifar holds fedcba9876543210/,
    );
  });
  it('other settings differ too: the plain refusal', () => {
    const { out, runDir } = runWith('/mnt/old/cifar', ID);
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out, resume: true, seeds: 5 }, runDir, [], ID)).toThrow(
      /seeds: was 3, now 5\. Resume with the same settings/,
    );
  });
});

describe('--resume from the run folder by another path', () => {
  it('--out and --store name where the run is kept, not what it holds: another path to it resumes', () => {
    const { out, runDir } = runWith('/mnt/old/cifar', ID);
    const elsewhere = { ...cifar10CpuConfig(), dataDir: '/mnt/old/cifar', resume: true };
    expect(() => checkRunState({ ...elsewhere, out: relativePath(process.cwd(), out) }, runDir, [], ID)).not.toThrow();
    expect(() => checkRunState({ ...elsewhere, out: '/copied/results', store: '/copied/store' }, runDir, [], ID)).not.toThrow();
  });
});

describe('--resume with the data elsewhere, a run made before (stages keyed by the folder’s path)', () => {
  it('only the data folder differs: refused, naming the old path and the link that restores it', () => {
    const { out, runDir } = runWith('/mnt/old/cifar');
    const cfg = { ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out, resume: true };
    expect(() => checkRunState(cfg, runDir, [], ID)).toThrow(
      /dataDir: was "\/mnt\/old\/cifar", now "\/srv\/new\/cifar"\. The stages are keyed by the data folder's path: give --data-dir \/mnt\/old\/cifar, .*\(ln -s \/srv\/new\/cifar \/mnt\/old\/cifar\)/,
    );
  });
  it('other settings differ too, or the old path was relative: the plain refusal', () => {
    const { out, runDir } = runWith('/mnt/old/cifar');
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out, resume: true, seeds: 5 }, runDir, [], ID)).toThrow(
      /seeds: was 3, now 5.*Resume with the same settings/,
    );
    const rel = runWith('data/cifar');
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/srv/new/cifar', out: rel.out, resume: true }, rel.runDir, [], ID)).toThrow(/Resume with the same settings/);
  });
  it('the same settings resume, the data folder named by an absolute or a relative path alike', () => {
    const { out, runDir } = runWith('/mnt/old/cifar');
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/mnt/old/cifar', out, resume: true }, runDir, [], ID)).not.toThrow();
    const relative = relativePath(process.cwd(), '/mnt/old/cifar'); // e.g. ../../mnt/old/cifar
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: relative, out, resume: true }, runDir, [], ID)).not.toThrow();
    expect(() => checkRunState({ ...cifar10CpuConfig(), dataDir: '/mnt/old/cifar/', out, resume: true }, runDir, [], ID)).not.toThrow();
  });
});
