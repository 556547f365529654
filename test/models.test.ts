// Architectures: parameter counts from methods.md, forward shapes, PyTorch names, checkpoint round trips.
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, Rng, tensor, tidy } from '../engine/index.ts';
import { createModel, ARCHITECTURES, UnknownArchitectureError } from '../dgkd/models/index.ts';
import { saveCheckpoint, readCheckpoint, applyCheckpoint, CheckpointError } from '../dgkd/fit/checkpoint.ts';
import { SGD } from '../engine/nn/index.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

// methods.md: parameter counts, CIFAR-10 / CIFAR-100 (rounded as published).
const PUBLISHED: Record<string, [number, number]> = {
  resnet8: [78e3, 84e3], resnet14: [175e3, 181e3], resnet20: [272e3, 278e3], resnet26: [370e3, 376e3],
  resnet32: [467e3, 473e3], resnet44: [661e3, 667e3], resnet56: [856e3, 862e3], resnet110: [1.731e6, 1.737e6],
  plain2: [13.1e3, 215e3], plain4: [37.3e3, 476e3], plain6: [82.8e3, 1.107e6], plain8: [328e3, 1.246e6], plain10: [2.488e6, 2.931e6],
};

function count(arch: string, classes: number): number {
  const m = createModel(arch, { numClasses: classes });
  const n = m.parameterCount();
  m.dispose();
  return n;
}

describe('parameter counts match the papers', () => {
  for (const [arch, [c10, c100]] of Object.entries(PUBLISHED)) {
    it(arch, () => {
      // Published to the nearest 0.1k, 1k or 0.001M: within 500 of the figure (exact counts are checked below).
      expect(Math.abs(count(arch, 10) - c10)).toBeLessThanOrEqual(500);
      expect(Math.abs(count(arch, 100) - c100)).toBeLessThanOrEqual(500);
    });
  }
  it('exact counts for the smallest models', () => {
    expect(count('resnet8', 10)).toBe(78042);
    expect(count('plain2', 10)).toBe(13082);
    expect(count('plain10', 10)).toBe(2487850);
  });
  it('odd plain depths sit between their neighbours on CIFAR-10', () => {
    for (const d of [3, 5, 7, 9]) {
      expect(count(`plain${d}`, 10)).toBeGreaterThan(count(`plain${d - 1}`, 10));
      expect(count(`plain${d}`, 10)).toBeLessThan(count(`plain${d + 1}`, 10));
    }
  });
  it('WRN-40-2 and VGG-13 have their usual sizes', () => {
    expect(count('wrn-40-2', 100)).toBeGreaterThan(2.2e6);
    expect(count('wrn-40-2', 100)).toBeLessThan(2.3e6);
    expect(count('vgg13', 100)).toBeGreaterThan(9.4e6);
    expect(count('vgg13', 100)).toBeLessThan(9.5e6);
  });
});

describe('forward shapes and names', () => {
  for (const arch of ['plain3', 'plain10', 'resnet8', 'wrn-16-1', 'vgg8']) {
    it(`${arch}: logits [2, 7] and the stage feature maps`, async () => {
      const m = createModel(arch, { numClasses: 7 });
      m.eval();
      const rng = new Rng(1);
      const out = tidy(() =>
        noGrad(() => {
          const o = m.forwardWithFeatures(tensor(Float32Array.from({ length: 2 * 32 * 32 * 3 }, () => rng.normal()), [2, 32, 32, 3]));
          return [o.logits, ...o.features];
        }),
      );
      expect(out[0].shape).toEqual([2, 7]);
      // One feature map per stage: three ResNet/WRN groups, one per max-pool for plain CNNs and VGGs.
      const stages: Record<string, number> = { plain3: 2, plain10: 4, 'resnet8': 3, 'wrn-16-1': 3, vgg8: 5 };
      expect(out.length).toBe(1 + stages[arch]);
      const logits = await out[0].readF32();
      expect(logits.every(Number.isFinite)).toBe(true);
      out.forEach((t) => t.dispose());
      m.dispose();
    });
  }
  it('uses PyTorch state-dict names', () => {
    const names = createModel('resnet8', { numClasses: 10 }).namedState().map(([n]) => n);
    expect(names).toContain('conv1.weight');
    expect(names).toContain('layer1.0.conv1.weight');
    expect(names).toContain('layer2.0.downsample.0.weight');
    expect(names).toContain('layer3.0.bn2.running_var');
    expect(names).toContain('fc.bias');
  });
  it('unknown architectures list the known ones', () => {
    expect(() => createModel('resnet9', { numClasses: 10 })).toThrow(UnknownArchitectureError);
    expect(() => createModel('alexnet', { numClasses: 10 })).toThrow(/unknown architecture 'alexnet'. Known: .*resnet8/);
  });
  it('every listed architecture builds', () => {
    expect(ARCHITECTURES.length).toBeGreaterThan(25);
  });
});

describe('checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dgkd-ck-'));
  const input = () => {
    const rng = new Rng(3);
    return tensor(Float32Array.from({ length: 3 * 32 * 32 * 3 }, () => rng.normal()), [3, 32, 32, 3]);
  };
  const logitsOf = async (m: ReturnType<typeof createModel>) => {
    m.eval();
    const t = tidy(() => noGrad(() => m.forward(input())));
    const v = await t.readF32();
    t.dispose();
    return v;
  };

  it('save → load gives identical outputs, weights and momentum', async () => {
    const a = createModel('resnet8', { numClasses: 10, seed: 1 });
    const opt = new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    opt.velocity[0].write(Float32Array.from({ length: opt.velocity[0].size }, (_, i) => i / 7));
    const path = join(dir, 'a.safetensors');
    await saveCheckpoint(path, a, opt, { format: 'dgkd-checkpoint/1', arch: a.arch, numClasses: 10, dataset: 'synthetic', epoch: 3 });
    const b = createModel('resnet8', { numClasses: 10, seed: 2 });
    const opt2 = new SGD(b.parameters(), { lr: 0.1, momentum: 0.9 });
    const ck = readCheckpoint(path);
    expect(ck.meta.epoch).toBe(3);
    expect(ck.tensors['conv1.weight'].shape).toEqual([16, 3, 3, 3]); // PyTorch layout
    applyCheckpoint(ck, path, b, opt2);
    expect(Array.from(await logitsOf(b))).toEqual(Array.from(await logitsOf(a)));
    expect(Array.from(await opt2.velocity[0].readF32())).toEqual(Array.from(await opt.velocity[0].readF32()));
  });

  it('a checkpoint of another architecture is refused, naming both', async () => {
    const a = createModel('resnet8', { numClasses: 10 });
    const path = join(dir, 'r8.safetensors');
    await saveCheckpoint(path, a, null, { format: 'dgkd-checkpoint/1', arch: a.arch, numClasses: 10, dataset: 'x', epoch: 1 });
    const b = createModel('resnet14', { numClasses: 10 });
    expect(() => applyCheckpoint(readCheckpoint(path), path, b)).toThrow(/checkpoint is resnet8 with 10 classes, the model is resnet14/);
  });

  it('a tensor of the wrong shape is named', async () => {
    const a = createModel('plain2', { numClasses: 10 });
    const path = join(dir, 'p2.safetensors');
    await saveCheckpoint(path, a, null, { format: 'dgkd-checkpoint/1', arch: a.arch, numClasses: 10, dataset: 'x', epoch: 1 });
    // Corrupt the header: claim conv1.weight has another shape (same byte size).
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString());
    header['conv1.weight'].shape = [16, 3, 9, 1];
    const h2 = Buffer.from(JSON.stringify(header).padEnd(n, ' '));
    expect(h2.length).toBe(n);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.concat([bytes.subarray(0, 8), h2, bytes.subarray(8 + n)]));
    expect(() => applyCheckpoint(readCheckpoint(bad), bad, a)).toThrow(CheckpointError);
    expect(() => applyCheckpoint(readCheckpoint(bad), bad, a)).toThrow(/'conv1.weight' has shape \[16, 3, 9, 1\], the model expects \[16, 3, 3, 3\]/);
  });

  it('a truncated file is a clear error', () => {
    const bad = join(dir, 'trunc.safetensors');
    writeFileSync(bad, Buffer.from([1, 2, 3]));
    expect(() => readCheckpoint(bad)).toThrow(CheckpointError);
    expect(() => readCheckpoint(join(dir, 'nope.safetensors'))).toThrow(/does not exist/);
  });
});
