import { describe, expect, it } from 'vitest';
import { BCE_LOG_FLOOR, binaryCrossEntropy } from '@neurone/core';
import { cpu } from '../src/index';
import { withoutWasm } from './without-wasm';
import { bceRange, log32 } from '../src/kernels';
import { scalarWasm } from '../src/wasm-gemm';

/** The fused BCE's formula with both logs always taken: y·(max(log p, −100) − max(log(1 − p), −100)) + max(log(1 − p), −100). */
function reference(y: number, p: number): number {
  const F = BCE_LOG_FLOOR;
  let a = Math.log(p);
  let b = Math.log(1 - p);
  a = a < F ? F : a;
  b = b < F ? F : b;
  return y * (a - b) + b;
}

const PROBS = [0, -0, 1, 1e-45, 1e-30, 1e-7, 0.25, 0.5, 0.75, 1 - 2 ** -24, 0.999, -1e-7, -0.5, 1.5, 1 + 2 ** -23, NaN, Infinity, -Infinity];
const TARGETS = [0, -0, 1, 0.5, 0.2, 1 / 255, NaN];

describe('cpu() fused BCE (the loss terms skip log ŷ where y = 0)', () => {
  it('gives the two-log formula bit for bit on every target × prediction pair: 0, 1, fractions, ŷ outside [0, 1], NaN, ±0, ±∞, float32 and float64', () => {
    // a sweep of p over [0, 1] beside the specials, each against every target
    const ps = [...PROBS, ...Array.from({ length: 4001 }, (_, i) => i / 4000), ...Array.from({ length: 200 }, (_, i) => 2 ** -(i / 2))];
    const ys = ps.flatMap(() => TARGETS);
    const pp = ps.flatMap((p) => TARGETS.map(() => p));
    for (const dtype of ['float32', 'float64'] as const) {
      const B = cpu({ dtype, threads: 1 });
      const arr = (v: ArrayLike<number>): Float32Array | Float64Array => (dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v));
      const y = B.tensor(arr(ys), [ys.length]);
      const p = B.tensor(arr(pp), [pp.length]);
      const got = binaryCrossEntropy(y, p, false).dataSync();
      const yv = y.dataSync();
      const pv = p.dataSync();
      const want = arr(Array.from(yv, (v, i) => reference(v, pv[i]!)));
      let bad = -1;
      for (let i = 0; i < want.length && bad < 0; i++) if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) bad = i;
      expect(bad < 0 ? null : `${dtype} y=${yv[bad]} p=${pv[bad]}: got ${got[bad]}, want ${want[bad]}`).toBeNull();
    }
  });

  it('a prediction below 0 with a target of 0 stays NaN (log ŷ is not skipped there)', () => {
    const B = cpu({ threads: 1 });
    const out = binaryCrossEntropy(B.tensor([0, 0, 0], [3]), B.tensor([-0.25, 0.25, NaN], [3]), false).dataSync();
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBeCloseTo(Math.log(0.75), 6);
    expect(Number.isNaN(out[2])).toBe(true);
  });
});

describe('BCE on WebAssembly (float32): log32 and the kernels', () => {
  it('log32 is within 1 ulp of Math.log on every 997th float32 x and on 1 − x, and gives its specials', () => {
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    let worst = 0;
    for (let b = 1; b < 0x7f800000; b += 997) {
      bits[0] = b;
      for (const x of [f[0]!, 1 - f[0]!]) {
        if (!(x > 0)) continue;
        const want = Math.log(x);
        const ulp = want === 0 ? 2 ** -1074 : 2 ** (Math.floor(Math.log2(Math.abs(want))) - 52);
        worst = Math.max(worst, Math.abs(log32(x) - want) / ulp);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect([0, -0, -1e-30, NaN, Infinity, -Infinity, 1].map(log32)).toEqual([-Infinity, -Infinity, NaN, NaN, Infinity, NaN, 0]);
  });

  it("gemm.wat's log is log32 bit for bit at double precision (float32 rounding would hide its last bits): float32 x and 1 − x, doubles in (0, 2), specials", () => {
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    let s = 7;
    const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const xs = [0, -0, 1, -1, NaN, Infinity, -Infinity, Math.SQRT1_2, Math.SQRT2, 2 ** -149, 1 - 2 ** -24, 3.4e38];
    for (let b = 1; b < 0x7f800000; b += 4999) {
      bits[0] = b;
      xs.push(f[0]!, 1 - f[0]!);
    }
    for (let i = 0; i < 200_000; i++) xs.push(2 * next() + next() * 2 ** -30);
    let diff = 0;
    for (const x of xs) if (!Object.is(scalarWasm('log', x), log32(x)) && !(Number.isNaN(log32(x)) && Number.isNaN(scalarWasm('log', x)))) diff++;
    expect(diff).toBe(0);
  });

  it('terms with log32 round to float32 as with Math.log on 400,000 pairs of image-like targets and predictions', () => {
    let s = 1;
    const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const n = 400_000;
    const y = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? next() : Math.round(next() * 255) / 255));
    const p = Float32Array.from({ length: n }, (_, i) => (i % 2 ? next() : next() ** 8));
    const got = new Float32Array(n);
    bceRange(y, p, got, BCE_LOG_FLOOR);
    let diff = 0;
    for (let i = 0; i < n; i++) if (got[i] !== Math.fround(reference(y[i]!, p[i]!))) diff++;
    expect(diff).toBe(0);
  });

  it('the kernels give the loops bit for bit (terms and gradient), on every length from 64 (where they start) to 131 and on the specials', () => {
    const B = cpu({ threads: 1 });
    for (let n = 64; n <= 131; n++) {
      const ys = Array.from({ length: n }, (_, i) => TARGETS[(i * 5 + n) % TARGETS.length]!);
      const ps = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? PROBS[(i + n) % PROBS.length]! : ((i * 37 + n) % 101) / 100));
      const run = (): number[][] => {
        const [y, p] = [B.tensor(ys, [n]), B.tensor(ps, [n])];
        return [binaryCrossEntropy(y, p, false), binaryCrossEntropy(y, p, true, 1 / n)].map((t) => Array.from(t.dataSync()));
      };
      expect(run(), `n = ${n}`).toEqual(withoutWasm(run));
    }
  });
});
