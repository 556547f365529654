import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  MAX_HEADER_BYTES,
  SafetensorsError,
  type SafetensorsTensor,
} from '../engine/io/safetensors.ts';

/** A file from a literal header string and data bytes, for hand-made (and broken) inputs. */
function fileFrom(header: string, data: number[] = [], declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Expects decoding to fail with a SafetensorsError naming the source and matching `pattern`. */
function expectDecodeError(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    decodeSafetensors(bytes, 'model.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SafetensorsError);
  const message = (err as Error).message;
  expect(message).toMatch(/^model\.safetensors: /);
  expect(message).toMatch(pattern);
}

const f32 = (shape: number[], values: number[]): SafetensorsTensor => ({ dtype: 'F32', shape, data: new Float32Array(values) });

describe('safetensors round trip', () => {
  it('preserves several tensors of every dtype and the metadata', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'layer1.0.conv1.weight': f32([3, 3, 1, 2], Array.from({ length: 18 }, (_, i) => i * 0.25 - 2)),
      'fc.bias': f32([3], [1.5, -0, Number.NEGATIVE_INFINITY]),
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], data: new BigInt64Array([123456789012345n]) },
      labels: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-1, 0, 7, 2 ** 31 - 1]) },
      mask: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 2, 254, 255]) },
      precise: { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, 1e-300]) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    };
    const metadata = { format: 'pt', epoch: '17', note: 'ünïcode ✓' };
    const bytes = encodeSafetensors(tensors, metadata);

    // the byte buffer starts 8-byte aligned
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);

    const decoded = decodeSafetensors(bytes, 'rt.safetensors');
    expect(decoded.metadata).toEqual(metadata);
    expect(Object.keys(decoded.tensors)).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      const got = decoded.tensors[name];
      expect(got.dtype, name).toBe(tensor.dtype);
      expect(got.shape, name).toEqual(tensor.shape);
      expect(got.data.constructor, name).toBe(tensor.data.constructor);
      expect(Array.from(got.data as ArrayLike<number | bigint>), name).toEqual(Array.from(tensor.data as ArrayLike<number | bigint>));
    }
    // -0 survives bit-exactly
    expect(Object.is(decoded.tensors['fc.bias'].data[1], -0)).toBe(true);
  });

  it('without metadata writes no __metadata__ and decodes to {}', () => {
    const bytes = encodeSafetensors({ x: f32([1], [2]) });
    expect(new TextDecoder().decode(bytes)).not.toContain('__metadata__');
    expect(decodeSafetensors(bytes).metadata).toEqual({});
  });

  it('copies data out of a subarray view at an unaligned offset', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }, b: f32([2], [0.5, 4]) });
    // embed at an odd offset inside a larger buffer: the decoder must not assume alignment
    const host = new Uint8Array(bytes.length + 1);
    host.set(bytes, 1);
    const decoded = decodeSafetensors(host.subarray(1));
    expect(Array.from(decoded.tensors.b.data as Float32Array)).toEqual([0.5, 4]);
  });
});

describe('safetensors byte-exact encoding', () => {
  it('matches a file assembled by hand', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) },
        a: f32([1], [1]),
      },
      { format: 'pt' },
    );
    // metadata first, then tensors in name order, packed back to back; 137 bytes of JSON pad to 144
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}';
    expect(json.length).toBe(137);
    const padded = json + '       ';
    const expected = [
      ...[padded.length, 0, 0, 0, 0, 0, 0, 0], // u64 LE header length (< 256)
      ...Array.from(padded, (ch) => ch.charCodeAt(0)),
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
      ...[0x01, 0x02],
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('pads the header with spaces', () => {
    // {"x":{"dtype":"U8","shape":[],"data_offsets":[0,1]}} is 52 bytes: 4 spaces make 56
    const bytes = encodeSafetensors({ x: { dtype: 'U8', shape: [], data: new Uint8Array([9]) } });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(56);
    expect(new TextDecoder().decode(bytes.subarray(8 + 52, 8 + 56))).toBe('    ');
    expect(bytes.length).toBe(8 + 56 + 1);
    expect(bytes[64]).toBe(9);
  });

  it('decodes a header without padding, with whitespace, and with unknown extra fields', () => {
    const header = '{ "t" : {"dtype":"I32","shape":[1],"data_offsets":[0,4],"extra":true} }';
    const decoded = decodeSafetensors(fileFrom(header, [0xff, 0xff, 0xff, 0xff]));
    expect(Array.from(decoded.tensors.t.data as Int32Array)).toEqual([-1]);
  });
});

describe('safetensors encoding errors', () => {
  it('rejects data that does not match dtype or shape, and the reserved name', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(
      /tensor 'w' has dtype F32, so its data must be a Float32Array/,
    );
    expect(() => encodeSafetensors({ w: f32([3], [1, 2]) })).toThrow(/shape \[3\] has 3 elements but data has 2/);
    expect(() => encodeSafetensors({ w: f32([-2], []) })).toThrow(SafetensorsError);
    expect(() => encodeSafetensors({ __metadata__: f32([1], [1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).toThrow(/expected a string/);
  });
});

describe('safetensors decoding errors', () => {
  // 54 bytes of JSON + 8 data bytes: a 70-byte file
  const good = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const eight = [0, 0, 0, 0, 0, 0, 0, 0];

  it('accepts the well-formed file the error cases are derived from', () => {
    expect(decodeSafetensors(fileFrom(good, eight)).tensors.a.shape).toEqual([2]);
  });

  it('file shorter than 8 bytes', () => {
    expectDecodeError(new Uint8Array(5), /file is 5 bytes; expected at least 8/);
  });

  it('header length larger than the file', () => {
    expectDecodeError(fileFrom(good, eight, 1000), /header length 1000 runs past the end of the 70-byte file/);
  });

  it('header length over the limit', () => {
    expectDecodeError(fileFrom(good, eight, MAX_HEADER_BYTES + 1), /exceeds the 100000000-byte limit/);
    const huge = new Uint8Array(8).fill(0xff); // 2^64 − 1
    expectDecodeError(huge, /exceeds/);
  });

  it('header not valid JSON, not UTF-8, or not an object', () => {
    expectDecodeError(fileFrom('{"a": ', []), /header is not valid JSON.*expected a JSON object/);
    expectDecodeError(fileFrom('', []), /not valid JSON/);
    expectDecodeError(fileFrom('[1, 2]', []), /header is an array; expected a JSON object/);
    expectDecodeError(fileFrom('null', []), /header is null/);
    const bad = fileFrom('{"a":1}');
    bad[10] = 0xff;
    expectDecodeError(bad, /not valid UTF-8/);
  });

  it('tensor entry not an object', () => {
    expectDecodeError(fileFrom('{"a": 3}'), /tensor 'a': entry is a number; expected an object/);
  });

  it('unknown dtype', () => {
    const header = '{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}';
    expectDecodeError(fileFrom(header, [0, 0, 0, 0]), /tensor 'a': dtype "F16" is not supported; expected one of F32, I32, I64, F64, U8/);
    expectDecodeError(fileFrom('{"a":{"shape":[2],"data_offsets":[0,4]}}'), /dtype undefined/);
  });

  it('shape not an array of non-negative integers', () => {
    for (const shape of ['[-1]', '[1.5]', '"2"', '["2"]', 'null', '[2, null]']) {
      const header = `{"a":{"dtype":"U8","shape":${shape},"data_offsets":[0,2]}}`;
      expectDecodeError(fileFrom(header, [0, 0]), /tensor 'a': shape .*expected an array of non-negative integers/);
    }
  });

  it('data_offsets malformed or out of range', () => {
    const withOffsets = (offsets: string, data = eight) =>
      fileFrom(`{"a":{"dtype":"F32","shape":[2],"data_offsets":${offsets}}}`, data);
    for (const bad of ['[0]', '[0, 8, 9]', '"0,8"', '[-8, 0]', '[0, 8.5]']) {
      expectDecodeError(withOffsets(bad), /data_offsets .*expected \[begin, end\] non-negative integers/);
    }
    expectDecodeError(withOffsets('[0,8]', [0, 0, 0, 0]), /data_offsets \[0, 8\] out of range; expected begin <= end <= 4/);
    expectDecodeError(withOffsets('[8,0]'), /out of range/);
  });

  it('data_offsets not matching shape × dtype size', () => {
    const header = '{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}';
    expectDecodeError(fileFrom(header, eight), /cover 8 bytes; expected 16 \(shape \[2\] of F64\)/);
  });

  it('overlapping tensors', () => {
    const header =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}}';
    expectDecodeError(fileFrom(header, new Array(10).fill(0)), /tensors 'a' \[0, 4\] and 'b' \[2, 10\] overlap/);
    // an empty tensor overlaps nothing
    const empty =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' + '"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}';
    expect(decodeSafetensors(fileFrom(empty, eight)).tensors.z.data.length).toBe(0);
  });

  it('metadata values not strings, or metadata not an object', () => {
    expectDecodeError(fileFrom('{"__metadata__":{"epoch":17}}'), /__metadata__\['epoch'\] is a number; expected a string/);
    expectDecodeError(fileFrom('{"__metadata__":["x"]}'), /__metadata__ is an array; expected an object of strings/);
  });

  it('uses a default source name', () => {
    expect(() => decodeSafetensors(new Uint8Array(0))).toThrow(/^safetensors data: /);
  });
});
