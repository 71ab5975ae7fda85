import { manualSeed } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { loadMnist } from '@neurone/data';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { Adam, evaluate, fit } from '@neurone/optim';
import { table } from './util';

/** W3: the MNIST autoencoder 784→128→32→128→784 with BCE and Adam (ours; samples/s and test BCE). */
export async function w3(_peers: ('cpu' | 'wasm')[]): Promise<void> {
  const { train, test } = loadMnist();
  manualSeed(1);
  const B = cpu();
  const L = (i: number, o: number) => new Linear(i, o, { backend: B });
  const net = new Sequential([L(784, 128), new TanH(), L(128, 32), new TanH(), L(32, 128), new TanH(), L(128, 784), new Sigmoid()]);
  const auto = (d: typeof train) => ({ x: d.x, y: d.x });
  const loss = new BCELoss();
  const hist = await fit(net, loss, new Adam(net.parameters(), { lr: 1e-3 }), auto(train), { epochs: 1, batchSize: 128, seed: 1, progress: false });
  const bce = (await evaluate(net, loss, auto(test), { batchSize: 1000 })).loss;
  console.log(`\nW3 — MNIST autoencoder, BCE, Adam lr 1e-3, batch 128, 1 epoch\n${table([
    ['library', 'samples/s', 'test BCE/pixel'],
    ['neurone cpu()', hist.epochs[0]!.samplesPerSecond.toFixed(0), bce.toFixed(4)],
  ])}`);
}
