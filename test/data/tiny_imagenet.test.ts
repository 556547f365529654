import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { loadTinyImageNet } from '../../dgkd/data/tiny_imagenet.ts';
import { dataError, grayJpeg, makeTempDir, writeFile } from './helpers.ts';

const tmp = makeTempDir('tin');
afterAll(tmp.cleanup);

const S = 16; // small images keep the test fast; real Tiny ImageNet images are 64×64
const WNIDS = ['n01443537', 'n01629819', 'n01641577'];

/** An RGB test image: smooth gradients that survive JPEG well, different for each (class, index). */
function rgbImage(seed: number): Uint8Array {
  const data = new Uint8Array(S * S * 4);
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const p = (y * S + x) * 4;
      data[p] = (seed * 50 + x * 12) & 255;
      data[p + 1] = (seed * 90 + y * 12) & 255;
      data[p + 2] = (seed * 30 + 100) & 255;
      data[p + 3] = 255;
    }
  return data;
}

const encoded = new Map<number, Buffer>(); // jpeg-js encoding is slowish: encode each test image once
function encode(seed: number): Buffer {
  if (!encoded.has(seed)) encoded.set(seed, jpeg.encode({ data: rgbImage(seed), width: S, height: S }, 95).data);
  return encoded.get(seed)!;
}

/** The standard layout: 2 training images per class (one of class 1 grayscale) and 4 validation images. */
function makeTinyDir(name: string): string {
  const dir = join(tmp.dir, name, 'tiny-imagenet-200');
  writeFile(join(dir, 'wnids.txt'), WNIDS.join('\n') + '\n');
  writeFile(join(dir, 'words.txt'), `${WNIDS[0]}\tgoldfish, Carassius auratus\n${WNIDS[2]}\tsalamander\nn99\tunused\n`);
  WNIDS.forEach((w, c) => {
    writeFile(join(dir, 'train', w, `${w}_boxes.txt`), 'ignored');
    writeFile(join(dir, 'train', w, 'images', `${w}_0.JPEG`), encode(10 * c));
    writeFile(join(dir, 'train', w, 'images', `${w}_1.JPEG`),
      c === 1 ? grayJpeg(S, S, (by, bx) => 40 + 60 * by + 100 * bx) : encode(10 * c + 1));
  });
  const val = [['val_0.JPEG', 2], ['val_1.JPEG', 0], ['val_2.JPEG', 2], ['val_3.JPEG', 1]] as const;
  writeFile(join(dir, 'val', 'val_annotations.txt'), val.map(([f, c]) => `${f}\t${WNIDS[c]}\t0\t0\t15\t15`).join('\n') + '\n');
  val.forEach(([f], i) => writeFile(join(dir, 'val', 'images', f), encode(100 + i)));
  return dir;
}

describe('Tiny ImageNet loader', () => {
  it('reads train images with labels in wnids.txt order, decoding exactly as jpeg-js does, in NHWC', () => {
    const dir = makeTinyDir('ok');
    const ds = loadTinyImageNet(join(dir, '..'), 'train'); // the parent folder is accepted too
    expect(ds).toMatchObject({ name: 'tiny-imagenet/train', numClasses: 3, height: S, width: S, channels: 3, size: 6 });
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(ds.classNames).toEqual(['goldfish', WNIDS[1], 'salamander']);
    // image 4 = class 2, file _0
    const file = readFileSync(join(dir, 'train', WNIDS[2], 'images', `${WNIDS[2]}_0.JPEG`));
    const ref = jpeg.decode(file, { useTArray: true, formatAsRGBA: false }).data;
    expect(Array.from(ds.images.subarray(4 * S * S * 3, 5 * S * S * 3))).toEqual(Array.from(ref));
    // and close to the encoded pixels (JPEG is lossy): pixel (y=3, x=5) is at ((3·S)+5)·3 in NHWC
    const src = rgbImage(20);
    const p = (3 * S + 5) * 3, q = (3 * S + 5) * 4;
    for (let ch = 0; ch < 3; ch++) expect(Math.abs(ds.images[4 * S * S * 3 + p + ch] - src[q + ch])).toBeLessThan(12);
  });

  it('expands grayscale JPEGs to RGB', () => {
    const ds = loadTinyImageNet(makeTinyDir('gray'), 'train');
    const base = 3 * S * S * 3; // class 1, file _1 is the grayscale one
    for (const [y, x, v] of [[0, 0, 40], [0, 8, 140], [8, 0, 100], [15, 15, 200]]) {
      const p = base + (y * S + x) * 3;
      expect([ds.images[p], ds.images[p + 1], ds.images[p + 2]]).toEqual([v, v, v]);
    }
  });

  it('reads the validation split from val_annotations.txt', () => {
    const dir = makeTinyDir('val');
    const ds = loadTinyImageNet(dir, 'val');
    expect(ds).toMatchObject({ name: 'tiny-imagenet/val', numClasses: 3, size: 4 });
    expect(Array.from(ds.labels)).toEqual([2, 0, 2, 1]);
    const ref = jpeg.decode(readFileSync(join(dir, 'val', 'images', 'val_2.JPEG')), { useTArray: true, formatAsRGBA: false }).data;
    expect(Array.from(ds.images.subarray(2 * S * S * 3, 3 * S * S * 3))).toEqual(Array.from(ref));
  });

  it('names a missing wnids.txt and the expected layout', () => {
    const e = dataError(() => loadTinyImageNet(join(tmp.dir, 'nothing'), 'train'));
    expect(e.message).toContain('wnids.txt');
    expect(e.message).toContain('val_annotations.txt');
  });

  it('names a missing class folder', () => {
    const dir = makeTinyDir('noclass');
    rmSync(join(dir, 'train', WNIDS[1]), { recursive: true });
    expect(dataError(() => loadTinyImageNet(dir, 'train')).message).toContain(join('train', WNIDS[1], 'images'));
  });

  it('rejects unknown class ids, missing images and bad lines in val_annotations.txt', () => {
    const dir = makeTinyDir('badval');
    const ann = join(dir, 'val', 'val_annotations.txt');
    writeFile(ann, `val_0.JPEG\t${WNIDS[0]}\t0\t0\t1\t1\nval_1.JPEG\tn00000000\t0\t0\t1\t1\n`);
    expect(dataError(() => loadTinyImageNet(dir, 'val')).message).toMatch(/val_annotations\.txt.*line 2.*n00000000/);
    writeFile(ann, `val_9.JPEG\t${WNIDS[0]}\n`);
    expect(dataError(() => loadTinyImageNet(dir, 'val')).message).toMatch(/val_9\.JPEG.*line 1/);
    writeFile(ann, `just-a-name\n`);
    expect(dataError(() => loadTinyImageNet(dir, 'val')).message).toMatch(/line 1.*expected/);
  });

  it('rejects corrupt JPEGs and images of a different size, naming the file', () => {
    const dir = makeTinyDir('corrupt');
    const bad = join(dir, 'train', WNIDS[2], 'images', `${WNIDS[2]}_1.JPEG`);
    writeFile(bad, Buffer.from('not a jpeg at all'));
    expect(dataError(() => loadTinyImageNet(dir, 'train')).message).toContain(bad);
    writeFile(bad, jpeg.encode({ data: new Uint8Array(8 * 8 * 4), width: 8, height: 8 }, 90).data);
    expect(dataError(() => loadTinyImageNet(dir, 'train')).message).toMatch(/_1\.JPEG.*8×8.*expected 16×16/);
  });
});
