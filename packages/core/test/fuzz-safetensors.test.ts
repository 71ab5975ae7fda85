import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeuroneError, decodeSafetensors, encodeSafetensors } from '../src/index';

/**
 * Property-based fuzzing of the safetensors reader: every input either decodes or throws a typed
 * error; nothing is read outside the given view; the output is at most twice the input's size.
 */

const SECRET = 0x5a; // planted around the file in the same ArrayBuffer; the file's own data bytes are 0

/** Lays `file` inside a larger buffer filled with the secret byte, and returns the view on it. */
function inPool(file: Uint8Array): Uint8Array {
  const pool = new Uint8Array(file.length + 256).fill(SECRET);
  pool.set(file, 128);
  return pool.subarray(128, 128 + file.length);
}

function fileOf(header: unknown, dataLen: number): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataLen); // data bytes all 0
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

/** Decodes, and checks the contract on success or failure. */
function check(view: Uint8Array): void {
  let out: ReturnType<typeof decodeSafetensors>;
  try {
    out = decodeSafetensors(view, 'fuzz.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(NeuroneError);
    expect((e as Error).message.startsWith('fuzz.safetensors: ')).toBe(true);
    return;
  }
  let bytes = 0;
  for (const r of Object.values(out)) {
    bytes += r.data.byteLength;
    expect(r.data.length).toBe(r.shape.reduce((a, d) => a * d, 1));
    for (const v of r.data) expect(v).toBe(0); // any secret byte read would give a non-zero value
  }
  expect(bytes).toBeLessThanOrEqual(2 * view.length);
}

const int = fc.oneof(fc.integer({ min: -20, max: 80 }), fc.constantFrom(0.5, -1, 1e300, Number.MAX_SAFE_INTEGER + 2));
const junk = fc.oneof(fc.constant(null), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant([]), fc.constant({}));
const entry = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    dtype: fc.oneof(fc.constantFrom('F32', 'F64', 'F16', 'BF16', 'I64', 'U8', 'f32', 'F33'), junk),
    shape: fc.oneof({ weight: 5, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 6 }) }, int, junk), { maxLength: 3 }) }, junk),
    data_offsets: fc.oneof({ weight: 5, arbitrary: fc.tuple(int, int) }, fc.array(int, { maxLength: 3 }), junk),
  }, { requiredKeys: [] }) },
  junk,
);
const name = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'prototype', '__metadata__', 'a.b', '0.weight'));

describe('fuzz: safetensors reader', () => {
  it('random headers: a result made of the file only, or a typed error', () => {
    fc.assert(
      fc.property(fc.dictionary(name, entry, { maxKeys: 6 }), fc.integer({ min: 0, max: 200 }), (header, dataLen) => {
        check(inPool(fileOf(header, dataLen)));
      }),
      { numRuns: 1500 },
    );
  });

  it('well-formed headers with consistent offsets decode, and only from the file', () => {
    const tensor = fc.record({ dtype: fc.constantFrom<[string, number]>(['F32', 4], ['F64', 8], ['F16', 2], ['BF16', 2]), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(tensor, { maxLength: 5 }), (list) => {
        const header: Record<string, unknown> = {};
        let at = 0;
        list.forEach(({ dtype: [code, width], shape }, i) => {
          const len = shape.reduce((a, d) => a * d, 1) * width;
          header[`t${i}`] = { dtype: code, shape, data_offsets: [at, at + len] };
          at += len;
        });
        const out = decodeSafetensors(inPool(fileOf(header, at)));
        expect(Object.keys(out)).toEqual(list.map((_, i) => `t${i}`));
        check(inPool(fileOf(header, at)));
      }),
      { numRuns: 500 },
    );
  });

  it('mutated and truncated valid files: decode or a typed error', () => {
    const base = encodeSafetensors({
      'layer.0.weight': { shape: [3, 2], data: new Float32Array(6) },
      'layer.0.bias': { shape: [3], data: new Float64Array(3) },
    }, { format: 'pt' });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { maxLength: 4 }), fc.nat(base.length), (flips, cut) => {
        const f = base.slice(0, Math.max(cut, 0) || base.length);
        for (const [i, b] of flips) if (i < f.length && i >= 8 + 0) f[i] = b; // keep the data zero unless a flip lands there
        // bytes flipped inside the data section make non-zero values: only check the view bounds then
        try {
          const out = decodeSafetensors(inPool(f), 'fuzz.safetensors');
          let bytes = 0;
          for (const r of Object.values(out)) bytes += r.data.byteLength;
          expect(bytes).toBeLessThanOrEqual(2 * f.length);
        } catch (e) {
          expect(e).toBeInstanceOf(NeuroneError);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes: a typed error (or an empty file), never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(64), (body, n) => {
        const f = new Uint8Array(8 + body.length);
        new DataView(f.buffer).setBigUint64(0, BigInt(n), true);
        f.set(body, 8);
        check(inPool(f));
      }),
      { numRuns: 1000 },
    );
  });

  it('encode → decode is the identity on F32 and F64', () => {
    const t = fc.oneof(
      fc.array(fc.float({ noNaN: false }), { maxLength: 6 }).map((a) => new Float32Array(a)),
      fc.array(fc.double(), { maxLength: 6 }).map((a) => new Float64Array(a)),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((s) => !['__proto__', 'constructor', 'prototype', '__metadata__'].includes(s)), t, { maxKeys: 4 }), (d) => {
        const raw = Object.fromEntries(Object.entries(d).map(([k, data]) => [k, { shape: [data.length], data }]));
        const back = decodeSafetensors(encodeSafetensors(raw));
        for (const [k, { data }] of Object.entries(raw)) {
          expect(back[k]!.data.constructor).toBe(data.constructor);
          expect(Object.is(back[k]!.data.length, data.length)).toBe(true);
          back[k]!.data.forEach((v, i) => expect(Object.is(v, data[i])).toBe(true));
        }
      }),
      { numRuns: 300 },
    );
  });
});
