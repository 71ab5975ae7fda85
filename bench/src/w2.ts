import { Module, Parameter, RNG, manualSeed } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { loadMnist } from '@neurone/data';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, evaluate, fit } from '@neurone/optim';
import { useTf } from './peers';
import type { Result } from './util';

/** W2 on TF.js: the same network, PyTorch's default init, SGD lr 0.1, batch 64, shuffled. */
export async function w2Tf(name: 'cpu' | 'wasm', epochs: number): Promise<Result> {
  const { train, test } = loadMnist();
  const tf = await useTf(name);
  const rng = new RNG(1);
  const u = (n: number, a: number) => Float32Array.from(rng.uniformArray(n, -a, a));
  const W1 = tf.variable(tf.tensor2d(u(784 * 256, 1 / 28), [784, 256]));
  const b1 = tf.variable(tf.tensor1d(u(256, 1 / 28)));
  const W2 = tf.variable(tf.tensor2d(u(256 * 10, 1 / 16), [256, 10]));
  const b2 = tf.variable(tf.tensor1d(u(10, 1 / 16)));
  const opt = tf.train.sgd(0.1);
  const n = train.y.shape[0]!;
  const xs = train.x.data as Float32Array;
  const xb = new Float32Array(64 * 784);
  const yb = new Float32Array(64 * 10);
  const t0 = performance.now();
  for (let e = 0; e < epochs; e++) {
    const perm = rng.permutation(n);
    for (let s = 0; s + 64 <= n; s += 64) {
      yb.fill(0);
      for (let i = 0; i < 64; i++) {
        const k = perm[s + i]!;
        xb.set(xs.subarray(k * 784, (k + 1) * 784), i * 784);
        yb[i * 10 + train.y.data[k]!] = 1;
      }
      const x = tf.tensor2d(xb, [64, 784]);
      const y = tf.tensor2d(yb, [64, 10]);
      opt.minimize(() => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, W1), b1)), W2), b2)) as never);
      tf.dispose([x, y]);
    }
  }
  const sps = (epochs * Math.floor(n / 64) * 64) / ((performance.now() - t0) / 1000);
  const tx = tf.tensor2d(test.x.data as Float32Array, test.x.shape as [number, number]);
  const pred = (await tf.argMax(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(tx, W1), b1)), W2), b2), 1).data()) as Int32Array;
  let ok = 0;
  pred.forEach((p, i) => (ok += p === test.y.data[i] ? 1 : 0));
  tf.disposeVariables();
  return { samplesPerSecond: sps, accuracy: ok / pred.length };
}

/** W2's network as one forward-only module: its backward is derived from the recorded ops (issue 17). */
class ForwardOnlyMlp extends Module {
  readonly w1: Parameter;
  readonly b1: Parameter;
  readonly w2: Parameter;
  readonly b2: Parameter;
  constructor(backend: Backend) {
    super();
    const [l1, l2] = [new Linear(784, 256, { backend }), new Linear(256, 10, { backend })]; // the same initial values as the Sequential's
    const copy = (p: Parameter): Parameter => new Parameter(p.value.clone());
    [this.w1, this.b1, this.w2, this.b2] = [copy(l1.weight), copy(l1.bias!), copy(l2.weight), copy(l2.bias!)];
    l1.dispose();
    l2.dispose();
  }
  override forward(x: Tensor): Tensor {
    const h = x.matmul(this.w1.value, { transposeB: true, bias: this.b1.value }).tanh();
    return h.matmul(this.w2.value, { transposeB: true, bias: this.b2.value });
  }
}

/**
 * W2 on ours: the library's Sequential, fit and evaluate, `threads` worker threads; with
 * `forwardOnly`, the same network as one module whose backward is derived (ForwardOnlyMlp).
 */
export async function w2Neurone(threads: number, epochs: number, forwardOnly = false): Promise<Result> {
  const { train, test } = loadMnist({ bytes: true }); // pixels as bytes, read as the same float32 values: 47 MB instead of 188
  manualSeed(1);
  const B = cpu({ threads });
  const net = forwardOnly ? new ForwardOnlyMlp(B) : new Sequential([new Linear(784, 256, { backend: B }), new TanH(), new Linear(256, 10, { backend: B })]);
  const loss = new CrossEntropyLoss();
  const hist = await fit(net, loss, new SGD(net.parameters(), { lr: 0.1 }), train, { epochs, batchSize: 64, seed: 1, progress: false });
  const samplesPerSecond = hist.epochs.reduce((s, h) => s + h.samplesPerSecond, 0) / hist.epochs.length;
  const accuracy = (await evaluate(net, loss, test, { batchSize: 1000 })).accuracy ?? NaN;
  return { samplesPerSecond, accuracy };
}
