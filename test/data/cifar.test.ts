import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar10, loadCifar100 } from '../../dgkd/data/cifar.ts';
import { cifarRecords, dataError, makeTempDir, nhwc, pattern, writeFile } from './helpers.ts';

const tmp = makeTempDir('cifar');
afterAll(tmp.cleanup);

/** A CIFAR-10 folder with 5 small training batches (9 records in all) and a 2-record test batch. */
function cifar10Dir(name: string): string {
  const dir = join(tmp.dir, name, 'cifar-10-batches-bin');
  const labels = [[3, 0], [9], [1, 2, 5], [7], [4, 8]];
  let n = 0;
  labels.forEach((ls, b) => {
    writeFile(join(dir, `data_batch_${b + 1}.bin`), cifarRecords(ls.map((l) => [l]), n));
    n += ls.length;
  });
  writeFile(join(dir, 'test_batch.bin'), cifarRecords([[6], [0]]));
  return dir;
}

function expectPixels(images: Uint8Array, count: number) {
  for (let n = 0; n < count; n++)
    for (let r = 0; r < 32; r++)
      for (let c = 0; c < 32; c++)
        for (let ch = 0; ch < 3; ch++)
          if (images[nhwc(n, r, c, ch)] !== pattern(n, r, c, ch))
            throw new Error(`pixel (${n},${r},${c},${ch}) is ${images[nhwc(n, r, c, ch)]}, expected ${pattern(n, r, c, ch)}`);
}

describe('CIFAR-10 binary loader', () => {
  it('reads all training batches in order, transposing CHW planes to NHWC', () => {
    const dir = cifar10Dir('ok');
    const ds = loadCifar10(dir, 'train');
    expect(ds).toMatchObject({ name: 'cifar10/train', numClasses: 10, height: 32, width: 32, channels: 3, size: 9 });
    expect(Array.from(ds.labels)).toEqual([3, 0, 9, 1, 2, 5, 7, 4, 8]);
    expect(ds.images.length).toBe(9 * 3072);
    expectPixels(ds.images, 9);
    expect(ds.classNames).toBeUndefined();

    const test = loadCifar10(dir, 'test');
    expect(Array.from(test.labels)).toEqual([6, 0]);
    expectPixels(test.images, 2);
  });

  it('accepts the parent folder and reads class names from batches.meta.txt', () => {
    const dir = cifar10Dir('parent');
    const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    writeFile(join(dir, 'batches.meta.txt'), names.join('\n') + '\n\n');
    const ds = loadCifar10(join(dir, '..'), 'test');
    expect(ds.size).toBe(2);
    expect(ds.classNames).toEqual(names);
  });

  it('rejects a truncated file, naming it and the record size', () => {
    const dir = cifar10Dir('trunc');
    writeFile(join(dir, 'data_batch_2.bin'), cifarRecords([[1], [2]]).subarray(0, 2 * 3073 - 1));
    const e = dataError(() => loadCifar10(dir, 'train'));
    expect(e.message).toContain('data_batch_2.bin');
    expect(e.message).toContain('multiple of');
    expect(e.message).toContain('3073');
    expect(e.message).toContain('truncated');
  });

  it('rejects an empty file and a file of the wrong record size', () => {
    const dir = cifar10Dir('wrongsize');
    writeFile(join(dir, 'test_batch.bin'), new Uint8Array(0));
    expect(dataError(() => loadCifar10(dir, 'test')).message).toContain('test_batch.bin');
    writeFile(join(dir, 'test_batch.bin'), cifarRecords([[1, 2], [3, 4]])); // CIFAR-100 records (3074 bytes)
    expect(dataError(() => loadCifar10(dir, 'test')).message).toMatch(/test_batch\.bin.*multiple of.*3073/);
  });

  it('rejects a label out of range, naming the file, record and value', () => {
    const dir = cifar10Dir('badlabel');
    writeFile(join(dir, 'data_batch_3.bin'), cifarRecords([[1], [10], [2]]));
    const e = dataError(() => loadCifar10(dir, 'train'));
    expect(e.message).toContain('data_batch_3.bin');
    expect(e.message).toContain('record 1');
    expect(e.message).toContain('label 10');
  });

  it('names a missing batch file and the files expected in --data-dir', () => {
    const dir = cifar10Dir('missing');
    rmSync(join(dir, 'data_batch_4.bin'));
    const e = dataError(() => loadCifar10(dir, 'train'));
    expect(e.message).toContain('data_batch_4.bin');
    expect(e.message).toContain('--data-dir');
    expect(e.message).toContain('test_batch.bin');
  });

  it('explains an empty or wrong directory', () => {
    const e = dataError(() => loadCifar10(join(tmp.dir, 'nowhere'), 'train'));
    expect(e.message).toContain('nowhere');
    expect(e.message).toContain('data_batch_1.bin');
  });
});

describe('CIFAR-100 binary loader', () => {
  it('uses the fine labels and reads fine_label_names.txt', () => {
    const dir = join(tmp.dir, 'c100', 'cifar-100-binary');
    writeFile(join(dir, 'train.bin'), cifarRecords([[19, 99], [0, 0], [5, 42]]));
    writeFile(join(dir, 'test.bin'), cifarRecords([[3, 7]]));
    const names = Array.from({ length: 100 }, (_, i) => `class${i}`);
    writeFile(join(dir, 'fine_label_names.txt'), names.join('\n'));
    const ds = loadCifar100(join(tmp.dir, 'c100'), 'train');
    expect(ds).toMatchObject({ name: 'cifar100/train', numClasses: 100, size: 3 });
    expect(Array.from(ds.labels)).toEqual([99, 0, 42]);
    expectPixels(ds.images, 3);
    expect(ds.classNames).toEqual(names);
    expect(Array.from(loadCifar100(dir, 'test').labels)).toEqual([7]);
  });

  it('rejects out-of-range fine and coarse labels', () => {
    const dir = join(tmp.dir, 'c100bad');
    writeFile(join(dir, 'train.bin'), cifarRecords([[1, 2], [3, 100]]));
    const e = dataError(() => loadCifar100(dir, 'train'));
    expect(e.message).toMatch(/train\.bin.*record 1.*fine label 100/);
    writeFile(join(dir, 'train.bin'), cifarRecords([[20, 2]]));
    expect(dataError(() => loadCifar100(dir, 'train')).message).toMatch(/train\.bin.*record 0.*coarse label 20/);
  });

  it('rejects a class-name file with the wrong count', () => {
    const dir = join(tmp.dir, 'c100names');
    writeFile(join(dir, 'test.bin'), cifarRecords([[1, 2]]));
    writeFile(join(dir, 'fine_label_names.txt'), 'a\nb\n');
    expect(dataError(() => loadCifar100(dir, 'test')).message).toContain('fine_label_names.txt');
  });
});
