import { describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '../src/index';

describe('end to end', () => {
  it('Sequential(Linear(2,8), TanH, Linear(8,1), Sigmoid) + BCELoss learns XOR-like data', () => {
    const be = cpu();
    const rng = new RNG(2024);
    const n = 200;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = rng.uniform(-1, 1);
      const b = rng.uniform(-1, 1);
      xs.push(a, b);
      ys.push(a * b > 0 ? 1 : 0); // XOR of the signs
    }
    const x = be.tensor(xs, [n, 2]);
    const y = be.tensor(ys, [n, 1]);
    const init = new RNG(7);
    const model = new Sequential(
      new Linear(2, 8, { backend: be, rng: init }),
      new TanH(),
      new Linear(8, 1, { backend: be, rng: init }),
      new Sigmoid(),
    );
    const loss = new BCELoss();

    const accuracy = (): number => {
      const p = model.forward(x);
      const v = p.dataSync();
      p.dispose();
      return Array.from(v).reduce((s, q, i) => s + ((q > 0.5 ? 1 : 0) === ys[i] ? 1 : 0), 0) / n;
    };

    const start = accuracy();
    let first = NaN;
    let last = NaN;
    for (let epoch = 0; epoch < 3000; epoch++) {
      const yhat = model.forward(x);
      const l = loss.forward(y, yhat);
      if (epoch === 0) first = l.item();
      last = l.item();
      const g = loss.backward(y, yhat);
      model.zeroGrad();
      model.backward(g, { inputGrad: false });
      model.updateParameters(1);
      for (const t of [yhat, l, g]) t.dispose();
    }
    const acc = accuracy();
    console.log(`XOR: accuracy ${start} → ${acc}, BCE ${first.toFixed(4)} → ${last.toFixed(4)}`);
    expect(last).toBeLessThan(first / 3);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });
});
