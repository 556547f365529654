// The data an experiment trains and reports on, loaded once: the training part, the validation split (to choose
// the best epoch) and the held-out test part, as the settings name them; and a model's input shape for them.

import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { DataError, loadDataset, splitValidation, type Dataset } from '../data/index.ts';
import type { ExperimentConfig } from '../settings/config.ts';

export interface Data {
  train: Dataset;
  /** Held out of the training data for choosing the best epoch; null without --val-split. */
  val: Dataset | null;
  test: Dataset;
  numClasses: number;
}

const rename = (ds: Dataset, name: string): Dataset => ({ ...ds, name });

/** What decides a run's data: stored in checkpoints, so that `eval` scores the same split the run did. */
export type DataSettings = Pick<ExperimentConfig, 'dataset' | 'dataDir' | 'syntheticTrain' | 'syntheticTest' | 'seed' | 'valSplit' | 'testSplit' | 'trainSubset'>;

export function dataSettings(cfg: ExperimentConfig): DataSettings {
  const { dataset, dataDir, syntheticTrain, syntheticTest, seed, valSplit, testSplit, trainSubset } = cfg;
  return { dataset, ...(dataDir ? { dataDir: resolve(dataDir) } : {}), syntheticTrain, syntheticTest, seed, valSplit, testSplit, trainSubset };
}

/** The run's splits. `training: false` (eval) skips the checks that only training needs (batch size). */
export function loadData(cfg: ExperimentConfig, opts: { training?: boolean } = {}): Data {
  const loaded = loadDataset(cfg.dataset, cfg.dataDir, {
    seed: cfg.seed,
    trainSize: cfg.syntheticTrain,
    testSize: cfg.syntheticTest,
    allowMissingTest: cfg.valSplit > 0,
  });
  let train = loaded.train;
  let test = loaded.test;
  let val: Dataset | null = null;
  if (cfg.valSplit > 0) {
    const split = splitValidation(train, cfg.valSplit, 1234);
    if (split.train.size === 0) throw new DataError(`--val-split ${cfg.valSplit} leaves none of the ${train.size} images of ${train.name} to train on`);
    train = split.train;
    val = rename(split.val, `${loaded.train.name} (validation part)`);
    if (!test) {
      // No test files: a second held-out part (--test-split images, else as many as validation) is the test set.
      const testSize = cfg.testSplit || val.size;
      if (testSize >= train.size) throw new DataError(`--test-split ${testSize} leaves none of the ${train.size} images of ${train.name} to train on`);
      const again = splitValidation(train, testSize, 4321);
      train = again.train;
      test = rename(again.val, `${loaded.train.name} (held-out test part)`);
    }
  }
  if (cfg.trainSubset > 0) {
    if (cfg.trainSubset > train.size) {
      throw new DataError(`--train-subset ${cfg.trainSubset} is larger than the ${train.size} training images of ${train.name}`);
    }
    if (cfg.trainSubset < train.size) train = rename(splitValidation(train, cfg.trainSubset, cfg.seed).val, `${train.name} (${cfg.trainSubset}-image subset)`);
  }
  if ((opts.training ?? true) && cfg.recipe.batchSize > train.size) {
    throw new DataError(`--batch-size ${cfg.recipe.batchSize} is larger than the ${train.size} training images of ${train.name}`);
  }
  return { train, val, test: test!, numClasses: loaded.numClasses };
}

export function modelShape(data: Data, seed: number) {
  return { numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels, seed };
}

/**
 * The content of a run's splits as 16 hex digits: every pixel and label of train, validation and test, in order.
 * Queue workers compare it with the coordinator's, so a machine whose folder of that name holds other files (or
 * another copy under another path, --data-dir) never trains on data that differs from the run's.
 */
export function dataFingerprint(data: Data): string {
  const known = fingerprints.get(data);
  if (known) return known;
  const h = createHash('sha256');
  for (const ds of [data.train, data.val, data.test]) {
    h.update(ds ? `${ds.size}x${ds.height}x${ds.width}x${ds.channels}/${ds.numClasses};` : 'none;');
    if (!ds) continue;
    h.update(ds.images);
    h.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
  }
  const id = h.digest('hex').slice(0, 16);
  fingerprints.set(data, id);
  return id;
}

/** Each loaded Data's fingerprint, computed once (hashing CIFAR's splits takes a fraction of a second). */
const fingerprints = new WeakMap<Data, string>();
