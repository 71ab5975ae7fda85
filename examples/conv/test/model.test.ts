import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { RNG } from '@neurone/core';
import { Conv2D } from '@neurone/layers';
import { buildConv1d, buildConv2d, filterImages, reshapeMnist } from '../src/model';

describe('the example networks', () => {
  const B = cpu();
  it('Conv2D net: [n, 28, 28, 1] → [n, 10]; the course Conv1D net: [n, 784, 1] → [n, 10]', () => {
    const x = B.tensor(new RNG(1).uniformArray(2 * 784), [2, 28, 28, 1]);
    expect(buildConv2d(B).forward(x).shape).toEqual([2, 10]);
    const s = B.tensor(new RNG(2).uniformArray(2 * 784), [2, 784, 1]);
    const net = buildConv1d(B);
    expect(net.forward(s).shape).toEqual([2, 10]);
    // Linear(391·32, 100): the sequence of 784 → 782 after the kernel of 3 → 391 after pooling
    expect(net.namedParameters().map(([n, p]) => `${n} [${p.shape.join(', ')}]`)).toEqual([
      '0.weight [3, 1, 32]', '0.bias [32]', '3.weight [100, 12512]', '3.bias [100]', '5.weight [10, 100]', '5.bias [10]',
    ]);
  });
  it('MNIST reshapes to images or sequences without copying', () => {
    const d = { x: { data: new Float32Array(3 * 784), shape: [3, 784] }, y: { data: new Float32Array(3), shape: [3] } };
    expect(reshapeMnist(d, 'images').x.shape).toEqual([3, 28, 28, 1]);
    expect(reshapeMnist(d, 'sequences').x.data).toBe(d.x.data);
  });
  it('filter images: one per output channel, 0 ↦ mid-gray, the largest |w| ↦ 0 or 1', async () => {
    const c = new Conv2D(2, 1, 2, { backend: B, init: () => new Float64Array([1, 0.5, -1, 0, 0, 0.25, 0.5, -0.5]) });
    const imgs = await filterImages(c);
    expect(imgs.map((a) => Array.from(a))).toEqual([[1, 0, 0.5, 0.75], [1, 0.5, 0.75, 0]]);
  });
});
