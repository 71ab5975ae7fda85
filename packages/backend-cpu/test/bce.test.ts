import { describe, expect, it } from 'vitest';
import { BCE_LOG_FLOOR, binaryCrossEntropy } from '@neurone/core';
import { cpu } from '../src/index';

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
