// ShuffleNet V2 (1×) for CIFAR as RepDistiller (HobbitLong/RepDistiller, models/ShuffleNetv2.py) defines it
// (`ShuffleV2`, net_size 1): a 1×1 conv stem of 24 channels → BN → ReLU at full resolution, three stages of
// 116, 232 and 464 channels, each a down-sampling block and 3, 7 and 3 basic blocks, a 1×1 conv to 1024 → BN →
// ReLU, global average pool, FC.
// - Down-sampling block: left, 3×3 depthwise stride-2 conv → BN, 1×1 conv to half the output → BN → ReLU; right,
//   1×1 conv to half → BN → ReLU, 3×3 depthwise stride-2 conv → BN, 1×1 conv → BN → ReLU; the two concatenated
//   and channel-shuffled in 2 groups.
// - Basic block: the channels split in halves; the second goes through 1×1 conv → BN → ReLU, 3×3 depthwise
//   conv → BN, 1×1 conv → BN → ReLU; concatenated after the untouched first half, shuffled in 2 groups.
// State-dict names are RepDistiller's (`layer1.0.conv4.weight` in a down-sampling block, `layer1.1.conv2.weight`
// in the first basic block, `conv2`, `bn2`, `linear`).
//
// Feature maps for attention transfer: the three stage outputs (16×16, 8×8, 4×4 on CIFAR).

import { Rng, Tensor, channelShuffle, concatChannels, globalAvgPool, sliceChannels } from '../../engine/index.ts';
import { BatchNorm2d, Container, Conv2d, Linear, Module } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

const OUT_CHANNELS = [116, 232, 464];
const BLOCKS = [3, 7, 3];
const LAST = 1024;
const STEM = 24;

const depthwise = (c: number, stride: number, rng: Rng) => new Conv2d(c, c, 3, rng, { stride, pad: 1, groups: c });
const pointwise = (cin: number, cout: number, rng: Rng) => new Conv2d(cin, cout, 1, rng, { pad: 0 });

class DownBlock extends Module {
  private convs: Conv2d[];
  private bns: BatchNorm2d[];

  constructor(cin: number, cout: number, rng: Rng) {
    super();
    const mid = Math.trunc(cout / 2);
    const convs = [depthwise(cin, 2, rng), pointwise(cin, mid, rng), pointwise(cin, mid, rng), depthwise(mid, 2, rng), pointwise(mid, mid, rng)];
    const widths = [cin, mid, mid, mid, mid];
    // PyTorch's registration order: conv1, bn1, conv2, bn2, … conv5, bn5.
    this.convs = [];
    this.bns = [];
    convs.forEach((c, i) => {
      this.convs.push(this.child(`conv${i + 1}`, c));
      this.bns.push(this.child(`bn${i + 1}`, new BatchNorm2d(widths[i])));
    });
  }

  forward(x: Tensor): Tensor {
    const [c1, c2, c3, c4, c5] = this.convs;
    const [b1, b2, b3, b4, b5] = this.bns;
    const left = b2.forward(c2.forward(b1.forward(c1.forward(x))), true);
    const right = b5.forward(c5.forward(b4.forward(c4.forward(b3.forward(c3.forward(x), true)))), true);
    return channelShuffle(concatChannels([left, right]), 2);
  }
}

class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  private readonly split: number;

  constructor(readonly channels: number, rng: Rng) {
    super();
    this.split = Math.trunc(channels * 0.5);
    const c = this.split;
    this.conv1 = this.child('conv1', pointwise(c, c, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(c));
    this.conv2 = this.child('conv2', depthwise(c, 1, rng));
    this.bn2 = this.child('bn2', new BatchNorm2d(c));
    this.conv3 = this.child('conv3', pointwise(c, c, rng));
    this.bn3 = this.child('bn3', new BatchNorm2d(c));
  }

  forward(x: Tensor): Tensor {
    const kept = sliceChannels(x, 0, this.split);
    let h = this.bn1.forward(this.conv1.forward(sliceChannels(x, this.split, this.channels - this.split)), true);
    h = this.bn3.forward(this.conv3.forward(this.bn2.forward(this.conv2.forward(h))), true);
    return channelShuffle(concatChannels([kept, h]), 2);
  }
}

export class ShuffleNetV2 extends Classifier {
  readonly arch = 'shufflenetv2';
  readonly numClasses: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  stages: Module[][] = [];
  conv2: Conv2d;
  bn2: BatchNorm2d;
  linear: Linear;

  constructor(cfg: ModelConfig) {
    super();
    this.numClasses = cfg.numClasses;
    const rng = new Rng(cfg.seed ?? 0);
    this.conv1 = this.child('conv1', pointwise(cfg.inputChannels ?? 3, STEM, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(STEM));
    let cin = STEM;
    OUT_CHANNELS.forEach((out, i) => {
      const layer = this.child(`layer${i + 1}`, new Container());
      const blocks: Module[] = [layer.add('0', new DownBlock(cin, out, rng))];
      for (let b = 0; b < BLOCKS[i]; b++) blocks.push(layer.add(String(b + 1), new BasicBlock(out, rng)));
      this.stages.push(blocks);
      cin = out;
    });
    this.conv2 = this.child('conv2', pointwise(cin, LAST, rng));
    this.bn2 = this.child('bn2', new BatchNorm2d(LAST));
    this.linear = this.child('linear', new Linear(LAST, cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = this.bn1.forward(this.conv1.forward(x), true);
    const features: Tensor[] = [];
    for (const stage of this.stages) {
      for (const b of stage) h = (b as DownBlock | BasicBlock).forward(h);
      features.push(h);
    }
    // RepDistiller pools with avg_pool2d(out, 4): the whole 4×4 map on CIFAR.
    return { logits: this.linear.forward(globalAvgPool(this.bn2.forward(this.conv2.forward(h), true))), features };
  }
}
