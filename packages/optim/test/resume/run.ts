/**
 * One leg of the resume test, run in its own Node process:
 *   run.ts <dtype> straight <out.json>            3 epochs straight
 *   run.ts <dtype> first <checkpoint>             2 epochs, then save
 *   run.ts <dtype> resume <checkpoint> <out.json> load, then 1 more epoch
 * Prints nothing; writes the final parameters and losses (as exact float64 bit patterns).
 */
import { writeFileSync } from 'node:fs';
import { RNG } from '@neurone/core';
import { load, save } from '@neurone/core/node';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { Adam, StepLR, fit } from '../../src/index';
import type { OptimizerStateDictInput } from '../../src/index';

const [dtype, mode, path, out] = process.argv.slice(2) as ['float32' | 'float64', string, string, string?];
const backend = cpu({ dtype });
const rng = new RNG(7);
const net = new Sequential(new Linear(4, 6, { backend, rng }), new ReLU(), new Linear(6, 3, { backend, rng }));
const opt = new Adam(net, { lr: 0.05 });
const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
// a tiny synthetic 3-class problem: 40 samples, 4 features
const data = new RNG(11);
const x = new Float32Array(data.normalArray(40 * 4));
const y = new Float32Array(40).map((_, i) => (x[i * 4]! > 0 ? 1 : 0) + (x[i * 4 + 1]! > 0.5 ? 1 : 0));
const ds = { x: { data: x, shape: [40, 4] }, y: { data: y, shape: [40] } };
const loss = new CrossEntropyLoss();
const bits = (v: ArrayLike<number>): string[] => Array.from(v, (n) => Buffer.from(new Float64Array([n]).buffer).toString('hex'));

async function report(losses: number[]): Promise<void> {
  const params = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, bits(t.dataSync())]));
  writeFileSync(out!, JSON.stringify({ params, losses: bits(losses), lr: opt.lr, adam: opt.stateDict().step }));
}

if (mode === 'straight') {
  const h = await fit(net, loss, opt, ds, { epochs: 3, batchSize: 8, rng: new RNG(3), scheduler: sched, progress: false });
  await report(h.loss);
} else if (mode === 'first') {
  const shuffle = new RNG(3);
  await fit(net, loss, opt, ds, { epochs: 2, batchSize: 8, rng: shuffle, scheduler: sched, progress: false });
  await save(path, { model: net, optimizer: opt, scheduler: sched, epoch: 2, rng: shuffle });
} else {
  const ck = await load(path);
  net.loadStateDict(ck.weights);
  opt.loadStateDict(ck.optimizer as OptimizerStateDictInput);
  sched.loadStateDict(ck.scheduler as { lastEpoch: number });
  const h = await fit(net, loss, opt, ds, { epochs: 3, initialEpoch: ck.epoch, batchSize: 8, rng: RNG.fromState(ck.rng!), scheduler: sched, progress: false });
  await report(h.loss);
}
