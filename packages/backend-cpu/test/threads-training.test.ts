import { describe, expect, it } from 'vitest';
import { cpu } from '../src/index';
import { ThreadPool } from '../src/threads';
import { conv, mlp } from './training-steps';

describe('training steps give bit-identical results on 1, 2 and 3 threads (the default work floors)', () => {
  it('an MLP of W2 shapes (products, tanh, SGD): losses and weights after 3 steps', async () => {
    for (const t of [2, 3]) while (ThreadPool.get(t)!.ready < t - 1) await new Promise((r) => setTimeout(r, 20));
    const [one, ...rest] = [1, 2, 3].map((threads) => mlp(cpu({ threads }), 3));
    expect(one![2]).toBeLessThan(one![0]!); // it trains
    for (const r of rest) expect(r.every((v, i) => Object.is(v, one![i]))).toBe(true);
  });

  it('a convolution of W4 shapes (products, max pool and its gradient; im2col, col2im): every output', () => {
    const [one, ...rest] = [1, 2, 3].map((threads) => conv(cpu({ threads })));
    for (const r of rest) expect(r.every((v, i) => Object.is(v, one![i]))).toBe(true);
  });
});
