import { describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError } from '@neurone/core';
import type { Dataset } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '@neurone/layers';
import { CrossEntropyLoss, MSELoss } from '@neurone/losses';
import { Adam, SGD, StepLR, evaluate, fit, predict } from '../src/index';

const be = cpu({ dtype: 'float64' });
const net = (inF = 3, outF = 2): Sequential => new Sequential(new Linear(inF, 5, { backend: be, rng: new RNG(1) }), new ReLU(), new Linear(5, outF, { backend: be, rng: new RNG(2) }));
const params = (m: Sequential): number[][] => m.parameters().map((p) => Array.from(p.value.dataSync()));

function regression(n = 24, inF = 3, outF = 2): Dataset {
  const r = new RNG(5);
  return { x: { data: new Float64Array(r.normalArray(n * inF)), shape: [n, inF] }, y: { data: new Float64Array(r.normalArray(n * outF)), shape: [n, outF] } };
}

describe('fit: a non-finite loss leaves the parameters as they were before the bad step', () => {
  it('NaN in the data at batch 3: the parameters are those after batch 2, all finite', async () => {
    const m = net();
    const d = regression();
    (d.y.data as Float64Array)[2 * 4 * 2] = NaN; // sample 8 = first of batch 3 (batch size 4, no shuffle)
    let afterBatch2: number[][] = [];
    const p = fit(m, new MSELoss(), new SGD(m, { lr: 0.01 }), d, {
      epochs: 1, batchSize: 4, shuffle: false, progress: false,
      onBatch: (b) => void (b.batch === 2 && (afterBatch2 = params(m))),
    });
    await expect(p).rejects.toThrow(ValueError);
    await expect(
      fit(net(), new MSELoss(), new SGD(net(), { lr: 0.01 }), d, { epochs: 1, batchSize: 4, shuffle: false, progress: false }),
    ).rejects.toThrow(/batch 3 \(of 6\); the parameters were restored to their values before batch 3 of epoch 1 \(the bad step is undone\)/);
    expect(afterBatch2.length).toBe(4);
    expect(params(m)).toEqual(afterBatch2);
    expect(params(m).flat().every(Number.isFinite)).toBe(true);
  });

  it('a huge learning rate: the parameters are restored and finite (before the step whose loss overflowed)', async () => {
    const m = net();
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 1e200 }), regression(), { epochs: 2, batchSize: 4, progress: false })).rejects.toThrow(
      /loss became (Infinity|NaN) at epoch 1, batch 2 .* restored to their values before batch 2 of epoch 1/,
    );
    expect(params(m).flat().every(Number.isFinite)).toBe(true);
  });

  it('reading every 3 batches: restored to the start of the unread group, and the message says so', async () => {
    const m = net();
    const d = regression();
    (d.y.data as Float64Array)[4 * 4 * 2 + 1] = NaN; // sample 16: batch 5
    let afterBatch3: number[][] = [];
    await expect(
      fit(m, new MSELoss(), new SGD(m, { lr: 0.01 }), d, { epochs: 1, batchSize: 4, shuffle: false, readEvery: 3, progress: false, onBatch: (b) => void (b.batch === 3 && (afterBatch3 = params(m))) }),
    ).rejects.toThrow(/batch 5 \(of 6\); the parameters were restored to their values before batch 4 of epoch 1 \(the last point whose loss was read; batches 4–4 were finite\)/);
    expect(params(m)).toEqual(afterBatch3);
  });
});

describe('fit checks the validation set before training', () => {
  it('a validation set of the wrong width fails before the first batch', async () => {
    const m = net();
    const before = params(m);
    let batches = 0;
    const val = regression(6, 4, 2);
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.01 }), regression(), { epochs: 1, batchSize: 4, validation: val, onBatch: () => void batches++, progress: false })).rejects.toThrow(ShapeError);
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.01 }), regression(), { epochs: 1, batchSize: 4, validation: val, progress: false })).rejects.toThrow(/validation x samples must have the training samples' shape \[3\]/);
    expect(batches).toBe(0);
    expect(params(m)).toEqual(before);
  });

  it('validation labels that are not class indices, or out of range for the net, fail before training', async () => {
    const m = net(3, 3);
    const train = { x: regression(12).x, y: { data: new Float64Array(12).map((_, i) => i % 3), shape: [12] } };
    const half = { x: regression(4).x, y: { data: new Float64Array([0, 1.5, 2, 0]), shape: [4] } };
    const out = { x: regression(4).x, y: { data: new Float64Array([0, 7, 2, 0]), shape: [4] } };
    let batches = 0;
    const opts = { epochs: 1, batchSize: 4, onBatch: () => void batches++, progress: false };
    await expect(fit(m, new CrossEntropyLoss(), new SGD(m, { lr: 0.1 }), train, { ...opts, validation: half })).rejects.toThrow(/label 1 is 1\.5, not a class index/);
    await expect(fit(m, new CrossEntropyLoss(), new SGD(m, { lr: 0.1 }), train, { ...opts, validation: out })).rejects.toThrow(/fit \(validation, checked before training\)/);
    expect(batches).toBe(0);
  });
});

describe('unknown option names are refused with the valid ones listed', () => {
  const m = net();
  it('fit, evaluate, predict', async () => {
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.1 }), regression(), { epochs: 1, batchSize: 4, verbose: 1 } as never)).rejects.toThrow(
      /fit: unknown option 'verbose'; valid options: epochs, batchSize, .*initialEpoch, rng/,
    );
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.1 }), regression(), { epochs: 1, batchSize: 4, initial_epoch: 1 } as never)).rejects.toThrow(/did you mean 'initialEpoch'/);
    await expect(evaluate(m, new MSELoss(), regression(), { batch_size: 2 } as never)).rejects.toThrow(ValueError);
    await expect(predict(m, be.zeros([2, 3]), { verbose: true } as never)).rejects.toThrow(ValueError);
  });
  it('optimizers and schedulers', () => {
    expect(() => new SGD(m, { lr: 0.1, weight_decay: 0.1 } as never)).toThrow(/SGD: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/);
    expect(() => new Adam(m, { lr: 0.1, clipGradNorm: 1 } as never)).toThrow(/Adam: unknown option 'clipGradNorm'; valid options: lr, betas, eps, weightDecay/);
    expect(() => new StepLR(new SGD(m, { lr: 0.1 }), { stepSize: 1, step_size: 2 } as never)).toThrow(ValueError);
  });
  it('fit: initialEpoch and rng are checked', async () => {
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.1 }), regression(), { epochs: 2, batchSize: 4, initialEpoch: 3 })).rejects.toThrow(/initialEpoch must be an integer in \[0, epochs = 2\]/);
    await expect(fit(m, new MSELoss(), new SGD(m, { lr: 0.1 }), regression(), { epochs: 2, batchSize: 4, seed: 1, rng: new RNG(1) })).rejects.toThrow(/seed or rng, not both/);
  });
});

describe('fit resumes the seeded shuffle without an rng', () => {
  it('initialEpoch skips the permutations of the epochs already done', async () => {
    const a = net();
    const b = net();
    const la = await fit(a, new MSELoss(), new SGD(a, { lr: 0.05 }), regression(), { epochs: 3, batchSize: 4, seed: 9, progress: false });
    await fit(b, new MSELoss(), new SGD(b, { lr: 0.05 }), regression(), { epochs: 2, batchSize: 4, seed: 9, progress: false });
    const lb = await fit(b, new MSELoss(), new SGD(b, { lr: 0.05 }), regression(), { epochs: 3, initialEpoch: 2, batchSize: 4, seed: 9, progress: false });
    expect(lb.epochs.map((e) => e.epoch)).toEqual([3]);
    expect(lb.loss[0]).toBe(la.loss[2]);
    expect(params(b)).toEqual(params(a));
  });
});
