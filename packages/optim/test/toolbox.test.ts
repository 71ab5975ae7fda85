import { describe, expect, it } from 'vitest';
import { ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { AdamW, OneCycleLR, RMSprop, ReduceLROnPlateau, SGD, accuracy, confusionMatrix, evaluate, fit, topK } from '../src/index';
import { blobs } from './helpers';

const b = cpu({ dtype: 'float64' });
// 4 rows, 4 classes; targets 0, 1, 2, 3
const yhat = () => b.tensor([0.9, 0.5, 0.1, 0, /**/ 0.9, 0.8, 0, 0, /**/ 0.3, 0.2, 0.1, 0.4, /**/ 0, 0.1, 0.2, 0.3], [4, 4]);
const y = () => b.tensor([0, 1, 2, 3], [4]);

describe('metrics', () => {
  it('topK: the share of rows whose target is among the k largest; top1 is accuracy', () => {
    const got = [1, 2, 3, 4].map((k) => topK(k)(y(), yhat()).item());
    expect(got).toEqual([0.5, 0.75, 0.75, 1]);
    expect(accuracy(y(), yhat()).item()).toBe(0.5);
    expect(topK(2)(b.tensor([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [4, 4]), yhat()).item()).toBe(0.75); // one-hot targets
    expect(() => topK(0)).toThrow(ValueError);
  });

  it('confusionMatrix: rows are the true class, columns the predicted one', () => {
    expect(Array.from(confusionMatrix(y(), yhat()).dataSync())).toEqual([1, 0, 0, 0, /**/ 1, 0, 0, 0, /**/ 0, 0, 0, 1, /**/ 0, 0, 0, 1]);
    expect(() => (confusionMatrix as (...a: unknown[]) => unknown)(y())).toThrow(ValueError);
  });

  it("'top5' is accepted where metrics are named; 'top0' and 'topx' are not", async () => {
    const net = new Linear(4, 4, { backend: b });
    const data = { x: { data: new Float64Array(16), shape: [4, 4] }, y: { data: new Float64Array([0, 1, 2, 3]), shape: [4] } };
    const r = await evaluate(net, new CrossEntropyLoss(), data, { metrics: ['top2', 'accuracy'] });
    expect(Object.keys(r.metrics)).toEqual(['top2', 'accuracy']);
    for (const bad of ['top0', 'topx']) await expect(evaluate(net, new CrossEntropyLoss(), data, { metrics: [bad as 'top5'] })).rejects.toThrow(/a metric must be 'accuracy', 'top<k>'/);
  });
});

describe('fit with the new tools', () => {
  const data = () => {
    const { x, y: labels } = blobs(64, 3);
    return { x: { data: x, shape: [64, 2] }, y: { data: labels, shape: [64] } };
  };
  const net = () => new Sequential([new Linear(2, 8, { backend: b }), new TanH(), new Linear(8, 3, { backend: b })]);

  it('clipGradNorm clips every step: with maxNorm tiny the weights barely move', async () => {
    const moved = async (clip?: number) => {
      const n = net();
      const before = n.parameters().map((p) => Array.from(p.value.dataSync()));
      await fit(n, new CrossEntropyLoss(), new SGD(n, { lr: 0.5 }), data(), { epochs: 1, batchSize: 16, progress: false, ...(clip ? { clipGradNorm: clip } : {}) });
      let d2 = 0;
      n.parameters().forEach((p, i) => p.value.dataSync().forEach((v, j) => (d2 += (v - before[i]![j]!) ** 2)));
      return Math.sqrt(d2);
    };
    // 4 steps of lr·‖g‖ ≤ 0.5 · 1e-3 each
    expect(await moved(1e-3)).toBeLessThanOrEqual(4 * 0.5 * 1e-3 + 1e-12);
    expect(await moved()).toBeGreaterThan(0.01);
    await expect(fit(net(), new CrossEntropyLoss(), new SGD(net(), { lr: 1 }), data(), { epochs: 1, batchSize: 8, clipGradValue: -1 })).rejects.toThrow(/fit: clipGradValue must be a finite number ≥ 0/);
  });

  it('OneCycleLR steps after every batch; ReduceLROnPlateau after every epoch with the loss', async () => {
    const n = net();
    const opt = new AdamW(n, { lr: 0.01 });
    const s = new OneCycleLR(opt, { maxLr: 0.05, epochs: 3, stepsPerEpoch: 4 });
    const h = await fit(n, new CrossEntropyLoss(), opt, data(), { epochs: 3, batchSize: 16, progress: false, scheduler: s });
    expect(s.lastEpoch).toBe(12);
    expect(h.epochs.map((e) => e.lr)).toEqual([s.lrAt(0, 0, 0), s.lrAt(4, 0, 0), s.lrAt(8, 0, 0)]);
    expect(h.epochs[0]!.lr).toBeCloseTo(0.002, 15);
    const n2 = net();
    const opt2 = new SGD(n2, { lr: 0 });
    const p = new ReduceLROnPlateau(opt2, { patience: 0 }); // lr 0: the loss never improves
    await fit(n2, new CrossEntropyLoss(), opt2, data(), { epochs: 3, batchSize: 16, progress: false, scheduler: p });
    expect(p.lastEpoch).toBe(3);
    expect(p.best).toBeGreaterThan(0);
  });
});

describe('fit and evaluate check the first batch of predictions on the host', () => {
  it('BCELoss on a net without Sigmoid fails before training, pointing at BCEWithLogitsLoss', async () => {
    const { BCELoss } = await import('@neurone/losses');
    const n = new Linear(2, 1, { backend: b });
    const before = Array.from(n.parameters()[0]!.value.dataSync());
    const data = { x: { data: new Float64Array([5, 5, -5, 5, 3, -4]), shape: [3, 2] }, y: { data: new Float64Array([1, 0, 1]), shape: [3, 1] } };
    const opt = new SGD(n, { lr: 0.1 });
    await expect(fit(n, new BCELoss(), opt, data, { epochs: 1, batchSize: 3, progress: false })).rejects.toThrow(/fit \(the first batch's predictions\): BCELoss: prediction .* is outside \[0, 1\]: apply a Sigmoid, or use BCEWithLogitsLoss/);
    expect(Array.from(n.parameters()[0]!.value.dataSync())).toEqual(before);
    await expect(evaluate(n, new BCELoss(), data)).rejects.toThrow(/evaluate \(the first batch's predictions\): BCELoss/);
  });
});

describe('frozen parameters and checkpoints', () => {
  it('requiresGrad = false: no grad accumulates and every optimizer leaves the parameter (and its state) alone', () => {
    for (const make of [(n: Linear) => new SGD(n, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }), (n: Linear) => new AdamW(n), (n: Linear) => new RMSprop(n, { momentum: 0.5 })]) {
      const n = new Linear(3, 2, { backend: b });
      n.weight.requiresGrad = false;
      const w = Array.from(n.weight.value.dataSync());
      const bias = Array.from(n.bias!.value.dataSync());
      const opt = make(n);
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        const x = b.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
        n.forward(x);
        n.backwardUpdateGradient(x, b.full([2, 2], 1));
        expect(n.weight.grad).toBeNull();
        opt.step();
      }
      expect(Array.from(n.weight.value.dataSync())).toEqual(w);
      expect(Array.from(n.bias!.value.dataSync())).not.toEqual(bias);
      expect(Object.keys(opt.stateDict().state)).toEqual(['1']);
    }
  });

  it('groups, AdamW state and a ReduceLROnPlateau (best = Infinity) survive toBytes/fromBytes', async () => {
    const { toBytes, fromBytes } = await import('@neurone/core');
    const n = new Linear(2, 2, { backend: b });
    const opt = new AdamW([{ params: [n.weight], lr: 0.01 }, { params: [n.bias!], weightDecay: 0 }], { lr: 0.02 });
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    n.weight.grad = b.full([2, 2], 1);
    opt.step();
    const ckpt = fromBytes(await toBytes({ model: n, optimizer: opt, scheduler: s }));
    const n2 = new Linear(2, 2, { backend: b });
    const opt2 = new AdamW([{ params: [n2.weight] }, { params: [n2.bias!] }], { lr: 1 });
    opt2.loadStateDict(ckpt.optimizer as never);
    expect(opt2.paramGroups.map((g) => [g.lr, g.weightDecay])).toEqual([[0.01, 0.01], [0.02, 0]]);
    const s2 = new ReduceLROnPlateau(opt2, { patience: 0 });
    s2.loadStateDict(ckpt.scheduler as never);
    expect(s2.best).toBe(Infinity);
    expect(s2.getLastLr()).toEqual([0.01, 0.02]);
  });
});
