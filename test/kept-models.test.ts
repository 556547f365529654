// Models given as files instead of trained: --teacher-checkpoint and --assistant-checkpoints accept this trainer's
// checkpoints and exports and PyTorch models saved by dgkd/pytorch/models.py's save_export, check architecture,
// classes, normalisation and held-out parts before anything trains (exit 2 naming flag and file), and a run from
// them trains only the students.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../engine/io/safetensors.ts';

const root = resolve(import.meta.dirname, '..');
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } });
const python = (args: string[]) => spawnSync('/usr/bin/python3', args, { cwd: root, encoding: 'utf8' });

const out = mkdtempSync(join(tmpdir(), 'dgkd-kept-'));
// The built-in data, small: a tenth held out for validation.
const DATA = ['--dataset', 'synthetic', '--synthetic-train', '320', '--synthetic-test', '64', '--batch-size', '32', '--epochs', '1', '--lr', '0.01'];
let teacherFile = '';
let teacherAcc = 0;

beforeAll(() => {
  const r = cli(['--method', 'ce', '--student', 'plain4', ...DATA, '--seeds', '1', '--out', out, '--name', 'teacher']);
  expect(r.status, r.stderr).toBe(0);
  const stage = JSON.parse(readFileSync(join(out, 'teacher', 'summary.json'), 'utf8')).stages[0];
  teacherFile = join(out, '_cache', stage.key, 'last.safetensors');
  teacherAcc = stage.finalAcc;
}, 120_000);

describe('--teacher-checkpoint', () => {
  it('trains the students from a kept teacher, which it scores but does not train', () => {
    const r = cli(['--teacher', 'plain4', '--teacher-checkpoint', teacherFile, '--assistants', '', '--method', 'kd', ...DATA, '--seeds', '1', '--out', out, '--name', 'from-kept']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'from-kept', 'summary.json'), 'utf8'));
    const teacher = s.stages.find((x: { role: string }) => x.role === 'teacher');
    expect(teacher).toMatchObject({ method: 'kept', arch: 'plain4', name: 'teacher-plain4-kept' });
    expect(teacher.key).toMatch(/^kept-[0-9a-f]{16}$/);
    // Scored on the same held-out test part as the run that trained it.
    expect(teacher.bestAcc).toBeCloseTo(teacherAcc, 6);
    expect(s.stages.map((x: { role: string }) => x.role)).toEqual(['teacher', 'student']);
    expect(r.stderr).toMatch(/teacher-plain4-kept\] .*last\.safetensors \(checkpoint, sha256 [0-9a-f]{12}…\): plain4, test/);
  }, 120_000);

  it('accepts a model-only export, and a student trained from it is found again by its content', () => {
    const exported = join(out, 'teacher-export.safetensors');
    expect(cli(['export', '--checkpoint', teacherFile, '--out', exported]).status).toBe(0);
    const r = cli(['--teacher', 'plain4', '--teacher-checkpoint', exported, '--assistants', '', '--method', 'kd', ...DATA, '--seeds', '1', '--out', out, '--name', 'from-export']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'from-export', 'summary.json'), 'utf8'));
    expect(s.stages[0].bestAcc).toBeCloseTo(teacherAcc, 6);
  }, 120_000);

  const bad: [string, () => string[], RegExp][] = [
    ['a folder', () => ['--teacher-checkpoint', out], /--teacher-checkpoint .*: is a folder, expected a \.safetensors file/],
    ['a missing file', () => ['--teacher-checkpoint', join(out, 'nope.safetensors')], /--teacher-checkpoint .*nope\.safetensors: does not exist/],
    ['not safetensors', () => ['--teacher-checkpoint', write('garbage.safetensors', new TextEncoder().encode('hello, world'))], /garbage\.safetensors: not a safetensors file/],
    ['a torch.save file (zip)', () => ['--teacher-checkpoint', write('model.pt', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0]))],
      /model\.pt: it is a PyTorch file saved with torch\.save \(a pickle\), not safetensors: .*save_export/],
    ['a torch.save file (legacy pickle)', () => ['--teacher-checkpoint', write('old.pt', new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]))],
      /old\.pt: it is a PyTorch file saved with torch\.save/],
    ['another architecture', () => ['--teacher', 'plain6'], /holds a plain4, but this run's model there is plain6/],
    ['other classes', () => ['--teacher-checkpoint', edited('classes.safetensors', (m) => ({ ...m, numClasses: '100' }))], /classifies 100 classes, the dataset has 10/],
    ['other normalisation', () => ['--teacher-checkpoint', edited('norm.safetensors', (m) => ({ ...m, recipe: JSON.stringify({ normalisation: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } }) }))],
      /was trained on inputs normalised with mean \[0\.5,0\.5,0\.5\].*this trainer normalises with mean \[0\.507/],
    ['other held-out parts', () => ['--val-split', '64'], /trained on other data or other held-out parts \(valSplit 0\.1\) than this run \(valSplit 64\)/],
    ['a tensor missing', () => ['--teacher-checkpoint', edited('missing.safetensors', (m) => m, 'fc1.bias')], /missing tensor 'fc1\.bias'/],
    ['too few assistant files', () => ['--assistants', 'plain3,plain2', '--assistant-checkpoints', teacherFile], /--assistant-checkpoints: 1 file for 2 assistants \(plain3, plain2\)/],
  ];
  it.each(bad)('refuses %s with exit 2 before training', (_, extra, message) => {
    const args = extra();
    const base = ['--teacher', 'plain4', '--teacher-checkpoint', teacherFile, '--assistants', '', '--method', 'kd', ...DATA, '--out', out, '--name', 'bad'];
    // Later flags replace the base's (each flag once).
    const merged = [...base];
    for (let i = 0; i < args.length; i += 2) {
      const at = merged.indexOf(args[i]);
      if (at >= 0) merged.splice(at, 2, args[i], args[i + 1]);
      else merged.push(args[i], args[i + 1]);
    }
    const r = cli(merged);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.status).toBe(2);
  }, 60_000);
});

describe('a teacher brought from PyTorch', () => {
  it('loads a state dict saved by models.save_export, gives PyTorch’s logits, and teaches', () => {
    const dir = join(out, 'torch');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'plain4.safetensors');
    // A seeded PyTorch plain4 with batch-norm statistics away from 0 and 1, and its eval-mode logits on a batch.
    const script = `
import sys, json, numpy as np, torch
sys.path.insert(0, 'dgkd/pytorch')
import models
torch.manual_seed(5)
m = models.build('plain4')
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_(0, 0.1); mod.running_var.uniform_(0.5, 1.5)
models.save_export(m, ${JSON.stringify(file)})
x = torch.from_numpy(np.linspace(-2, 2, 2 * 3 * 32 * 32, dtype=np.float32).reshape(2, 3, 32, 32))
print(json.dumps(m.eval()(x).detach().numpy().ravel().tolist()))
`;
    const py = python(['-c', script]);
    expect(py.status, `${py.stderr}\n(needs Debian's python3-torch: bash scripts/setup-torch.sh)`).toBe(0);
    const torchLogits: number[] = JSON.parse(py.stdout);
    // Our forward pass on the same input (NHWC), through the same reader --teacher-checkpoint uses.
    const probe = `
import { initGpu } from './engine/node/dawn.ts';
import { Tensor } from './engine/index.ts';
import { createModel } from './dgkd/models/index.ts';
import { applyCheckpoint } from './dgkd/fit/checkpoint.ts';
import { readKeptModel } from './dgkd/experiment/kept_models.ts';
import { TAKD_NORMALISATION } from './dgkd/data/index.ts';
await initGpu({ log: false });
const k = readKeptModel(${JSON.stringify(file)}, { flag: '--teacher-checkpoint', arch: 'plain4', numClasses: 10, inputSize: 32, inputChannels: 3, normalisation: TAKD_NORMALISATION });
const m = createModel('plain4', { numClasses: 10 });
applyCheckpoint(k.checkpoint, k.path, m, null);
m.eval();
const N = 2, C = 3, H = 32, W = 32, total = N * C * H * W;
const nhwc = new Float32Array(total);
for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
  const i = ((n * C + c) * H + h) * W + w;
  nhwc[((n * H + h) * W + w) * C + c] = Math.fround(-2 + (4 * i) / (total - 1));
}
const x = new Tensor([N, H, W, C]);
x.write(nhwc);
console.log(JSON.stringify([k.kind, Array.from(await m.forward(x).readF32())]));
process.exit(0);
`;
    const probeFile = join(root, `.kept-probe-${process.pid}.ts`);
    writeFileSync(probeFile, probe);
    const ours = spawnSync(process.execPath, ['--import', 'tsx', probeFile], { cwd: root, encoding: 'utf8' });
    spawnSync('rm', ['-f', probeFile]);
    expect(ours.status, ours.stderr).toBe(0);
    const [kind, logits] = JSON.parse(ours.stdout.trim().split('\n').pop()!) as [string, number[]];
    expect(kind).toBe('pytorch');
    const scale = Math.max(...torchLogits.map(Math.abs));
    const diff = Math.max(...logits.map((v, i) => Math.abs(v - torchLogits[i])));
    expect(diff).toBeLessThan(1e-4 * Math.max(1, scale));

    const r = cli(['--teacher', 'plain4', '--teacher-checkpoint', file, '--assistants', '', '--method', 'kd', ...DATA, '--seeds', '1', '--out', out, '--name', 'from-torch']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\(pytorch, sha256 [0-9a-f]{12}…\): plain4, test .*\(the file does not say what data it was trained on\)/);

    // Without the normalisation in its metadata a PyTorch file is refused: it would be a guess.
    const bare = edited('torch-bare.safetensors', (m) => ({ format: m.format, arch: m.arch, numClasses: m.numClasses }), undefined, file);
    const refused = cli(['--teacher', 'plain4', '--teacher-checkpoint', bare, '--assistants', '', '--method', 'kd', ...DATA, '--out', out, '--name', 'bad']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/does not say the input normalisation it was trained with/);
  }, 180_000);
});

function write(name: string, bytes: Uint8Array): string {
  const p = join(out, name);
  writeFileSync(p, bytes);
  return p;
}

/** The teacher's file (or `from`) with its metadata changed and optionally one tensor left out. */
function edited(name: string, meta: (m: Record<string, string>) => Record<string, string>, drop?: string, from = teacherFile): string {
  const d = decodeSafetensors(new Uint8Array(readFileSync(from)), from);
  const tensors = Object.fromEntries(Object.entries(d.tensors).filter(([k]) => k !== drop));
  return write(name, encodeSafetensors(tensors, meta(d.metadata)));
}
