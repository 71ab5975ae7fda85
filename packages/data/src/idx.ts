import { DataError } from '@neurone/core';

/** The element types an IDX file can hold, by their type code. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array that holds each IDX element type. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its element type, its dimensions and its values in row-major order. */
export interface IdxData {
  dtype: IdxDType;
  shape: number[];
  data: IdxArray;
}

/** Type code (third byte of the magic number) → element type and size in bytes. */
const TYPES: Readonly<Record<number, { dtype: IdxDType; bytes: number }>> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The number of bytes an IDX file's header declares (header + values), read from the first
 * bytes of the file, or undefined when `bytes` is too short to hold the whole header.
 * Throws a DataError naming `source` on a bad magic number or type code.
 */
export function idxDeclaredBytes(bytes: Uint8Array, source = 'IDX data'): number | undefined {
  if (bytes.length < 4) return undefined;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${source}: bad magic number: first two bytes are ${hex(bytes[0]!)} ${hex(bytes[1]!)}, an IDX file starts with 0x00 0x00`);
  }
  const type = TYPES[bytes[2]!];
  if (type === undefined) throw new DataError(`${source}: unknown type code ${hex(bytes[2]!)}`);
  const rank = bytes[3]!;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let size = 1;
  for (let i = 0; i < rank; i++) size *= view.getUint32(4 + 4 * i, false);
  return headerBytes + size * type.bytes;
}

/**
 * Parses an IDX file (the format of MNIST and Fashion-MNIST): a magic number
 * `00 00 <type code> <rank>`, `rank` big-endian uint32 dimensions, then the values, big-endian,
 * in row-major order. Throws a DataError naming `source` when the bytes are not exactly one IDX
 * file (bad magic, unknown type code, truncated header or data, trailing bytes, gzip bytes).
 * The returned array is a fresh copy: it does not alias `bytes`.
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxData {
  const bad = (what: string): DataError => new DataError(`${source}: ${what}`);
  if (!(bytes instanceof Uint8Array)) throw bad(`expected a Uint8Array of file bytes, got ${typeof bytes}`);
  if (isGzip(bytes)) throw bad('the bytes are gzip-compressed (magic 1f 8b); decompress them first (readIdx does)');
  if (bytes.length < 4) throw bad(`truncated header: ${bytes.length} bytes, the magic number alone needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw bad(`bad magic number: first two bytes are ${hex(bytes[0]!)} ${hex(bytes[1]!)}, an IDX file starts with 0x00 0x00`);
  }
  const code = bytes[2]!;
  const type = TYPES[code];
  if (type === undefined) {
    throw bad(`unknown type code ${hex(code)} (IDX knows 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)`);
  }
  const { dtype, bytes: width } = type;
  const rank = bytes[3]!;
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw bad(`truncated header: rank ${rank} needs ${headerBytes} header bytes, the data has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    size *= d;
  }
  const expected = headerBytes + size * width;
  const shapeText = `[${shape.join(', ')}]`;
  if (bytes.length < expected) {
    throw bad(
      `truncated data: ${dtype} shape ${shapeText} needs ${expected} bytes (${headerBytes} header + ${size * width} data), ` +
        `the data has ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw bad(`${bytes.length - expected} trailing bytes after the ${size} ${dtype} values of shape ${shapeText} (expected ${expected} bytes in all)`);
  }
  return { dtype, shape, data: readValues(view, headerBytes, size, dtype, bytes) };
}

/** Reads `n` big-endian values of `dtype` starting at byte `at` into a fresh typed array. */
function readValues(view: DataView, at: number, n: number, dtype: IdxDType, bytes: Uint8Array): IdxArray {
  switch (dtype) {
    case 'uint8': {
      // a fresh buffer of exactly n values: never bytes.slice (a Node Buffer's slice is a view of its pool)
      const out = new Uint8Array(n);
      out.set(bytes.subarray(at, at + n));
      return out;
    }
    case 'int8': {
      const out = new Int8Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(at + i);
      return out;
    }
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}
