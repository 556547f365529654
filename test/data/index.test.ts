import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DATASET_NAMES, loadDataset } from '../../dgkd/data/index.ts';
import { cifarRecords, dataError, makeTempDir, writeFile } from './helpers.ts';

const tmp = makeTempDir('index');
afterAll(tmp.cleanup);

describe('loadDataset', () => {
  it('rejects unknown names, listing the known ones', () => {
    const e = dataError(() => loadDataset('mnist'));
    expect(e.message).toContain("'mnist'");
    for (const n of DATASET_NAMES) expect(e.message).toContain(n);
  });

  it('builds the synthetic dataset, ignoring dataDir', () => {
    const d = loadDataset('synthetic', '/does/not/exist', { seed: 5, trainSize: 30, testSize: 20 });
    expect(d.numClasses).toBe(10);
    expect(d.inputShape).toEqual([32, 32, 3]);
    expect(d.train.size).toBe(30);
    expect(d.test?.size).toBe(20);
    expect(d.classNames?.length).toBe(10);
  });

  it('needs a data dir for file-based datasets', () => {
    expect(dataError(() => loadDataset('cifar10')).message).toContain('--data-dir');
    expect(dataError(() => loadDataset('svhn', join(tmp.dir, 'missing'))).message).toContain('missing');
  });

  it('loads CIFAR-10 train and test, or train only with allowMissingTest', () => {
    const dir = join(tmp.dir, 'c10');
    for (let b = 1; b <= 5; b++) writeFile(join(dir, 'cifar-10-batches-bin', `data_batch_${b}.bin`), cifarRecords([[b]]));
    expect(dataError(() => loadDataset('cifar10', dir)).message).toContain('test_batch.bin');
    const trainOnly = loadDataset('cifar10', dir, { allowMissingTest: true });
    expect(trainOnly.test).toBeNull();
    expect(trainOnly.train.size).toBe(5);
    writeFile(join(dir, 'cifar-10-batches-bin', 'test_batch.bin'), cifarRecords([[0], [9]]));
    const both = loadDataset('cifar10', dir, { allowMissingTest: true });
    expect(both.test?.size).toBe(2);
    expect(both).toMatchObject({ numClasses: 10, inputShape: [32, 32, 3] });
  });
});
