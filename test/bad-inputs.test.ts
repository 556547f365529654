// A corpus of bad inputs given to the real command line: each must exit non-zero with a message that names
// the flag or file and what was expected, and must leave earlier results untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.ts';
import { expectedShapes } from '../engine/nn/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { gpuReady } from './gpu.ts';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'dgkd-bad-'));
const out = join(work, 'runs');
const sentinel = join(out, 'earlier', 'summary.json');

/** Every file under `dir` with its contents, to prove nothing changed. */
/** A symbolic or hard link to the hand-made shape.safetensors checkpoint (made once). */
function linked(kind: 'sym' | 'hard'): string {
  const p = join(work, `${kind}.safetensors`);
  if (!existsSync(p)) (kind === 'sym' ? symlinkSync : linkSync)(join(work, 'ck', 'shape.safetensors'), p);
  return p;
}

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else files[p] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return files;
}

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' },
  });
}

const cifarDir = (name: string, content: Buffer) => {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  for (let i = 1; i <= 5; i++) writeFileSync(join(d, `data_batch_${i}.bin`), i === 1 ? content : Buffer.alloc(3073 * 2));
  writeFileSync(join(d, 'test_batch.bin'), Buffer.alloc(3073 * 2));
  return d;
};

const cfgRun = (name: string) => ['--dataset', 'synthetic', '--out', out, '--config', join(work, `${name}.json`)];
/** RUN with `extra` appended, replacing RUN's own value of any flag `extra` gives again (a flag twice is an error). */
const R = (...extra: string[]) => {
  const base = [...RUN];
  for (const f of extra.filter((x) => x.startsWith('--'))) {
    const at = base.indexOf(f);
    if (at >= 0) base.splice(at, 2);
  }
  return [...base, ...extra];
};
// The paper preset's models and recipe on a few built-in images (without --preset, flags change the quick preset).
const RUN = ['--preset', 'paper', '--dataset', 'synthetic', '--out', out, '--name', 'bad', '--epochs', '1', '--synthetic-train', '64', '--synthetic-test', '32'];

let ckDir = '';
beforeAll(async () => {
  await gpuReady;
  mkdirSync(join(out, 'earlier'), { recursive: true });
  writeFileSync(sentinel, '{"earlier": true}\n');
  ckDir = join(work, 'ck');
  mkdirSync(ckDir);
  // Checkpoints built by hand around plain2's real tensor names and shapes.
  const m = createModel('plain2', { numClasses: 10 });
  const shapes = expectedShapes(m);
  m.dispose();
  const meta = { format: 'dgkd-checkpoint/1', arch: 'plain2', numClasses: '10', dataset: 'synthetic', epoch: '1' };
  const tensors = (dtype: 'F32' | 'I32', tweak?: string): Record<string, SafetensorsTensor> =>
    Object.fromEntries(
      [...shapes].map(([name, shape]) => {
        const s = name === tweak ? [...shape.slice(0, -1), shape[shape.length - 1] + 1] : shape;
        const n = s.reduce((a, b) => a * b, 1);
        return [name, { dtype, shape: s, data: dtype === 'F32' ? new Float32Array(n) : new Int32Array(n) }];
      }),
    );
  writeFileSync(join(ckDir, 'dtype.safetensors'), encodeSafetensors(tensors('I32'), meta));
  writeFileSync(join(ckDir, 'shape.safetensors'), encodeSafetensors(tensors('F32', 'fc1.weight'), meta));
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1n << 40n);
  writeFileSync(join(ckDir, 'huge.safetensors'), huge);
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 1600] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(ckDir, 'offsets.safetensors'), Buffer.concat([len, header, Buffer.alloc(16)]));
  writeFileSync(join(ckDir, 'garbage.safetensors'), Buffer.from('this is not a checkpoint at all'));
  writeFileSync(join(work, 'bad.json'), '{ "recipe": { "epochs": 3 ');
  writeFileSync(join(work, 'unknown-key.json'), JSON.stringify({ recipe: { epochz: 3 } }));
  writeFileSync(join(work, 'negative.json'), JSON.stringify({ recipe: { epochs: -4 } }));
  writeFileSync(join(work, 'escape.json'), JSON.stringify({ name: '../../x' }));
  const configs: Record<string, unknown> = {
    'temperature-string': { kd: { temperature: '4' } },
    'kl-sum': { kd: { klReduction: 'sum' } },
    'schedule-linear': { recipe: { schedule: 'linear' } },
    'assistants-string': { assistants: 'plain3' },
    'recipe-string': { recipe: 'fast' },
    'teacher-number': { teacher: 5 },
    'preset-unknown': { preset: 'fast' },
    'lambda-range': { kd: { lambda: 2 } },
    'plain-lr-string': { recipe: { plainLr: 'same' } },
    'seeds-fraction': { seeds: 2.5 },
    'assistant-unknown': { assistants: ['plain4', 'vgg12'] },
    'drop-number': { stochastic: { drop: 1 } },
    'bool-string': { recipe: { augment: 'yes' } },
    'dkd-beta-negative': { dkd: { beta: -8 } },
    'rkd-angle-null': { rkd: { angle: null } },
    'compare-unknown': { compare: ['kd', 'crd'] },
  };
  for (const [name, body] of Object.entries(configs)) writeFileSync(join(work, `${name}.json`), JSON.stringify(body));
  writeFileSync(join(work, 'a-file'), 'not a folder');
  writeFileSync(join(work, 'array.json'), '[1, 2]');
  mkdirSync(join(work, 'folder.json'));
});

// [name, args, pattern the message must match]
const cases: [string, () => string[], RegExp][] = [
  ['negative epochs', () => R('--epochs', '-1'), /--epochs: expected a positive integer, got '-1'/],
  ['zero epochs', () => R('--epochs', '0'), /--epochs: expected a positive integer/],
  ['batch size 0', () => R('--batch-size', '0'), /--batch-size: expected a positive integer, got '0'/],
  ['keep-prob 0', () => R('--keep-prob', '0'), /--keep-prob: expected a probability in \(0, 1\]/],
  ['keep-prob above 1', () => R('--keep-prob', '1.5'), /--keep-prob: expected a probability in \(0, 1\], got '1.5'/],
  ['T = 0', () => R('-T', '0'), /-T: expected a number > 0, got '0'/],
  ['negative temperature', () => R('--temperature', '-2'), /--temperature: expected a number > 0/],
  ['lambda above 1', () => R('--lambda', '2'), /--lambda: expected a number in \[0, 1\]/],
  ['unknown method', () => R('--method', 'crd'), /--method: expected one of ce, kd, takd, dgkd, ctkd, dkd, dist, at, fitnets, rkd, got 'crd'/],
  ['unknown dataset', () => R('--dataset', 'imagenet'), /--dataset: expected one of synthetic, cifar10/],
  ['unknown teacher', () => R('--teacher', 'resnet9'), /--teacher: unknown architecture 'resnet9'. Known: .*resnet8/],
  ['unknown student', () => R('--student', 'alexnet'), /--student: unknown architecture 'alexnet'/],
  ['unknown assistant', () => R('--assistants', 'resnet20,vgg12'), /--assistants: unknown architecture 'vgg12'/],
  ['unknown option', () => R('--epochz', '3'), /unknown option '--epochz'/],
  ['non-numeric lr', () => R('--lr', 'fast'), /--lr: expected a number > 0, got 'fast'/],
  ['missing value', () => R('--batch-size'), /--batch-size: missing value/],
  ['bad schedule', () => R('--schedule', 'linear'), /--schedule: expected one of step, cosine, constant/],
  ['momentum ≥ 1', () => R('--momentum', '1.5'), /--momentum: expected a number in \[0, 1\)/],
  ['bad KL reduction', () => R('--kl-reduction', 'sum'), /--kl-reduction: expected one of batchmean, elementwise-mean/],
  ['bad drop mode', () => R('--drop', 'sometimes'), /--drop: expected one of none, bernoulli, exact-k/],
  ['zero seeds', () => R('--seeds', '0'), /--seeds: expected a positive integer/],
  ['CIFAR without data dir', () => R('--dataset', 'cifar10'), /--data-dir: dataset 'cifar10' needs the folder/],
  ['output path is a file', () => [...RUN.map((a) => (a === out ? join(work, 'a-file') : a))], /--out: .*a-file exists and is not a folder/],
  ['data dir is a file', () => R('--dataset', 'cifar10', '--data-dir', join(work, 'a-file')), /--data-dir: .*a-file is not a folder/],
  ['missing data dir', () => R('--dataset', 'cifar10', '--data-dir', join(work, 'nowhere')), /nowhere/],
  ['missing config file', () => R('--config', join(work, 'none.json')), /--config: file .*none.json does not exist/],
  ['config not JSON', () => R('--config', join(work, 'bad.json')), /--config: .*bad.json is not valid JSON/],
  ['config unknown key', () => R('--config', join(work, 'unknown-key.json')), /unknown-key.json: unknown key 'recipe.epochz'/],
  ['config negative epochs', () => ['--dataset', 'synthetic', '--out', out, '--config', join(work, 'negative.json')], /negative\.json: key 'recipe\.epochs': expected a positive integer, got -4/],
  ['batch larger than the data', () => R('--batch-size', '128'), /--batch-size 128 is larger than the 64 training images/],
  ['truncated CIFAR file', () => R('--dataset', 'cifar10', '--data-dir', cifarDir('trunc', Buffer.alloc(3073 * 3 - 100))), /data_batch_1\.bin/],
  ['oversized CIFAR file', () => R('--dataset', 'cifar10', '--data-dir', cifarDir('over', Buffer.alloc(3073 * 3 + 7))), /data_batch_1\.bin/],
  ['CIFAR-10 python version instead of the binary one', () => {
    const d = join(work, 'py', 'cifar-10-batches-py');
    mkdirSync(d, { recursive: true });
    for (const f of ['data_batch_1', 'data_batch_2', 'test_batch', 'batches.meta']) writeFileSync(join(d, f), Buffer.from('\x80\x02}q\x00'));
    return R('--dataset', 'cifar10', '--data-dir', join(work, 'py'));
  }, /cifar-10-batches-py holds the Python \(pickle\) version of cifar10 .*binary version \(cifar-10-binary\.tar\.gz/],
  ['CIFAR label out of range', () => R('--dataset', 'cifar10', '--data-dir', cifarDir('label', Buffer.concat([Buffer.from([42]), Buffer.alloc(3072)]))), /data_batch_1\.bin.*(label|42)/],
  ['garbage SVHN file', () => {
    const d = join(work, 'svhn');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'train_32x32.mat'), Buffer.from('garbage'.repeat(30)));
    writeFileSync(join(d, 'test_32x32.mat'), Buffer.from('garbage'.repeat(30)));
    return R('--dataset', 'svhn', '--data-dir', d);
  }, /train_32x32\.mat/],
  ['run name ..', () => R('--name', '..'), /--name: expected a folder name .*not '\.' or '\.\.'.*got '\.\.'/],
  ['run name .', () => R('--name', '.'), /--name: .*got '\.'/],
  ['run name from a config file leaving --out', () => ['--dataset', 'synthetic', '--out', out, '--config', join(work, 'escape.json')], /escape\.json: key 'name': expected a folder name .*got "\.\.\/\.\.\/x"/],
  ['absurd synthetic size', () => R('--synthetic-train', '1e9'), /--synthetic-train: expected an integer in 1\.\.1,000,000, got '1e9'/],
  ['absurd class count', () => ['models', '--classes', '1e8'], /--classes: expected an integer in 2\.\.100000, got '1e8'/],
  ['config: a number as a string', () => cfgRun('temperature-string'), /temperature-string\.json: key 'kd\.temperature': expected a number > 0, got "4"/],
  ['config: an unknown KL reduction', () => cfgRun('kl-sum'), /kl-sum\.json: key 'kd\.klReduction': expected one of batchmean, elementwise-mean, got "sum"/],
  ['config: an unknown schedule', () => cfgRun('schedule-linear'), /schedule-linear\.json: key 'recipe\.schedule': expected one of step, cosine, constant, got "linear"/],
  ['config: assistants as a string', () => cfgRun('assistants-string'), /assistants-string\.json: key 'assistants': expected a list of architecture names, got "plain3"/],
  ['config: a section as a string', () => cfgRun('recipe-string'), /recipe-string\.json: key 'recipe' expected an object of settings, got "fast"/],
  ['config: an architecture as a number', () => cfgRun('teacher-number'), /teacher-number\.json: key 'teacher': expected an architecture name, got 5/],
  ['an option given twice', () => R('--epochs', '2', '--lr', '0.1', '--epochs', '3'), /--epochs: given twice/],
  ['-T and --temperature both', () => R('-T', '2', '--temperature', '3'), /--temperature: given twice/],
  ['output folder below a file', () => R('--out', join(work, 'a-file', 'runs'), '--batch-size', '32'), /error: .*a-file\/runs.*: a part of the path is a file, not a folder \(mkdir\)/],
  ['run name too long for the file system', () => R('--name', 'n'.repeat(300), '--batch-size', '32'), /error: .*n{300}: the name is too long for the file system/],
  ['TAKD without assistants', () => R('--method', 'takd', '--assistants', ''), /--method takd needs at least one assistant/],
  ['validation split taking every image', () => R('--val-split', '64'), /--val-split 64 leaves none of the 64 images of synthetic\/train to train on/],
  ['train subset larger than the data', () => R('--train-subset', '500'), /--train-subset 500 is larger than the 64 training images/],
  ['eval-every zero', () => R('--eval-every', '0'), /--eval-every: expected a positive integer/],
  ['sweep of a method without T and λ', () => ['sweep', ...RUN, '--method', 'ce', '--temperature', '2,4'], /sweep: --method must be kd, takd, dgkd, dkd, dist/],
  ['sweep with a λ out of range', () => ['sweep', ...RUN, '--method', 'kd', '--lambda', '0.5,1.5'], /--lambda: expected a number in \[0, 1\], got '1\.5'/],
  ['sweep with a repeated temperature', () => ['sweep', ...RUN, '--method', 'kd', '--temperature', '4,4'], /--temperature: a value appears twice/],
  ['eval without checkpoint', () => ['eval'], /--checkpoint FILE is required/],
  ['eval of a missing checkpoint', () => ['eval', '--checkpoint', join(work, 'none.safetensors')], /none\.safetensors does not exist/],
  ['checkpoint with a huge header length', () => ['eval', '--checkpoint', join(ckDir, 'huge.safetensors')], /huge\.safetensors.*header/],
  ['checkpoint offsets out of range', () => ['eval', '--checkpoint', join(ckDir, 'offsets.safetensors')], /offsets\.safetensors/],
  ['checkpoint of garbage', () => ['eval', '--checkpoint', join(ckDir, 'garbage.safetensors')], /garbage\.safetensors/],
  ['checkpoint with the wrong dtype', () => ['eval', '--checkpoint', join(ckDir, 'dtype.safetensors')], /dtype\.safetensors: tensor '.*' has dtype I32, expected F32/],
  // One option table: flags and config files checked alike, the file and key named.
  ['config: an unknown preset', () => cfgRun('preset-unknown'), /preset-unknown\.json: key 'preset': expected one of paper, official-code, quick, cifar10-cpu, cifar10-gap, got "fast"/],
  ['config: λ out of range', () => cfgRun('lambda-range'), /lambda-range\.json: key 'kd\.lambda': expected a number in \[0, 1\], got 2/],
  ['config: plain-lr as a word', () => cfgRun('plain-lr-string'), /plain-lr-string\.json: key 'recipe\.plainLr': expected a number > 0 or null, got "same"/],
  ['config: a fractional seed count', () => cfgRun('seeds-fraction'), /seeds-fraction\.json: key 'seeds': expected a positive integer, got 2\.5/],
  ['config: an unknown assistant', () => cfgRun('assistant-unknown'), /assistant-unknown\.json: key 'assistants': unknown architecture 'vgg12'/],
  ['config: a drop mode as a number', () => cfgRun('drop-number'), /drop-number\.json: key 'stochastic\.drop': expected one of none, bernoulli, exact-k, got 1/],
  ['config: a switch as a string', () => cfgRun('bool-string'), /bool-string\.json: key 'recipe\.augment': expected true or false, got "yes"/],
  ['config: an array', () => ['--config', join(work, 'array.json')], /--config: .*array\.json must hold a JSON object, got array/],
  ['config: a folder', () => ['--config', join(work, 'folder.json')], /--config: .*folder\.json is a folder, expected a JSON file/],
  ['a switch and its negation', () => R('--no-augment', '--augment'), /--augment: given twice \(also as --no-augment\)/],
  ['--preset twice', () => [...RUN, '--preset', 'quick'], /--preset: given twice/],
  ['a flag where a value belongs', () => R('--epochs', '--lr', '0.1'), /--epochs: missing value \(expected a positive integer\)/],
  ['plain-lr 0', () => R('--plain-lr', '0'), /--plain-lr: expected a number > 0 or null, got '0'/],
  ['negative validation split', () => R('--val-split', '-1'), /--val-split: expected a number ≥ 0, got '-1'/],
  ['unknown CE weight', () => R('--ce-weight', 'heavy'), /--ce-weight: expected paper, official or a number ≥ 0, got 'heavy'/],
  ['unknown scratch teacher', () => R('--scratch', 'resnet7'), /--scratch: unknown architecture 'resnet7'/],
  ['models: too few classes', () => ['models', '--classes', '1'], /--classes: expected an integer in 2\.\.100000, got '1'/],
  ['models: an unknown option', () => ['models', '--depth', '3'], /models: unknown option '--depth' \(see models --help\)/],
  ['eval: batch size 0', () => ['eval', '--checkpoint', join(ckDir, 'garbage.safetensors'), '--batch-size', '0'], /--batch-size: expected a positive integer, got '0'/],
  ['eval: an unknown dataset', () => ['eval', '--checkpoint', join(ckDir, 'garbage.safetensors'), '--dataset', 'mnist'], /--dataset: expected one of synthetic, cifar10, cifar100, svhn, tiny-imagenet, got 'mnist'/],
  ['eval: a training-only option', () => ['eval', '--checkpoint', join(ckDir, 'garbage.safetensors'), '--epochs', '3'], /eval: unknown option '--epochs' \(see eval --help\)/],
  ['export without --out', () => ['export', '--checkpoint', join(ckDir, 'garbage.safetensors')], /export: --out FILE is required/],
  ['export of a missing checkpoint', () => ['export', '--checkpoint', join(work, 'none.safetensors'), '--out', join(work, 'm.safetensors')], /none\.safetensors does not exist/],
  ['eval of a folder', () => ['eval', '--checkpoint', ckDir], /checkpoint .*ck is a folder, expected a \.safetensors checkpoint file/],
  ['export of a folder', () => ['export', '--checkpoint', ckDir, '--out', join(work, 'm.safetensors')], /checkpoint .*ck is a folder, expected a \.safetensors checkpoint file/],
  ['export onto its own checkpoint', () => ['export', '--checkpoint', join(ckDir, 'shape.safetensors'), '--out', join(ckDir, 'shape.safetensors')],
    /export: --out .*shape\.safetensors is the checkpoint being exported/],
  ['export onto its checkpoint through a symlink', () => ['export', '--checkpoint', join(ckDir, 'shape.safetensors'), '--out', linked('sym')],
    /export: --out .*sym\.safetensors is the checkpoint being exported/],
  ['export onto its checkpoint through a hard link', () => ['export', '--checkpoint', join(ckDir, 'shape.safetensors'), '--out', linked('hard')],
    /export: --out .*hard\.safetensors is the checkpoint being exported/],
  ['export of garbage', () => ['export', '--checkpoint', join(ckDir, 'garbage.safetensors'), '--out', join(work, 'm.safetensors')], /garbage\.safetensors/],
  ['export below a file', () => ['export', '--checkpoint', join(ckDir, 'shape.safetensors'), '--out', join(work, 'a-file', 'm.safetensors')], /error: .*a-file: a file stands where a folder is expected \(mkdir\)/],
  ['--download without --data-dir', () => R('--dataset', 'cifar100', '--download'), /--data-dir: dataset 'cifar100' needs the folder holding its files \(or --download to fetch them\)/],
  ['checkpoint with a wrong shape', () => ['eval', '--checkpoint', join(ckDir, 'shape.safetensors')], /shape\.safetensors: tensor 'fc1\.weight' has shape \[10, 1025\], the model expects \[10, 1024\]/],
];

// Issue 27: every baseline's weight is refused when negative or not a number, naming the flag (or file and
// key), with the usage exit status 2 — before anything trains.
const usageCases: [string, () => string[], RegExp][] = [
  ['negative DKD α', () => R('--method', 'dkd', '--dkd-alpha', '-1'), /--dkd-alpha: expected a number ≥ 0, got '-1'/],
  ['NaN DKD β', () => R('--method', 'dkd', '--dkd-beta', 'nan'), /--dkd-beta: expected a number ≥ 0, got 'nan'/],
  ['negative DKD warm-up', () => R('--dkd-warmup', '-2'), /--dkd-warmup: expected auto or a number of epochs ≥ 0, got '-2'/],
  ['negative DIST β', () => R('--method', 'dist', '--dist-beta', '-0.5'), /--dist-beta: expected a number ≥ 0, got '-0\.5'/],
  ['NaN DIST γ', () => R('--dist-gamma', 'NaN'), /--dist-gamma: expected a number ≥ 0, got 'NaN'/],
  ['negative AT β', () => R('--method', 'at', '--at-beta', '-1000'), /--at-beta: expected a number ≥ 0, got '-1000'/],
  ['NaN FitNets weight', () => R('--method', 'fitnets', '--fitnets-weight', 'nan'), /--fitnets-weight: expected a number ≥ 0, got 'nan'/],
  ['negative RKD distance', () => R('--method', 'rkd', '--rkd-distance', '-25'), /--rkd-distance: expected a number ≥ 0, got '-25'/],
  ['NaN RKD angle', () => R('--rkd-angle', 'nan'), /--rkd-angle: expected a number ≥ 0, got 'nan'/],
  ['unknown teacher loss', () => R('--teacher-loss', 'hinton'), /--teacher-loss: expected one of kd, dkd, dist, got 'hinton'/],
  ['unknown --compare row', () => R('--compare', 'nokd,crd'), /--compare: unknown method 'crd'/],
  ['--compare chain rows without assistants', () => R('--compare', 'kd,takd', '--assistants', ''), /--compare: takd needs at least one assistant/],
  ['config: a negative DKD β', () => cfgRun('dkd-beta-negative'), /dkd-beta-negative\.json: key 'dkd\.beta': expected a number ≥ 0, got -8/],
  ['config: an RKD angle of null (NaN in JSON)', () => cfgRun('rkd-angle-null'), /rkd-angle-null\.json: key 'rkd\.angle': expected a number ≥ 0, got null/],
  ['config: an unknown --compare row', () => cfgRun('compare-unknown'), /compare-unknown\.json: key 'compare': unknown method 'crd'/],
  ['sweep of DKD over T', () => ['sweep', ...RUN, '--method', 'dkd', '--temperature', '2,4'], /sweep: --method dkd sweeps --dkd-alpha × --dkd-beta, not --temperature/],
];

describe('bad weights and --compare lists (exit 2)', () => {
  for (const [name, args, pattern] of usageCases) {
    it(name, () => {
      const before = snapshot(out);
      const r = run(args());
      expect(r.status, `exit status; stderr: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
      expect(snapshot(out)).toEqual(before);
    });
  }
});

describe('file-system failures after training started', () => {
  it('a folder where the summary should go: exit 2 naming it, the trained stage kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-isdir-'));
    mkdirSync(join(dir, 'bad', 'summary.json'), { recursive: true });
    const r = run(R('--out', dir, '--batch-size', '32'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/error: .*bad\/summary\.json: a folder stands where a file is expected/);
    expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
    expect(readdirSync(join(dir, '_cache')).length).toBe(1); // the stage's checkpoints stay for the next run
  });
});

describe('bad inputs', () => {
  it(`has at least 30 cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(30));
  for (const [name, args, pattern] of cases) {
    it(name, () => {
      const before = snapshot(out);
      const r = run(args());
      expect(r.status, `exit status; stderr: ${r.stderr}`).not.toBe(0);
      expect(r.status).not.toBe(null);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/); // a message, not a stack trace
      expect(snapshot(out)).toEqual(before);
    });
  }
});

describe('one notion of bad input', () => {
  it('every error class of user input extends BadInput (exit 2, never retried by the queue)', async () => {
    const { BadInput } = await import('../dgkd/errors.ts');
    const { badInputMessage } = await import('../dgkd/bad_input.ts');
    const classes = [
      (await import('../dgkd/settings/options.ts')).UsageError,
      (await import('../dgkd/data/dataset.ts')).DataError,
      (await import('../dgkd/data/download.ts')).DownloadError,
      (await import('../dgkd/fit/checkpoint.ts')).CheckpointError,
      (await import('../dgkd/models/registry.ts')).UnknownArchitectureError,
      (await import('../dgkd/methods/attention_pairs.ts')).AttentionMatchError,
      (await import('../dgkd/methods/fitnets.ts')).HintMatchError,
      (await import('../dgkd/experiment/folders.ts')).RunStateError,
      (await import('../dgkd/queue/connection.ts')).QueueError,
    ];
    for (const C of classes) {
      const e = new C('what was wrong');
      expect(e, C.name).toBeInstanceOf(BadInput);
      expect(e.exitCode).toBe(2);
      expect(badInputMessage(e)).toBe('what was wrong');
    }
    expect(badInputMessage(new Error('a bug'))).toBeNull();
  });
});
