// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
//
//   [8 bytes: header length N, little-endian u64]
//   [N bytes: UTF-8 JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {...}},
//             padded with spaces so that the byte buffer starts 8-byte aligned]
//   [byte buffer: little-endian tensor data; data_offsets are relative to its start]
//
// Pure functions on Uint8Array with no Node imports, so that the same code loads checkpoints in a browser.
// A file is untrusted input: decoding checks everything before it allocates or copies, and every error names
// the file and what was expected, so that a bad checkpoint fails with a message a user can act on.

export type SafetensorsDtype = 'F32' | 'I32' | 'I64' | 'F64' | 'U8';
export type SafetensorsData = Float32Array | Int32Array | BigInt64Array | Float64Array | Uint8Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The same limit as the reference implementation: a larger header is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

type DtypeInfo = {
  bytes: number;
  ctor: { new (buffer: ArrayBuffer): SafetensorsData; name: string };
};

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F32: { bytes: 4, ctor: Float32Array },
  I32: { bytes: 4, ctor: Int32Array },
  I64: { bytes: 8, ctor: BigInt64Array },
  F64: { bytes: 8, ctor: Float64Array },
  U8: { bytes: 1, ctor: Uint8Array },
};

const DTYPE_NAMES = Object.keys(DTYPES).join(', ');

function isDtype(x: unknown): x is SafetensorsDtype {
  return typeof x === 'string' && Object.hasOwn(DTYPES, x);
}

// Typed arrays use the host's byte order and the format is little-endian; every current browser and Node
// platform is little-endian, but swapping on a big-endian host costs one branch here.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytesInPlace(bytes: Uint8Array, width: number): void {
  if (HOST_IS_LITTLE_ENDIAN || width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/**
 * Serialises tensors (in name order, packed back to back) and optional string metadata. The tensors' data
 * must be the typed array of their dtype with exactly shape's product elements.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header[METADATA_KEY] = checkedMetadata(metadata, 'encodeSafetensors');
  let offset = 0;
  for (const name of names) {
    const tensor = tensors[name];
    checkTensorForEncoding(name, tensor);
    const size = tensor.data.byteLength;
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // space padding keeps the header valid JSON

  let at = 8 + headerLength;
  for (const name of names) {
    const { dtype, data } = tensors[name];
    const bytes = out.subarray(at, at + data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    swapBytesInPlace(bytes, DTYPES[dtype].bytes);
    at += data.byteLength;
  }
  return out;
}

function checkTensorForEncoding(name: string, tensor: SafetensorsTensor): void {
  const where = `encodeSafetensors: tensor '${name}'`;
  if (name === METADATA_KEY) throw new SafetensorsError(`encodeSafetensors: '${METADATA_KEY}' is reserved, not a tensor name`);
  if (!isDtype(tensor.dtype)) throw new SafetensorsError(`${where} has dtype ${JSON.stringify(tensor.dtype)}; expected one of ${DTYPE_NAMES}`);
  const { ctor } = DTYPES[tensor.dtype];
  if (!(tensor.data instanceof ctor)) {
    throw new SafetensorsError(`${where} has dtype ${tensor.dtype}, so its data must be a ${ctor.name}`);
  }
  const count = elementCount(tensor.shape);
  if (count === undefined) throw new SafetensorsError(`${where}: shape must be an array of non-negative integers`);
  if (count !== tensor.data.length) {
    throw new SafetensorsError(`${where}: shape [${tensor.shape}] has ${count} elements but data has ${tensor.data.length}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

/**
 * Parses a safetensors file. `source` (typically the file name) is named in every error message. Tensor data
 * is copied into fresh, aligned typed arrays, so the result does not keep `bytes` alive.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: Record<string, SafetensorsTensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  const header = readHeader(bytes, fail);
  const dataStart = 8 + header.length;
  const dataLength = bytes.length - dataStart;

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header.json)) {
    if (name === METADATA_KEY) metadata = checkedMetadata(value, source);
    else entries.push(parseEntry(name, value, dataLength, fail));
  }
  checkNoOverlap(entries, fail);

  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: copyTensorData(bytes, dataStart, e) };
  }
  return { tensors, metadata };
}

type Fail = (msg: string) => never;

/** The header length prefix and the parsed JSON object it covers. */
function readHeader(bytes: Uint8Array, fail: Fail): { length: number; json: Record<string, unknown> } {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes; expected at least 8 (the header length prefix)`);
  const length64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (length64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${length64} exceeds the ${MAX_HEADER_BYTES}-byte limit; expected a safetensors file`);
  }
  const length = Number(length64);
  if (8 + length > bytes.length) {
    fail(`header length ${length} runs past the end of the ${bytes.length}-byte file; expected a complete file`);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length));
  } catch {
    return fail('header is not valid UTF-8; expected a JSON object');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}); expected a JSON object`);
  }
  if (!isPlainObject(json)) fail(`header is ${describeJson(json)}; expected a JSON object`);
  return { length, json: json as Record<string, unknown> };
}

type Entry = { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number };

/** One tensor's header entry, checked against the dtype table and the byte buffer's length. */
function parseEntry(name: string, value: unknown, dataLength: number, fail: Fail): Entry {
  const where = `tensor '${name}'`;
  if (!isPlainObject(value)) return fail(`${where}: entry is ${describeJson(value)}; expected an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;

  if (!isDtype(dtype)) return fail(`${where}: dtype ${JSON.stringify(dtype)} is not supported; expected one of ${DTYPE_NAMES}`);
  const count = Array.isArray(shape) ? elementCount(shape) : undefined;
  if (count === undefined) {
    return fail(`${where}: shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return fail(`${where}: data_offsets ${JSON.stringify(offsets)}; expected [begin, end] non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    return fail(`${where}: data_offsets [${begin}, ${end}] out of range; expected begin <= end <= ${dataLength} (the data size)`);
  }
  const expected = count * DTYPES[dtype].bytes;
  if (end - begin !== expected) {
    return fail(
      `${where}: data_offsets [${begin}, ${end}] cover ${end - begin} bytes; expected ${expected} ` +
        `(shape [${shape}] of ${dtype})`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** Two tensors sharing bytes would alias each other's data: a corrupt file. Empty tensors occupy nothing. */
function checkNoOverlap(entries: Entry[], fail: Fail): void {
  const ranges = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const [prev, cur] = [ranges[i - 1], ranges[i]];
    if (cur.begin < prev.end) {
      fail(
        `tensors '${prev.name}' [${prev.begin}, ${prev.end}] and '${cur.name}' [${cur.begin}, ${cur.end}] overlap; ` +
          'expected disjoint data_offsets',
      );
    }
  }
}

/** Copies into a fresh buffer because a typed array view needs alignment the file does not guarantee. */
function copyTensorData(bytes: Uint8Array, dataStart: number, e: Entry): SafetensorsData {
  const { bytes: width, ctor } = DTYPES[e.dtype];
  const copy = bytes.slice(dataStart + e.begin, dataStart + e.end);
  swapBytesInPlace(copy, width);
  return new ctor(copy.buffer);
}

// ---------------------------------------------------------------------------------------------------------
// Shared checks

function checkedMetadata(value: unknown, source: string): Record<string, string> {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`${source}: ${METADATA_KEY} is ${describeJson(value)}; expected an object of strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`${source}: ${METADATA_KEY}['${k}'] is ${describeJson(v)}; expected a string`);
    }
    out[k] = v;
  }
  return out;
}

/** Product of the dimensions, or undefined when shape is not an array of non-negative integers. */
function elementCount(shape: unknown[]): number | undefined {
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) return undefined;
  const count = (shape as number[]).reduce((n, d) => n * d, 1);
  return Number.isSafeInteger(count) ? count : undefined;
}

function isNonNegativeInteger(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isPlainObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describeJson(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}
