// ShuffleNet V1 for CIFAR as RepDistiller (HobbitLong/RepDistiller, models/ShuffleNetv1.py) defines it
// (`ShuffleV1`): a 1×1 conv stem of 24 channels → BN → ReLU at full resolution, three stages of 4, 8 and 4
// bottlenecks with 240, 480 and 960 output channels in 3 groups, global average pool, FC. A bottleneck: 1×1
// grouped conv to a quarter of its output channels → BN → ReLU → channel shuffle, 3×3 depthwise conv → BN → ReLU,
// 1×1 grouped conv → BN, then ReLU of the sum with the input, or — for a stage's first block, stride 2 — of the
// concatenation with the input average-pooled 3×3 / 2 (pad 1, the padding counted, as nn.AvgPool2d does), so
// that block's convolutions output its channels less the input's. The stem-facing block (24 input channels)
// uses one group for its first conv. State-dict names are RepDistiller's (`layer2.0.conv1.weight`, `linear.*`).
//
// Feature maps for attention transfer: the three stage outputs (16×16, 8×8, 4×4 on CIFAR).

import { Rng, Tensor, addRelu, avgPool2dPadded, channelShuffle, concatChannels, globalAvgPool } from '../../engine/index.ts';
import { BatchNorm2d, Container, Conv2d, Linear, Module } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

const OUT_PLANES = [240, 480, 960];
const BLOCKS = [4, 8, 4];
const GROUPS = 3;
const STEM = 24;

class Bottleneck extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  private shuffleGroups: number;

  constructor(cin: number, cout: number, readonly stride: number, groups: number, rng: Rng) {
    super();
    const mid = Math.trunc(cout / 4);
    this.shuffleGroups = cin === STEM ? 1 : groups;
    this.conv1 = this.child('conv1', new Conv2d(cin, mid, 1, rng, { pad: 0, groups: this.shuffleGroups }));
    this.bn1 = this.child('bn1', new BatchNorm2d(mid));
    this.conv2 = this.child('conv2', new Conv2d(mid, mid, 3, rng, { stride, pad: 1, groups: mid }));
    this.bn2 = this.child('bn2', new BatchNorm2d(mid));
    this.conv3 = this.child('conv3', new Conv2d(mid, cout, 1, rng, { pad: 0, groups }));
    this.bn3 = this.child('bn3', new BatchNorm2d(cout));
  }

  forward(x: Tensor): Tensor {
    let h = channelShuffle(this.bn1.forward(this.conv1.forward(x), true), this.shuffleGroups);
    h = this.bn2.forward(this.conv2.forward(h), true);
    if (this.stride === 1) return addRelu(this.bn3.forward(this.conv3.forward(h)), x);
    // relu(concat(h, pool(x))) = concat(relu(h), pool(x)): x is a ReLU output, so its averages are ≥ 0.
    return concatChannels([this.bn3.forward(this.conv3.forward(h), true), avgPool2dPadded(x, 3, 2, 1)]);
  }
}

export class ShuffleNetV1 extends Classifier {
  readonly arch = 'shufflenetv1';
  readonly numClasses: number;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  stages: Bottleneck[][] = [];
  linear: Linear;

  constructor(cfg: ModelConfig) {
    super();
    this.numClasses = cfg.numClasses;
    const rng = new Rng(cfg.seed ?? 0);
    this.conv1 = this.child('conv1', new Conv2d(cfg.inputChannels ?? 3, STEM, 1, rng, { pad: 0 }));
    this.bn1 = this.child('bn1', new BatchNorm2d(STEM));
    let cin = STEM;
    OUT_PLANES.forEach((planes, i) => {
      const layer = this.child(`layer${i + 1}`, new Container());
      const blocks: Bottleneck[] = [];
      for (let b = 0; b < BLOCKS[i]; b++) {
        // The strided first block concatenates its input: its convolutions make the rest of the channels.
        blocks.push(layer.add(String(b), new Bottleneck(cin, b === 0 ? planes - cin : planes, b === 0 ? 2 : 1, GROUPS, rng)));
        cin = planes;
      }
      this.stages.push(blocks);
    });
    this.linear = this.child('linear', new Linear(cin, cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = this.bn1.forward(this.conv1.forward(x), true);
    const features: Tensor[] = [];
    for (const stage of this.stages) {
      for (const b of stage) h = b.forward(h);
      features.push(h);
    }
    // RepDistiller pools with avg_pool2d(out, 4): the whole 4×4 map on CIFAR.
    return { logits: this.linear.forward(globalAvgPool(h)), features };
  }
}
