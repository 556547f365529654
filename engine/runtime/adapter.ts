// What the engine asks of an adapter, the same at both edges (engine/node/dawn.ts, engine/web/gpu.ts): the
// adapter's own limits where the kernels want more than WebGPU's defaults, the optional features it has
// (timestamps for the profiler, subgroups for the broadcast kernel variants, 16-bit floats), and a name for logs.

const WANTED_LIMITS: (keyof GPUSupportedLimits)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
];
const OPTIONAL_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'];

export function deviceDescriptor(adapter: GPUAdapter): GPUDeviceDescriptor {
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k] as number;
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  return { requiredLimits, requiredFeatures, label: 'engine' };
}

export function describeAdapter(adapter: GPUAdapter): string {
  const i = adapter.info;
  const parts = [i.description || i.device, i.vendor, i.architecture].filter((s) => s && s.length);
  return parts.join(' / ') || 'unknown adapter';
}
