// The option table (dgkd/options.ts) is the single source of flags and config keys: for every option, a value
// given as a flag and the same value from a config file give the same settings, and a bad value is refused by
// both with the same reason (the file's message naming the file and the key).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../dgkd/cli.ts';
import { EXPERIMENT_OPTIONS } from '../dgkd/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'dgkd-options-'));
const BASE = ['--preset', 'paper', '--dataset', 'synthetic'];

/** A good and a bad flag text for each option that has a key and a value (switches are covered below). */
const SAMPLES: Record<string, [string, string]> = {
  '--method': ['kd', 'fitnets'], '--teacher': ['resnet14', 'resnet9'], '--assistants': ['plain4,plain3', 'plain4,vgg12'],
  '--student': ['plain2', 'alexnet'], '--dataset': ['synthetic', 'mnist'], '--data-dir': ['/tmp', ' '],
  '--val-split': ['0.2', '-1'], '--train-subset': ['100', '1.5'], '--synthetic-train': ['500', '1e9'],
  '--synthetic-test': ['300', '0'], '--epochs': ['7', '0'], '--batch-size': ['16', '-2'], '--lr': ['0.05', '0'],
  '--plain-lr': ['0.02', '-1'], '--schedule': ['constant', 'linear'], '--momentum': ['0.5', '1'],
  '--weight-decay': ['0.001', '-1'], '--seed': ['5', '-1'], '--seeds': ['2', '0'], '--eval-every': ['2', '0'],
  '--temperature': ['2', '0'], '--lambda': ['0.3', '1.1'], '--kl-reduction': ['elementwise-mean', 'sum'],
  '--ce-weight': ['0.7', 'heavy'], '--drop': ['bernoulli', 'sometimes'], '--keep-prob': ['0.5', '0'],
  '--k': ['2', '0'], '--ctkd-gamma': ['2', '-1'], '--ctkd-beta': ['10', '-1'], '--attention-target': ['scratch', 'teacher'],
  '--scratch': ['resnet8', 'resnet9'], '--name': ['my-run', '../x'], '--out': ['/tmp/somewhere', ''], '--store': ['/tmp/stages', ' '],
};

let files = 0;
function fileWith(key: string, value: unknown): string {
  const obj: Record<string, unknown> = {};
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = (o[p] = {}) as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
  const path = join(dir, `c${files++}.json`);
  writeFileSync(path, JSON.stringify(obj));
  return path;
}
const run = (args: string[]) => {
  const c = parseArgs(args);
  if (c.kind !== 'run') throw new Error(c.kind);
  return c.config;
};
const reason = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
};

describe('every option: flag and config file agree', () => {
  const valued = EXPERIMENT_OPTIONS.filter((o) => o.key && o.type);
  it('every valued option has samples', () => expect(valued.map((o) => o.flag).filter((f) => !SAMPLES[f])).toEqual([]));
  for (const o of valued) {
    it(o.flag, () => {
      const [good, bad] = SAMPLES[o.flag];
      const value = o.type!.parse(good);
      const base = o.flag === '--dataset' ? ['--preset', 'paper'] : BASE;
      const named = o.flag === '--name' ? [] : ['--name', 'n'];
      const viaFlag = run([...base, o.flag, good, ...named]);
      const viaFile = run([...base, '--config', fileWith(o.key!, value), ...named]);
      if (o.key === 'name') expect(viaFlag.name).toBe(good);
      else expect(viaFile).toEqual(viaFlag);
      const flagReason = reason(() => run([...base, o.flag, bad]));
      const badValue = o.type!.parse(bad);
      const fileReason = reason(() => run([...base, '--config', fileWith(o.key!, badValue)]));
      expect(flagReason).toMatch(new RegExp(`^${o.flag}: `));
      expect(fileReason).toMatch(new RegExp(`\\.json: key '${o.key!.replace('.', '\\.')}': `));
      // The same reason, up to how the value is shown ('-1' from a flag, -1 from JSON).
      const strip = (s: string) => s.replace(/^.*?: (key '[^']*': )?/, '').replace(/, got .*$/, '');
      expect(strip(fileReason)).toBe(strip(flagReason));
    });
  }
  for (const o of EXPERIMENT_OPTIONS.filter((x) => x.sets !== undefined)) {
    it(`${o.flag} (a switch)`, () => {
      const viaFlag = run([...BASE, o.flag, '--name', 'n']);
      const viaFile = run([...BASE, '--config', fileWith(o.key!, o.sets), '--name', 'n']);
      expect(viaFile).toEqual(viaFlag);
      if (o.negation) expect(run([...BASE, o.negation, '--name', 'n'])).toEqual(run([...BASE, '--config', fileWith(o.key!, !o.sets), '--name', 'n']));
    });
  }
});

describe('presets and implied settings', () => {
  it('without --preset, flags change the quick preset (built-in data), and --method alone trains that method', () => {
    const c = run(['--method', 'kd', '--epochs', '1']);
    expect(c).toMatchObject({ dataset: 'synthetic', teacher: 'plain6', method: 'kd', compare: false, name: 'kd-synthetic-plain2' });
    expect(c.recipe.epochs).toBe(1);
    expect(run(['--method', 'kd', '--compare']).compare).toBe(true);
  });
  it('a preset with only where-to-run options keeps its name; changed settings get their own', () => {
    expect(run(['--preset', 'cifar10-cpu', '--data-dir', '/tmp']).name).toBe('cifar10-cpu');
    expect(run([]).name).toBe('quick');
    expect(run(['--quiet']).name).toBe('quick');
    expect(run(['--seeds', '5']).name).toBe('compare-synthetic-plain2');
  });
  it('--lr alone sets every model’s rate, from a flag or a file; with --plain-lr both stay', () => {
    expect(run(['--preset', 'paper', '--dataset', 'synthetic', '--lr', '0.05']).recipe.plainLr).toBe(null);
    expect(run(['--preset', 'paper', '--dataset', 'synthetic', '--config', fileWith('recipe.lr', 0.05)]).recipe.plainLr).toBe(null);
    expect(run(['--preset', 'paper', '--dataset', 'synthetic', '--lr', '0.05', '--plain-lr', '0.02']).recipe.plainLr).toBe(0.02);
  });
  it('flags override the config file, which overrides its preset', () => {
    const path = join(dir, 'layered.json');
    writeFileSync(path, JSON.stringify({ preset: 'paper', dataset: 'synthetic', recipe: { epochs: 9, batchSize: 64 } }));
    const c = run(['--config', path, '--epochs', '2']);
    expect(c.recipe).toMatchObject({ epochs: 2, batchSize: 64, schedule: 'step' });
    expect(c.teacher).toBe('resnet26');
  });
  it('architecture aliases are canonical from flags and files alike', () => {
    expect(run(['--teacher', 'ResNet-20']).teacher).toBe('resnet20');
    expect(run(['--config', fileWith('assistants', ['CNN4'])]).assistants).toEqual(['plain4']);
  });
});
