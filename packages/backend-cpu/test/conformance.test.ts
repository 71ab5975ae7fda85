import { describe, expect, it } from 'vitest';
import { runConformance } from '@neurone/core/testing';
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
});
