// The option table (dgkd/settings/options.ts) is the single source of flags and config keys: for every option, a value
// given as a flag and the same value from a config file give the same settings, and a bad value is refused by
// both with the same reason (the file's message naming the file and the key).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, usage } from '../dgkd/settings/cli.ts';
import { PRESETS } from '../dgkd/settings/config.ts';
import type { SweepGrid } from '../dgkd/settings/sweep_axes.ts';
import { EXPERIMENT_OPTIONS } from '../dgkd/settings/options.ts';

const dir = mkdtempSync(join(tmpdir(), 'dgkd-options-'));
const BASE = ['--preset', 'paper', '--dataset', 'synthetic'];

/** A good and a bad flag text for each option that has a key and a value (switches are covered below). */
const SAMPLES: Record<string, [string, string]> = {
  '--method': ['dkd', 'crd'], '--compare': ['nokd,dkd,dgkd-dkd', 'nokd,crd'], '--teacher': ['resnet14', 'resnet9'], '--assistants': ['plain4,plain3', 'plain4,vgg12'],
  '--student': ['plain2', 'alexnet'], '--dataset': ['synthetic', 'mnist'], '--data-dir': ['/tmp', ' '],
  '--val-split': ['0.2', '-1'], '--train-subset': ['100', '1.5'], '--synthetic-train': ['500', '1e9'],
  '--synthetic-test': ['300', '0'], '--epochs': ['7', '0'], '--batch-size': ['16', '-2'], '--lr': ['0.05', '0'],
  '--plain-lr': ['0.02', '-1'], '--schedule': ['constant', 'linear'], '--momentum': ['0.5', '1'],
  '--weight-decay': ['0.001', '-1'], '--seed': ['5', '-1'], '--seeds': ['2', '0'], '--eval-every': ['2', '0'],
  '--temperature': ['2', '0'], '--lambda': ['0.3', '1.1'], '--kl-reduction': ['elementwise-mean', 'sum'],
  '--ce-weight': ['0.7', 'heavy'], '--drop': ['bernoulli', 'sometimes'], '--keep-prob': ['0.5', '0'],
  '--k': ['2', '0'], '--ctkd-gamma': ['2', '-1'], '--ctkd-beta': ['10', '-1'], '--attention-target': ['scratch', 'teacher'],
  '--scratch': ['resnet8', 'resnet9'], '--teacher-checkpoint': ['teachers/t.safetensors', ' '],
  '--assistant-checkpoints': ['a.safetensors,b.safetensors', ','], '--test-split': ['10000', '-5'], '--view-bank': ['20', '1.5'],
  '--teacher-loss': ['dkd', 'hinton'], '--dkd-alpha': ['0.5', '-1'], '--dkd-beta': ['2', 'nan'], '--dkd-warmup': ['5', '-1'],
  '--dist-beta': ['1', '-0.5'], '--dist-gamma': ['1', 'NaN'], '--at-beta': ['500', '-1'], '--fitnets-weight': ['10', '-1'],
  '--rkd-distance': ['5', '-1'], '--rkd-angle': ['10', 'nan'], '--name': ['my-run', '../x'], '--out': ['/tmp/somewhere', ''], '--store': ['/tmp/stages', ' '],
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
  it('a config file with a byte-order mark (as Windows editors save it) reads like one without', () => {
    const path = join(dir, 'bom.json');
    writeFileSync(path, '\uFEFF' + JSON.stringify({ recipe: { epochs: 7 } }));
    expect(run(['--config', path]).recipe.epochs).toBe(7);
  });
  it('flags override the config file, which overrides its preset', () => {
    const path = join(dir, 'layered.json');
    writeFileSync(path, JSON.stringify({ preset: 'paper', dataset: 'synthetic', recipe: { epochs: 9, batchSize: 64 } }));
    const c = run(['--config', path, '--epochs', '2']);
    expect(c.recipe).toMatchObject({ epochs: 2, batchSize: 64, schedule: 'step' });
    expect(c.teacher).toBe('resnet26');
  });
  it('--help shows every preset’s value where it differs from the quick preset’s', () => {
    const help = usage();
    for (const name of Object.keys(PRESETS).filter((n) => n !== 'quick')) expect(help).toMatch(new RegExp(`[;,] ${name}[:,]`));
    expect(help).toMatch(/--epochs N .*cifar10-gap: 20\]/);
  });
  it('cifar10-gap without --teacher-checkpoint says at the start that it trains its own, shorter teacher', () => {
    const origin = (args: string[]) => {
      const c = parseArgs(args);
      if (c.kind !== 'run') throw new Error(c.kind);
      return c.origin;
    };
    const data = ['--preset', 'cifar10-gap', '--data-dir', tmpdir()];
    expect(origin(data)).toMatch(/Note: no --teacher-checkpoint, so the teacher plain8 is trained here for 20 epochs; the README's comparison starts from the kept 40-epoch one \(--teacher-checkpoint teachers\/cifar10\/plain8\.safetensors\)$/);
    expect(origin([...data, '--teacher-checkpoint', 'teachers/cifar10/plain8.safetensors'])).not.toMatch(/Note/);
    // The teacher's own training (scripts/cifar10-gap.sh) has no teacher to speak of.
    expect(origin([...data, '--method', 'ce', '--student', 'plain8', '--epochs', '40'])).not.toMatch(/Note/);
    expect(origin(['--preset', 'cifar10-cpu', '--data-dir', tmpdir()])).not.toMatch(/Note/);
  });
  it('architecture aliases are canonical from flags and files alike', () => {
    expect(run(['--teacher', 'ResNet-20']).teacher).toBe('resnet20');
    expect(run(['--config', fileWith('assistants', ['CNN4'])]).assistants).toEqual(['plain4']);
  });
});

describe('--compare: the default set or a list', () => {
  it('alone it is the default comparison; with a list, those rows (ce is nokd)', () => {
    expect(run(['--compare', '--epochs', '2']).compare).toBe(true);
    expect(run(['--compare']).compare).toBe(true);
    expect(run(['--compare', 'nokd,kd,dkd,takd,dgkd,dgkd-dkd']).compare).toEqual(['nokd', 'kd', 'dkd', 'takd', 'dgkd', 'dgkd-dkd']);
    expect(run(['--compare', 'ce, dist ,dgkd-stochastic-dist']).compare).toEqual(['nokd', 'dist', 'dgkd-stochastic-dist']);
    expect(run(['--no-compare']).compare).toBe(false);
    expect(run(['--compare', 'dkd,at']).name).toBe('compare-synthetic-plain2');
    expect(run(['--config', fileWith('compare', ['rkd', 'fitnets'])]).compare).toEqual(['rkd', 'fitnets']);
  });
  it('refuses unknown rows, repeats, and chain rows that need assistants when there are none', () => {
    expect(reason(() => run(['--compare', 'nokd,crd']))).toMatch(/^--compare: unknown method 'crd' \(expected true, false or a list of nokd, kd/);
    expect(reason(() => run(['--compare', 'dkd,ce,nokd']))).toMatch(/^--compare: 'nokd' appears twice/);
    expect(reason(() => run(['--compare', 'kd,takd-dkd,dgkd-norm', '--assistants', '']))).toMatch(/^--compare: takd-dkd, dgkd-norm need at least one assistant/);
    expect(run(['--compare', 'kd,dgkd-dkd', '--assistants', '']).compare).toEqual(['kd', 'dgkd-dkd']);
    expect(reason(() => run(['--no-compare', 'dkd']))).toMatch(/unknown option 'dkd'/);
  });
  it('--teacher-loss and the baselines’ weights, from flags and files alike', () => {
    const c = run(['--teacher-loss', 'dkd', '--dkd-alpha', '2', '--dkd-beta', '6', '--dkd-warmup', '0']);
    expect(c).toMatchObject({ teacherLoss: 'dkd', dkd: { alpha: 2, beta: 6, warmup: 0 } });
    expect(run([]).dkd).toEqual({ alpha: 1, beta: 8, warmup: 'auto' });
    expect(run([])).toMatchObject({ dist: { beta: 2, gamma: 2 }, at: { beta: 1000 }, fitnets: { weight: 100 }, rkd: { distance: 25, angle: 50 } });
    expect(reason(() => run(['--rkd-angle', '-3']))).toBe("--rkd-angle: expected a number ≥ 0, got '-3'");
    expect(reason(() => run(['--config', fileWith('dist.gamma', -1)]))).toMatch(/\.json: key 'dist\.gamma': expected a number ≥ 0, got -1$/);
  });
});

describe('sweep grids by method', () => {
  const sweep = (args: string[]) => {
    const c = parseArgs(['sweep', ...args]);
    if (c.kind !== 'sweep') throw new Error(c.kind);
    return c;
  };
  const axes = (g: SweepGrid) => [g.rows.flag, g.rows.values, g.cols.flag, g.cols.values];
  it('KD and DGKD: T × λ; DKD: α × β; DIST: β × γ', () => {
    expect(axes(sweep(['--method', 'kd', '-T', '2,4', '--lambda', '0.5,0.9']).grid)).toEqual(['--temperature', [2, 4], '--lambda', [0.5, 0.9]]);
    expect(axes(sweep(['--method', 'dkd', '--dkd-alpha', '0.5,1', '--dkd-beta', '2,8']).grid)).toEqual(['--dkd-alpha', [0.5, 1], '--dkd-beta', [2, 8]]);
    expect(axes(sweep(['--method', 'dist', '--dist-gamma', '1,2,4']).grid)).toEqual(['--dist-beta', [2], '--dist-gamma', [1, 2, 4]]);
  });
  it('DGKD with --teacher-loss dkd sweeps α × β when their lists are given; a list of one value is a setting', () => {
    const s = sweep(['--method', 'dgkd', '--teacher-loss', 'dkd', '--dkd-beta', '2,8', '-T', '3']);
    expect(axes(s.grid)).toEqual(['--dkd-alpha', [1], '--dkd-beta', [2, 8]]);
    expect(s.config.kd.temperature).toBe(3);
    expect(axes(sweep(['--method', 'dgkd', '--teacher-loss', 'dkd']).grid)).toEqual(['--temperature', [4], '--lambda', [0.5]]);
  });
  it('refuses lists the method does not sweep, and methods without a grid', () => {
    expect(reason(() => sweep(['--method', 'kd', '--dkd-alpha', '1,2']))).toBe('sweep: --method kd sweeps --temperature × --lambda, not --dkd-alpha');
    expect(reason(() => sweep(['--method', 'dkd', '-T', '2,4', '--dkd-beta', '2,8']))).toMatch(/^sweep: --method dkd sweeps --dkd-alpha × --dkd-beta, not --temperature and --dkd-beta/);
    expect(reason(() => sweep(['--method', 'at']))).toBe("sweep: --method must be kd, takd, dgkd, dkd, dist, got 'at'");
  });
});

describe('--queue-timeout', () => {
  it('seconds > 0, with --queue only; 300 when not given', () => {
    const q = (args: string[]) => {
      const c = parseArgs(args);
      return c.kind === 'run' ? c.queue : undefined;
    };
    expect(q(['--queue', 'redis://127.0.0.1:6379', '--queue-timeout', '12.5'])).toEqual({ url: 'redis://127.0.0.1:6379', timeoutSeconds: 12.5 });
    expect(q(['--queue', 'redis://127.0.0.1:6379'])).toEqual({ url: 'redis://127.0.0.1:6379', timeoutSeconds: 300 });
    expect(reason(() => parseArgs(['--queue', 'redis://h:1', '--queue-timeout', '0']))).toBe("--queue-timeout: expected a number of seconds > 0, got '0'");
    expect(reason(() => parseArgs(['--queue-timeout', '5']))).toBe('--queue-timeout: only with --queue URL');
  });
});

describe('the engine set-up from DGKD_* variables (dgkd/gpu_options.ts)', () => {
  it('maps each variable onto initGpu’s options; nothing set: the engine’s defaults', async () => {
    const { gpuOptionsFromEnv } = await import('../dgkd/gpu_options.ts');
    expect(gpuOptionsFromEnv({})).toEqual({ log: true, subgroups: true, spinWait: false });
    expect(gpuOptionsFromEnv({ DGKD_QUIET: '1', DGKD_UNROLL: '0', DGKD_SUBGROUPS: '0', DGKD_SPIN_WAIT: '1', DGKD_NO_TUNE_CACHE: '1' }))
      .toEqual({ log: false, unrollLoops: false, subgroups: false, spinWait: true, tuneCache: false });
    expect(gpuOptionsFromEnv({ DGKD_UNROLL: '1', DGKD_TUNE_DIR: '/tmp/t' })).toMatchObject({ unrollLoops: true, tuneCache: '/tmp/t' });
  });
});
