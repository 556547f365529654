// What every architecture provides: logits from NHWC images, plus the feature maps that attention transfer
// (CTKD) matches — the outputs of the resolution stages.

import { Module } from '../../engine/nn/index.ts';
import type { Tensor } from '../../engine/index.ts';

export interface ModelOutput {
  logits: Tensor;
  /** Stage outputs, highest resolution first (three for ResNets and WRNs, one per max-pool for plain CNNs and VGGs). */
  features: Tensor[];
}

export abstract class Classifier extends Module {
  abstract readonly arch: string;
  abstract readonly numClasses: number;

  abstract forwardWithFeatures(x: Tensor): ModelOutput;

  forward(x: Tensor): Tensor {
    return this.forwardWithFeatures(x).logits;
  }
}

export interface ModelConfig {
  numClasses: number;
  /** Input height = width (32 for CIFAR/SVHN, 64 for Tiny-ImageNet). */
  inputSize?: number;
  inputChannels?: number;
  seed?: number;
}
