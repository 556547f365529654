// Layers with PyTorch's parameter names and initialisations (conv: He-normal fan-out, as in the CIFAR
// ResNet code; linear: PyTorch's default uniform). Inputs are NHWC.

import { add, batchNorm, conv2d, matmul } from '../ops.ts';
import { Rng } from '../random.ts';
import { Tensor, ones, randn, uniform, zeros } from '../tensor.ts';
import { Module } from './module.ts';

export interface Conv2dConfig {
  stride?: number;
  pad?: number;
  bias?: boolean;
  /** Channel groups (PyTorch's `groups`; cin = cout = groups is depthwise): weights [k, k, cin / groups, cout]. */
  groups?: number;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly pad: number;
  readonly groups: number;

  constructor(readonly cin: number, readonly cout: number, readonly k: number, rng: Rng, cfg: Conv2dConfig = {}) {
    super();
    this.stride = cfg.stride ?? 1;
    this.pad = cfg.pad ?? Math.floor(k / 2);
    this.groups = cfg.groups ?? 1;
    if (cin % this.groups !== 0 || cout % this.groups !== 0) {
      throw new RangeError(`Conv2d: ${this.groups} groups do not divide ${cin} input and ${cout} output channels`);
    }
    const perGroup = cin / this.groups;
    // Kaiming normal, fan-out mode: N(0, √(2 / (k·k·cout))) (PyTorch's fan-out, which ignores groups).
    this.weight = this.param('weight', randn([k, k, perGroup, cout], rng, Math.sqrt(2 / (k * k * cout))), 'conv');
    const bound = 1 / Math.sqrt(perGroup * k * k);
    this.bias = cfg.bias ? this.param('bias', uniform([cout], rng, -bound, bound)) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, pad: this.pad, groups: this.groups });
  }
}

export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.weight = this.param('weight', ones([channels]));
    this.bias = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
  }

  /** Batch norm, with the following ReLU fused in when `relu` is set. */
  forward(x: Tensor, relu = false): Tensor {
    return batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      relu,
    });
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniform([outFeatures, inFeatures], rng, -bound, bound));
    this.bias = this.param('bias', uniform([outFeatures], rng, -bound, bound));
  }

  /** x [B, in] → x·Wᵀ + b. */
  forward(x: Tensor): Tensor {
    return add(matmul(x, this.weight, { transB: true }), this.bias);
  }
}
