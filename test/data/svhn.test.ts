import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readMat } from '../../dgkd/data/matv5.ts';
import { loadSvhn } from '../../dgkd/data/svhn.ts';
import {
  MI, MX, bytesOf, dataError, makeTempDir, matElement, matFile, matHeader, matMatrix, nhwc, pattern, svhnMat, writeFile,
} from './helpers.ts';

const tmp = makeTempDir('svhn');
afterAll(tmp.cleanup);

function expectSvhnPixels(images: Uint8Array, count: number) {
  let bad = 0;
  for (let n = 0; n < count; n++)
    for (let r = 0; r < 32; r++)
      for (let c = 0; c < 32; c++)
        for (let ch = 0; ch < 3; ch++) if (images[nhwc(n, r, c, ch)] !== pattern(n, r, c, ch)) bad++;
  expect(bad).toBe(0);
}

describe('MAT v5 reader', () => {
  it('reads numeric arrays of several types, long and short names, and skips cells', () => {
    const cell = matElement(MI.MATRIX, Buffer.concat([
      matElement(MI.UINT32, bytesOf(new Uint32Array([MX.CELL, 0]))),
      matElement(MI.INT32, bytesOf(new Int32Array([0, 0]))),
      matElement(MI.INT8, Buffer.from('acell')),
    ]));
    for (const compress of [false, true]) {
      const file = matFile([
        matMatrix('a_long_variable_name', MX.DOUBLE, [2, 3], MI.DOUBLE, bytesOf(new Float64Array([1, 2, 3, 4, 5, 6.5]))),
        cell,
        matMatrix('s', 10, [3, 1], MI.INT16, bytesOf(new Int16Array([-3, 0, 300]))),
        matMatrix('u', MX.UINT8, [1, 3], MI.UINT8, new Uint8Array([1, 2, 255])),
      ], compress);
      const vars = readMat(file, 'x.mat');
      expect([...vars.keys()]).toEqual(['a_long_variable_name', 's', 'u']);
      expect(vars.get('a_long_variable_name')).toMatchObject({ classId: 6, dims: [2, 3] });
      expect(Array.from(vars.get('a_long_variable_name')!.real as Float64Array)).toEqual([1, 2, 3, 4, 5, 6.5]);
      expect(Array.from(vars.get('s')!.real as Int16Array)).toEqual([-3, 0, 300]);
      expect(Array.from(vars.get('u')!.real as Uint8Array)).toEqual([1, 2, 255]);
    }
  });

  it('rejects big-endian, non-MAT and truncated files', () => {
    const be = Buffer.concat([matHeader('MI'), matMatrix('y', MX.DOUBLE, [1, 1], MI.DOUBLE, new Uint8Array(8))]);
    expect(dataError(() => readMat(be, 'be.mat')).message).toMatch(/be\.mat.*big-endian/);
    expect(dataError(() => readMat(Buffer.alloc(200), 'zero.mat')).message).toContain('zero.mat');
    expect(dataError(() => readMat(Buffer.alloc(20), 'short.mat')).message).toContain('short.mat');
  });
});

describe('SVHN loader', () => {
  const labels = [1, 10, 5, 9, 10, 2, 3];
  const digits = [1, 0, 5, 9, 0, 2, 3];

  it('reads an uncompressed file, transposing column-major X to NHWC and mapping label 10 to 0', () => {
    const dir = join(tmp.dir, 'plain');
    writeFile(join(dir, 'train_32x32.mat'), svhnMat(labels, false));
    const ds = loadSvhn(dir, 'train');
    expect(ds).toMatchObject({ name: 'svhn/train', numClasses: 10, height: 32, width: 32, channels: 3, size: 7 });
    expect(Array.from(ds.labels)).toEqual(digits);
    expectSvhnPixels(ds.images, 7);
  });

  it('reads a zlib-compressed (miCOMPRESSED) file with y stored as uint8, from a parent svhn/ folder', () => {
    const dir = join(tmp.dir, 'compressed');
    writeFile(join(dir, 'svhn', 'test_32x32.mat'), svhnMat(labels, true, true));
    const ds = loadSvhn(dir, 'test');
    expect(Array.from(ds.labels)).toEqual(digits);
    expectSvhnPixels(ds.images, 7);
  });

  it('names a missing file and the expected files', () => {
    const e = dataError(() => loadSvhn(join(tmp.dir, 'empty'), 'train'));
    expect(e.message).toContain('train_32x32.mat');
    expect(e.message).toContain('test_32x32.mat');
  });

  it('rejects truncated files, plain and compressed', () => {
    for (const compress of [false, true]) {
      const dir = join(tmp.dir, `trunc${compress}`);
      const full = svhnMat(labels, compress);
      writeFile(join(dir, 'train_32x32.mat'), full.subarray(0, full.length - 100));
      const e = dataError(() => loadSvhn(dir, 'train'));
      expect(e.message).toContain('train_32x32.mat');
      expect(e.message).toContain('truncated');
    }
  });

  it('rejects labels outside 1..10, naming the record', () => {
    const dir = join(tmp.dir, 'badlabel');
    writeFile(join(dir, 'train_32x32.mat'), svhnMat([1, 2, 11], true));
    expect(dataError(() => loadSvhn(dir, 'train')).message).toMatch(/train_32x32\.mat.*record 2.*label 11.*1\.\.10/);
    writeFile(join(dir, 'train_32x32.mat'), svhnMat([0, 2], false));
    expect(dataError(() => loadSvhn(dir, 'train')).message).toMatch(/record 0.*label 0/);
  });

  it('rejects a file without X or with X of the wrong shape', () => {
    const dir = join(tmp.dir, 'shape');
    const y = matMatrix('y', MX.DOUBLE, [1, 1], MI.DOUBLE, bytesOf(new Float64Array([1])));
    writeFile(join(dir, 'train_32x32.mat'), matFile([y], false));
    expect(dataError(() => loadSvhn(dir, 'train')).message).toMatch(/train_32x32\.mat.*'X'/);
    const X = matMatrix('X', MX.UINT8, [28, 28, 3, 1], MI.UINT8, new Uint8Array(28 * 28 * 3));
    writeFile(join(dir, 'train_32x32.mat'), matFile([X, y], true));
    expect(dataError(() => loadSvhn(dir, 'train')).message).toMatch(/28×28×3×1.*expected 32×32×3×N/);
  });
});
