// VGG with batch norm for CIFAR (DGKD's table 8: VGG-13 → VGG-8): 3×3 conv → BN → ReLU stacks separated by 2×2
// max-pools, then one FC layer on the 512 pooled features. VGG-8 is the CRD repository's one-conv-per-stage
// variant. Names follow a PyTorch nn.Sequential (`features.0.weight` conv, `features.1.*` BN; ReLU and pool
// layers take indices too) and `classifier.*`.

import { Rng, Tensor, flatten, maxPool2d } from '../../engine/index.ts';
import { BatchNorm2d, Container, Conv2d, Linear } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

export const VGG_CFGS: Record<number, (number | 'M')[]> = {
  8: [64, 'M', 128, 'M', 256, 'M', 512, 'M', 512, 'M'],
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

type Layer = { conv: Conv2d; bn: BatchNorm2d } | 'M';

export class VGG extends Classifier {
  readonly arch: string;
  readonly numClasses: number;
  private layers: Layer[] = [];
  classifier: Linear;

  constructor(readonly depth: number, cfg: ModelConfig) {
    super();
    const spec = VGG_CFGS[depth];
    if (!spec) throw new RangeError(`VGG depth ${depth} is not defined (known: ${Object.keys(VGG_CFGS).join(', ')})`);
    this.arch = `vgg${depth}`;
    this.numClasses = cfg.numClasses;
    const rng = new Rng(cfg.seed ?? 0);
    const features = this.child('features', new Container());
    let index = 0;
    let channels = cfg.inputChannels ?? 3;
    let size = cfg.inputSize ?? 32;
    for (const v of spec) {
      if (v === 'M') {
        this.layers.push('M');
        size = Math.floor(size / 2);
        index += 1;
      } else {
        const conv = features.add(String(index), new Conv2d(channels, v, 3, rng, { pad: 1, bias: true }));
        const bn = features.add(String(index + 1), new BatchNorm2d(v));
        this.layers.push({ conv, bn });
        channels = v;
        index += 3; // conv, BN, ReLU
      }
    }
    this.classifier = this.child('classifier', new Linear(channels * size * size, cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = x;
    const features: Tensor[] = [];
    for (const l of this.layers) {
      if (l === 'M') {
        h = maxPool2d(h, 2);
        features.push(h);
      } else {
        h = l.bn.forward(l.conv.forward(h), true);
      }
    }
    return { logits: this.classifier.forward(flatten(h)), features };
  }
}
