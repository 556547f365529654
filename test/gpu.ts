// Test helpers: one GPU for the whole run, and conversions between the float64 reference and GPU tensors.
import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { Tensor, tensor } from '../engine/index.ts';
import type { T } from './reference.ts';

process.env.DGKD_QUIET ??= '1';
// Tests check the kernels with their default tiles, whatever a developer may have tuned on this machine.
process.env.DGKD_NO_TUNE_CACHE ??= '1';
export const gpuReady = initGpu(gpuOptionsFromEnv());

export function up(x: T, requiresGrad = false): Tensor {
  const t = tensor(Float32Array.from(x.data), x.shape);
  t.requiresGrad = requiresGrad;
  return t;
}

export function labelsUp(labels: Int32Array): Tensor {
  return tensor(labels, [labels.length], 'i32');
}

export async function down(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.read());
}
