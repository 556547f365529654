// CIFAR ResNets (He et al. 2016, as used by TAKD/DGKD): 3×3 conv 16 → BN → ReLU, three stages of 16/32/64
// channels with (depth − 2)/6 BasicBlocks each, ReLU after the residual addition, 1×1 stride-2 conv + BN on the
// shortcut where the shape changes, global average pool, FC. Names follow the PyTorch code
// (`layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`, …).

import { Rng, Tensor, addRelu, globalAvgPool } from '../../engine/index.ts';
import { BatchNorm2d, Conv2d, Linear, Module } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

export const RESNET_DEPTHS = [8, 14, 20, 26, 32, 44, 56, 110];

class Downsample extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(cin: number, cout: number, stride: number, rng: Rng) {
    super();
    this.conv = this.child('0', new Conv2d(cin, cout, 1, rng, { stride, pad: 0 }));
    this.bn = this.child('1', new BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x));
  }
}

export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Downsample | null = null;

  constructor(cin: number, cout: number, stride: number, rng: Rng) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(cin, cout, 3, rng, { stride, pad: 1 }));
    this.bn1 = this.child('bn1', new BatchNorm2d(cout));
    this.conv2 = this.child('conv2', new Conv2d(cout, cout, 3, rng, { pad: 1 }));
    this.bn2 = this.child('bn2', new BatchNorm2d(cout));
    if (stride !== 1 || cin !== cout) this.downsample = this.child('downsample', new Downsample(cin, cout, stride, rng));
  }

  forward(x: Tensor): Tensor {
    const h = this.bn1.forward(this.conv1.forward(x), true);
    const out = this.bn2.forward(this.conv2.forward(h));
    return addRelu(out, this.downsample ? this.downsample.forward(x) : x);
  }
}

class Stage extends Module {
  blocks: BasicBlock[] = [];
  constructor(cin: number, cout: number, n: number, stride: number, rng: Rng) {
    super();
    for (let i = 0; i < n; i++) {
      this.blocks.push(this.child(String(i), new BasicBlock(i === 0 ? cin : cout, cout, i === 0 ? stride : 1, rng)));
    }
  }
  forward(x: Tensor): Tensor {
    return this.blocks.reduce((h, b) => b.forward(h), x);
  }
}

export class ResNet extends Classifier {
  readonly arch: string;
  readonly numClasses: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  stages: Stage[];
  fc: Linear;

  constructor(readonly depth: number, cfg: ModelConfig) {
    super();
    if ((depth - 2) % 6 !== 0 || depth < 8) {
      throw new RangeError(`ResNet depth must be 6n + 2 with n ≥ 1 (e.g. ${RESNET_DEPTHS.join(', ')}), got ${depth}`);
    }
    this.arch = `resnet${depth}`;
    this.numClasses = cfg.numClasses;
    const n = (depth - 2) / 6;
    const rng = new Rng(cfg.seed ?? 0);
    this.conv1 = this.child('conv1', new Conv2d(cfg.inputChannels ?? 3, 16, 3, rng, { pad: 1 }));
    this.bn1 = this.child('bn1', new BatchNorm2d(16));
    this.stages = [
      this.child('layer1', new Stage(16, 16, n, 1, rng)),
      this.child('layer2', new Stage(16, 32, n, 2, rng)),
      this.child('layer3', new Stage(32, 64, n, 2, rng)),
    ];
    this.fc = this.child('fc', new Linear(64, cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = this.bn1.forward(this.conv1.forward(x), true);
    const features: Tensor[] = [];
    for (const s of this.stages) {
      h = s.forward(h);
      features.push(h);
    }
    return { logits: this.fc.forward(globalAvgPool(h)), features };
  }
}
