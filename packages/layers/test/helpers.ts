import { assertAllClose, randomTensor } from '@neurone/core/testing';
import { RNG } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

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
