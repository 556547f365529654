// Tiny ImageNet (http://cs231n.stanford.edu/tiny-imagenet-200.zip) in its standard layout:
//   wnids.txt                      200 WordNet ids, one per line; their order defines the label index
//   words.txt                      optional "wnid<TAB>names" lines, used for class names
//   train/<wnid>/images/*.JPEG     training images of each class
//   val/images/*.JPEG + val/val_annotations.txt   "filename<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1" per line
// Images are 64×64 JPEGs, a few of them grayscale; jpeg-js decodes every file to RGB (grayscale expanded).
// The image size is taken from the first image and every other image must match it. Decoding ~100k JPEGs in
// pure JS takes a while (about a minute or two); train files are read in sorted order and val
// files in annotation order, so the result is deterministic.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { DataError, type Dataset } from './dataset.ts';
import { readDataFile } from './files.ts';

export type TinyImageNetSplit = 'train' | 'val';

const LAYOUT =
  'expected the Tiny ImageNet layout in --data-dir: wnids.txt, train/<wnid>/images/*.JPEG, ' +
  'val/images/*.JPEG and val/val_annotations.txt';

export function loadTinyImageNet(dir: string, split: TinyImageNetSplit): Dataset {
  const base = !existsSync(join(dir, 'wnids.txt')) && existsSync(join(dir, 'tiny-imagenet-200', 'wnids.txt'))
    ? join(dir, 'tiny-imagenet-200')
    : dir;
  const wnidsPath = join(base, 'wnids.txt');
  const wnids = readDataFile(wnidsPath, LAYOUT).toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (wnids.length === 0) throw new DataError(`${wnidsPath}: no class ids, expected one WordNet id per line`);
  const labelOf = new Map<string, number>();
  wnids.forEach((w, i) => {
    if (labelOf.has(w)) throw new DataError(`${wnidsPath}: class id ${w} appears twice, expected distinct ids`);
    labelOf.set(w, i);
  });

  const files = split === 'train' ? listTrain(base, wnids) : listVal(base, labelOf);
  if (files.length === 0) throw new DataError(`no ${split} images found under ${join(base, split)}; ${LAYOUT}`);

  let height = 0, width = 0, per = 0;
  let images = new Uint8Array(0);
  const labels = new Int32Array(files.length);
  files.forEach(({ path, label }, n) => {
    const img = decodeJpeg(path);
    if (n === 0) {
      ({ height, width } = img);
      per = height * width * 3;
      images = new Uint8Array(files.length * per);
    } else if (img.height !== height || img.width !== width) {
      throw new DataError(`${path}: image is ${img.width}×${img.height}, expected ${width}×${height} like the others`);
    }
    images.set(img.rgb, n * per);
    labels[n] = label;
  });

  return {
    name: `tiny-imagenet/${split}`,
    numClasses: wnids.length,
    height,
    width,
    channels: 3,
    size: files.length,
    images,
    labels,
    classNames: classNames(base, wnids),
  };
}

interface Item {
  path: string;
  label: number;
}

const isJpeg = (f: string) => /\.jpe?g$/i.test(f);

function listTrain(base: string, wnids: string[]): Item[] {
  const items: Item[] = [];
  wnids.forEach((w, label) => {
    const folder = join(base, 'train', w, 'images');
    if (!existsSync(folder) || !statSync(folder).isDirectory())
      throw new DataError(`missing folder ${folder} for class ${w} listed in wnids.txt; ${LAYOUT}`);
    for (const f of readdirSync(folder).filter(isJpeg).sort()) items.push({ path: join(folder, f), label });
  });
  return items;
}

function listVal(base: string, labelOf: Map<string, number>): Item[] {
  const annPath = join(base, 'val', 'val_annotations.txt');
  const lines = readDataFile(annPath, LAYOUT).toString('utf8').split(/\r?\n/);
  const items: Item[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const [file, wnid] = line.split('\t');
    if (!file || !wnid)
      throw new DataError(`${annPath}: line ${i + 1} is "${line}", expected "filename<TAB>wnid<TAB>bbox..."`);
    const label = labelOf.get(wnid.trim());
    if (label === undefined)
      throw new DataError(`${annPath}: line ${i + 1} has class id ${wnid}, which is not in wnids.txt`);
    const path = join(base, 'val', 'images', file.trim());
    if (!existsSync(path)) throw new DataError(`missing image ${path} listed on line ${i + 1} of ${annPath}`);
    items.push({ path, label });
  });
  return items;
}

function decodeJpeg(path: string): { width: number; height: number; rgb: Uint8Array } {
  const bytes = readFileSync(path);
  let img: { width: number; height: number; data: Uint8Array };
  try {
    // formatAsRGBA: false gives 3 bytes per pixel; jpeg-js replicates the single channel of grayscale files.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 64 });
  } catch (e) {
    throw new DataError(`${path}: cannot decode JPEG (${(e as Error)?.message ?? e}), expected a baseline JPEG image`);
  }
  const n = img.width * img.height;
  if (img.data.length === 3 * n) return { width: img.width, height: img.height, rgb: img.data };
  if (img.data.length === n) {
    // Defensive: expand one grey channel to RGB should a decoder return it unexpanded.
    const rgb = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = img.data[i];
    return { width: img.width, height: img.height, rgb };
  }
  throw new DataError(`${path}: decoded ${img.data.length} bytes for ${img.width}×${img.height}, expected RGB or grayscale`);
}

/** Human-readable names from words.txt when present (first synonym), else the wnids themselves. */
function classNames(base: string, wnids: string[]): string[] {
  const wordsPath = join(base, 'words.txt');
  const words = new Map<string, string>();
  if (existsSync(wordsPath)) {
    for (const line of readFileSync(wordsPath, 'utf8').split(/\r?\n/)) {
      const tab = line.indexOf('\t');
      if (tab > 0) words.set(line.slice(0, tab).trim(), line.slice(tab + 1).split(',')[0].trim());
    }
  }
  return wnids.map((w) => words.get(w) ?? w);
}
