/**
 * The layers README's forward-only residual block (copied from the README and imported) trains
 * inside fit on a small MNIST subset: 784 → 64 → Residual(64) → 10, derived backward in the middle.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { manualSeed } from '@neurone/core';
import type { Backend, Module } from '@neurone/core';
import { loadMnist, take } from '@neurone/data';
import { Linear, Sequential } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, evaluate, fit } from '@neurone/optim';

const doc = readFileSync(join(import.meta.dirname, '../../../packages/layers/README.md'), 'utf8');
const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((c) => c.includes('export class Residual'));
const dir = join(import.meta.dirname, '.generated');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'residual.ts'), block ?? 'throw new Error("the layers README has no Residual example");');
const { Residual } = (await import(/* @vite-ignore */ join(dir, 'residual.ts'))) as { Residual: new (n: number, hidden: number, o: { backend: Backend }) => Module };

describe('a forward-only residual block on MNIST', () => {
  it('trains inside fit on a 2,000-image subset', async () => {
    manualSeed(1);
    const { train, test } = loadMnist();
    const backend = cpu();
    const block = new Residual(64, 64, { backend });
    expect(block.derived).toBe(true);
    const net = new Sequential(new Linear(784, 64, { backend }), block, new Linear(64, 10, { backend }));
    const loss = new CrossEntropyLoss();
    const h = await fit(net, loss, new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), take(train, 2000), { epochs: 3, batchSize: 32, seed: 1, progress: false });
    expect(h.loss[2]!).toBeLessThan(h.loss[0]!);
    const { accuracy } = await evaluate(net, loss, take(test, 1000));
    expect(accuracy).toBeGreaterThan(0.8);
  });
});
