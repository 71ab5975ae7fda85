import { describe, expect, it } from 'vitest';
import { RNG, manualSeed } from '@neurone/core';
import type { Module } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { AvgPool1D, AvgPool2D, Conv1D, Conv2D, Flatten, Linear, LogSoftmax, MaxPool1D, MaxPool2D, ReLU, Sequential, Sigmoid, Softmax, TanH } from '@neurone/layers';
import { Autoencoder } from '@neurone/autoencoder';
import { fromOnnx, toOnnx } from '../src/index';
import { keepExported, maxAbsDiff, runNeurone, runOrt } from './helpers';

// Every module of @neurone/layers through ONNX Runtime, and back through fromOnnx.
const backend = cpu({ dtype: 'float32' });

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
      expect(await runNeurone(fromOnnx(bytes, { backend }), backend, x, shape)).toEqual(ours);
    });
  }

  it('float64 weights and opset 13 and 21, named input and output', async () => {
    const model = new Sequential([new Linear(4, 3, { backend: cpu({ dtype: 'float64' }) }), new TanH()]);
    for (const opset of [13, 21]) {
      const bytes = await toOnnx(model, { inputShape: [4], opset, dtype: 'float64', inputName: 'pixels', outputName: 'scores' });
      const back = fromOnnx(bytes, { backend: cpu({ dtype: 'float64' }) });
      expect(Array.from(await back.parameters()[0]!.value.data())).toEqual(Array.from(await model.parameters()[0]!.value.data()));
    }
  });
});
