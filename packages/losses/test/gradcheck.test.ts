import { afterAll, describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import type { Loss, Tensor } from '@neurone/core';
import { gradcheckLoss } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss } from '../src/index';
import type { Reduction } from '../src/index';

const be = cpu({ dtype: 'float64' });
const results: Record<string, number> = {};
const reductions: Reduction[] = ['mean', 'sum', 'none'];

const uniform = (shape: number[], seed: number, lo: number, hi: number): Tensor =>
  be.tensor(new RNG(seed).uniformArray(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
const labels = (batch: number, k: number, seed: number): Tensor => {
  const r = new RNG(seed);
  return be.tensor(Array.from({ length: batch }, () => r.int(k)), [batch]);
};
const oneHot = (idx: Tensor, k: number): Tensor => be.oneHot(idx, k);
const logSoftmax = (t: Tensor): Tensor => be.logSoftmax(t);

function check(name: string, loss: Loss, y: Tensor, yhat: Tensor): void {
  const { maxRelError } = gradcheckLoss(loss, y, yhat);
  results[name] = maxRelError;
  expect(maxRelError).toBeLessThanOrEqual(1e-6);
}

afterAll(() => {
  console.log(`gradcheckLoss max relative errors (float64):\n${Object.entries(results)
    .map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`)
    .join('\n')}`);
});

describe('gradcheckLoss (float64, maxRelError ≤ 1e-6)', () => {
  for (const reduction of reductions) {
    for (const batch of [1, 4]) {
      const tag = `${reduction} b=${batch}`;
      it(`MSELoss ${tag}`, () => {
        check(`MSELoss ${tag}`, new MSELoss({ reduction }), uniform([batch, 3], 1, -1, 1), uniform([batch, 3], 2, -1, 1));
      });
      it(`NLLLoss ${tag}, index and one-hot targets`, () => {
        const idx = labels(batch, 5, 3);
        const yhat = logSoftmax(uniform([batch, 5], 4, -2, 2));
        check(`NLLLoss ${tag} index`, new NLLLoss({ reduction }), idx, yhat);
        check(`NLLLoss ${tag} one-hot`, new NLLLoss({ reduction }), oneHot(idx, 5), yhat);
      });
      it(`CrossEntropyLoss ${tag}, index, one-hot and probability targets`, () => {
        const idx = labels(batch, 5, 5);
        const logits = uniform([batch, 5], 6, -3, 3);
        check(`CrossEntropyLoss ${tag} index`, new CrossEntropyLoss({ reduction }), idx, logits);
        check(`CrossEntropyLoss ${tag} one-hot`, new CrossEntropyLoss({ reduction }), oneHot(idx, 5), logits);
        const probs = be.softmax(uniform([batch, 5], 7, -1, 1));
        check(`CrossEntropyLoss ${tag} probabilities`, new CrossEntropyLoss({ reduction }), probs, logits);
      });
      it(`CrossEntropyLoss ${tag} with weight, labelSmoothing and ignoreIndex`, () => {
        const idx = be.tensor(batch === 1 ? [3] : [1, 2, 0, 2], [batch]);
        const logits = uniform([batch, 5], 13, -3, 3);
        const o = { reduction, weight: [0.5, 2, 1, 1.5, 0.7], labelSmoothing: 0.15 };
        check(`CE ${tag} weight+smoothing index`, new CrossEntropyLoss(o), idx, logits);
        check(`CE ${tag} weight+smoothing+ignore 2`, new CrossEntropyLoss({ ...o, ignoreIndex: 2 }), idx, logits);
        check(`CE ${tag} weight+smoothing probs`, new CrossEntropyLoss(o), be.softmax(uniform([batch, 5], 14, -1, 1)), logits);
      });
      it(`BCELoss ${tag}, hard and soft targets`, () => {
        const yhat = uniform([batch, 3], 8, 0.05, 0.95);
        const hard = be.tensor(Array.from(uniform([batch, 3], 9, 0, 1).dataSync(), (v) => (v < 0.5 ? 0 : 1)), [batch, 3]);
        check(`BCELoss ${tag} hard`, new BCELoss({ reduction }), hard, yhat);
        check(`BCELoss ${tag} soft`, new BCELoss({ reduction }), uniform([batch, 3], 10, 0, 1), yhat);
      });
      it(`BCEWithLogitsLoss ${tag}`, () => {
        const logits = uniform([batch, 3], 11, -4, 4);
        check(`BCEWithLogitsLoss ${tag}`, new BCEWithLogitsLoss({ reduction }), uniform([batch, 3], 12, 0, 1), logits);
      });
    }
  }
});
