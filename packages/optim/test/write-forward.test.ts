/**
 * The layers README's "Write forward only" examples, as written there (the ```ts block is copied
 * beside this test and imported): the single-head self-attention layer passes a float64
 * gradcheckModule (input and the three parameters) and learns a small sequence task; the
 * residual block passes gradcheckModule (its Linear children go back through their own backward).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { RNG, manualSeed } from '@neurone/core';
import type { Backend, Module, Tensor } from '@neurone/core';
import { gradcheckModule, randomTensor } from '@neurone/core/testing';
import { Flatten, Sequential } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { Adam, Optim } from '../src/index';

const doc = readFileSync(join(import.meta.dirname, '../../layers/README.md'), 'utf8');
const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((c) => c.includes('export class SelfAttention'));
const dir = join(import.meta.dirname, '.generated');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'write-forward.ts'), block ?? 'throw new Error("the layers README has no SelfAttention example");');
const { SelfAttention, Residual } = (await import(/* @vite-ignore */ join(dir, 'write-forward.ts'))) as {
  SelfAttention: new (d: number, o: { backend: Backend }) => Module;
  Residual: new (n: number, hidden: number, o: { backend: Backend }) => Module;
};

describe("the layers README's forward-only examples", () => {
  it('SelfAttention passes a float64 gradcheckModule: the input and Wq, Wk, Wv', () => {
    manualSeed(3);
    const be = cpu({ dtype: 'float64' });
    const m = new SelfAttention(4, { backend: be });
    expect(m.derived).toBe(true);
    const r = gradcheckModule(m, randomTensor(be, [2, 3, 4], 1));
    expect(Object.keys(r.errors)).toEqual(['input', 'param:wq', 'param:wk', 'param:wv']);
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
  });

  it('SelfAttention learns a sequence task: every position predicts the mean of its sequence', () => {
    manualSeed(4);
    const be = cpu();
    const [b, t, d] = [32, 5, 4];
    const net = new Sequential(new SelfAttention(d, { backend: be }), new Flatten());
    const step = new Optim(net, new MSELoss(), new Adam(net.parameters(), { lr: 0.02 }));
    const rng = new RNG(5);
    const batch = (): [Tensor, Tensor] => {
      const v = rng.uniformArray(b * t * d, -1, 1);
      const y = new Float64Array(b * t * d);
      for (let i = 0; i < b; i++)
        for (let k = 0; k < d; k++) {
          let s = 0;
          for (let j = 0; j < t; j++) s += v[(i * t + j) * d + k]!;
          for (let j = 0; j < t; j++) y[(i * t + j) * d + k] = s / t;
        }
      return [be.tensor(v, [b, t, d]), be.tensor(y, [b, t * d])];
    };
    const losses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const [x, y] = batch();
      const l = step.step(x, y);
      losses.push(l.item());
      [l, x, y].forEach((z) => z.dispose());
    }
    const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) / 10);
  });

  it('Residual passes a float64 gradcheckModule (Linear children as one node each)', () => {
    manualSeed(6);
    const be = cpu({ dtype: 'float64' });
    const m = new Residual(4, 6, { backend: be });
    const r = gradcheckModule(m, randomTensor(be, [3, 4], 2, 0.2, 1));
    expect(Object.keys(r.errors)).toEqual(['input', 'param:fc1.weight', 'param:fc1.bias', 'param:fc2.weight', 'param:fc2.bias']);
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
  });
});
