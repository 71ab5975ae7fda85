import { describe, expect, it } from 'vitest';
import { RNG, manualSeed } from '@neurone/core';
import type { Module, StateValue } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { AvgPool1D, AvgPool2D, BatchNorm1d, BatchNorm2d, Conv1D, Conv2D, Dropout, ELU, Flatten, GELU, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool1D, MaxPool2D, ReLU, Sequential, Sigmoid, Softmax, TanH } from '@neurone/layers';
import { Autoencoder } from '@neurone/autoencoder';
import { fromOnnx, toOnnx } from '../src/index';
import { expectSameState, keepExported, maxAbsDiff, runNeurone, runOrt } from './helpers';

// Every module of @neurone/layers through ONNX Runtime, and back through fromOnnx.
const backend = cpu({ dtype: 'float32' });

/** The normalisations of a model with trained-looking values: random γ, β, running statistics and batch count. */
function randomNorms(model: Module, seed: number): Module {
  const rng = new RNG(seed);
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof LayerNorm)) continue;
    const vec = (lo: number, hi: number) => ({ shape: [m.weight?.shape[0] ?? (m as BatchNorm1d).numFeatures], data: Float32Array.from({ length: m.weight?.shape[0] ?? (m as BatchNorm1d).numFeatures }, () => rng.uniform(lo, hi)) });
    const stats: Record<string, StateValue> = m instanceof LayerNorm ? {} : { running_mean: vec(-1, 1), running_var: vec(0.2, 3), num_batches_tracked: { shape: [], data: [37] } };
    m.loadStateDict({ ...(m.weight ? { weight: vec(0.5, 2), bias: vec(-1, 1) } : {}), ...stats });
  }
  return model;
}

const models: [string, () => Module, number[]][] = [
  ['conv2d-pools', () => new Sequential([
    new Conv2D([3, 2], 3, 4, { backend, stride: [2, 1], padding: [1, 0] }), new Sigmoid(),
    new MaxPool2D(3, 2, 1), new Conv2D(2, 4, 5, { backend, bias: false }), new Softmax(),
    new AvgPool2D(2, 1, 1), new TanH(), new Flatten(), new Linear(3 * 5 * 5, 6, { backend, bias: false }), new LogSoftmax(),
  ]), [9, 10, 3]],
  ['conv1d-pools', () => new Sequential([
    new Conv1D(3, 2, 4, 2, { backend }), new ReLU(), new MaxPool1D(2), new Conv1D(2, 4, 3, 1, { backend }), new AvgPool1D(2, 1), new LogSoftmax(), new Flatten(), new Linear(2 * 3, 2, { backend }),
  ]), [20, 2]],
  ['tied-autoencoder', () => Autoencoder.dense([12, 12, 5], { backend, tied: true, activation: 'relu' }), [12]],
  ['empty', () => new Sequential(), [3, 2]],
  ['softmax-channels', () => new Sequential([new Softmax()]), [2, 3, 4]],
  ['activations', () => new Sequential([new LeakyReLU(0.2), new Linear(6, 5, { backend }), new ELU(0.7), new GELU(), new Linear(5, 4, { backend }), new GELU({ approximate: 'tanh' })]), [6]],
  ['norms-2d', () => randomNorms(new Sequential([
    new Conv2D(3, 2, 4, { backend, bias: false }), new BatchNorm2d(4, { backend, eps: 1e-3, momentum: 0.3 }), new LeakyReLU(0.1), new MaxPool2D(2),
    new LayerNorm(4, { backend }), new GELU(), new Flatten(), new Dropout(0.3), new Linear(4 * 4 * 4, 6, { backend }),
    new BatchNorm1d(6, { backend }), new LayerNorm(6, { backend, eps: 1e-4 }), new ELU(0.7), new Linear(6, 3, { backend }), new GELU({ approximate: 'tanh' }),
  ]), 11), [10, 10, 2]],
  ['norms-1d', () => randomNorms(new Sequential([
    new Conv1D(3, 2, 4, 1, { backend }), new BatchNorm1d(4, { backend }), new ReLU(), new LayerNorm(4, { backend }), new Dropout(0.5), new Flatten(), new Linear(6 * 4, 2, { backend }),
  ]), 12), [8, 2]],
  ['norms-unaffine', () => randomNorms(new Sequential([new BatchNorm2d(3, { backend, affine: false }), new LayerNorm(3, { backend, elementwiseAffine: false }), new Flatten(), new BatchNorm1d(12, { backend, affine: false })]), 13), [2, 2, 3]],
  ['flatten-axes', () => new Sequential([new Conv2D(1, 2, 3, { backend }), new Flatten({ startDim: 2 }), new Softmax(-1), new Flatten({ startDim: 1, endDim: 2 }), new Linear(4 * 3 * 3, 2, { backend })]), [4, 3, 2]],
];

describe('every module through ONNX Runtime', () => {
  for (const [name, build, inputShape] of models) {
    it(`${name}: ONNX Runtime agrees to 1e-5; fromOnnx gives the same outputs bit for bit`, async () => {
      manualSeed(5);
      const model = build();
      const bytes = await toOnnx(model, { inputShape, backend });
      keepExported(name, bytes);
      const rng = new RNG(7);
      const shape = [5, ...inputShape];
      const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-2, 2));
      const ours = await runNeurone(model, backend, x, shape);
      const theirs = await runOrt(bytes, x, shape);
      const d = maxAbsDiff(ours, theirs.data);
      console.log(`${name}: max |neurone − ONNX Runtime| = ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(1e-5);
      const back = fromOnnx(bytes, { backend });
      expect(await runNeurone(back, backend, x, shape)).toEqual(ours);
      // a flat Sequential comes back with the same state dict, buffers included, bit for bit
      if (model.constructor === Sequential && !name.endsWith('unaffine')) await expectSameState(back, model);
    });
  }

  it('BatchNorm exports its eval form whatever the mode (as torch.onnx.export does), and not without running statistics', async () => {
    const bn = new Sequential([randomNorms(new BatchNorm1d(3, { backend }), 4)]);
    const eval1 = await toOnnx(bn.eval(), { inputShape: [3] });
    expect(await toOnnx(bn.train(), { inputShape: [3] })).toEqual(eval1);
    expect(bn.training).toBe(true);
    await expect(toOnnx(new BatchNorm2d(2, { backend, trackRunningStats: false }), { inputShape: [3, 3, 2] })).rejects.toThrow(/toOnnx: BatchNorm2d has trackRunningStats false: its eval form normalises with each batch's statistics/);
  });

  it('GELU as the Gelu operator (opset 20) and LayerNorm as its formula (opset 13 to 16)', async () => {
    const model = randomNorms(new Sequential([new Linear(3, 4, { backend }), new GELU(), new LayerNorm(4, { backend }), new GELU({ approximate: 'tanh' }), new LayerNorm(4, { backend, elementwiseAffine: false })]), 9);
    const x = Float32Array.from([-2, -0.5, 0.1, 0.4, 1, 3]);
    const ours = await runNeurone(model, backend, x, [2, 3]);
    for (const opset of [13, 16, 20]) {
      const bytes = await toOnnx(model, { inputShape: [3], opset });
      keepExported(`gelu-layernorm-opset${opset}`, bytes);
      const d = maxAbsDiff(ours, (await runOrt(bytes, x, [2, 3])).data);
      console.log(`GELU + LayerNorm at opset ${opset}: max |neurone − ONNX Runtime| = ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(1e-5);
      const back = fromOnnx(bytes, { backend });
      expect(await runNeurone(back, backend, x, [2, 3])).toEqual(ours);
    }
  });

  it('float64 weights and opset 13 and 21, named input and output: the same state and outputs, bit for bit', async () => {
    const b64 = cpu({ dtype: 'float64' });
    const model = randomNorms(new Sequential([new Linear(4, 3, { backend: b64 }), new TanH(), new BatchNorm1d(3, { backend: b64, eps: 1e-3 }), new GELU({ approximate: 'tanh' }), new LayerNorm(3, { backend: b64 }), new Dropout(0.2), new LeakyReLU(0.3)]), 8);
    const x = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2);
    for (const opset of [13, 21]) {
      const bytes = await toOnnx(model, { inputShape: [4], opset, dtype: 'float64', inputName: 'pixels', outputName: 'scores' });
      const back = fromOnnx(bytes, { backend: b64 });
      await expectSameState(back, model);
      expect(await runNeurone(back, b64, x, [3, 4])).toEqual(await runNeurone(model, b64, x, [3, 4]));
    }
  });
});
