// The plain CNNs of TAKD/DGKD: 3×3 conv (pad 1, with bias) → BN → ReLU blocks, 2×2 max-pools, then FC layers.
// Depths 2, 4, 6, 8, 10 follow the TAKD paper's tables exactly (parameter counts match); the paper's CIFAR-100
// variants double the conv widths and change the FC layers, and are used whenever there are more than 10
// classes. DGKD also uses depths 3, 5, 7, 9, whose official definitions are buggy: here each odd depth is the
// even depth below it plus one more conv stage of the next width, followed by a pool — so the family's size
// grows monotonically with depth (see PLAIN_SPECS for the exact layers).

import { Rng, Tensor, flatten, maxPool2d, relu as reluT } from '../../engine/index.ts';
import { BatchNorm2d, Conv2d, Linear } from '../../engine/nn/index.ts';
import { Classifier, type ModelConfig, type ModelOutput } from './model.ts';

/** Layer specs: Cn = conv with n channels, P = max-pool, Fn = hidden FC layer; the classifier is implied. */
export const PLAIN_SPECS: Record<'c10' | 'c100', Record<number, string>> = {
  c10: {
    2: 'C16 P C16 P',
    3: 'C16 C16 P C32 P',
    4: 'C16 C16 P C32 C32 P',
    5: 'C16 C16 P C32 C32 P C64 P',
    6: 'C16 C16 P C32 C32 P C64 C64 P',
    7: 'C16 C16 P C32 C32 P C64 C64 P C128 P',
    8: 'C16 C16 P C32 C32 P C64 C64 P C128 C128 P F64',
    9: 'C32 C32 P C64 C64 P C128 C128 P C256 P F128',
    10: 'C32 C32 P C64 C64 P C128 C128 P C256 C256 C256 C256 P F128',
  },
  c100: {
    2: 'C32 P C32 P',
    3: 'C32 C32 P C64 P',
    4: 'C32 C32 P C64 C64 P',
    5: 'C32 C32 P C64 C64 P C128',
    6: 'C32 C32 P C64 C64 P C128 C128',
    7: 'C32 C32 P C64 C64 P C128 C128 P C256',
    8: 'C32 C32 P C64 C64 P C128 C128 P C256 C256 P F64',
    9: 'C32 C32 P C64 C64 P C128 C128 P C256 P F256',
    10: 'C32 C32 P C64 C64 P C128 C128 P C256 C256 C256 C256 P F512',
  },
};

export const PLAIN_DEPTHS = [2, 3, 4, 5, 6, 7, 8, 9, 10];

type Layer = { kind: 'conv'; conv: Conv2d; bn: BatchNorm2d } | { kind: 'pool' };

export class PlainCNN extends Classifier {
  readonly arch: string;
  readonly numClasses: number;
  private layers: Layer[] = [];
  private fcs: Linear[] = [];

  constructor(readonly depth: number, cfg: ModelConfig) {
    super();
    const table = cfg.numClasses > 10 ? PLAIN_SPECS.c100 : PLAIN_SPECS.c10;
    const spec = table[depth];
    if (!spec) throw new RangeError(`plain CNN depth ${depth} is not defined (known: ${PLAIN_DEPTHS.join(', ')})`);
    this.arch = `plain${depth}`;
    this.numClasses = cfg.numClasses;
    const rng = new Rng(cfg.seed ?? 0);
    let channels = cfg.inputChannels ?? 3;
    let size = cfg.inputSize ?? 32;
    let convIndex = 0;
    const hidden: number[] = [];
    for (const tok of spec.split(' ')) {
      if (tok === 'P') {
        this.layers.push({ kind: 'pool' });
        size = Math.floor(size / 2);
      } else if (tok[0] === 'C') {
        const out = Number(tok.slice(1));
        const i = convIndex++;
        const conv = this.child(`conv${i + 1}`, new Conv2d(channels, out, 3, rng, { bias: true, pad: 1 }));
        const bn = this.child(`bn${i + 1}`, new BatchNorm2d(out));
        this.layers.push({ kind: 'conv', conv, bn });
        channels = out;
      } else {
        hidden.push(Number(tok.slice(1)));
      }
    }
    let features = channels * size * size;
    [...hidden, cfg.numClasses].forEach((width, i) => {
      this.fcs.push(this.child(`fc${i + 1}`, new Linear(features, width, rng)));
      features = width;
    });
  }

  forwardWithFeatures(x: Tensor): ModelOutput {
    let h = x;
    const features: Tensor[] = [];
    for (const layer of this.layers) {
      if (layer.kind === 'pool') {
        h = maxPool2d(h, 2);
        features.push(h);
      } else {
        h = layer.bn.forward(layer.conv.forward(h), true);
      }
    }
    h = flatten(h);
    this.fcs.forEach((fc, i) => {
      h = fc.forward(h);
      if (i < this.fcs.length - 1) h = reluT(h);
    });
    return { logits: h, features };
  }
}
