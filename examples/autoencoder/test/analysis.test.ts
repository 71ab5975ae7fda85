import { describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import { adjustedRandIndex, classMeans, clusterScores, purity } from '../src/analysis';

describe('clustering scores', () => {
  it('purity: each cluster counts its majority class', () => {
    // cluster 0 = {a, a, b}, cluster 1 = {b, b, c, c, c} → (2 + 3) / 8
    expect(purity([0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 0, 1, 1, 1, 1, 1])).toBeCloseTo(5 / 8, 12);
    expect(purity([3, 3, 4], [7, 7, 9])).toBe(1);
  });

  it('adjusted Rand index by the contingency formula, worked by hand', () => {
    // true [0,0,0,1,1,1], predicted [0,0,1,1,2,2]: Σ C(n_ij,2) = 2, Σ C(a,2) = 6, Σ C(b,2) = 3,
    // E = 6·3/15 = 1.2, max = 4.5 → (2 − 1.2) / (4.5 − 1.2) = 0.2424…
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(0.8 / 3.3, 12);
    // a relabelled identical partition scores 1; one that cuts across both classes evenly scores below 0
    expect(adjustedRandIndex([0, 0, 1, 1], [5, 5, 2, 2])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
  });

  it('k-means finds two well-separated blobs exactly', () => {
    const rows = [[0, 0], [0.1, 0], [0, 0.1], [10, 10], [10.1, 10], [10, 10.1]];
    const s = clusterScores(rows, [1, 1, 1, 0, 0, 0], 2, 1);
    expect(s.purity).toBe(1);
    expect(s.ari).toBe(1);
  });

  it('restarts keep the lowest-inertia run', () => {
    const r = new RNG(4);
    const rows = Array.from({ length: 120 }, (_, i) => [(i % 4) * 3 + r.normal(0, 1), Math.floor(i / 60) * 3 + r.normal(0, 1)]);
    const labels = rows.map((_, i) => i % 4);
    const one = [0, 1, 2].map((s) => clusterScores(rows, labels, 4, s).inertia);
    const best = clusterScores(rows, labels, 4, 0, 3);
    expect(best.restarts).toBe(3);
    expect(best.inertia).toBeCloseTo(Math.min(...one), 9);
  });

  it('classMeans averages the images of each class', () => {
    const x = { data: new Float32Array([1, 0, 0, 1, 3, 0]), shape: [3, 2] };
    expect(classMeans(x, [0, 1, 0], 2).map((m) => Array.from(m))).toEqual([[2, 0], [0, 1]]);
  });
});
