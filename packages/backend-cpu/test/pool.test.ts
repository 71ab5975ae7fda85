import { describe, expect, it } from 'vitest';
import { cpu } from '../src/index';

describe('buffer pool', () => {
  it('a reused buffer never leaks old values into zeros() or oneHot()', () => {
    const B = cpu();
    const dirty = B.full([3, 4], 7);
    dirty.dispose(); // its 12-element buffer goes to the pool
    expect(Array.from(B.zeros([12]).dataSync())).toEqual(new Array(12).fill(0));
    B.full([12], 9).dispose();
    const labels = B.tensor([3, 0, 1], [3]);
    expect(Array.from(B.oneHot(labels, 4).dataSync())).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0]);
  });
  it('a disposed view keeps the buffer out of the pool while another view lives', () => {
    const B = cpu();
    const x = B.tensor([1, 2, 3, 4], [2, 2]);
    const v = B.reshape(x, [4]);
    x.dispose();
    B.full([4], -1); // would take x's buffer if it had been released
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4]);
  });
  it('steady training-like loops do not grow live buffers', () => {
    const B = cpu();
    const w = B.full([64, 64], 0.01);
    const before = B.memory();
    for (let i = 0; i < 200; i++) {
      const a = B.matmul(w, w);
      const s = B.sum(a, 0);
      const t = B.unary('tanh', a);
      for (const z of [a, s, t]) z.dispose();
    }
    expect(B.memory()).toEqual(before);
  });
});
