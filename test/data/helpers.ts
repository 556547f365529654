// Writers for tiny files in the real dataset formats (CIFAR binary, MAT v5, JPEG folders), used by the data
// tests. Everything goes to a fresh folder under os.tmpdir(); nothing depends on real datasets.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { expect } from 'vitest';
import { DataError } from '../../dgkd/data/dataset.ts';

export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dgkd-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFile(path: string, data: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** Runs f, expecting it to throw a DataError, and returns that error (to check its message). */
export function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError, but nothing was thrown');
}

/** A deterministic, position-dependent pixel value, so any transposition mistake shows up. */
export function pattern(n: number, r: number, c: number, ch: number): number {
  return (n * 37 + r * 11 + c * 5 + ch * 71 + ((r * c) % 7)) & 255;
}

/** NHWC index of pixel (n, r, c, ch) in an H×W×C dataset. */
export const nhwc = (n: number, r: number, c: number, ch: number, H = 32, W = 32, C = 3) => ((n * H + r) * W + c) * C + ch;

/** CIFAR binary records: label bytes then 1024 R, 1024 G, 1024 B (row-major), pixels from pattern(n0 + i). */
export function cifarRecords(labelRows: number[][], n0 = 0): Uint8Array {
  const rec = labelRows[0]?.length ?? 1;
  const size = rec + 3072;
  const out = new Uint8Array(labelRows.length * size);
  labelRows.forEach((labels, i) => {
    const o = i * size;
    out.set(labels, o);
    for (let ch = 0; ch < 3; ch++)
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++) out[o + rec + ch * 1024 + r * 32 + c] = pattern(n0 + i, r, c, ch);
  });
  return out;
}

// ---- MAT v5 writer --------------------------------------------------------------------------------------

export const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };
export const MX = { CELL: 1, DOUBLE: 6, UINT8: 9 };

/** A data element: 8-byte tag, data, zero padding to a multiple of 8 (unless pad is false). */
export function matElement(type: number, data: Uint8Array, pad = true): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(data.length, 4);
  const padding = pad ? (8 - (data.length % 8)) % 8 : 0;
  return Buffer.concat([tag, Buffer.from(data), Buffer.alloc(padding)]);
}

/** The small data element format (≤ 4 bytes share the tag). */
export function matSmallElement(type: number, data: Uint8Array): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(((data.length << 16) | type) >>> 0, 0);
  out.set(data, 4);
  return out;
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** An miMATRIX element; data is the already-encoded real part with its mi type. */
export function matMatrix(name: string, classId: number, dims: number[], realType: number, real: Uint8Array): Buffer {
  const flags = new Uint32Array([classId, 0]);
  const nameBytes = Buffer.from(name, 'latin1');
  const body = Buffer.concat([
    matElement(MI.UINT32, bytesOf(flags)),
    matElement(MI.INT32, bytesOf(new Int32Array(dims))),
    nameBytes.length <= 4 ? matSmallElement(MI.INT8, nameBytes) : matElement(MI.INT8, nameBytes),
    matElement(realType, real),
  ]);
  return matElement(MI.MATRIX, body);
}

export function matHeader(endian: 'IM' | 'MI' = 'IM'): Buffer {
  const h = Buffer.alloc(128, 0x20);
  h.write('MATLAB 5.0 MAT-file, written by the dgkd data tests', 0, 'latin1');
  h.fill(0, 116, 124);
  h.writeUInt16LE(0x0100, 124);
  h.write(endian, 126, 'latin1');
  return h;
}

/** A whole MAT file; with compress, every variable goes into its own miCOMPRESSED (zlib) element. */
export function matFile(matrices: Buffer[], compress: boolean): Buffer {
  const parts = compress ? matrices.map((m) => matElement(MI.COMPRESSED, deflateSync(m), false)) : matrices;
  return Buffer.concat([matHeader(), ...parts]);
}

/** SVHN-style X (32×32×3×N uint8, column-major) from pattern(), and y (N×1 double). */
export function svhnMat(labels: number[], compress: boolean, yAsUint8 = false): Buffer {
  const N = labels.length;
  const X = new Uint8Array(3072 * N);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < 3; ch++)
      for (let c = 0; c < 32; c++)
        for (let r = 0; r < 32; r++) X[r + 32 * c + 1024 * ch + 3072 * n] = pattern(n, r, c, ch);
  // MATLAB stores a double array of small integers as miUINT8 when that is smaller: test both forms.
  const y = yAsUint8
    ? matMatrix('y', MX.DOUBLE, [N, 1], MI.UINT8, Uint8Array.from(labels))
    : matMatrix('y', MX.DOUBLE, [N, 1], MI.DOUBLE, bytesOf(Float64Array.from(labels)));
  return matFile([matMatrix('X', MX.UINT8, [32, 32, 3, N], MI.UINT8, X), y], compress);
}

// ---- a minimal grayscale JPEG writer ----------------------------------------------------------------------
// jpeg-js only encodes 3-component (YCbCr) files, but Tiny ImageNet holds some 1-component ones. This writes
// a valid baseline 1-component JPEG whose 8×8 blocks are flat (DC only, quantisation 1), which decodes
// exactly: each block's value v is coded as DC = 8·(v − 128).

export function grayJpeg(width: number, height: number, blockValue: (by: number, bx: number) => number): Buffer {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const dqt = seg(0xdb, [0x00, ...new Array(64).fill(1)]);
  const sof = seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  // DC table: categories 0..11 all with 4-bit codes (canonical: category k ↦ k); AC table: EOB only, code '0'.
  const bits = (n: number, len: number) => { const b = new Array(16).fill(0); b[len - 1] = n; return b; };
  const dht = seg(0xc4, [0x00, ...bits(12, 4), ...Array.from({ length: 12 }, (_, k) => k), 0x10, ...bits(1, 1), 0x00]);
  const sos = seg(0xda, [1, 1, 0x00, 0, 63, 0]);

  const out: number[] = [];
  let acc = 0, nacc = 0;
  const put = (value: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++nacc === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0); // byte stuffing
        acc = 0;
        nacc = 0;
      }
    }
  };
  let prev = 0;
  for (let by = 0; by < Math.ceil(height / 8); by++)
    for (let bx = 0; bx < Math.ceil(width / 8); bx++) {
      const dc = 8 * (blockValue(by, bx) - 128);
      const diff = dc - prev;
      prev = dc;
      const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      put(size, 4);
      if (size > 0) put(diff >= 0 ? diff : diff + (1 << size) - 1, size);
      put(0, 1); // EOB
    }
  if (nacc > 0) put(0x7f, 8 - nacc); // pad with 1-bits
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, ...out, 0xff, 0xd9]);
}
