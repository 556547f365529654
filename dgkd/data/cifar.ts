// CIFAR-10 / CIFAR-100 in the original "binary version" layout (https://www.cs.toronto.edu/~kriz/cifar.html):
//   CIFAR-10:  cifar-10-batches-bin/data_batch_1..5.bin, test_batch.bin; record = 1 label byte + 3072 pixels
//   CIFAR-100: cifar-100-binary/train.bin, test.bin; record = coarse label byte + fine label byte + 3072 pixels
// The 3072 pixel bytes are three 32×32 row-major planes (1024 R, 1024 G, 1024 B); we transpose them to NHWC
// because the whole project is channel-last. We use the 100 fine labels of CIFAR-100 (as TAKD/DGKD do).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, type Dataset } from './dataset.ts';
import { readDataFile, readNameList } from './files.ts';

export type CifarSplit = 'train' | 'test';

const H = 32;
const W = 32;
const C = 3;
const PIXELS = H * W * C; // 3072

interface CifarFormat {
  dataset: 'cifar10' | 'cifar100';
  subdir: string; // the folder name inside the official archive
  files: Record<CifarSplit, string[]>;
  labelBytes: number; // bytes before the pixels
  labelLimits: number[]; // exclusive upper bound of each label byte
  labelNames: string[]; // what each label byte is, for messages
  useLabel: number; // which label byte becomes the Dataset label
  numClasses: number;
  namesFile: string; // optional class-name list
  /** The publisher's other download, pickled for Python: its folder and a file it holds (to say what was found). */
  pythonVersion: { subdir: string; marker: string; archive: string };
  binaryArchive: string;
}

const CIFAR10: CifarFormat = {
  dataset: 'cifar10',
  subdir: 'cifar-10-batches-bin',
  files: { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] },
  labelBytes: 1,
  labelLimits: [10],
  labelNames: ['label'],
  useLabel: 0,
  numClasses: 10,
  namesFile: 'batches.meta.txt',
  pythonVersion: { subdir: 'cifar-10-batches-py', marker: 'data_batch_1', archive: 'cifar-10-python.tar.gz' },
  binaryArchive: 'cifar-10-binary.tar.gz',
};

const CIFAR100: CifarFormat = {
  dataset: 'cifar100',
  subdir: 'cifar-100-binary',
  files: { train: ['train.bin'], test: ['test.bin'] },
  labelBytes: 2,
  labelLimits: [20, 100],
  labelNames: ['coarse label', 'fine label'],
  useLabel: 1,
  numClasses: 100,
  namesFile: 'fine_label_names.txt',
  pythonVersion: { subdir: 'cifar-100-python', marker: 'meta', archive: 'cifar-100-python.tar.gz' },
  binaryArchive: 'cifar-100-binary.tar.gz',
};

export function loadCifar10(dir: string, split: CifarSplit): Dataset {
  return loadCifar(CIFAR10, dir, split);
}

export function loadCifar100(dir: string, split: CifarSplit): Dataset {
  return loadCifar(CIFAR100, dir, split);
}

/** The folder holding the .bin files: `dir` itself or its `subdir` child (the archive's folder name). */
function resolveDir(fmt: CifarFormat, dir: string): string {
  const all = [...fmt.files.train, ...fmt.files.test];
  const has = (d: string) => all.some((f) => existsSync(join(d, f)));
  if (has(dir)) return dir;
  if (has(join(dir, fmt.subdir))) return join(dir, fmt.subdir);
  const py = fmt.pythonVersion;
  const pickled = [dir, join(dir, py.subdir)].find((d) => existsSync(join(d, py.marker)) && !existsSync(join(d, `${py.marker}.bin`)));
  if (pickled) {
    throw new DataError(
      `${pickled} holds the Python (pickle) version of ${fmt.dataset} (${py.archive}); this loader reads the binary version ` +
        `(${fmt.binaryArchive}, folder ${fmt.subdir}/): give its folder as --data-dir, or add --download to fetch it there`,
    );
  }
  throw new DataError(
    `no ${fmt.dataset} files in ${dir} or ${join(dir, fmt.subdir)}; --data-dir must be the folder holding ` +
      `${expectedList(fmt)} (or its parent holding ${fmt.subdir}/)`,
  );
}

function expectedList(fmt: CifarFormat): string {
  return [...fmt.files.train, ...fmt.files.test].join(', ');
}

function loadCifar(fmt: CifarFormat, dir: string, split: CifarSplit): Dataset {
  const base = resolveDir(fmt, dir);
  const recordSize = fmt.labelBytes + PIXELS;
  const expected = `expected ${expectedList(fmt)} in --data-dir (${fmt.dataset} binary version)`;

  // Read every file first so the output is allocated once at its final size.
  const buffers = fmt.files[split].map((f) => {
    const path = join(base, f);
    const buf = readDataFile(path, expected);
    if (buf.length === 0 || buf.length % recordSize !== 0) {
      const whole = Math.floor(buf.length / recordSize);
      throw new DataError(
        `${path}: ${buf.length} bytes is not a positive multiple of the ${fmt.dataset} record size ${recordSize} ` +
          `(${fmt.labelBytes} label byte(s) + ${PIXELS} pixel bytes); the file is truncated or not in the binary ` +
          `format (${whole} whole records + ${buf.length - whole * recordSize} extra bytes)`,
      );
    }
    return { path, buf };
  });
  const size = buffers.reduce((n, b) => n + b.buf.length / recordSize, 0);
  const images = new Uint8Array(size * PIXELS);
  const labels = new Int32Array(size);

  let n = 0;
  for (const { path, buf } of buffers) {
    const records = buf.length / recordSize;
    for (let r = 0; r < records; r++, n++) {
      const off = r * recordSize;
      for (let k = 0; k < fmt.labelBytes; k++) {
        const v = buf[off + k];
        if (v >= fmt.labelLimits[k])
          throw new DataError(
            `${path}: record ${r} has ${fmt.labelNames[k]} ${v}, expected 0..${fmt.labelLimits[k] - 1}`,
          );
      }
      labels[n] = buf[off + fmt.useLabel];
      planarToInterleaved(buf, off + fmt.labelBytes, images, n * PIXELS);
    }
  }

  // Class names are optional: the binary archives ship them as text files next to the batches.
  const namesPath = join(base, fmt.namesFile);
  const classNames = readNameList(namesPath);
  if (classNames && classNames.length !== fmt.numClasses)
    throw new DataError(`${namesPath}: ${classNames.length} class names, expected ${fmt.numClasses} (one per line)`);

  return {
    name: `${fmt.dataset}/${split}`,
    numClasses: fmt.numClasses,
    height: H,
    width: W,
    channels: C,
    size,
    images,
    labels,
    ...(classNames ? { classNames } : {}),
  };
}

/** Three 1024-byte planes (R, G, B) at src[so..] → 1024 interleaved RGB pixels at dst[d..]. */
function planarToInterleaved(src: Uint8Array, so: number, dst: Uint8Array, d: number): void {
  const plane = H * W;
  for (let p = 0; p < plane; p++) {
    dst[d + 3 * p] = src[so + p];
    dst[d + 3 * p + 1] = src[so + plane + p];
    dst[d + 3 * p + 2] = src[so + 2 * plane + p];
  }
}
