import { RNG, manualSeed } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { loadMnist } from '@neurone/data';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { Adam, evaluate, fit } from '@neurone/optim';
import { useTf } from './peers';
import type { Result } from './util';

const WIDTHS = [784, 128, 32, 128, 784];

/** W3 on TF.js: the same autoencoder, PyTorch's default init, Adam lr 1e-3, batch 128, shuffled, one epoch. */
export async function w3Tf(name: 'cpu' | 'wasm'): Promise<Result> {
  const { train, test } = loadMnist();
  const tf = await useTf(name);
  const rng = new RNG(1);
  const layers = WIDTHS.slice(1).map((out, i) => {
    const inp = WIDTHS[i]!;
    const a = 1 / Math.sqrt(inp);
    return {
      W: tf.variable(tf.tensor2d(Float32Array.from(rng.uniformArray(inp * out, -a, a)), [inp, out])),
      b: tf.variable(tf.tensor1d(Float32Array.from(rng.uniformArray(out, -a, a)))),
    };
  });
  const net = (x: ReturnType<typeof tf.tensor2d>) =>
    layers.reduce((h, { W, b }, i) => {
      const z = tf.add(tf.matMul(h, W), b);
      return i === layers.length - 1 ? tf.sigmoid(z) : tf.tanh(z);
    }, x as ReturnType<typeof tf.add>);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const n = train.y.shape[0]!;
  const xs = train.x.data as Float32Array;
  const B = 128;
  const xb = new Float32Array(B * 784);
  const perm = rng.permutation(n);
  const t0 = performance.now();
  for (let s = 0; s + B <= n; s += B) {
    for (let i = 0; i < B; i++) xb.set(xs.subarray(perm[s + i]! * 784, (perm[s + i]! + 1) * 784), i * 784);
    const x = tf.tensor2d(xb, [B, 784]);
    // mean BCE over every pixel, log clamped as TF.js does (ε = 1e-7)
    opt.minimize(() => tf.losses.logLoss(x, net(x)) as never);
    x.dispose();
  }
  const sps = (Math.floor(n / B) * B) / ((performance.now() - t0) / 1000);
  const tx = tf.tensor2d(test.x.data as Float32Array, test.x.shape as [number, number]);
  const bce = (await tf.tidy(() => tf.losses.logLoss(tx, net(tx))).data())[0]!;
  tx.dispose();
  tf.disposeVariables();
  return { samplesPerSecond: sps, bce };
}

/** W3 on ours: the MNIST autoencoder 784→128→32→128→784 with BCE and Adam, one epoch, `threads` worker threads. */
export async function w3Neurone(threads: number): Promise<Result> {
  const { train, test } = loadMnist();
  manualSeed(1);
  const Bk = cpu({ threads });
  const L = (i: number, o: number) => new Linear(i, o, { backend: Bk });
  const net = new Sequential([L(784, 128), new TanH(), L(128, 32), new TanH(), L(32, 128), new TanH(), L(128, 784), new Sigmoid()]);
  const auto = (d: typeof train) => ({ x: d.x, y: d.x });
  const loss = new BCELoss();
  const hist = await fit(net, loss, new Adam(net.parameters(), { lr: 1e-3 }), auto(train), { epochs: 1, batchSize: 128, seed: 1, progress: false });
  const bce = (await evaluate(net, loss, auto(test), { batchSize: 1000 })).loss;
  return { samplesPerSecond: hist.epochs[0]!.samplesPerSecond, bce };
}
