/** CrossEntropyLoss's options against PyTorch 1.13 float64 (test/fixtures/make_ce.py writes ce.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Backend, ValueError } from '@neurone/core';
import { referenceKernels } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss } from '../src/index';
import type { CrossEntropyLossOptions, Reduction } from '../src/index';

const fx = JSON.parse(readFileSync(new URL('./fixtures/ce.json', import.meta.url), 'utf8')) as {
  N: number;
  K: number;
  logits: number[];
  cases: { target: 'indices' | 'probs'; y: number[]; options: { weight?: number[]; label_smoothing?: number; ignore_index?: number }; reduction: Reduction; loss: number[]; grad: number[] }[];
};
const close = (got: ArrayLike<number>, want: readonly number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
};

describe('CrossEntropyLoss({ weight, labelSmoothing, ignoreIndex }) = PyTorch', () => {
  const be = cpu({ dtype: 'float64' });
  it.each(fx.cases.map((c) => [`${c.target} ${JSON.stringify(c.options)} ${c.reduction}`, c] as const))('%s', (_, c) => {
    const o = c.options;
    const options: CrossEntropyLossOptions = { reduction: c.reduction };
    if (o.weight) options.weight = o.weight;
    if (o.label_smoothing !== undefined) options.labelSmoothing = o.label_smoothing;
    if (o.ignore_index !== undefined) options.ignoreIndex = o.ignore_index;
    const loss = new CrossEntropyLoss(options);
    const y = c.target === 'indices' ? be.tensor(c.y, [fx.N]) : be.tensor(c.y, [fx.N, fx.K]);
    const x = be.tensor(fx.logits, [fx.N, fx.K]);
    loss.checkTargets({ data: Float64Array.from(c.y), shape: y.shape }, x.shape); // ignoreIndex passes the host check
    close(loss.forward(y, x).dataSync(), c.loss);
    close(loss.backward(y, x).dataSync(), c.grad); // the saved targets
    close(loss.backward(y, x).dataSync(), c.grad); // recomputed: no forward before it
    if (o.weight) close(new CrossEntropyLoss({ ...options, weight: be.tensor(o.weight, [fx.K]) }).forward(y, x).dataSync(), c.loss);
  });

  it('a step builds the target matrix once: the backward after a forward runs no one-hot', () => {
    const calls: string[] = [];
    const base = referenceKernels();
    const spied = new Backend({
      ...base,
      oneHot: (...a: Parameters<typeof base.oneHot>) => (calls.push('oneHot'), base.oneHot(...a)),
      rowwise: (...a: Parameters<typeof base.rowwise>) => (calls.push(a[0]), base.rowwise(...a)),
    });
    const loss = new CrossEntropyLoss();
    const y = spied.tensor([0, 1, 2], [3]);
    const x = spied.tensor(fx.logits.slice(0, 12), [3, 4]);
    loss.forward(y, x).dispose();
    loss.backward(y, x).dispose();
    expect(calls).toEqual(['oneHot', 'logSoftmax', 'softmax']);
  });
});

describe('swapped arguments (PyTorch order loss(input, target)) are typed errors; correct calls unchanged', () => {
  const be = cpu({ dtype: 'float64' });
  const logits = be.tensor([2, -1, 0.5, 0.3, 1.5, -2], [2, 3]);
  const onehot = be.tensor([1, 0, 0, 0, 1, 0], [2, 3]);
  const host = (t: ReturnType<typeof be.tensor>) => ({ data: t.dataSync(), shape: t.shape });
  const swappedRe = /the arguments look swapped .*forward\(y, yhat\).*PyTorch's order is loss\(input, target\)/;

  it.each([
    ['CrossEntropyLoss with one-hot targets', new CrossEntropyLoss(), logits, onehot],
    ['NLLLoss with one-hot targets', new NLLLoss(), be.tensor([-0.1, -2, -3, -2, -0.2, -3], [2, 3]), onehot],
    ['BCELoss', new BCELoss(), be.tensor([0.9, 0.2, 0.6, 0.4, 0.7, 0.1], [2, 3]), onehot],
    ['BCEWithLogitsLoss', new BCEWithLogitsLoss(), logits, onehot],
  ] as const)('%s: await loss.check(output, target) says so; check(target, output) passes', async (_, loss, output, target) => {
    await expect(loss.check(output, target)).rejects.toThrow(ValueError);
    await expect(loss.check(output, target)).rejects.toThrow(swappedRe);
    await expect(loss.check(target, output)).resolves.toBeUndefined();
    expect(() => loss.checkPredictions(host(target))).toThrow(swappedRe);
  });

  it('checkTargets refuses logits given as targets (CE, NLL, BCEWithLogits), naming the value', () => {
    for (const loss of [new CrossEntropyLoss(), new NLLLoss(), new BCEWithLogitsLoss()]) {
      expect(() => loss.checkTargets(host(logits), logits.shape)).toThrow(/target value 2 at position 0 .* look swapped|look swapped \(target value 2 at position 0/);
    }
  });

  it('BCELoss on logits (no Sigmoid): the predictions check points at BCEWithLogitsLoss', () => {
    expect(() => new BCELoss().checkPredictions(host(logits))).toThrow(/prediction 2 at position 0 is outside \[0, 1\]: apply a Sigmoid, or use BCEWithLogitsLoss/);
  });

  it('MSELoss is symmetric in value: no check can tell (documented)', async () => {
    await expect(new MSELoss().check(logits, onehot)).resolves.toBeUndefined();
  });

  it('a method called without its arguments is a ValueError, not a TypeError', () => {
    for (const loss of [new CrossEntropyLoss(), new NLLLoss(), new BCELoss(), new BCEWithLogitsLoss(), new MSELoss()]) {
      expect(() => (loss.backward as () => unknown)()).toThrow(ValueError);
      expect(() => (loss.forward as (y: unknown) => unknown)(onehot)).toThrow(/targets y and predictions yhat must be tensors \(y a tensor, yhat missing\)/);
    }
  });
});
