// A minimal reader for MATLAB Level 5 MAT-files (the format of SVHN's train_32x32.mat / test_32x32.mat),
// written from "MAT-File Format" (MathWorks, R2019b, ch. 1). Only what datasets need: numeric, char and
// logical arrays, optionally inside miCOMPRESSED (zlib) elements; structs, cells, objects and sparse arrays
// are skipped. Layout:
//   128-byte header: 116 bytes of text, 8 bytes subsystem offset, u16 version (0x0100), 2 bytes endian
//     indicator 'IM' when the file is little-endian ('MI' big-endian).
//   data elements: tag (u32 type, u32 byte count) then data padded to 8 bytes, or the "small data element"
//     form where a ≤4-byte payload shares the 8-byte tag (upper 16 bits of the first word = byte count).
//   miMATRIX (14): sub-elements array flags (miUINT32 ×2: class in the low byte, complex 0x800), dimensions
//     (miINT32), name (miINT8), real part (any numeric type, often narrower than the class, e.g. a double
//     array stored as miUINT8), optional imaginary part.
//   miCOMPRESSED (15): a zlib stream that inflates to further elements (usually one miMATRIX); top-level
//     compressed elements are not padded.
// Numeric data are column-major: element (i0, i1, i2, …) lies at i0 + d0·(i1 + d1·(i2 + …)).

import { inflateSync } from 'node:zlib';
import { DataError } from './dataset.ts';

export type MatNumeric =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface MatArray {
  name: string;
  /** mxClass: 4 char, 6 double, 7 single, 8 int8, 9 uint8, 10 int16, 11 uint16, 12 int32, 13 uint32, 14/15 int64/uint64. */
  classId: number;
  dims: number[];
  /** Real part exactly as stored (its type may be narrower than classId says). Uint8/Int8 data may be a view. */
  real: MatNumeric;
  imag?: MatNumeric;
  logical: boolean;
}

// Data types (miXXX) and their element sizes.
const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6;
const MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15;
const MI_UTF8 = 16, MI_UTF16 = 17, MI_UTF32 = 18;
const ELEMENT_SIZE: Record<number, number> = {
  [MI_INT8]: 1, [MI_UINT8]: 1, [MI_INT16]: 2, [MI_UINT16]: 2, [MI_INT32]: 4, [MI_UINT32]: 4,
  [MI_SINGLE]: 4, [MI_DOUBLE]: 8, [MI_INT64]: 8, [MI_UINT64]: 8, [MI_UTF8]: 1, [MI_UTF16]: 2, [MI_UTF32]: 4,
};
// mxClasses we decode: char (4) and the numeric classes 6..15. Others (cell 1, struct 2, object 3, sparse 5…)
// are skipped.
const MX_CHAR = 4;
const isReadableClass = (c: number) => c === MX_CHAR || (c >= 6 && c <= 15);

/** Parses a whole MAT v5 file; returns its readable variables by name. `path` is only used in messages. */
export function readMat(buf: Uint8Array, path: string): Map<string, MatArray> {
  if (buf.length < 128) throw new DataError(`${path}: ${buf.length} bytes, expected a MAT-file of at least 128 bytes`);
  const header = Buffer.from(buf.buffer, buf.byteOffset, 128);
  const text = header.toString('latin1', 0, 116);
  const endian = header.toString('latin1', 126, 128);
  if (text.startsWith('MATLAB 7.3'))
    throw new DataError(`${path}: MATLAB v7.3 (HDF5) MAT-file, expected a Level 5 MAT-file (save with -v7 or -v6)`);
  if (endian === 'MI')
    throw new DataError(`${path}: big-endian MAT-file ('MI'), only little-endian ('IM') files are supported`);
  if (endian !== 'IM' || header.readUInt16LE(124) !== 0x0100)
    throw new DataError(`${path}: not a MATLAB Level 5 MAT-file (expected version 0x0100 and 'IM' at bytes 124..127)`);
  const out = new Map<string, MatArray>();
  readElements(buf, 128, buf.length, path, out, true);
  return out;
}

interface Tag {
  type: number;
  bytes: number;
  dataStart: number;
  next: number; // offset of the following element
}

function readTag(view: DataView, pos: number, end: number, path: string, topLevel: boolean): Tag {
  if (pos + 8 > end) throw truncated(path, pos, 'an element tag');
  const first = view.getUint32(pos, true);
  if (first >>> 16 !== 0) {
    // Small data element: byte count in the upper half, payload in the tag's second word.
    const bytes = first >>> 16;
    if (bytes > 4) throw new DataError(`${path}: malformed small data element at byte ${pos} (${bytes} bytes > 4)`);
    return { type: first & 0xffff, bytes, dataStart: pos + 4, next: pos + 8 };
  }
  const bytes = view.getUint32(pos + 4, true);
  const dataStart = pos + 8;
  // Compressed elements at top level are written without padding; everything else is padded to 8 bytes.
  const padded = topLevel && first === MI_COMPRESSED ? bytes : Math.ceil(bytes / 8) * 8;
  if (dataStart + bytes > end) throw truncated(path, pos, `an element of ${bytes} bytes`);
  return { type: first, bytes, dataStart, next: Math.min(dataStart + padded, end) };
}

function truncated(path: string, pos: number, what: string): DataError {
  return new DataError(`${path}: truncated MAT-file, expected ${what} at byte ${pos}`);
}

function readElements(buf: Uint8Array, pos: number, end: number, path: string, out: Map<string, MatArray>, top: boolean) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (pos < end) {
    if (top && end - pos < 8 && buf.subarray(pos, end).every((b) => b === 0)) break; // trailing padding
    const tag = readTag(view, pos, end, path, top);
    if (tag.type === MI_COMPRESSED) {
      let inner: Buffer;
      try {
        inner = inflateSync(buf.subarray(tag.dataStart, tag.dataStart + tag.bytes));
      } catch (e) {
        throw new DataError(`${path}: cannot inflate compressed element at byte ${pos}: ${(e as Error).message}`);
      }
      readElements(inner, 0, inner.length, `${path} (compressed element at byte ${pos})`, out, false);
    } else if (tag.type === MI_MATRIX) {
      const arr = tag.bytes === 0 ? null : readMatrix(buf, view, tag.dataStart, tag.dataStart + tag.bytes, path);
      if (arr) out.set(arr.name, arr);
    } // other top-level element types carry no variables: skip them
    pos = tag.next;
  }
}

function readMatrix(buf: Uint8Array, view: DataView, pos: number, end: number, path: string): MatArray | null {
  const flagsTag = readTag(view, pos, end, path, false);
  if (flagsTag.type !== MI_UINT32 || flagsTag.bytes !== 8)
    throw new DataError(`${path}: miMATRIX at byte ${pos - 8} lacks its array-flags sub-element`);
  const flags = view.getUint32(flagsTag.dataStart, true);
  const classId = flags & 0xff;
  const complex = (flags & 0x800) !== 0;
  const logical = (flags & 0x200) !== 0;
  if (!isReadableClass(classId)) return null;
  pos = flagsTag.next;

  const dimTag = readTag(view, pos, end, path, false);
  if (dimTag.type !== MI_INT32 || dimTag.bytes % 4 !== 0)
    throw new DataError(`${path}: miMATRIX dimensions at byte ${pos} are not miINT32`);
  const dims: number[] = [];
  for (let i = 0; i < dimTag.bytes / 4; i++) dims.push(view.getInt32(dimTag.dataStart + 4 * i, true));
  pos = dimTag.next;

  const nameTag = readTag(view, pos, end, path, false);
  const name = Buffer.from(buf.buffer, buf.byteOffset + nameTag.dataStart, nameTag.bytes).toString('latin1');
  pos = nameTag.next;

  const count = dims.reduce((a, b) => a * b, 1);
  const realTag = readTag(view, pos, end, path, false);
  const real = readNumeric(buf, view, realTag, count, `${path}: variable '${name}'`);
  pos = realTag.next;
  let imag: MatNumeric | undefined;
  if (complex) {
    const imagTag = readTag(view, pos, end, path, false);
    imag = readNumeric(buf, view, imagTag, count, `${path}: variable '${name}' (imaginary part)`);
  }
  return { name, classId, dims, real, logical, ...(imag ? { imag } : {}) };
}

function readNumeric(buf: Uint8Array, view: DataView, tag: Tag, count: number, what: string): MatNumeric {
  const size = ELEMENT_SIZE[tag.type];
  if (size === undefined || tag.type === MI_UTF8 || tag.type === MI_UTF16 || tag.type === MI_UTF32) {
    if (size !== undefined && tag.bytes === count * size) {
      // char arrays stored as UTF code units: read as unsigned integers of that width
      return readTyped(buf, view, { ...tag, type: size === 1 ? MI_UINT8 : size === 2 ? MI_UINT16 : MI_UINT32 }, count);
    }
    throw new DataError(`${what} has unsupported data type ${tag.type}`);
  }
  if (tag.bytes !== count * size)
    throw new DataError(`${what} holds ${tag.bytes} bytes, expected ${count} elements × ${size} bytes`);
  return readTyped(buf, view, tag, count);
}

function readTyped(buf: Uint8Array, view: DataView, tag: Tag, n: number): MatNumeric {
  const s = tag.dataStart;
  switch (tag.type) {
    case MI_UINT8:
      return buf.subarray(s, s + n); // no copy: SVHN's X is hundreds of MB
    case MI_INT8:
      return new Int8Array(buf.buffer, buf.byteOffset + s, n);
  }
  // Wider types: read through the DataView (little-endian, no alignment requirement) into a fresh array.
  const make = <T extends MatNumeric>(arr: T, get: (o: number) => any, size: number): T => {
    for (let i = 0; i < n; i++) arr[i] = get(s + i * size);
    return arr;
  };
  switch (tag.type) {
    case MI_INT16: return make(new Int16Array(n), (o) => view.getInt16(o, true), 2);
    case MI_UINT16: return make(new Uint16Array(n), (o) => view.getUint16(o, true), 2);
    case MI_INT32: return make(new Int32Array(n), (o) => view.getInt32(o, true), 4);
    case MI_UINT32: return make(new Uint32Array(n), (o) => view.getUint32(o, true), 4);
    case MI_SINGLE: return make(new Float32Array(n), (o) => view.getFloat32(o, true), 4);
    case MI_DOUBLE: return make(new Float64Array(n), (o) => view.getFloat64(o, true), 8);
    case MI_INT64: return make(new BigInt64Array(n), (o) => view.getBigInt64(o, true), 8);
    case MI_UINT64: return make(new BigUint64Array(n), (o) => view.getBigUint64(o, true), 8);
  }
  throw new Error(`unreachable MAT type ${tag.type}`);
}
