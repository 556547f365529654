// RepDistiller's CIFAR students (dgkd/models/mobilenetv2.ts, shufflenetv1.ts, shufflenetv2.ts): parameter counts
// equal to RepDistiller's own models (counted with its code in PyTorch), their names and feature maps, and each as
// a --student: KD through the CLI, CTKD with attention paired against a ResNet and a WRN expert.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { noGrad, Rng, tensor, tidy } from '../engine/index.ts';
import { ARCHITECTURES, canonicalName, checkArchitecture, createModel } from '../dgkd/models/index.ts';
import { matchAttentionGroups } from '../dgkd/methods/attention_pairs.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

const root = resolve(import.meta.dirname, '..');

// sum(p.numel() for p in model.parameters()) of RepDistiller's mobile_half, mobilenetv2_T_w(6, 1), ShuffleV1 and
// ShuffleV2 (HobbitLong/RepDistiller, models/), at 10 and 100 classes.
const REPDISTILLER: Record<string, [number, number]> = {
  'mobilenetv2-0.5': [697546, 812836],
  mobilenetv2: [2237770, 2353060],
  shufflenetv1: [862768, 949258],
  shufflenetv2: [1263278, 1355528],
};

describe("RepDistiller's students", () => {
  for (const [arch, [c10, c100]] of Object.entries(REPDISTILLER)) {
    it(`${arch}: RepDistiller's parameter counts`, () => {
      for (const [classes, n] of [[10, c10], [100, c100]]) {
        const m = createModel(arch, { numClasses: classes });
        expect(m.parameterCount(), `${arch} at ${classes} classes`).toBe(n);
        m.dispose();
      }
    });
  }

  it('are listed, and take RepDistiller’s names too', () => {
    for (const a of Object.keys(REPDISTILLER)) expect(ARCHITECTURES).toContain(a);
    expect(canonicalName('mobile_half')).toBe('mobilenetv2-0.5');
    expect(canonicalName('MobileNetV2_1.0')).toBe('mobilenetv2');
    expect(canonicalName('ShuffleV1')).toBe('shufflenetv1');
    expect(canonicalName('shufflenet-v2')).toBe('shufflenetv2');
    expect(checkArchitecture('mobilenetv2-0.75')).toBe('mobilenetv2-0.75');
    expect(() => checkArchitecture('mobilenetv2-0.01')).toThrow(/unknown architecture/);
    expect(() => checkArchitecture('shufflenetv3')).toThrow(/unknown architecture/);
  });

  it('use RepDistiller’s state-dict names', () => {
    const names = (a: string) => {
      const m = createModel(a, { numClasses: 10 });
      const n = m.namedState().map(([k]) => k);
      m.dispose();
      return n;
    };
    expect(names('mobilenetv2-0.5')).toEqual(expect.arrayContaining(['conv1.0.weight', 'conv1.1.running_var', 'blocks.2.0.conv.3.weight', 'blocks.6.0.conv.7.bias', 'conv2.0.weight', 'classifier.0.weight']));
    expect(names('shufflenetv1')).toEqual(expect.arrayContaining(['conv1.weight', 'layer1.0.conv1.weight', 'layer2.7.bn3.running_mean', 'linear.bias']));
    expect(names('shufflenetv2')).toEqual(expect.arrayContaining(['layer1.0.conv5.weight', 'layer2.7.conv3.weight', 'conv2.weight', 'bn2.weight', 'linear.weight']));
  });

  const featureSides: Record<string, number[]> = { 'mobilenetv2-0.5': [16, 8, 4, 2], shufflenetv1: [16, 8, 4], shufflenetv2: [16, 8, 4] };
  for (const [arch, sides] of Object.entries(featureSides)) {
    it(`${arch}: logits and the stage feature maps on 32×32 inputs (in train and eval mode)`, async () => {
      const m = createModel(arch, { numClasses: 7 });
      const rng = new Rng(1);
      for (const mode of ['train', 'eval'] as const) {
        m.train(mode === 'train');
        const out = tidy(() =>
          noGrad(() => {
            const o = m.forwardWithFeatures(tensor(Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.normal()), [2, 32, 32, 3]));
            return [o.logits, ...o.features];
          }),
        );
        expect(out[0].shape).toEqual([2, 7]);
        expect(out.slice(1).map((f) => f.shape[1])).toEqual(sides);
        expect((await out[0].readF32()).every(Number.isFinite)).toBe(true);
        out.forEach((t) => t.dispose());
      }
      m.dispose();
    });
  }

  it('pair their feature maps with ResNet and WRN teachers for attention transfer', () => {
    const sq = (sides: number[]) => sides.map((s) => ({ height: s, width: s }));
    const resnet = sq([32, 16, 8]);
    for (const sides of Object.values(featureSides)) {
      const pairs = matchAttentionGroups(sq(sides), resnet);
      expect(pairs.length).toBe(3);
    }
    // mobilenetv2: its 16, 8 and 4 maps against the ResNet's 32 → 16, 16 → 8 and 8 → 4.
    expect(matchAttentionGroups(sq(featureSides['mobilenetv2-0.5']), resnet).map((p) => [p.target, p.expert, p.expertPool])).toEqual([[0, 0, 2], [1, 1, 2], [2, 2, 2]]);
  });
});

/** A run of dgkd/train.ts on 128 images of the built-in data for one epoch: the student's final record. */
function train(args: string[]): { trainLoss: number; testAcc: number } {
  const out = mkdtempSync(join(tmpdir(), 'dgkd-students-'));
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'dgkd/train.ts', '--no-compare', '--assistants', '', '--synthetic-train', '128', '--synthetic-test', '64',
      '--val-split', '0', '--epochs', '1', '--seeds', '1', '--quiet', '--out', out, '--name', 'run', ...args],
    { cwd: root, encoding: 'utf8', env: { ...process.env, DGKD_QUIET: '1' } },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'run', 'summary.json'), 'utf8'));
  const student = summary.stages[summary.stages.length - 1];
  const lines = readFileSync(join(out, 'run', 'stages', `${student.name}.jsonl`), 'utf8').trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

describe('as students', () => {
  it('KD from resnet8 into shufflenetv2 through the CLI', () => {
    const last = train(['--method', 'kd', '--teacher', 'resnet8', '--student', 'shufflenetv2']);
    expect(Number.isFinite(last.trainLoss)).toBe(true);
  }, 300_000);
  it('CTKD into mobilenetv2-0.5 with a resnet8 expert, and into shufflenetv1 with a wrn-16-1 expert (attention pairs)', () => {
    for (const [teacher, student] of [['resnet8', 'mobilenetv2-0.5'], ['wrn-16-1', 'shufflenetv1']]) {
      const last = train(['--method', 'ctkd', '--teacher', teacher, '--student', student]);
      expect(Number.isFinite(last.trainLoss), `${teacher} → ${student}`).toBe(true);
    }
  }, 600_000);
});
