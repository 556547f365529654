// The comparison cases (what is measured, its unit and target) and our engine's version of each kernel case.
// TensorFlow.js's versions of the same cases are in bench/tfjs.ts; bench/run.ts pairs and times them.
//
// Kernel cases call the raw kernels (no autograd) where a single kernel is the subject (matmul, conv passes);
// batch norm and softmax-KL are timed through the public ops with autograd, since their backward is the
// op's own recorded closure. Every `run` encodes one call and frees what it allocated.

import { Rng, backward, batchNorm, klDivWithTemperature, randn, ones, zeros, zeroGrad, tidy } from '../engine/index.ts';
import type { Tensor } from '../engine/index.ts';
import { matmulKernel } from '../engine/kernels/matmul.ts';
import {
  conv2dForward, conv2dInputGrad, conv2dWeightGrad, convGeometry, depthwiseForward, depthwiseInputGrad, depthwiseWeightGrad,
} from '../engine/kernels/conv2d/index.ts';

export type ConvPass = 'fwd' | 'dgrad' | 'wgrad';

export interface ConvShape {
  N: number; H: number; W: number; Cin: number; Cout: number;
  K: number; stride: number; pad: number;
}

export type CaseSpec =
  | { kind: 'matmul'; n: number }
  | { kind: 'conv'; pass: ConvPass; shape: ConvShape }
  /** A depthwise convolution: Cin = Cout = groups (weights [K, K, 1, C]; tfjs's [K, K, C, 1], the same order). */
  | { kind: 'dwconv'; pass: ConvPass; shape: ConvShape }
  | { kind: 'bn'; backward: boolean; shape: [number, number, number, number] }
  | { kind: 'softmax-kl'; B: number; C: number; T: number }
  | { kind: 'train'; arch: 'resnet8' | 'resnet20'; batch: number };

export type Unit = 'GFLOP/s' | 'img/s';

export interface CaseDef {
  /** Stable name, used by --cases (substring match) and as the key in the results file. */
  name: string;
  spec: CaseSpec;
  unit: Unit;
  /** Work of one call: floating-point operations (GFLOP/s cases) or images (img/s cases). */
  work: number;
  /** The target for ours/tfjs, where it sets one. */
  target?: number;
}

/** ResNet-CIFAR conv shapes at batch 64: the 3→16 stem and one 3×3 conv of each stage. */
const CONV_SHAPES: { label: string; shape: ConvShape }[] = [
  { label: '32x32x3-16', shape: { N: 64, H: 32, W: 32, Cin: 3, Cout: 16, K: 3, stride: 1, pad: 1 } },
  { label: '32x32x16-16', shape: { N: 64, H: 32, W: 32, Cin: 16, Cout: 16, K: 3, stride: 1, pad: 1 } },
  { label: '16x16x32-32', shape: { N: 64, H: 16, W: 16, Cin: 32, Cout: 32, K: 3, stride: 1, pad: 1 } },
  { label: '8x8x64-64', shape: { N: 64, H: 8, W: 8, Cin: 64, Cout: 64, K: 3, stride: 1, pad: 1 } },
];

/**
 * Depthwise 3×3 layers of the CIFAR students at batch 64: ShuffleNetV2's first down-sampling block (24 channels at
 * stride 2), a MobileNetV2 expansion of 96 channels, and ShuffleNetV2's 58-channel branch (not a multiple of 4).
 */
const DW_SHAPES: { label: string; shape: ConvShape }[] = [
  { label: '32x32x24-s2', shape: { N: 64, H: 32, W: 32, Cin: 24, Cout: 24, K: 3, stride: 2, pad: 1 } },
  { label: '16x16x96-s1', shape: { N: 64, H: 16, W: 16, Cin: 96, Cout: 96, K: 3, stride: 1, pad: 1 } },
  { label: '16x16x58-s1', shape: { N: 64, H: 16, W: 16, Cin: 58, Cout: 58, K: 3, stride: 1, pad: 1 } },
];

/** Multiply-adds ×2 of a conv; the input- and weight-gradient are GEMMs of the same size as the forward. */
export function convFlops(s: ConvShape, groups = 1): number {
  const Ho = Math.floor((s.H + 2 * s.pad - s.K) / s.stride) + 1;
  const Wo = Math.floor((s.W + 2 * s.pad - s.K) / s.stride) + 1;
  return (2 * s.N * Ho * Wo * s.Cout * s.K * s.K * s.Cin) / groups;
}

export function allCases(): CaseDef[] {
  const cases: CaseDef[] = [];
  for (const n of [256, 512, 1024]) {
    cases.push({ name: `matmul-${n}`, spec: { kind: 'matmul', n }, unit: 'GFLOP/s', work: 2 * n ** 3, target: n === 1024 ? 5 : undefined });
  }
  for (const pass of ['fwd', 'dgrad', 'wgrad'] as const) {
    for (const { label, shape } of CONV_SHAPES) {
      cases.push({ name: `conv-${pass}-${label}`, spec: { kind: 'conv', pass, shape }, unit: 'GFLOP/s', work: convFlops(shape), target: 10 });
    }
  }
  for (const pass of ['fwd', 'dgrad', 'wgrad'] as const) {
    for (const { label, shape } of DW_SHAPES) {
      cases.push({ name: `dwconv-${pass}-${label}`, spec: { kind: 'dwconv', pass, shape }, unit: 'GFLOP/s', work: convFlops(shape, shape.Cin) });
    }
  }
  const bnShape: [number, number, number, number] = [64, 32, 32, 16];
  cases.push({ name: 'bn-fwd-64x32x32x16', spec: { kind: 'bn', backward: false, shape: bnShape }, unit: 'img/s', work: 64 });
  cases.push({ name: 'bn-fwdbwd-64x32x32x16', spec: { kind: 'bn', backward: true, shape: bnShape }, unit: 'img/s', work: 64 });
  cases.push({ name: 'softmax-kl-128x100', spec: { kind: 'softmax-kl', B: 128, C: 100, T: 4 }, unit: 'img/s', work: 128 });
  cases.push({ name: 'train-resnet8', spec: { kind: 'train', arch: 'resnet8', batch: 64 }, unit: 'img/s', work: 64, target: 20 });
  cases.push({ name: 'train-resnet20', spec: { kind: 'train', arch: 'resnet20', batch: 64 }, unit: 'img/s', work: 64 });
  return cases;
}

/** What a kernel case needs: `run` encodes one call; `dispose` frees the inputs. */
export interface KernelCase {
  run: () => void;
  dispose: () => void;
}

/** Our engine's version of a kernel case (every kind except 'train', which is bench/train_loop.ts). */
export function ourKernelCase(spec: CaseSpec, rng = new Rng(1)): KernelCase {
  const inputs: Tensor[] = [];
  const input = (t: Tensor) => (inputs.push(t), t);
  const dispose = () => inputs.forEach((t) => t.dispose());
  switch (spec.kind) {
    case 'matmul': {
      const a = input(randn([spec.n, spec.n], rng));
      const b = input(randn([spec.n, spec.n], rng));
      return { run: () => matmulKernel(a, b).dispose(), dispose };
    }
    case 'conv': {
      const s = spec.shape;
      const x = input(randn([s.N, s.H, s.W, s.Cin], rng));
      const w = input(randn([s.K, s.K, s.Cin, s.Cout], rng, 0.1));
      const g = convGeometry(x.shape, w.shape, s.stride, s.pad);
      const dy = input(randn([s.N, g.Ho, g.Wo, s.Cout], rng));
      const run =
        spec.pass === 'fwd'
          ? () => conv2dForward(x, w, null, g).dispose()
          : spec.pass === 'dgrad'
            ? () => conv2dInputGrad(dy, w, g).dispose()
            : () => conv2dWeightGrad(x, dy, g).dispose();
      return { run, dispose };
    }
    case 'dwconv': {
      const s = spec.shape;
      const x = input(randn([s.N, s.H, s.W, s.Cin], rng));
      const w = input(randn([s.K, s.K, 1, s.Cin], rng, 0.1));
      const g = convGeometry(x.shape, w.shape, s.stride, s.pad, s.Cin);
      const dy = input(randn([s.N, g.Ho, g.Wo, s.Cin], rng));
      const run =
        spec.pass === 'fwd'
          ? () => depthwiseForward(x, w, null, g).dispose()
          : spec.pass === 'dgrad'
            ? () => depthwiseInputGrad(dy, w, g).dispose()
            : () => depthwiseWeightGrad(x, dy, g).dispose();
      return { run, dispose };
    }
    case 'bn': {
      const C = spec.shape[3];
      const x = input(randn(spec.shape, rng));
      const gamma = input(ones([C]));
      const beta = input(zeros([C]));
      const runningMean = input(zeros([C]));
      const runningVar = input(ones([C]));
      const dy = input(randn(spec.shape, rng));
      // Training mode: batch statistics, running averages updated in place (as in a training step).
      const bn = () => batchNorm(x, gamma, beta, runningMean, runningVar, { training: true });
      if (!spec.backward) return { run: () => bn().dispose(), dispose };
      for (const t of [x, gamma, beta]) t.requiresGrad = true;
      return {
        // Forward with the tape, then backward from a given upstream gradient: dx, dgamma, dbeta.
        run: () => tidy(() => {
          backward(bn(), dy);
          zeroGrad([x, gamma, beta]);
        }),
        dispose,
      };
    }
    case 'softmax-kl': {
      const zs = input(randn([spec.B, spec.C], rng));
      const zt = input(randn([spec.B, spec.C], rng));
      zs.requiresGrad = true;
      return {
        // Loss and its gradient with respect to the student's logits (the teacher's are constants).
        run: () => tidy(() => {
          backward(klDivWithTemperature(zs, zt, spec.T));
          zeroGrad([zs]);
        }),
        dispose,
      };
    }
    case 'train':
      throw new Error('training cases are timed by bench/train_loop.ts');
  }
}
