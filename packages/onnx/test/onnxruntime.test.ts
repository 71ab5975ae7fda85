import { describe, expect, it } from 'vitest';
import { manualSeed } from '@neurone/core';
import type { Dataset, Module } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { BatchNorm2d, Conv2D, Dropout, Flatten, Linear, MaxPool2D, ReLU, Sequential, TanH } from '@neurone/layers';
import { Autoencoder } from '@neurone/autoencoder';
import { CrossEntropyLoss, MSELoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { loadMnist, take } from '@neurone/data';
import { fromOnnx, toOnnx } from '../src/index';
import { argmaxRows, expectSameState, keepExported, maxAbsDiff, runNeurone, runOrt } from './helpers';

// The done-when check: the main job's MLP, the conv example's CNN and the autoencoder, trained a
// few steps, exported with toOnnx, give in ONNX Runtime what they give in neurone on 1,000 MNIST
// test images; and ONNX → neurone gives the weights back bit for bit.
const backend = cpu({ dtype: 'float32' });
const { train, test } = loadMnist({ limit: 1000 });
const x = test.x.data instanceof Float32Array ? test.x.data : Float32Array.from(test.x.data);
const images = (d: Dataset): Dataset => ({ x: { data: d.x.data, shape: [d.x.shape[0]!, 28, 28, 1] }, y: d.y });

async function check(name: string, model: Module, inputShape: number[], cols: number): Promise<void> {
  const bytes = await toOnnx(model, { inputShape });
  keepExported(name, bytes);
  const shape = [1000, ...inputShape];
  const ours = await runNeurone(model, backend, x, shape);
  const theirs = await runOrt(bytes, x, shape);
  expect(theirs.dims).toEqual([1000, cols]);
  const d = maxAbsDiff(ours, theirs.data);
  const same = argmaxRows(ours, cols).filter((a, i) => a === argmaxRows(theirs.data, cols)[i]).length;
  console.log(`${name}: ${bytes.length} bytes of ONNX; over 1,000 MNIST test images max |neurone − ONNX Runtime| = ${d.toExponential(2)}, same argmax on ${same}/1000`);
  expect(d).toBeLessThanOrEqual(1e-5);
  expect(same).toBe(1000);
  // the round trip: the same weights (and buffers), bit for bit, in the same order
  const back = fromOnnx(bytes, { backend });
  if (model.constructor === Sequential) await expectSameState(back, model);
  const a = model.parameters();
  const b = back.parameters();
  expect(b.map((p) => p.shape)).toEqual(a.map((p) => p.shape));
  for (let i = 0; i < a.length; i++) expect(Array.from(await b[i]!.value.data())).toEqual(Array.from(await a[i]!.value.data()));
  expect(maxAbsDiff(await runNeurone(back, backend, x, shape), ours)).toBe(0);
}

describe('toOnnx → ONNX Runtime on MNIST', () => {
  it("the main job's MLP (784 → 256 → TanH → 10)", async () => {
    manualSeed(1);
    const net = new Sequential([new Linear(784, 256, { backend }), new TanH(), new Linear(256, 10, { backend })]);
    await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), take(train, 640), { epochs: 1, batchSize: 64, seed: 1 });
    await check('mlp', net, [784], 10);
  });

  it("the conv example's CNN (channels-last input, Transposes around the convolutions)", async () => {
    manualSeed(2);
    const net = new Sequential([
      new Conv2D(5, 1, 16, { backend }), new ReLU(), new MaxPool2D(2),
      new Conv2D(3, 16, 32, { backend }), new ReLU(), new MaxPool2D(2),
      new Flatten(), new Linear(5 * 5 * 32, 128, { backend }), new ReLU(), new Linear(128, 10, { backend }),
    ]);
    await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), images(take(train, 256)), { epochs: 1, batchSize: 32, seed: 2 });
    await check('cnn', net, [28, 28, 1], 10);
  });

  it("the conv example's --model bn CNN (BatchNorm2d with running statistics, Dropout)", async () => {
    manualSeed(4);
    // examples/conv buildBn: (Conv2D 3×3 pad 1, no bias → BatchNorm2d → ReLU → MaxPool 2) × 2 → Flatten → Dropout →
    // Linear → ReLU → Dropout → Linear
    const net = new Sequential([
      new Conv2D(3, 1, 32, { padding: 1, bias: false, backend }), new BatchNorm2d(32, { backend }), new ReLU(), new MaxPool2D(2),
      new Conv2D(3, 32, 64, { padding: 1, bias: false, backend }), new BatchNorm2d(64, { backend }), new ReLU(), new MaxPool2D(2),
      new Flatten(), new Dropout(0.25), new Linear(7 * 7 * 64, 128, { backend }), new ReLU(), new Dropout(0.5), new Linear(128, 10, { backend }),
    ]);
    await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), images(take(train, 256)), { epochs: 1, batchSize: 32, seed: 4 });
    expect(net.stateDict()['1.num_batches_tracked']!.item()).toBe(8);
    await check('cnn-bn', net.eval(), [28, 28, 1], 10);
  });

  it('the autoencoder: whole, encoder and decoder', async () => {
    manualSeed(3);
    const ae = Autoencoder.dense([784, 128, 32], { backend });
    const sub = take(train, 640);
    await fit(ae, new MSELoss(), new SGD(ae.parameters(), { lr: 0.5, momentum: 0.9 }), { x: sub.x, y: sub.x }, { epochs: 1, batchSize: 64, seed: 3 });
    await check('autoencoder', ae, [784], 784);
    await check('encoder', ae.encoder, [784], 32);
    const bytes = await toOnnx(ae.decoder, { inputShape: [32] });
    keepExported('decoder', bytes);
    const codes = await runNeurone(ae.encoder, backend, x, [1000, 784]);
    const c32 = Float32Array.from(codes);
    const d = maxAbsDiff(await runNeurone(ae.decoder, backend, c32, [1000, 32]), (await runOrt(bytes, c32, [1000, 32])).data);
    console.log(`decoder: max |neurone − ONNX Runtime| = ${d.toExponential(2)} on 1,000 codes`);
    expect(d).toBeLessThanOrEqual(1e-5);
  });
});
