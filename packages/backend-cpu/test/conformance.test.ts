import { describe, expect, it } from 'vitest';
import { runConformance } from '@neurone/core/testing';
import { binaryCrossEntropy } from '@neurone/core';
import { cpu } from '../src/index';

runConformance('cpu float64', () => cpu({ dtype: 'float64' }), { describe, it });
runConformance('cpu float32', () => cpu({ dtype: 'float32' }), { describe, it });

describe('NaN propagation', () => {
  it('relu keeps NaN (as PyTorch does), so a NaN input cannot vanish behind a ReLU', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const B = cpu({ dtype });
      const v = Array.from(await B.unary('relu', B.tensor([NaN, -1, 2], [3])).data());
      expect(Number.isNaN(v[0])).toBe(true);
      expect(v.slice(1)).toEqual([0, 2]);
    }
  });
  it('the fused binary cross-entropy keeps a NaN prediction NaN in the loss terms and the gradient, as the chained primitives do', () => {
    const B = cpu();
    const [y, p] = [B.tensor([1, 0, 1], [3]), B.tensor([NaN, 0.5, 0], [3])];
    for (const grad of [false, true]) {
      const got = Array.from(binaryCrossEntropy(y, p, grad).dataSync());
      expect(Number.isNaN(got[0])).toBe(true);
      expect(got.slice(1)).toEqual(grad ? [2, -1e12].map(Math.fround) : [Math.fround(Math.log(0.5)), -100]);
    }
  });
});
