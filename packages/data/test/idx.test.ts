import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '@neurone/core';
import { parseIdx, readIdx } from '../src/index';

/** Writes an IDX file byte by byte: magic 00 00 code rank, big-endian uint32 dims, then `body`. */
function idxBytes(code: number, dims: number[], body: number[]): Uint8Array {
  const head = [0, 0, code, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...body]);
}

/** Big-endian bytes of values, through a DataView set with littleEndian = false. */
function be(kind: 'int16' | 'int32' | 'float32' | 'float64', values: number[]): number[] {
  const width = { int16: 2, int32: 4, float32: 4, float64: 8 }[kind];
  const v = new DataView(new ArrayBuffer(values.length * width));
  values.forEach((x, i) => {
    if (kind === 'int16') v.setInt16(i * 2, x, false);
    else if (kind === 'int32') v.setInt32(i * 4, x, false);
    else if (kind === 'float32') v.setFloat32(i * 4, x, false);
    else v.setFloat64(i * 8, x, false);
  });
  return [...new Uint8Array(v.buffer)];
}

describe('parseIdx: every type code', () => {
  it('0x08 uint8, rank 1', () => {
    const r = parseIdx(idxBytes(0x08, [4], [0, 1, 128, 255]));
    expect(r.dtype).toBe('uint8');
    expect(r.shape).toEqual([4]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect([...r.data]).toEqual([0, 1, 128, 255]);
  });

  it('0x09 int8 (two’s complement bytes)', () => {
    const r = parseIdx(idxBytes(0x09, [2, 2], [0x80, 0xff, 0x00, 0x7f]));
    expect(r.dtype).toBe('int8');
    expect(r.shape).toEqual([2, 2]);
    expect(r.data).toBeInstanceOf(Int8Array);
    expect([...r.data]).toEqual([-128, -1, 0, 127]);
  });

  it('0x0B int16, big-endian: bytes 01 02 are 258, ff fe are -2', () => {
    const r = parseIdx(idxBytes(0x0b, [2, 2], [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00, 0x7f, 0xff]));
    expect(r.dtype).toBe('int16');
    expect(r.data).toBeInstanceOf(Int16Array);
    expect([...r.data]).toEqual([258, -2, -32768, 32767]);
  });

  it('0x0C int32, big-endian, rank-3 shape [2, 3, 4]', () => {
    // handwritten bytes first: 01 02 03 04 = 16909060, ff ff ff ff = -1
    const hand = parseIdx(idxBytes(0x0c, [2], [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff]));
    expect([...hand.data]).toEqual([16909060, -1]);
    const values = Array.from({ length: 24 }, (_, i) => (i % 2 ? -1 : 1) * i * 100_003 + (i === 23 ? 2 ** 31 - 1 - 23 * 100_003 : 0));
    const r = parseIdx(idxBytes(0x0c, [2, 3, 4], be('int32', values)));
    expect(r.dtype).toBe('int32');
    expect(r.shape).toEqual([2, 3, 4]);
    expect(r.data).toBeInstanceOf(Int32Array);
    expect([...r.data]).toEqual(values);
  });

  it('0x0D float32, big-endian: bytes 3f 80 00 00 are 1, c0 20 00 00 are -2.5', () => {
    const hand = parseIdx(idxBytes(0x0d, [2], [0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0]));
    expect([...hand.data]).toEqual([1, -2.5]);
    const values = [0.5, -1.25, 3.4028234663852886e38, Math.fround(0.1), -0, Infinity];
    const r = parseIdx(idxBytes(0x0d, [3, 2], be('float32', values)));
    expect(r.dtype).toBe('float32');
    expect(r.shape).toEqual([3, 2]);
    expect(r.data).toBeInstanceOf(Float32Array);
    expect([...r.data]).toEqual(values);
  });

  it('0x0E float64, big-endian: bytes c0 00 .. 00 are -2', () => {
    const hand = parseIdx(idxBytes(0x0e, [1], [0xc0, 0, 0, 0, 0, 0, 0, 0]));
    expect([...hand.data]).toEqual([-2]);
    const values = [Math.PI, -1e300, 5e-324, 0.1];
    const r = parseIdx(idxBytes(0x0e, [1, 2, 2], be('float64', values)));
    expect(r.dtype).toBe('float64');
    expect(r.shape).toEqual([1, 2, 2]);
    expect(r.data).toBeInstanceOf(Float64Array);
    expect([...r.data]).toEqual(values);
  });

  it('a zero-length dimension gives an empty array', () => {
    const r = parseIdx(idxBytes(0x0d, [0, 5], []));
    expect(r.shape).toEqual([0, 5]);
    expect(r.data.length).toBe(0);
  });

  it('reads a view at a non-zero byte offset (Node pools small Buffers) and returns a copy', () => {
    const file = idxBytes(0x0b, [3], be('int16', [-7, 300, 12]));
    const big = new Uint8Array(file.length + 13);
    big.set(file, 13);
    const view = big.subarray(13);
    const r = parseIdx(view);
    expect([...r.data]).toEqual([-7, 300, 12]);
    const big8 = new Uint8Array(20);
    big8.set(idxBytes(0x08, [2], [9, 8]), 5);
    expect([...parseIdx(big8.subarray(5, 15)).data]).toEqual([9, 8]);
    const bytes = idxBytes(0x08, [2], [9, 8]);
    const r8 = parseIdx(bytes);
    bytes[8] = 100;
    expect([...r8.data]).toEqual([9, 8]);
  });
});

describe('parseIdx: corrupt input throws a DataError naming the source', () => {
  const good = idxBytes(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /truncated header/],
    ['3 bytes', good.slice(0, 3), /truncated header/],
    ['header cut inside the dimensions', good.slice(0, 9), /truncated header: rank 2 needs 12 header bytes, the data has 9/],
    ['data one byte short', good.slice(0, good.length - 1), /truncated data: uint8 shape \[2, 3\] needs 18 bytes .* the data has 17/],
    ['no data at all', good.slice(0, 12), /truncated data/],
    ['one trailing byte', Uint8Array.from([...good, 0]), /1 trailing bytes/],
    ['bad magic (first byte)', Uint8Array.from([1, ...good.slice(1)]), /bad magic number: first two bytes are 0x01 0x00/],
    ['bad magic (second byte)', Uint8Array.from([0, 7, ...good.slice(2)]), /bad magic number/],
    ['unknown type code 0x0a', Uint8Array.from([0, 0, 0x0a, ...good.slice(3)]), /unknown type code 0x0a/],
    ['unknown type code 0x07', Uint8Array.from([0, 0, 0x07, ...good.slice(3)]), /unknown type code 0x07/],
    ['gzip bytes', gzipSync(good), /gzip-compressed/],
    ['float64 data short by one value', idxBytes(0x0e, [3], be('float64', [1, 2])), /truncated data: float64 shape \[3\] needs 32 bytes/],
    ['huge declared dimensions', idxBytes(0x0c, [0xffffffff, 0xffffffff], [1, 2, 3, 4]), /truncated data/],
  ];
  for (const [name, bytes, why] of cases) {
    it(name, () => {
      let err: unknown;
      try {
        parseIdx(bytes, 'broken.idx');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toMatch(/^broken\.idx: /);
      expect((err as Error).message).toMatch(why);
    });
  }

  it('uses "IDX data" as the source when none is given', () => {
    expect(() => parseIdx(new Uint8Array(2))).toThrow(/^IDX data: truncated header/);
  });
});

describe('readIdx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = idxBytes(0x0b, [2, 2], be('int16', [1, -2, 300, -400]));

  it('reads a plain file', () => {
    const path = join(dir, 'plain-idx2-short');
    writeFileSync(path, file);
    const r = readIdx(path);
    expect(r).toEqual({ dtype: 'int16', shape: [2, 2], data: Int16Array.from([1, -2, 300, -400]) });
  });

  it('gunzips a gzip-compressed file, whatever its name', () => {
    for (const name of ['packed-idx2-short.gz', 'packed-no-extension']) {
      const path = join(dir, name);
      writeFileSync(path, gzipSync(file));
      expect(readIdx(path)).toEqual(readIdx(join(dir, 'plain-idx2-short')));
    }
  });

  it('names the path in every error: truncated, corrupt gzip, truncated inside gzip, missing', () => {
    const truncated = join(dir, 'truncated');
    writeFileSync(truncated, file.slice(0, 14));
    expect(() => readIdx(truncated)).toThrow(DataError);
    expect(() => readIdx(truncated)).toThrow(`${truncated}: truncated data`);

    const badGz = join(dir, 'bad.gz');
    writeFileSync(badGz, Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5]));
    expect(() => readIdx(badGz)).toThrow(DataError);
    expect(() => readIdx(badGz)).toThrow(`${badGz}: corrupt gzip data`);

    const shortGz = join(dir, 'short.gz');
    writeFileSync(shortGz, gzipSync(file.slice(0, file.length - 2)));
    expect(() => readIdx(shortGz)).toThrow(`${shortGz}: truncated data`);

    const missing = join(dir, 'missing');
    expect(() => readIdx(missing)).toThrow(DataError);
    expect(() => readIdx(missing)).toThrow(`${missing}: cannot read the file`);
  });
});

describe('readIdx: exact copies, bounded inflation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-idx-safe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('int8 and uint8 results hold exactly their values in a fresh buffer (not Node\'s pool)', () => {
    const p8 = join(dir, 'int8');
    writeFileSync(p8, idxBytes(0x09, [3], [0xff, 0x01, 0x80]));
    const i8 = readIdx(p8);
    expect([...i8.data]).toEqual([-1, 1, -128]);
    expect(i8.data.buffer.byteLength).toBe(3);
    const pu = join(dir, 'uint8');
    writeFileSync(pu, idxBytes(0x08, [3], [7, 8, 9]));
    const u8 = readIdx(pu);
    expect([...u8.data]).toEqual([7, 8, 9]);
    expect(u8.data.buffer.byteLength).toBe(3);
    expect(u8.data.byteOffset).toBe(0);
  });

  it('stops inflating a gzip bomb at the size its header declares', () => {
    // header: uint8 [100]; then 64 MiB of zeros (a ~64 KiB gzip)
    const body = new Uint8Array(8 + 64 * 1024 * 1024);
    body.set(idxBytes(0x08, [100], []));
    const bomb = join(dir, 'bomb.gz');
    writeFileSync(bomb, gzipSync(body));
    expect(() => readIdx(bomb)).toThrow(DataError);
    expect(() => readIdx(bomb)).toThrow(`${bomb}: the gzip data inflates past the 108 bytes its IDX header declares`);
  });

  it('refuses a header that declares more than the gzip bytes could inflate to', () => {
    const liar = join(dir, 'liar.gz');
    writeFileSync(liar, gzipSync(idxBytes(0x08, [60000, 28, 28], [1, 2, 3])));
    expect(() => readIdx(liar)).toThrow(/declares 47040016 bytes, more than \d+ gzip bytes can hold/);
  });

  it('names the file for a gzip whose inflated header is bad', () => {
    const badMagic = join(dir, 'badmagic.gz');
    writeFileSync(badMagic, gzipSync(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])));
    expect(() => readIdx(badMagic)).toThrow(`${badMagic}: bad magic number`);
  });
});
