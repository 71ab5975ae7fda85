import { RNG, manualSeed } from '@neurone/core';
import type { Dataset } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { loadMnist } from '@neurone/data';
import { Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, evaluate, fit } from '@neurone/optim';
import { useTf } from './peers';
import type { Result } from './util';

/** MNIST as channels-last images [n, 28, 28, 1] (a view of the same values). */
function asImages(d: Dataset): Dataset {
  return { x: { ...d.x, shape: [d.x.shape[0]!, 28, 28, 1] }, y: d.y }; // keeps a byte dataset's scale
}

/**
 * W4 on TF.js: the same CNN (channels-last, PyTorch's default init, SGD lr 0.05, batch 64),
 * over `batches` shuffled batches (TF.js cpu runs at ~100 samples/s: a whole epoch would take
 * ten minutes), or the error that stops it (TF.js wasm has no Conv2DBackpropFilter kernel).
 */
export async function w4Tf(name: 'cpu' | 'wasm', batches = 30): Promise<Result> {
  const train = loadMnist().train;
  const tf = await useTf(name);
  const rng = new RNG(1);
  const u = (n: number, a: number) => Float32Array.from(rng.uniformArray(n, -a, a));
  const W1 = tf.variable(tf.tensor4d(u(9 * 8, 1 / 3), [3, 3, 1, 8]));
  const b1 = tf.variable(tf.tensor1d(u(8, 1 / 3)));
  const W2 = tf.variable(tf.tensor2d(u(1352 * 10, 1 / Math.sqrt(1352)), [1352, 10]));
  const b2 = tf.variable(tf.tensor1d(u(10, 1 / Math.sqrt(1352))));
  const opt = tf.train.sgd(0.05);
  const n = train.y.shape[0]!;
  const xs = train.x.data as Float32Array;
  const xb = new Float32Array(64 * 784);
  const yb = new Float32Array(64 * 10);
  const perm = rng.permutation(n);
  let t0 = 0;
  try {
    for (let s = 0; s <= batches; s++) {
      if (s === 1) t0 = performance.now(); // batch 0 warms up
      yb.fill(0);
      for (let i = 0; i < 64; i++) {
        const k = perm[s * 64 + i]!;
        xb.set(xs.subarray(k * 784, (k + 1) * 784), i * 784);
        yb[i * 10 + train.y.data[k]!] = 1;
      }
      const x = tf.tensor4d(xb, [64, 28, 28, 1]);
      const y = tf.tensor2d(yb, [64, 10]);
      opt.minimize(() => {
        const h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, W1, 1, 'valid'), b1)) as typeof x, 2, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.reshape(h, [64, 1352]), W2), b2)) as never;
      });
      tf.dispose([x, y]);
    }
  } catch (e) {
    tf.disposeVariables();
    return { batches, error: (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 120) };
  }
  const sps = (batches * 64) / ((performance.now() - t0) / 1000);
  tf.disposeVariables();
  return { samplesPerSecond: sps, batches };
}

/** W4 on ours: Conv(1→8, 3×3) → ReLU → MaxPool 2×2 → Flatten → Linear(8·13·13, 10), CE, SGD lr 0.05, batch 64. */
export async function w4Neurone(threads: number, epochs: number): Promise<Result> {
  const mnist = loadMnist({ bytes: true }); // pixels as bytes, read as the same float32 values
  const train = asImages(mnist.train);
  const test = asImages(mnist.test);
  manualSeed(1);
  const B = cpu({ threads });
  const net = new Sequential([new Conv2D(3, 1, 8, { backend: B }), new ReLU(), new MaxPool2D(2), new Flatten(), new Linear(8 * 13 * 13, 10, { backend: B })]);
  const loss = new CrossEntropyLoss();
  const hist = await fit(net, loss, new SGD(net.parameters(), { lr: 0.05 }), train, { epochs, batchSize: 64, seed: 1, progress: false });
  const samplesPerSecond = hist.epochs.reduce((s, h) => s + h.samplesPerSecond, 0) / hist.epochs.length;
  const accuracy = (await evaluate(net, loss, test, { batchSize: 1000 })).accuracy ?? NaN;
  return { samplesPerSecond, accuracy };
}
