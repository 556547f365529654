// SVHN "cropped digits" (http://ufldl.stanford.edu/housenumbers/): train_32x32.mat / test_32x32.mat, MATLAB
// Level 5 files holding X (uint8, 32×32×3×N, column-major, so pixel (r, c, ch) of image n lies at
// r + 32·c + 1024·ch + 3072·n) and y (N×1, usually double, digits 1..10 where 10 stands for the digit 0).
// We transpose X to NHWC and map label 10 → 0 so that labels are the digits themselves.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, type Dataset } from './dataset.ts';
import { readDataFile } from './files.ts';
import { readMat, type MatArray } from './matv5.ts';

export type SvhnSplit = 'train' | 'test';

const FILES: Record<SvhnSplit, string> = { train: 'train_32x32.mat', test: 'test_32x32.mat' };
const H = 32, W = 32, C = 3;

export function loadSvhn(dir: string, split: SvhnSplit): Dataset {
  // Accept the folder with the .mat files or a parent holding svhn/ (a common layout).
  const base = !existsSync(join(dir, FILES[split])) && existsSync(join(dir, 'svhn', FILES[split])) ? join(dir, 'svhn') : dir;
  const path = join(base, FILES[split]);
  const buf = readDataFile(path, `expected ${FILES.train} and ${FILES.test} (SVHN cropped digits) in --data-dir`);
  const vars = readMat(buf, path);
  const X = need(vars, 'X', path);
  const y = need(vars, 'y', path);

  if (X.dims.length !== 4 || X.dims[0] !== H || X.dims[1] !== W || X.dims[2] !== C)
    throw new DataError(`${path}: X has dimensions ${X.dims.join('×')}, expected 32×32×3×N`);
  const size = X.dims[3];
  const ylen = y.dims.reduce((a, b) => a * b, 1);
  if (ylen !== size || y.dims.filter((d) => d !== 1).length > 1)
    throw new DataError(`${path}: y has dimensions ${y.dims.join('×')}, expected ${size}×1 (one label per image)`);

  const labels = new Int32Array(size);
  for (let n = 0; n < size; n++) {
    const v = Number(y.real[n]);
    if (!(Number.isInteger(v) && v >= 1 && v <= 10))
      throw new DataError(`${path}: record ${n} has label ${v}, expected 1..10 (10 means digit 0)`);
    labels[n] = v === 10 ? 0 : v;
  }

  const src = toPixels(X.real, path);
  const images = new Uint8Array(size * H * W * C);
  for (let n = 0; n < size; n++) {
    const s = n * H * W * C;
    let d = s;
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++)
        for (let ch = 0; ch < C; ch++) images[d++] = src[s + r + H * c + H * W * ch];
  }

  return {
    name: `svhn/${split}`,
    numClasses: 10,
    height: H,
    width: W,
    channels: C,
    size,
    images,
    labels,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

function need(vars: Map<string, MatArray>, name: string, path: string): MatArray {
  const v = vars.get(name);
  if (!v) throw new DataError(`${path}: no numeric variable '${name}', expected variables X (32×32×3×N uint8) and y (N×1)`);
  return v;
}

/** X as uint8 (it is stored as miUINT8 in the real files; anything wider must still hold 0..255 integers). */
function toPixels(real: MatArray['real'], path: string): Uint8Array {
  if (real instanceof Uint8Array) return real;
  const out = new Uint8Array(real.length);
  for (let i = 0; i < real.length; i++) {
    const v = Number(real[i]);
    if (!(Number.isInteger(v) && v >= 0 && v <= 255))
      throw new DataError(`${path}: X element ${i} is ${v}, expected an integer pixel value 0..255`);
    out[i] = v;
  }
  return out;
}
