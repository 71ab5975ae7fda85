import { describe, expect, it } from 'vitest';
import { Backend, RNG, pool, poolGrad } from '@neurone/core';
import { referenceKernels } from '@neurone/core/testing';
import { cpu } from '../src/index';

describe('max pool 2×2, stride 2 (the hand-written path)', () => {
  it('matches the float64 reference kernels exactly: odd sizes, several channels and images, ties (first arg-max), ±0; NaN propagates forward', () => {
    const ref = new Backend(referenceKernels());
    const win = { kernel: [2, 2], stride: [2, 2] } as const;
    for (const [batch, h, w, c] of [[3, 7, 9, 3], [1, 2, 2, 1], [2, 6, 4, 5]] as const) {
      const n = batch * h * w * c;
      const rng = new RNG(h * w + c);
      // quarters (ties in most windows), a few NaN, and signed zeros
      const x = Float64Array.from(rng.uniformArray(n, -1, 1), (v, i) => (i % 23 === 5 ? NaN : i % 17 === 3 ? -0 : Math.round(v * 4) / 4));
      const shape = [batch, h, w, c];
      const noNaN = x.map((v) => (Number.isNaN(v) ? 0.5 : v)); // the reference's arg-max of a window with NaN is its own convention
      const out = [cpu({ dtype: 'float64', threads: 1 }), ref].map((B) => {
        const p = pool('max', B.tensor(x, shape), win);
        const t = B.tensor(noNaN, shape);
        const d = B.tensor(Float64Array.from({ length: p.size }, (_, i) => i + 1), p.shape);
        return [p.dataSync(), poolGrad('max', t, d, win).dataSync()];
      });
      for (const j of [0, 1]) {
        const [got, want] = [out[0]![j]!, out[1]![j]!];
        expect(got.length).toBe(want.length);
        for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`${shape} ${j ? 'poolGrad' : 'pool'}[${i}]: ${got[i]} ≠ ${want[i]}`);
      }
    }
  });
});
