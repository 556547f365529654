// MobileNetV2 for CIFAR as RepDistiller (HobbitLong/RepDistiller, models/mobilenetv2.py, from "Knowledge
// Distillation via Route Constrained Optimization") defines it, the student of the CRD benchmark's
// heterogeneous pairs: a 3×3 stride-2 conv stem of 32·w channels, seven stages of inverted residual blocks
// (1×1 expansion by T → BN → ReLU, 3×3 depthwise conv → BN → ReLU, 1×1 projection → BN, plus the input where
// the block keeps the stride and width), a 1×1 conv to 1280 channels → BN → ReLU, global average pool, FC.
// RepDistiller's variant uses ReLU (not ReLU6) and strides 1, 1, 2, 2, 1, 2, 1 after the stride-2 stem, so a
// 32×32 input ends at 2×2. Widths scale by w (truncated, as Python's int()); the last conv stays 1280 for
// w ≤ 1. Names: `mobilenetv2` (T = 6, w = 1) and `mobilenetv2-0.5` (RepDistiller's `mobile_half`); any
// `mobilenetv2-W` builds. State-dict names are RepDistiller's (`conv1.0.weight`, `blocks.2.0.conv.3.weight`,
// `conv2.1.running_var`, `classifier.0.weight`).
//
// Feature maps for attention transfer: the outputs of stages 2, 3, 5 and 7 (16×16, 8×8, 4×4, 2×2 on CIFAR),
// RepDistiller's f1–f4.

import { Rng, Tensor, add, globalAvgPool } from '../../engine/index.ts';
import { BatchNorm2d, Container, Conv2d, Linear, Module } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

/** t (expansion), c (output channels at w = 1), n (blocks), s (first block's stride) per stage. */
const STAGES: [number | 'T', number, number, number][] = [
  [1, 16, 1, 1],
  ['T', 24, 2, 1],
  ['T', 32, 3, 2],
  ['T', 64, 4, 2],
  ['T', 96, 3, 1],
  ['T', 160, 3, 2],
  ['T', 320, 1, 1],
];
/** The stages whose outputs are the feature maps (after stages 2, 3, 5, 7). */
const FEATURE_STAGES = [1, 2, 4, 6];

/** conv → BN → ReLU, named as an nn.Sequential ('0' the conv, '1' the BN). */
class ConvBnRelu extends Module {
  conv: Conv2d;
  bn: BatchNorm2d;
  constructor(cin: number, cout: number, k: number, stride: number, rng: Rng) {
    super();
    this.conv = this.child('0', new Conv2d(cin, cout, k, rng, { stride, pad: (k - 1) / 2 }));
    this.bn = this.child('1', new BatchNorm2d(cout));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x), true);
  }
}

/** RepDistiller's InvertedResidual: its layers in one nn.Sequential `conv` (0 pw, 1 BN, 3 dw, 4 BN, 6 pw-linear, 7 BN). */
class InvertedResidual extends Module {
  private expand: Conv2d;
  private bn1: BatchNorm2d;
  private depthwise: Conv2d;
  private bn2: BatchNorm2d;
  private project: Conv2d;
  private bn3: BatchNorm2d;
  readonly residual: boolean;

  constructor(cin: number, cout: number, stride: number, expansion: number, rng: Rng) {
    super();
    const hidden = cin * expansion;
    this.residual = stride === 1 && cin === cout;
    const seq = this.child('conv', new Container());
    this.expand = seq.add('0', new Conv2d(cin, hidden, 1, rng, { pad: 0 }));
    this.bn1 = seq.add('1', new BatchNorm2d(hidden));
    this.depthwise = seq.add('3', new Conv2d(hidden, hidden, 3, rng, { stride, pad: 1, groups: hidden }));
    this.bn2 = seq.add('4', new BatchNorm2d(hidden));
    this.project = seq.add('6', new Conv2d(hidden, cout, 1, rng, { pad: 0 }));
    this.bn3 = seq.add('7', new BatchNorm2d(cout));
  }

  forward(x: Tensor): Tensor {
    const h = this.bn2.forward(this.depthwise.forward(this.bn1.forward(this.expand.forward(x), true)), true);
    const out = this.bn3.forward(this.project.forward(h));
    return this.residual ? add(x, out) : out;
  }
}

export class MobileNetV2 extends Classifier {
  readonly arch: string;
  readonly numClasses: number;
  conv1: ConvBnRelu;
  stages: InvertedResidual[][] = [];
  conv2: ConvBnRelu;
  fc: Linear;

  /** width: RepDistiller's width_mult; expansion: its T. */
  constructor(readonly width: number, cfg: ModelConfig, readonly expansion = 6) {
    super();
    if (!(width > 0) || !(expansion >= 1)) throw new RangeError(`MobileNetV2: width ${width} and expansion ${expansion} must be positive`);
    this.arch = width === 1 ? 'mobilenetv2' : `mobilenetv2-${width}`;
    this.numClasses = cfg.numClasses;
    const rng = new Rng(cfg.seed ?? 0);
    let channels = Math.trunc(32 * width);
    if (channels < 1) throw new RangeError(`MobileNetV2: width ${width} leaves the stem without channels`);
    this.conv1 = this.child('conv1', new ConvBnRelu(cfg.inputChannels ?? 3, channels, 3, 2, rng));
    const blocks = this.child('blocks', new Container());
    STAGES.forEach(([t, c, n, s], i) => {
      const out = Math.trunc(c * width);
      if (out < 1) throw new RangeError(`MobileNetV2: width ${width} leaves stage ${i + 1} without channels`);
      const stage = blocks.add(String(i), new Container());
      const list: InvertedResidual[] = [];
      for (let b = 0; b < n; b++) {
        list.push(stage.add(String(b), new InvertedResidual(channels, out, b === 0 ? s : 1, t === 'T' ? expansion : t, rng)));
        channels = out;
      }
      this.stages.push(list);
    });
    const last = width > 1 ? Math.trunc(1280 * width) : 1280;
    this.conv2 = this.child('conv2', new ConvBnRelu(channels, last, 1, 1, rng));
    this.fc = this.child('classifier', new Container()).add('0', new Linear(last, cfg.numClasses, rng));
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = this.conv1.forward(x);
    const features: Tensor[] = [];
    this.stages.forEach((stage, i) => {
      for (const b of stage) h = b.forward(h);
      if (FEATURE_STAGES.includes(i)) features.push(h);
    });
    // RepDistiller pools with AvgPool2d(input_size / 16, ceil_mode): the whole map (2×2 on CIFAR).
    return { logits: this.fc.forward(globalAvgPool(this.conv2.forward(h))), features };
  }
}
