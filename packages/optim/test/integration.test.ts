/** optim with the real @neurone/layers and @neurone/losses. */
import { describe, expect, it, vi } from 'vitest';
import { RNG } from '@neurone/core';
import type { Backend, Dataset, Module } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential, TanH } from '@neurone/layers';
import { BCEWithLogitsLoss, CrossEntropyLoss, MSELoss } from '@neurone/losses';
import { Adam, Optim, SGD, evaluate, fit } from '../src/index';
import { blobs, regressionData, stepLoss, values } from './helpers';

const mlp = (backend: Backend, seed: number, sizes: number[], Act: new () => Module = TanH) => {
  const rng = new RNG(seed);
  const mods: Module[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    mods.push(new Linear(sizes[i]!, sizes[i + 1]!, { backend, rng }));
    if (i + 2 < sizes.length) mods.push(new Act());
  }
  return new Sequential(...mods);
};

describe('with @neurone/layers and @neurone/losses', () => {
  it("Optim.step goes through Sequential.backward(delta, { inputGrad: false }) and matches the seed's updateParameters", () => {
    const backend = cpu({ dtype: 'float64' });
    const a = mlp(backend, 3, [4, 6, 2]);
    const b = mlp(backend, 3, [4, 6, 2]);
    const { x: X, y: Y } = regressionData(12, 4, 2);
    const x = backend.tensor(X, [12, 4]);
    const y = backend.tensor(Y, [12, 2]);
    const loss = new MSELoss();
    const spy = vi.spyOn(a, 'backward');
    const optim = new Optim(a, loss, new SGD(a, { lr: 0.05 }));
    for (let i = 0; i < 3; i++) {
      const l = stepLoss(optim, x, y);
      // the seed's loop on b: forward, loss, backward, updateParameters(lr)
      b.zeroGrad();
      const yhat = b.forward(x);
      const lt = loss.forward(y, yhat);
      expect(l).toBeCloseTo(lt.item(), 12);
      const d = loss.backward(y, yhat);
      b.backwardUpdateGradient(x, d);
      b.updateParameters(0.05);
      [yhat, lt, d].forEach((t) => t.dispose());
    }
    expect(spy).toHaveBeenCalledTimes(3);
    expect(spy.mock.calls.every((c) => c[1]?.inputGrad === false)).toBe(true);
    a.parameters().forEach((p, i) => values(p.value).forEach((v, j) => expect(v).toBeCloseTo(values(b.parameters()[i]!.value)[j]!, 12)));
  });

  it('fit: a 3-class problem with CrossEntropyLoss reaches ≥ 95 % validation accuracy', async () => {
    const backend = cpu();
    const net = mlp(backend, 1, [2, 16, 3], ReLU);
    const tr = blobs(300, 3, 10);
    const va = blobs(90, 3, 11);
    const train: Dataset = { x: { data: new Float32Array(tr.x), shape: [300, 2] }, y: { data: Uint8Array.from(tr.y), shape: [300] } };
    const val: Dataset = { x: { data: new Float32Array(va.x), shape: [90, 2] }, y: { data: Uint8Array.from(va.y), shape: [90] } };
    const h = await fit(net, new CrossEntropyLoss(), new Adam(net, { lr: 0.01 }), train, { epochs: 10, batchSize: 32, validation: val, seed: 1 });
    expect(h.valAccuracy.at(-1)).toBeGreaterThanOrEqual(0.95);
    expect(h.loss.at(-1)!).toBeLessThan(h.loss[0]!);
    const r = await evaluate(net, new CrossEntropyLoss(), val, { batchSize: 64 });
    expect(r.accuracy).toBe(h.valAccuracy.at(-1));
  });

  it('fit: binary labels with BCEWithLogitsLoss ([n, 1] targets) and a training accuracy-free history', async () => {
    const backend = cpu();
    const net = mlp(backend, 2, [2, 8, 1], TanH);
    const tr = blobs(200, 2, 12);
    const train: Dataset = { x: { data: new Float32Array(tr.x), shape: [200, 2] }, y: { data: new Float32Array(tr.y), shape: [200, 1] } };
    const h = await fit(net, new BCEWithLogitsLoss(), new SGD(net, { lr: 0.1, momentum: 0.9 }), train, { epochs: 15, batchSize: 20, validation: train });
    expect(h.valAccuracy).toEqual([]); // [n, 1] targets are not class indices
    expect(h.valLoss.at(-1)!).toBeLessThan(0.1);
  });

  it('1,000 Optim.step calls with a real Sequential: the tensor count stays flat (SGD momentum and Adam)', () => {
    for (const make of [(n: Sequential) => new SGD(n, { lr: 0.01, momentum: 0.9 }), (n: Sequential) => new Adam(n, { lr: 1e-3 })]) {
      const backend = cpu();
      const net = mlp(backend, 4, [4, 8, 8, 2]);
      const { x: X, y: Y } = regressionData(16, 4, 2);
      const x = backend.tensor(X, [16, 4]);
      const y = backend.tensor(Y, [16, 2]);
      const optim = new Optim(net, new MSELoss(), make(net));
      for (let i = 0; i < 10; i++) stepLoss(optim, x, y);
      const t10 = backend.memory();
      let last = 0;
      for (let i = 10; i < 1000; i++) last = stepLoss(optim, x, y);
      expect(backend.memory()).toEqual(t10);
      expect(Number.isFinite(last)).toBe(true);
    }
  });
});
