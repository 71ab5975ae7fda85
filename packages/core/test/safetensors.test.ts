import { describe, expect, it } from 'vitest';
import { DataError, MAX_HEADER_BYTES, ValueError, decodeSafetensors, encodeSafetensors, fromSafetensors, parseSafetensors, setBackend } from '../src/index';
import type { Backend, Tensor } from '../src/index';

/** Bytes of a safetensors file with a hand-written header (no validation on the writing side). */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const h = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const f32 = (...v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);

describe('safetensors reader: the format rules', () => {
  it('never reads before the given view (negative offsets, a secret planted in the same ArrayBuffer)', () => {
    const file = raw({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } });
    const pool = new Uint8Array(64 + file.length);
    pool.set(new TextEncoder().encode('SECRET!!SECRET!!'), 40); // right before the file in the pool
    pool.set(file, 64);
    const view = pool.subarray(64);
    expect(() => decodeSafetensors(view, 'w.safetensors')).toThrow(DataError);
    expect(() => decodeSafetensors(view, 'w.safetensors')).toThrow(/tensor 'w'.*non-negative integers/);
  });

  it('refuses overlapping entries (200 names on one block would multiply the memory)', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) header[`t${i}`] = { dtype: 'F32', shape: [4], data_offsets: [0, 16] };
    expect(() => decodeSafetensors(raw(header, new Uint8Array(16)))).toThrow(/overlap/);
  });

  it('refuses gaps and trailing bytes: entries cover the data exactly', () => {
    expect(() => decodeSafetensors(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)))).toThrow(/gap of 4 bytes/);
    expect(() => decodeSafetensors(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)))).toThrow(/cover 4 of the 8/);
  });

  it.each([
    ['a null header', null, /JSON object/],
    ['an array header', [], /JSON object/],
    ['a null entry', { w: null }, /tensor 'w'.*must be an object/],
    ['a missing data_offsets', { w: { dtype: 'F32', shape: [1] } }, /tensor 'w': data_offsets must be \[begin, end\]/],
    ['a string shape', { w: { dtype: 'F32', shape: '4', data_offsets: [0, 16] } }, /tensor 'w': shape must be an array/],
    ['a string dimension', { w: { dtype: 'F32', shape: ['4'], data_offsets: [0, 16] } }, /not a non-negative integer/],
    ['a fractional shape', { w: { dtype: 'F32', shape: [2.5, 1.6], data_offsets: [0, 16] } }, /2\.5.*not a non-negative integer/],
    ['a negative dimension', { w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, /not a non-negative integer/],
    ['fractional offsets', { w: { dtype: 'F32', shape: [4], data_offsets: [0.5, 16.5] } }, /non-negative integers/],
    ['reversed offsets', { w: { dtype: 'F32', shape: [0], data_offsets: [16, 0] } }, /reversed/],
    ['an unknown dtype', { w: { dtype: 'F33', shape: [4], data_offsets: [0, 16] } }, /unknown dtype "F33"/],
    ['an unsupported dtype', { w: { dtype: 'I32', shape: [4], data_offsets: [0, 16] } }, /I32 is not supported/],
    ['an I64 beyond 2^53', { w: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, /tensor 'w': the I64 value -6148914691236517206 is beyond ±2\^53/],
    ['a wrong byte length', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, /16 bytes for shape \[3\] of F32 \(needs 12\)/],
    ['a "__proto__" entry', JSON.parse('{"__proto__": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}'), /'__proto__'.*not allowed/],
    ['a "constructor" entry', { constructor: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, /not allowed/],
    ['non-string metadata', { __metadata__: { a: 1 }, w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, /__metadata__ 'a' must be a string/],
  ])('gives a DataError naming the entry for %s', (_what, header, message) => {
    const bytes = raw(header, new Uint8Array(16).fill(0xaa));
    expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(DataError);
    expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(message);
    expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(/^model\.safetensors: /);
  });

  it('refuses a header over 100 MB before reading it, and headers that are not UTF-8 JSON objects', () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
    expect(() => decodeSafetensors(big)).toThrow(/over the 100000000-byte limit/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => decodeSafetensors(huge)).toThrow(DataError);
    expect(() => decodeSafetensors(raw(null, undefined, ' {}'))).toThrow(/starting with \{/);
    expect(() => decodeSafetensors(raw(null, undefined, '{"a":'))).toThrow(/not valid JSON/);
    const latin = raw(null, undefined, '{}');
    latin[9] = 0xff;
    expect(() => decodeSafetensors(latin)).toThrow(/UTF-8/);
    expect(() => decodeSafetensors(null as unknown as Uint8Array)).toThrow(DataError);
  });

  it('returns null-prototype records and keeps __metadata__ strings', () => {
    const f = parseSafetensors(raw({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1, 2)));
    expect(Object.getPrototypeOf(f.tensors)).toBe(null);
    expect(Object.getPrototypeOf(f.metadata)).toBe(null);
    expect({ ...f.metadata }).toEqual({ format: 'pt' });
    expect(Array.from(f.tensors.w!.data)).toEqual([1, 2]);
    expect(f.dtypes.w).toBe('F32');
  });

  it('reads F16 and BF16 exactly, and zero-size tensors', () => {
    // F16: 1, -2, 0.5, 65504, 2^-24 (subnormal), Infinity ; BF16: 1, -3.140625, 0
    const half = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
    const bf = new Uint16Array([0x3f80, 0xc049, 0x0000]);
    const data = new Uint8Array(18);
    data.set(new Uint8Array(half.buffer), 0);
    data.set(new Uint8Array(bf.buffer), 12);
    const f = parseSafetensors(
      raw({ h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] }, b: { dtype: 'BF16', shape: [3], data_offsets: [12, 18] }, e: { dtype: 'F64', shape: [0, 5], data_offsets: [18, 18] } }, data),
    );
    expect(Array.from(f.tensors.h!.data)).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    expect(Array.from(f.tensors.b!.data)).toEqual([1, -3.140625, 0]);
    expect(f.tensors.e!.shape).toEqual([0, 5]);
    expect(f.tensors.e!.data).toBeInstanceOf(Float64Array);
  });

  it("reads I64 exactly (PyTorch's num_batches_tracked)", () => {
    const f = parseSafetensors(raw({ n: { dtype: 'I64', shape: [3], data_offsets: [0, 24] } }, new Uint8Array(new BigInt64Array([0n, -7n, 2n ** 53n]).buffer)));
    expect([f.dtypes.n, f.tensors.n!.data instanceof Float64Array, Array.from(f.tensors.n!.data)]).toEqual(['I64', true, [0, -7, 2 ** 53]]);
  });

  it('reads a file that is a subarray of a larger buffer (Node pool) without touching the rest', () => {
    const file = encodeSafetensors({ w: { shape: [3], data: new Float32Array([1, 2, 3]) } });
    const pool = new Uint8Array(file.length + 100).fill(0xaa);
    pool.set(file, 50);
    expect(Array.from(decodeSafetensors(pool.subarray(50, 50 + file.length)).w!.data)).toEqual([1, 2, 3]);
  });
});

describe('safetensors writer', () => {
  it('refuses names and values the reader would refuse', () => {
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(ValueError);
    expect(() => encodeSafetensors(JSON.parse('{"__proto__": 1}'))).toThrow(/__proto__/);
    expect(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(/'w' has 2 values for shape \[3\]/);
    expect(() => encodeSafetensors({ w: { shape: [1.5], data: new Float32Array(2) } })).toThrow(/'w' shape/);
    expect(() => encodeSafetensors({ w: { shape: [1], data: [1] as unknown as Float32Array } })).toThrow(/Float32Array/);
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(/metadata 'a'/);
  });

  it('aligns multi-byte metadata to 8 bytes', () => {
    const bytes = encodeSafetensors({ w: { shape: [1], data: new Float64Array([2]) } }, { note: 'é€😀' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    expect(parseSafetensors(bytes).metadata.note).toBe('é€😀');
  });
});

describe('fromSafetensors', () => {
  it("defaults to the registry's backend", () => {
    const made: [ArrayLike<number>, readonly number[]][] = [];
    const fake = {
      name: 'fake',
      dtype: 'float32',
      canReadSync: true,
      tensor: (v: ArrayLike<number>, s: readonly number[]) => {
        made.push([v, s]);
        return { shape: s } as unknown as Tensor;
      },
      zeros: () => null,
      readSync: () => null,
      read: () => null,
    } as unknown as Backend;
    setBackend(fake);
    const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([5, 6]) } });
    const out = fromSafetensors(bytes);
    expect(out.w!.shape).toEqual([2]);
    expect(Array.from(made[0]![0])).toEqual([5, 6]);
  });
});
