export { Runtime, runtime, setRuntime } from './runtime.ts';
export { GpuError } from './errors.ts';
export { PendingRead } from './readback.ts';
export type { ShaderLoader } from './pipelines.ts';
export { kernel, declaredKernels, packParams, shaderFiles } from './contract.ts';
export type { FieldType, KernelContract, Launch } from './contract.ts';
export { describeAdapter, deviceDescriptor } from './adapter.ts';
export type { Capabilities } from './capabilities.ts';
export { UNROLL_GAIN, type UnrollingMeasurement } from './unrolling.ts';
