// Wide ResNets WRN-d-k (Zagoruyko & Komodakis 2016; used by CTKD and DGKD's table 8): pre-activation blocks
// (BN → ReLU → conv), a 16-channel stem, three groups of n = (d − 4)/6 blocks with widths 16k, 32k, 64k, a 1×1
// conv shortcut where the shape changes, then BN → ReLU → global average pool → FC. Names follow the
// attention-transfer PyTorch code (`block1.layer.0.conv1.weight`, `…convShortcut.weight`).

import { Rng, Tensor, add, globalAvgPool } from '../../engine/index.ts';
import { BatchNorm2d, Container, Conv2d, Linear, Module } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

class WideBlock extends Module {
  bn1: BatchNorm2d;
  conv1: Conv2d;
  bn2: BatchNorm2d;
  conv2: Conv2d;
  convShortcut: Conv2d | null = null;

  constructor(cin: number, cout: number, stride: number, rng: Rng) {
    super();
    this.bn1 = this.child('bn1', new BatchNorm2d(cin));
    this.conv1 = this.child('conv1', new Conv2d(cin, cout, 3, rng, { stride, pad: 1 }));
    this.bn2 = this.child('bn2', new BatchNorm2d(cout));
    this.conv2 = this.child('conv2', new Conv2d(cout, cout, 3, rng, { pad: 1 }));
    if (cin !== cout || stride !== 1) {
      this.convShortcut = this.child('convShortcut', new Conv2d(cin, cout, 1, rng, { stride, pad: 0 }));
    }
  }

  forward(x: Tensor): Tensor {
    const a = this.bn1.forward(x, true);
    const h = this.conv2.forward(this.bn2.forward(this.conv1.forward(a), true));
    // As in the reference code: the projection shortcut sees the pre-activated input.
    return add(h, this.convShortcut ? this.convShortcut.forward(a) : x);
  }
}

class Group extends Module {
  blocks: WideBlock[] = [];
  constructor(cin: number, cout: number, n: number, stride: number, rng: Rng) {
    super();
    const layer = this.child('layer', new Container());
    for (let i = 0; i < n; i++) {
      this.blocks.push(layer.add(String(i), new WideBlock(i === 0 ? cin : cout, cout, i === 0 ? stride : 1, rng)));
    }
  }
  forward(x: Tensor): Tensor {
    return this.blocks.reduce((h, b) => b.forward(h), x);
  }
}

export class WideResNet extends Classifier {
  readonly arch: string;
  readonly numClasses: number;
  conv1: Conv2d;
  groups: Group[];
  bn1: BatchNorm2d;
  fc: Linear;

  constructor(readonly depth: number, readonly widen: number, cfg: ModelConfig) {
    super();
    if ((depth - 4) % 6 !== 0 || depth < 10 || !(widen >= 1)) {
      throw new RangeError(`WRN depth must be 6n + 4 with n ≥ 1 and width ≥ 1 (e.g. wrn-16-2, wrn-40-2), got wrn-${depth}-${widen}`);
    }
    this.arch = `wrn-${depth}-${widen}`;
    this.numClasses = cfg.numClasses;
    const n = (depth - 4) / 6;
    const w = [16 * widen, 32 * widen, 64 * widen];
    const rng = new Rng(cfg.seed ?? 0);
    this.conv1 = this.child('conv1', new Conv2d(cfg.inputChannels ?? 3, 16, 3, rng, { pad: 1 }));
    this.groups = [
      this.child('block1', new Group(16, w[0], n, 1, rng)),
      this.child('block2', new Group(w[0], w[1], n, 2, rng)),
      this.child('block3', new Group(w[1], w[2], n, 2, rng)),
    ];
    this.bn1 = this.child('bn1', new BatchNorm2d(w[2]));
    this.fc = this.child('fc', new Linear(w[2], cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = this.conv1.forward(x);
    const features: Tensor[] = [];
    for (const g of this.groups) {
      h = g.forward(h);
      features.push(h);
    }
    return { logits: this.fc.forward(globalAvgPool(this.bn1.forward(h, true))), features };
  }
}
