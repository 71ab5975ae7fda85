import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NeuroneError } from '@neurone/core';
import { parseIdx, readIdx } from '../src/index';
import type { IdxData } from '../src/index';

/**
 * Property-based fuzzing of the IDX reader: every input parses or throws a typed error, a result
 * is a fresh array holding exactly its values (read from the file only), never a view of a larger
 * buffer, and gzip inflation never goes past what the header declares.
 */

const SECRET = 0x5a;
const WIDTH: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

function header(code: number, dims: number[]): number[] {
  const h = [0, 0, code, dims.length];
  for (const d of dims) h.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return h;
}

function checkResult(r: IdxData, fileLength: number): void {
  const n = r.shape.reduce((a, d) => a * d, 1);
  expect(r.data.length).toBe(n);
  expect(r.data.byteOffset).toBe(0);
  expect(r.data.buffer.byteLength).toBe(r.data.byteLength); // exactly its values, no pool behind
  expect(r.data.byteLength).toBeLessThanOrEqual(fileLength);
  for (const v of r.data) expect(v).toBe(0); // the file's values are all 0; the secret is not
}

function checkParse(file: Uint8Array): void {
  const pool = new Uint8Array(file.length + 64).fill(SECRET);
  pool.set(file, 32);
  let r: IdxData;
  try {
    r = parseIdx(pool.subarray(32, 32 + file.length), 'fuzz.idx');
  } catch (e) {
    expect(e).toBeInstanceOf(NeuroneError);
    expect((e as Error).message.startsWith('fuzz.idx: ')).toBe(true);
    return;
  }
  checkResult(r, file.length);
}

const code = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e) }, fc.nat(255));
const dims = fc.array(fc.oneof({ weight: 6, arbitrary: fc.nat(5) }, fc.constantFrom(0xffffffff, 0x10000, 1e6)), { maxLength: 4 });

describe('fuzz: IDX reader', () => {
  it('headers with random dims and a body of random length', () => {
    fc.assert(
      fc.property(code, dims, fc.nat(300), (c, d, extra) => {
        const want = d.reduce((a, x) => a * x, 1) * (WIDTH[c] ?? 1);
        const len = Number.isFinite(want) && want <= 300 && extra % 3 === 0 ? want : extra;
        checkParse(Uint8Array.from([...header(c, d), ...new Array<number>(len).fill(0)]));
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes and truncations', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => checkParse(b)),
      { numRuns: 1000 },
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'neurone-fuzz-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gzipped files (plain or a bomb behind a small header): parse, or a typed error naming the file', () => {
    let i = 0;
    fc.assert(
      fc.property(code, dims, fc.oneof(fc.nat(200), fc.constant(4 * 1024 * 1024)), (c, d, len) => {
        const path = join(dir, `f${i++}.gz`);
        const body = new Uint8Array(8 + 4 * d.length + len);
        body.set(header(c, d));
        writeFileSync(path, gzipSync(body));
        let r: IdxData;
        try {
          r = readIdx(path);
        } catch (e) {
          expect(e).toBeInstanceOf(NeuroneError);
          expect((e as Error).message.startsWith(`${path}: `)).toBe(true);
          return;
        }
        checkResult(r, body.length);
      }),
      { numRuns: 80 },
    );
  });
});
