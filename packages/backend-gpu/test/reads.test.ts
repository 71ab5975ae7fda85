/**
 * The read policy: library code never reads the device on its own initiative. A training step
 * with CrossEntropyLoss (index labels) or BCELoss reads nothing until the caller reads the loss,
 * on cpu() and on gpu({ mode: 'webgpu' }) alike; bad labels are caught on the host, where they
 * enter, with the same typed error on both.
 */
import { describe, expect, it } from 'vitest';
import { ValueError, manualSeed } from '@neurone/core';
import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss, CrossEntropyLoss } from '@neurone/losses';
import { Optim, SGD, fit } from '@neurone/optim';
import { gpu } from '../src/index';
import { requireMode } from './helpers';

requireMode('webgpu');

/** Counts every device read of a backend (sync and async). */
function countReads(B: Backend): { reads: number } {
  const c = { reads: 0 };
  // every device read goes through the op layer's read and readSync
  const [read, readSync] = [B.read.bind(B), B.readSync.bind(B)];
  B.read = (x) => (c.reads++, read(x));
  B.readSync = (x) => (c.reads++, readSync(x));
  return c;
}

const backends: [string, () => Promise<Backend>][] = [
  ['cpu()', () => Promise.resolve(cpu())],
  ["gpu({ mode: 'webgpu' })", () => gpu({ mode: 'webgpu' }).ready()],
];

describe.each(backends)('%s', (_, make) => {
  it('one CrossEntropyLoss step (index labels) and one BCELoss step read the device zero times until the loss is read', async () => {
    const B = await make();
    manualSeed(3);
    const counter = countReads(B);
    const x = B.tensor(Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i)), [8, 6]);
    const labels = B.tensor([0, 1, 2, 3, 0, 1, 2, 3], [8]);
    const clf = new Sequential([new Linear(6, 5, { backend: B }), new TanH(), new Linear(5, 4, { backend: B })]);
    const ce = new Optim(clf, new CrossEntropyLoss(), new SGD(clf, { lr: 0.1 })).step(x, labels);
    const ae = new Sequential([new Linear(6, 3, { backend: B }), new TanH(), new Linear(3, 6, { backend: B }), new Sigmoid()]);
    const target = B.tensor(Array.from({ length: 8 * 6 }, (_, i) => (i % 3) / 2), [8, 6]);
    const bce = new Optim(ae, new BCELoss(), new SGD(ae, { lr: 0.1 })).step(x, target);
    expect(counter.reads).toBe(0);
    const [l1, l2] = [(await ce.data())[0]!, (await bce.data())[0]!];
    expect(counter.reads).toBe(2); // the caller's two reads, nothing else
    expect(l1).toBeGreaterThan(0);
    expect(l2).toBeGreaterThan(0);
  });

  it('bad labels are refused on the host before training starts, with the same ValueError', async () => {
    const B = await make();
    const counter = countReads(B);
    const net = new Sequential([new Linear(2, 3, { backend: B })]);
    const data = { x: { data: new Float32Array([0, 1, 1, 0, 1, 1]), shape: [3, 2] }, y: { data: new Float32Array([0, 3, 1]), shape: [3] } };
    const run = fit(net, new CrossEntropyLoss(), new SGD(net, { lr: 0.1 }), data, { epochs: 1, batchSize: 3, progress: false });
    await expect(run).rejects.toThrow(ValueError);
    await expect(fit(net, new CrossEntropyLoss(), new SGD(net, { lr: 0.1 }), data, { epochs: 1, batchSize: 3, progress: false })).rejects.toThrow(
      /^CrossEntropyLoss: label 3 at position 1 is not an integer class index in \[0, 3\) \(K = 3 classes\)$/,
    );
    expect(counter.reads).toBe(0);
  });
});
