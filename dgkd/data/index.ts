// One entry point for the trainer: a dataset name (+ --data-dir) → train/test datasets and their shape.
// Only 'synthetic' works without files; it ignores dataDir.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar10, loadCifar100 } from './cifar.ts';
import { DataError, type Dataset } from './dataset.ts';
import { makeSynthetic } from './synthetic.ts';
import { loadSvhn } from './svhn.ts';
import { loadTinyImageNet } from './tiny_imagenet.ts';

export * from './dataset.ts';
export { loadCifar10, loadCifar100 } from './cifar.ts';
export { loadSvhn } from './svhn.ts';
export { loadTinyImageNet } from './tiny_imagenet.ts';
export { makeSynthetic, SYNTHETIC_CLASS_NAMES } from './synthetic.ts';
export { splitValidation, subset } from './split.ts';
export { DataLoader, type Batch, type LoaderOptions, type LoaderState } from './loader.ts';
export { TAKD_NORMALISATION, type Normalisation } from './augment.ts';

export const DATASET_NAMES = ['synthetic', 'cifar10', 'cifar100', 'svhn', 'tiny-imagenet'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

export interface LoadOptions {
  /** synthetic only: generator seed (default 0) and split sizes (default 10000 / 2000) and label noise. */
  seed?: number;
  trainSize?: number;
  testSize?: number;
  labelNoise?: number;
  /**
   * When the test split's files are absent but the training files are present, return test: null instead of
   * throwing (e.g. the shared CIFAR-10 copy has no test_batch.bin; split a validation set off instead).
   */
  allowMissingTest?: boolean;
}

export interface LoadedData {
  train: Dataset;
  test: Dataset | null; // null only with allowMissingTest and no test files
  numClasses: number;
  inputShape: [number, number, number]; // H, W, C
  classNames?: string[];
}

export function loadDataset(name: string, dataDir?: string, opts: LoadOptions = {}): LoadedData {
  if (!(DATASET_NAMES as readonly string[]).includes(name))
    throw new DataError(`unknown dataset '${name}', expected one of ${DATASET_NAMES.join(', ')}`);
  if (name === 'synthetic') {
    const { train, test } = makeSynthetic({
      seed: opts.seed ?? 0,
      trainSize: opts.trainSize ?? 10000,
      testSize: opts.testSize ?? 2000,
      labelNoise: opts.labelNoise,
    });
    return finish(train, test);
  }
  if (!dataDir) throw new DataError(`dataset '${name}' needs --data-dir, the folder holding its files`);
  if (!existsSync(dataDir)) throw new DataError(`--data-dir ${dataDir} does not exist`);
  const load = LOADERS[name as Exclude<DatasetName, 'synthetic'>];
  const train = load.load(dataDir, 'train');
  let test: Dataset | null = null;
  const testPresent = load.testPresent(dataDir);
  if (testPresent || !opts.allowMissingTest) {
    try {
      test = load.load(dataDir, 'test');
    } catch (e) {
      if (testPresent || !(e instanceof DataError)) throw e;
      throw new DataError(
        `${e.message} (the training files are there: to use them alone, load with allowMissingTest and split ` +
          `a validation set off the training data)`,
      );
    }
  }
  return finish(train, test);
}

function finish(train: Dataset, test: Dataset | null): LoadedData {
  return {
    train,
    test,
    numClasses: train.numClasses,
    inputShape: [train.height, train.width, train.channels],
    ...(train.classNames ? { classNames: train.classNames } : {}),
  };
}

interface Loader {
  load(dir: string, split: 'train' | 'test'): Dataset;
  /** Whether the test split's files exist (in dir or in the archive's folder inside it). */
  testPresent(dir: string): boolean;
}

const anyExists = (dir: string, subdirs: string[], file: string) =>
  subdirs.some((s) => existsSync(join(dir, s, file)));

const LOADERS: Record<Exclude<DatasetName, 'synthetic'>, Loader> = {
  cifar10: {
    load: loadCifar10,
    testPresent: (d) => anyExists(d, ['', 'cifar-10-batches-bin'], 'test_batch.bin'),
  },
  cifar100: {
    load: loadCifar100,
    testPresent: (d) => anyExists(d, ['', 'cifar-100-binary'], 'test.bin'),
  },
  svhn: {
    load: loadSvhn,
    testPresent: (d) => anyExists(d, ['', 'svhn'], 'test_32x32.mat'),
  },
  'tiny-imagenet': {
    // Tiny ImageNet's test images are unlabelled; its labelled val split serves as the test set.
    load: (d, split) => loadTinyImageNet(d, split === 'train' ? 'train' : 'val'),
    testPresent: (d) => anyExists(d, ['', 'tiny-imagenet-200'], join('val', 'val_annotations.txt')),
  },
};
