import { expect } from 'vitest';
import { assertAllClose, gradcheckModule, randomTensor } from '@neurone/core/testing';
import { RNG } from '@neurone/core';
import type { Backend, Module, Tensor } from '@neurone/core';

/** A tensor of uniform values in [lo, hi), from a seeded generator. */
export const rand = randomTensor;

/** Values in ±[0.2, 1): away from 0 (for ReLU's kink). */
export function randAwayFromZero(be: Backend, shape: number[], seed: number): Tensor {
  const r = new RNG(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => (r.random() < 0.5 ? -1 : 1) * r.uniform(0.2, 1));
  return be.tensor(v, shape);
}

export const expectClose = assertAllClose;

/**
 * A float64 gradient check of `m` at `x` (then x is freed): every checked quantity is present
 * (the input, and each parameter), the worst relative error is ≤ 1e-6 and is recorded in `results`.
 */
export function gradcheckInto(results: Record<string, number>, name: string, m: Module, x: Tensor): void {
  const report = gradcheckModule(m, x);
  results[name] = report.maxRelError;
  expect(Object.keys(report.errors)).toEqual(['input', ...m.namedParameters().map(([n]) => `param:${n}`)]);
  expect(report.maxRelError).toBeLessThanOrEqual(1e-6);
  x.dispose();
}
