// The one in-memory format every loader produces and every consumer (splitting, batching, training) reads:
// uint8 pixels in NHWC order (channel last) plus int32 labels. Keeping pixels as uint8 costs a quarter of the
// memory of floats (50k CIFAR images = 150 MB as uint8), and normalisation happens per batch in loader.ts.

import { BadInput } from '../errors.ts';
export interface Dataset {
  name: string; // e.g. 'cifar10/train'
  numClasses: number;
  height: number;
  width: number;
  channels: number; // 32,32,3 for CIFAR/SVHN/synthetic; 64,64,3 for tiny-imagenet
  size: number;
  images: Uint8Array; // size × H × W × C, NHWC, uint8 pixels
  labels: Int32Array; // size, each in [0, numClasses)
  classNames?: string[];
}

/** An error about data files or their contents; the message names the file and what was expected. */
export class DataError extends BadInput {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Bytes per image. */
export function imageSize(ds: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return ds.height * ds.width * ds.channels;
}

/** Throws DataError when a dataset's fields are inconsistent (sizes, label range); `what` names its source. */
export function checkDataset(ds: Dataset, what: string = ds.name): void {
  const per = imageSize(ds);
  if (ds.images.length !== ds.size * per)
    throw new DataError(`${what}: images hold ${ds.images.length} bytes, expected size ${ds.size} × ${per}`);
  if (ds.labels.length !== ds.size)
    throw new DataError(`${what}: ${ds.labels.length} labels, expected ${ds.size}`);
  for (let i = 0; i < ds.size; i++) {
    const y = ds.labels[i];
    if (!(y >= 0 && y < ds.numClasses))
      throw new DataError(`${what}: sample ${i} has label ${y}, expected 0..${ds.numClasses - 1}`);
  }
  if (ds.classNames && ds.classNames.length !== ds.numClasses)
    throw new DataError(`${what}: ${ds.classNames.length} class names, expected ${ds.numClasses}`);
}

/** Per-channel mean and standard deviation of the pixels, in [0,1] units (for choosing normalisation). */
export function channelStats(ds: Dataset): { mean: number[]; std: number[] } {
  const C = ds.channels;
  const sum = new Float64Array(C);
  const sq = new Float64Array(C);
  const img = ds.images;
  for (let i = 0; i < img.length; i += C) {
    for (let c = 0; c < C; c++) {
      const v = img[i + c];
      sum[c] += v;
      sq[c] += v * v;
    }
  }
  const n = img.length / C || 1;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    const m = sum[c] / n;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, sq[c] / n - m * m)) / 255);
  }
  return { mean, std };
}
