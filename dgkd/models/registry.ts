// Architectures by name: `plain2`…`plain10`, `resnet8`…`resnet110`, `wrn-D-K` (e.g. wrn-16-2), `vgg8`…`vgg19`,
// and RepDistiller's CIFAR students `mobilenetv2` / `mobilenetv2-W` (width W; `mobilenetv2-0.5` is its
// mobile_half), `shufflenetv1`, `shufflenetv2`.

import { MobileNetV2 } from './mobilenetv2.ts';
import { PLAIN_DEPTHS, PlainCNN } from './plain_cnn.ts';
import { RESNET_DEPTHS, ResNet } from './resnet.ts';
import { ShuffleNetV1 } from './shufflenetv1.ts';
import { ShuffleNetV2 } from './shufflenetv2.ts';
import { VGG, VGG_CFGS } from './vgg.ts';
import { WideResNet } from './wrn.ts';
import type { Classifier, ModelConfig } from './model.ts';
import { BadInput } from '../errors.ts';

export class UnknownArchitectureError extends BadInput {
  override name = 'UnknownArchitectureError';
}

/** The architectures `models` lists (WRNs can take any valid depth and width; these are the usual ones). */
export const ARCHITECTURES: string[] = [
  ...PLAIN_DEPTHS.map((d) => `plain${d}`),
  ...RESNET_DEPTHS.map((d) => `resnet${d}`),
  'wrn-16-1', 'wrn-16-2', 'wrn-16-4', 'wrn-28-2', 'wrn-40-1', 'wrn-40-2', 'wrn-28-10',
  ...Object.keys(VGG_CFGS).map((d) => `vgg${d}`),
  'mobilenetv2', 'mobilenetv2-0.5', 'shufflenetv1', 'shufflenetv2',
];

/**
 * Accepts a few spellings: resnet8 / resnet-8, plain10 / cnn10 / plain-cnn-10, wrn-16-2 / wrn16_2, vgg13 / vgg13_bn,
 * and RepDistiller's names: mobile_half (mobilenetv2-0.5), mobilenetv2_1.0 (mobilenetv2), ShuffleV1, ShuffleV2.
 */
export function canonicalName(name: string): string {
  const n = name.trim().toLowerCase().replace(/_bn$/, '');
  let m: RegExpMatchArray | null;
  if (n === 'mobile_half' || n === 'mobile-half') return 'mobilenetv2-0.5';
  if ((m = n.match(/^mobilenet[-_]?v2(?:[-_](\d*\.?\d+))?$/))) return !m[1] || Number(m[1]) === 1 ? 'mobilenetv2' : `mobilenetv2-${Number(m[1])}`;
  if ((m = n.match(/^shuffle(?:net)?[-_]?v([12])$/))) return `shufflenetv${m[1]}`;
  if ((m = n.match(/^resnet[-_]?(\d+)$/))) return `resnet${m[1]}`;
  if ((m = n.match(/^(?:plain|cnn|plain[-_]?cnn)[-_]?(\d+)$/))) return `plain${m[1]}`;
  if ((m = n.match(/^wrn[-_]?(\d+)[-_](\d+)$/))) return `wrn-${m[1]}-${m[2]}`;
  if ((m = n.match(/^vgg[-_]?(\d+)$/))) return `vgg${m[1]}`;
  return n;
}

/** Throws UnknownArchitectureError (listing the known ones) unless `name` is an architecture; builds nothing. */
export function checkArchitecture(name: string): string {
  const canon = canonicalName(name);
  if (canon === 'shufflenetv1' || canon === 'shufflenetv2' || mobileWidth(canon) !== null) return canon;
  const m = canon.match(/^(plain|resnet|vgg)(\d+)$/) ?? canon.match(/^(wrn)-(\d+)-(\d+)$/);
  const d = m ? Number(m[2]) : NaN;
  const ok =
    !!m &&
    ((m[1] === 'plain' && PLAIN_DEPTHS.includes(d)) ||
      (m[1] === 'resnet' && (d - 2) % 6 === 0 && d >= 8) ||
      (m[1] === 'vgg' && !!VGG_CFGS[d]) ||
      (m[1] === 'wrn' && (d - 4) % 6 === 0 && d >= 10 && Number(m[3]) >= 1));
  if (!ok) throw unknownArchitecture(name);
  return canon;
}

/** The width of a canonical `mobilenetv2` / `mobilenetv2-W` name whose every stage keeps a channel (W ≥ 1/16), else null. */
function mobileWidth(canon: string): number | null {
  const m = canon.match(/^mobilenetv2(?:-(\d*\.?\d+))?$/);
  const w = m ? Number(m[1] ?? 1) : NaN;
  return Number.isFinite(w) && w * 16 >= 1 ? w : null;
}

function unknownArchitecture(name: string): UnknownArchitectureError {
  return new UnknownArchitectureError(
    `unknown architecture '${name}'. Known: ${ARCHITECTURES.join(', ')} (WRN: any wrn-D-K with D = 6n + 4; MobileNetV2: mobilenetv2-W for a width W)`,
  );
}

export function createModel(name: string, cfg: ModelConfig): Classifier {
  const canon = canonicalName(name);
  const unknown = () => unknownArchitecture(name);
  let m: RegExpMatchArray | null;
  if ((m = canon.match(/^plain(\d+)$/))) {
    if (!PLAIN_DEPTHS.includes(Number(m[1]))) throw unknown();
    return new PlainCNN(Number(m[1]), cfg);
  }
  if ((m = canon.match(/^resnet(\d+)$/))) {
    const d = Number(m[1]);
    if ((d - 2) % 6 !== 0 || d < 8) throw unknown();
    return new ResNet(d, cfg);
  }
  if ((m = canon.match(/^wrn-(\d+)-(\d+)$/))) {
    const d = Number(m[1]);
    if ((d - 4) % 6 !== 0 || d < 10 || Number(m[2]) < 1) throw unknown();
    return new WideResNet(d, Number(m[2]), cfg);
  }
  if ((m = canon.match(/^vgg(\d+)$/))) {
    if (!VGG_CFGS[Number(m[1])]) throw unknown();
    return new VGG(Number(m[1]), cfg);
  }
  if (canon === 'shufflenetv1') return new ShuffleNetV1(cfg);
  if (canon === 'shufflenetv2') return new ShuffleNetV2(cfg);
  const width = mobileWidth(canon);
  if (width !== null) return new MobileNetV2(width, cfg);
  throw unknown();
}
