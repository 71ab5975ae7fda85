import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import type { Dataset } from '@neurone/core';
import { SGD, fit } from '../src/index';
import type { ProgressStream } from '../src/index';
import { Linear } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { regressionData } from './helpers';

const data = (n = 32): Dataset => {
  const { x, y } = regressionData(n, 4, 2);
  return { x: { data: new Float32Array(x), shape: [n, 4] }, y: { data: new Float32Array(y), shape: [n, 2] } };
};

describe('the default (browser-safe) entry', () => {
  it('trains with progress on a TTY stream but draws no bar: only the Node entry installs cli-progress', async () => {
    const net = new Linear(4, 2, { backend: cpu() });
    let out = '';
    const tty: ProgressStream = { isTTY: true, columns: 120, write: (s: string) => ((out += s), true) };
    const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), data(), { epochs: 2, batchSize: 8, progress: { stream: tty } });
    expect(h.loss).toHaveLength(2);
    expect(out).toBe('');
  });

  it('the Node entry draws the bar after it is imported', async () => {
    await import('../src/node');
    const net = new Linear(4, 2, { backend: cpu() });
    let out = '';
    const tty: ProgressStream = { isTTY: true, columns: 120, write: (s: string) => ((out += s), true) };
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), data(), { epochs: 1, batchSize: 8, progress: { stream: tty } });
    expect(out).toMatch(/epoch 1\/1 \[[=-]+\] batch 4\/4/);
  });
});
