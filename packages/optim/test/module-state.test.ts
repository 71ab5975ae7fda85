/** fit and the module contract: train/eval modes, and buffers restored with the parameters on a non-finite loss. */
import { describe, expect, it } from 'vitest';
import { Module, RNG } from '@neurone/core';
import type { Dataset, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { SGD, evaluate, fit, predict } from '../src/index';

const be = cpu({ dtype: 'float64' });

/** Identity that records the mode of every forward and counts training forwards in a buffer. */
class Probe extends Module {
  modes: boolean[] = [];
  constructor() {
    super();
    this.registerBuffer('steps', be.zeros([1]));
  }
  forward(x: Tensor): Tensor {
    this.modes.push(this.training);
    if (this.training) this.setBuffer('steps', be.affine(this.buffer('steps'), 1, 1));
    return x.clone();
  }
  backwardDelta(_x: Tensor, d: Tensor): Tensor {
    return d.clone();
  }
}

function data(n = 16): Dataset {
  const r = new RNG(5);
  return { x: { data: new Float64Array(r.normalArray(n * 3)), shape: [n, 3] }, y: { data: new Float64Array(r.normalArray(n * 2)), shape: [n, 2] } };
}

describe('fit, evaluate, predict and the module modes', () => {
  it('fit trains in train mode, validates in eval mode, and gives the caller back the mode it had', async () => {
    const probe = new Probe();
    const net = new Sequential(new Linear(3, 2, { backend: be, rng: new RNG(1) }), probe);
    net.eval();
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), data(), { epochs: 1, batchSize: 4, validation: data(8), progress: false });
    expect(net.training).toBe(false);
    expect(probe.training).toBe(false);
    const trainSteps = probe.modes.filter((m) => m).length;
    expect(trainSteps).toBe(4); // 16 samples / 4
    expect(probe.modes.some((m) => !m)).toBe(true); // the validation passes
    expect(Array.from(probe.buffer('steps').dataSync())).toEqual([4]);
    net.train();
    probe.modes = [];
    await evaluate(net, new MSELoss(), data(8));
    (await predict(net, be.zeros([2, 3]))).dispose();
    expect(probe.modes.every((m) => !m)).toBe(true);
    expect(net.training).toBe(true);
  });

  it('a non-finite loss restores the buffers with the parameters', async () => {
    const probe = new Probe();
    const net = new Sequential(new Linear(3, 2, { backend: be, rng: new RNG(1) }), probe);
    const d = data();
    (d.y.data as Float64Array)[2 * 4 * 2] = NaN; // the first sample of batch 3
    await expect(fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), d, { epochs: 1, batchSize: 4, shuffle: false, progress: false })).rejects.toThrow(/batch 3/);
    expect(Array.from(probe.buffer('steps').dataSync())).toEqual([2]); // the state before batch 3
  });
});
