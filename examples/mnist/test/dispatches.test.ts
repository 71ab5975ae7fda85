import { describe, expect, it } from 'vitest';
import { manualSeed } from '@neurone/core';
import { gpu } from '@neurone/backend-gpu';
import { CrossEntropyLoss } from '@neurone/losses';
import { Optim, SGD, fit } from '@neurone/optim';
import { buildNet } from '../src/model';

/**
 * On a GPU a batch-64 step is bound by kernel launches, not arithmetic: these counts are the
 * budget of the main job's step on the GPU backend (webasm runs the same kernels on the CPU).
 */
describe('kernel launches per training step on gpu()', () => {
  it('Optim.step of 784 → 256 → TanH → 10 with CrossEntropyLoss and SGD stays within its launch budget', () => {
    manualSeed(1);
    const B = gpu({ mode: 'webasm' });
    const net = buildNet(B);
    const x = B.tensor(new Float32Array(64 * 784).fill(0.5), [64, 784]);
    const y = B.tensor(Array.from({ length: 64 }, (_, i) => i % 10), [64]);
    const optim = new Optim(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.1 }));
    optim.step(x, y).dispose(); // first step: gradients and state come into being
    const before = B.dispatches;
    optim.step(x, y).dispose();
    const perStep = B.dispatches - before;
    console.log(`gpu(webasm): ${perStep} kernel launches per Optim.step`);
    // The budget, op by op (a softmax or log-softmax is 2 kernels: row statistics, then apply):
    const budget = {
      forward: 2 + 1, // 2 matmuls with the bias fused, tanh
      lossValue: 1 + 2 + 1 + 1 + 1, // one-hot, log-softmax, y ⊙ log p, one sum over the batch, scale
      lossGradient: 1 + 2 + 1, // one-hot, softmax, axpby (softmax(ŷ) − y, scaled)
      backward: 3 + 1 + 2, // 3 matmuls (no δ·W for the first layer), tanh gradient, 2 bias sums
      sgd: 4, // one axpby per parameter
    };
    const total = Object.values(budget).reduce((a, b) => a + b, 0);
    expect(total).toBe(23);
    // more launches than the budget means an op was split or a copy crept into the step
    expect(perStep).toBeLessThanOrEqual(total);
    [x, y].forEach((t) => t.dispose());
  });

  it('fit (momentum SGD) on the same network: the launches of a step do not grow with the epoch', async () => {
    manualSeed(1);
    const B = gpu({ mode: 'webasm' });
    const net = buildNet(B);
    const n = 64 * 6;
    const data = { x: { data: new Float32Array(n * 784).fill(0.25), shape: [n, 784] }, y: { data: Float32Array.from({ length: n }, (_, i) => i % 10), shape: [n] } };
    const counts: number[] = [];
    let last = B.dispatches;
    await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), data, {
      epochs: 3,
      batchSize: 64,
      seed: 1,
      progress: false,
      onEpoch: () => {
        counts.push(B.dispatches - last);
        last = B.dispatches;
      },
    });
    console.log(`gpu(webasm): kernel launches per epoch of 6 steps: ${counts.join(', ')}`);
    expect(counts[2]).toBe(counts[1]);
  });
});
