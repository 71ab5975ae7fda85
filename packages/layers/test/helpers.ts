import { RNG } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

/** A tensor of uniform values in [lo, hi), from a seeded generator. */
export function rand(be: Backend, shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return be.tensor(new RNG(seed).uniformArray(n, lo, hi), shape);
}

/** Values in ±[0.2, 1): away from 0 (for ReLU's kink). */
export function randAwayFromZero(be: Backend, shape: number[], seed: number): Tensor {
  const r = new RNG(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => (r.random() < 0.5 ? -1 : 1) * r.uniform(0.2, 1));
  return be.tensor(v, shape);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}
