// TensorFlow.js (tfjs-backend-webgpu) on the same Dawn instance and Vulkan driver as our engine, in the same
// process, and its versions of every comparison case (bench/cases.ts). Used by bench/run.ts.
//
// Setup, and why it looks like this:
// - tfjs-backend-webgpu registers itself at import time only if `navigator.gpu` exists, and then asks it for an
//   adapter and a device. Node has no navigator.gpu, so we provide one backed by the engine's own Dawn instance
//   (engine/node/dawn.ts, gpuInstance()): tfjs gets its own adapter and device from the same driver. (The
//   engine's adapter cannot be shared: a WebGPU adapter is consumed by its first device.) Hence the backend is
//   imported dynamically, after initGpu() and the shim. The WebGPU globals (GPUBufferUsage, …) that tfjs uses
//   were installed by initGpu().
// - WEBGPU_CPU_FORWARD=false: otherwise tfjs runs small ops on the CPU when their inputs are there, which would
//   mean readbacks in the middle of a step.
// - tfjs encodes into one command encoder and submits every 15 dispatches; nothing reads back unless asked. A
//   batch of calls is ended by flushing its encoder and awaiting onSubmittedWorkDone (the BenchQueue below), so
//   nothing is read back per op and tfjs is timed by exactly the code that times our engine (bench/common.ts).

import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { gpuInstance } from '../engine/node/dawn.ts';
import { describeAdapter } from '../engine/runtime/index.ts';
import type { BenchQueue } from './common.ts';
import type { CaseSpec, KernelCase } from './cases.ts';

export interface Tfjs {
  /** The adapter tfjs got, described as the engine describes its own. */
  adapter: string;
  /** Versions of tfjs-core and tfjs-backend-webgpu. */
  versions: { tfjs: string; 'tfjs-backend-webgpu': string };
  queue: BenchQueue;
}

let ready: Tfjs | null = null;

/** Registers and selects the webgpu backend on the engine's Dawn instance. Call after initGpu(). */
export async function setupTfjs(): Promise<Tfjs> {
  if (ready) return ready;
  const gpu = gpuInstance();
  let adapter: GPUAdapter | null = null;
  // All tfjs asks of navigator.gpu is requestAdapter(); remember what it got, to name it in the results. The
  // fallback mirrors engine/node/dawn.ts, which also accepts a fallback adapter.
  const shim = {
    async requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
      adapter = (await gpu.requestAdapter(options)) ?? (await gpu.requestAdapter({ forceFallbackAdapter: true }));
      return adapter;
    },
  };
  const g = globalThis as { navigator?: object };
  // Newer Node versions have a navigator of their own (without gpu): add gpu to it rather than replace it.
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator, 'gpu', { value: shim, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('TensorFlow.js could not initialise its webgpu backend');
  await tf.ready();
  if (!adapter) throw new Error('TensorFlow.js did not request a WebGPU adapter');

  const backend = tf.backend() as WebGPUBackend;
  // tfjs leaves device errors to the console; collect them so a broken case fails loudly instead.
  const errors: string[] = [];
  backend.device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  const queue: BenchQueue = {
    submit() {
      // submitQueue() finishes the shared encoder, which needs the open compute pass ended first.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
    },
    async drain() {
      await backend.queue.onSubmittedWorkDone();
      if (errors.length) throw new Error(`TensorFlow.js device error: ${errors.splice(0).join('\n')}`);
    },
  };
  const require = createRequire(import.meta.url);
  const versions = {
    tfjs: tf.version.tfjs,
    'tfjs-backend-webgpu': (require('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string }).version,
  };
  ready = { adapter: describeAdapter(adapter), versions, queue };
  return ready;
}

// ---- kernel cases -----------------------------------------------------------------------------------------

/** tfjs's version of a kernel case: the same shapes and the same work as ourKernelCase() in cases.ts. */
export function tfjsKernelCase(spec: CaseSpec): KernelCase {
  const inputs: tf.Tensor[] = [];
  const input = <T extends tf.Tensor>(t: T) => (inputs.push(t), t);
  const dispose = () => tf.dispose(inputs);
  // tf.tidy with a void function frees everything the call allocated (outputs included).
  const each = (fn: () => void) => () => tf.tidy(fn);
  let seed = 1;
  const randn = (shape: number[], std = 1) => input(tf.randomNormal(shape, 0, std, 'float32', seed++));
  switch (spec.kind) {
    case 'matmul': {
      const a = randn([spec.n, spec.n]) as tf.Tensor2D;
      const b = randn([spec.n, spec.n]) as tf.Tensor2D;
      return { run: each(() => void tf.matMul(a, b)), dispose };
    }
    case 'conv': {
      const s = spec.shape;
      const Ho = Math.floor((s.H + 2 * s.pad - s.K) / s.stride) + 1;
      const Wo = Math.floor((s.W + 2 * s.pad - s.K) / s.stride) + 1;
      const x = randn([s.N, s.H, s.W, s.Cin]) as tf.Tensor4D;
      const w = randn([s.K, s.K, s.Cin, s.Cout], 0.1) as tf.Tensor4D;
      const dy = randn([s.N, Ho, Wo, s.Cout]) as tf.Tensor4D;
      // A numeric pad is explicit symmetric padding (PyTorch's semantics, as ours); 'same' would pad
      // asymmetrically at stride 2. The gradients are the kernels tf.grad(conv2d) itself runs.
      const attrs = { strides: s.stride, pad: s.pad, dataFormat: 'NHWC' };
      const run =
        spec.pass === 'fwd'
          ? () => void tf.conv2d(x, w, s.stride, s.pad)
          : spec.pass === 'dgrad'
            ? () => void tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape })
            : () => void tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape });
      return { run: each(run), dispose };
    }
    case 'dwconv': {
      const s = spec.shape;
      const Ho = Math.floor((s.H + 2 * s.pad - s.K) / s.stride) + 1;
      const Wo = Math.floor((s.W + 2 * s.pad - s.K) / s.stride) + 1;
      const x = randn([s.N, s.H, s.W, s.Cin]) as tf.Tensor4D;
      const w = randn([s.K, s.K, s.Cin, 1], 0.1) as tf.Tensor4D;   // channel multiplier 1
      const dy = randn([s.N, Ho, Wo, s.Cin]) as tf.Tensor4D;
      const attrs = { strides: s.stride, pad: s.pad, dilations: 1, dataFormat: 'NHWC' };
      const run =
        spec.pass === 'fwd'
          ? () => void tf.depthwiseConv2d(x, w, s.stride, s.pad)
          : spec.pass === 'dgrad'
            ? () => void tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape })
            : () => void tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape });
      return { run: each(run), dispose };
    }
    case 'bn': {
      const C = spec.shape[3];
      const x = randn(spec.shape) as tf.Tensor4D;
      const dy = randn(spec.shape) as tf.Tensor4D;
      const bn = new TfBatchNorm(C);
      inputs.push(bn.gamma, bn.beta, bn.runningMean, bn.runningVar);
      if (!spec.backward) return { run: each(() => void bn.forward(x)), dispose };
      // Forward on the tape, then backward from a given upstream gradient: dx, dgamma, dbeta.
      const grads = tf.grads((xi, gi, bi) => bn.forward(xi as tf.Tensor4D, gi, bi));
      return { run: each(() => void grads([x, bn.gamma, bn.beta], dy)), dispose };
    }
    case 'softmax-kl': {
      const { B, C, T } = spec;
      const zs = randn([B, C]) as tf.Tensor2D;
      const zt = randn([B, C]) as tf.Tensor2D;
      // T²·KL(softmax(zt/T) ‖ softmax(zs/T)) / B, as a tfjs user would write it; gradient w.r.t. zs.
      const kl = (z: tf.Tensor) => {
        const logPt = tf.logSoftmax(tf.div(zt, T));
        const logPs = tf.logSoftmax(tf.div(z, T));
        return tf.mul(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs))), (T * T) / B) as tf.Scalar;
      };
      const grad = tf.grad(kl);
      return { run: each(() => void grad(zs)), dispose };
    }
    case 'train':
      throw new Error('training cases use tfjsTrainStep()');
  }
}

/**
 * Training-mode batch norm over the channels of NHWC data: batch statistics (tf.moments), the running averages
 * updated as our stats pass does (momentum 0.1, unbiased variance), then tf.batchNorm.
 */
class TfBatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  constructor(C: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    this.gamma = tf.variable(tf.ones([C]));
    this.beta = tf.variable(tf.zeros([C]));
    this.runningMean = tf.variable(tf.zeros([C]), false);
    this.runningVar = tf.variable(tf.ones([C]), false);
  }
  forward(x: tf.Tensor4D, gamma: tf.Tensor = this.gamma, beta: tf.Tensor = this.beta): tf.Tensor4D {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = x.size / x.shape[3];
    const m = this.momentum;
    this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
    this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * n) / (n - 1))));
    return tf.batchNorm(x, mean, variance, beta, gamma, this.eps) as tf.Tensor4D;
  }
}

// ---- training step ----------------------------------------------------------------------------------------

/**
 * The CIFAR ResNet of dgkd/models/resnet.ts in tf ops, NHWC: 3×3 conv 16 → BN → ReLU, three stages of 16/32/64
 * channels with (depth − 2)/6 basic blocks (conv-BN-ReLU, conv-BN, + shortcut, ReLU), a 1×1 stride-2 conv + BN
 * shortcut where the shape changes, global average pool, dense. Same initialisation scheme (He normal,
 * fan-out) so the numbers it computes are of the same size.
 */
class TfResNet {
  readonly trainable: tf.Variable[] = [];
  private seed = 0;
  private stem: { w: tf.Variable; bn: TfBatchNorm };
  private blocks: { stride: number; w1: tf.Variable; bn1: TfBatchNorm; w2: tf.Variable; bn2: TfBatchNorm; down?: { w: tf.Variable; bn: TfBatchNorm } }[] = [];
  private fcW: tf.Variable;
  private fcB: tf.Variable;
  private norms: TfBatchNorm[] = [];

  constructor(depth: number, numClasses: number) {
    const n = (depth - 2) / 6;
    this.stem = { w: this.conv(3, 3, 16), bn: this.bn(16) };
    let cin = 16;
    for (const [cout, stride0] of [[16, 1], [32, 2], [64, 2]]) {
      for (let i = 0; i < n; i++) {
        const stride = i === 0 ? stride0 : 1;
        const down = stride !== 1 || cin !== cout ? { w: this.conv(1, cin, cout), bn: this.bn(cout) } : undefined;
        this.blocks.push({ stride, w1: this.conv(3, cin, cout), bn1: this.bn(cout), w2: this.conv(3, cout, cout), bn2: this.bn(cout), down });
        cin = cout;
      }
    }
    const bound = 1 / Math.sqrt(64);
    this.fcW = this.param(tf.randomUniform([64, numClasses], -bound, bound, 'float32', this.seed++));
    this.fcB = this.param(tf.randomUniform([numClasses], -bound, bound, 'float32', this.seed++));
  }

  private param(t: tf.Tensor): tf.Variable {
    const v = tf.variable(t);
    t.dispose();
    this.trainable.push(v);
    return v;
  }
  private conv(k: number, cin: number, cout: number): tf.Variable {
    return this.param(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cout)), 'float32', this.seed++));
  }
  private bn(c: number): TfBatchNorm {
    const b = new TfBatchNorm(c);
    this.trainable.push(b.gamma, b.beta);
    this.norms.push(b);
    return b;
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    const conv = (h: tf.Tensor4D, w: tf.Variable, stride: number) => tf.conv2d(h, w as tf.Tensor4D, stride, w.shape[0] === 3 ? 1 : 0);
    let h = tf.relu(this.stem.bn.forward(conv(x, this.stem.w, 1)));
    for (const b of this.blocks) {
      const o = tf.relu(b.bn1.forward(conv(h, b.w1, b.stride)));
      const o2 = b.bn2.forward(conv(o, b.w2, 1));
      const shortcut = b.down ? b.down.bn.forward(conv(h, b.down.w, b.stride)) : h;
      h = tf.relu(tf.add(o2, shortcut)) as tf.Tensor4D;
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, this.fcW as tf.Tensor2D), this.fcB);
  }

  dispose(): void {
    tf.dispose(this.trainable);
    for (const b of this.norms) tf.dispose([b.runningMean, b.runningVar]);
  }
}

/**
 * One tfjs training step of ResNet-`depth` at `batch` on a fixed random batch, uploaded every step as ours is:
 * forward, softmax cross-entropy, backward and tf.train.momentum(0.01, 0.9) through optimizer.minimize (which
 * takes the gradients with tf.variableGrads). Nothing is read back; the cost is disposed unread.
 */
export function tfjsTrainStep(depth: number, batch: number, numClasses = 10): { step: () => void; dispose: () => void } {
  const model = new TfResNet(depth, numClasses);
  const opt = tf.train.momentum(0.01, 0.9);
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const xData = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => 2 * rand() - 1);
  const yData = Int32Array.from({ length: batch }, () => Math.floor(rand() * numClasses));
  return {
    step() {
      const x = tf.tensor4d(xData, [batch, 32, 32, 3]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(yData, 'int32'), numClasses));
      const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as tf.Scalar, true, model.trainable);
      tf.dispose([x, y, cost!]);
    },
    dispose() {
      model.dispose();
      opt.dispose();
    },
  };
}
