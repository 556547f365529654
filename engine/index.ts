// The engine's public API. In Node, acquire the device first with initGpu() from engine/node/dawn.ts.
export { Tensor, tensor, zeros, ones, full, randn, uniform, tidy, keep, liveTensorCount } from './tensor.ts';
export type { DType } from './tensor.ts';
export { backward, zeroGrad } from './autograd.ts';
export { noGrad, isGradEnabled } from './tape.ts';
export { runtime, GpuError, Runtime } from './runtime/index.ts';
export { Rng } from './random.ts';
export * from './ops.ts';
export * from './nn/index.ts';
