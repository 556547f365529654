// Model-only export: every architecture's exported state dict has exactly the keys and shapes of the PyTorch
// definitions (fixture written by `python3 dgkd/pytorch/models.py keys …`, see dgkd/pytorch/models.py), no
// optimizer tensors, and a num_batches_tracked counter per batch norm as PyTorch's strict loading wants.
import { beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expectedShapes } from '../engine/nn/index.ts';
import type { SafetensorsTensor } from '../engine/io/safetensors.ts';
import { createModel } from '../dgkd/models/index.ts';
import { MOMENTUM_PREFIX } from '../dgkd/fit/checkpoint.ts';
import { modelStateOf } from '../dgkd/fit/export.ts';
import { gpuReady } from './gpu.ts';

const fixture: Record<string, [string, number[]][]> = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'fixtures', 'pytorch-state-dicts.json'), 'utf8'),
);

beforeAll(() => gpuReady);

it('the fixture covers every family at 10 and 100 classes', () => {
  for (const family of ['plain', 'resnet', 'wrn', 'vgg', 'mobilenetv2', 'shufflenetv1', 'shufflenetv2']) {
    expect(Object.keys(fixture).some((k) => k.startsWith(family))).toBe(true);
  }
  expect(Object.keys(fixture).filter((k) => k.endsWith(':100')).length).toBeGreaterThan(0);
});

it.each(Object.keys(fixture))('%s exports exactly the PyTorch state dict', (spec) => {
  const [arch, classes] = spec.split(':');
  const model = createModel(arch, { numClasses: Number(classes ?? 10) });
  const shapes = expectedShapes(model);
  model.dispose();
  // A checkpoint as training writes it: the model's tensors and a momentum buffer for each parameter.
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, shape] of shapes) {
    const t: SafetensorsTensor = { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
    tensors[name] = t;
    if (!name.includes('running_')) tensors[MOMENTUM_PREFIX + name] = t;
  }
  const exported = modelStateOf({ meta: { format: 'dgkd-checkpoint/1', arch, numClasses: 10, dataset: 'x', epoch: 1 }, tensors }, spec);
  const ours = Object.entries(exported).map(([k, t]) => [k, t.shape]).sort(([a], [b]) => String(a).localeCompare(String(b)));
  const theirs = [...fixture[spec]].sort(([a], [b]) => a.localeCompare(b));
  expect(ours).toEqual(theirs);
  for (const [k, t] of Object.entries(exported)) if (k.endsWith('num_batches_tracked')) expect(t.dtype).toBe('I64');
});
