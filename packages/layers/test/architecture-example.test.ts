/**
 * ARCHITECTURE.md's worked example, as written there: the ```ts block that defines `Center` is
 * copied into a module beside this test and imported, then gradchecked in float64 (input and γ)
 * in training and evaluation mode, and its buffer and train/eval behaviour checked.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RNG, StateError } from '@neurone/core';
import type { Backend, Module, Tensor } from '@neurone/core';
import { gradcheckModule } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';

const doc = readFileSync(join(import.meta.dirname, '../../../ARCHITECTURE.md'), 'utf8');
const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((c) => c.includes('export class Center'));
const dir = join(import.meta.dirname, '.generated');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'center.ts'), block ?? 'throw new Error("ARCHITECTURE.md has no Center example");');
type CenterCtor = new (n: number, o: { momentum?: number; backend?: Backend }) => Module & { weight: { value: Tensor } };
const { Center } = (await import(/* @vite-ignore */ join(dir, 'center.ts'))) as { Center: CenterCtor };

const be = cpu({ dtype: 'float64' });
const x = be.tensor(new RNG(1).uniformArray(15, -2, 2), [5, 3]);

describe("ARCHITECTURE.md's worked example (Center)", () => {
  it('passes a float64 gradient check of its input and its parameter, in training and in eval mode', () => {
    const c = new Center(3, { backend: be });
    c.weight.value = be.tensor([0.5, -1.5, 2], [3]);
    const train = gradcheckModule(c, x);
    expect(Object.keys(train.errors)).toEqual(['input', 'param:weight']);
    expect(train.maxRelError).toBeLessThan(1e-6);
    c.eval();
    expect(gradcheckModule(c, x).maxRelError).toBeLessThan(1e-6);
  });

  it('keeps running_mean as a buffer, normalises by the batch in training and by the buffer in eval', () => {
    const c = new Center(3, { backend: be, momentum: 0.5 });
    const mean = [0, 1, 2].map((j) => [0, 1, 2, 3, 4].reduce((s, i) => s + x.dataSync()[i * 3 + j]!, 0) / 5);
    const y = c.forward(x).dataSync();
    expect(Object.keys(c.stateDict())).toEqual(['weight', 'running_mean']);
    expect(Math.max(...Array.from(c.buffer('running_mean').dataSync(), (v, j) => Math.abs(v - 0.5 * mean[j]!)))).toBeLessThan(1e-15);
    c.eval();
    const z = c.forward(x).dataSync();
    expect(Math.max(...Array.from(z, (v, i) => Math.abs(v - y[i]! - 0.5 * mean[i % 3]!)))).toBeLessThan(1e-12);
    c.train();
    expect(() => c.backwardDelta(be.zeros([5, 3]), x)).toThrow(StateError);
  });
});
