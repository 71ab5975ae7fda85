import { afterEach, describe, expect, it, vi } from 'vitest';
import { Module, Parameter, RNG, ShapeError, ValueError } from '@neurone/core';
import type { Backend, Dataset, Optimizer, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, SGD, StepLR, accuracy, evaluate, fit, predict } from '../src/node';
import type { EpochLog, ProgressStream } from '../src/node';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { CrossEntropyLoss, MSELoss } from '@neurone/losses';
import { blobs, regressionData, values } from './helpers';

const regression = (n = 64): Dataset => {
  const { x, y } = regressionData(n, 4, 2);
  return { x: { data: new Float32Array(x), shape: [n, 4] }, y: { data: new Float32Array(y), shape: [n, 2] } };
};
const mlp = (backend: Backend, seed = 1) => new Sequential(new Linear(4, 8, { backend, rng: new RNG(seed) }), new TanH(), new Linear(8, 2, { backend, rng: new RNG(seed + 1) }));

/** y = x·w for a scalar w: records which samples (x holds the sample index) each batch held. */
class Recorder extends Module {
  readonly w: Parameter;
  batches: number[][] = [];
  constructor(backend: Backend) {
    super();
    this.w = this.registerParameter('w', new Parameter(backend.tensor([0.5], [1, 1])));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.batches.push(values(x));
    return x.backend.matmul(x, this.w.value);
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    const g = x.backend.matmul(x, delta, true, false);
    this.w.accumulateGrad(g);
    g.dispose();
  }
  override backwardDelta(_x: Tensor, delta: Tensor): Tensor {
    return delta.backend.matmul(delta, this.w.value, false, true);
  }
}

const indexData = (n: number): Dataset => ({
  x: { data: Float64Array.from({ length: n }, (_, i) => i), shape: [n, 1] },
  y: { data: new Float64Array(n), shape: [n, 1] },
});

/** Counts optimizer steps. */
function counting(opt: SGD): Optimizer & { count: number; lr: number } {
  const o = {
    count: 0,
    params: opt.params,
    get lr() {
      return opt.lr;
    },
    zeroGrad: () => opt.zeroGrad(),
    step: () => {
      o.count++;
      opt.step();
    },
    stateDict: () => opt.stateDict(),
  };
  return o;
}

afterEach(() => vi.restoreAllMocks());

describe('fit', () => {
  it('trains a regression: history per epoch (loss, seconds, samples/s), loss going down', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const onEpoch = vi.fn();
    const h = await fit(net, new MSELoss(), new Adam(net, { lr: 0.02 }), regression(), { epochs: 8, batchSize: 10, onEpoch });
    expect(h.stopped).toBe('completed');
    expect(h.epochs.length).toBe(8);
    expect(h.loss).toEqual(h.epochs.map((e) => e.loss));
    expect(onEpoch).toHaveBeenCalledTimes(8);
    const e = h.epochs[7]!;
    expect(e).toMatchObject({ epoch: 8, epochs: 8, samples: 64, batches: 7, lr: 0.02 });
    expect(e.seconds).toBeGreaterThan(0);
    expect(e.samplesPerSecond).toBeCloseTo(64 / e.seconds, 6);
    expect(h.loss[7]!).toBeLessThan(h.loss[0]! / 3);
    expect(h.valLoss).toEqual([]);
  });

  it('epoch loss is the mean over the samples: batch means weighted by batch size (last batch smaller)', async () => {
    const backend = cpu({ dtype: 'float64' });
    const net = mlp(backend);
    const batchLosses: [number, number][] = [];
    const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0 }), regression(25), {
      epochs: 1,
      batchSize: 10,
      onBatch: (b) => void batchLosses.push([b.loss, b.size]),
    });
    expect(batchLosses.map(([, s]) => s)).toEqual([10, 10, 5]);
    const mean = batchLosses.reduce((s, [l, n]) => s + l * n, 0) / 25;
    expect(h.loss[0]).toBeCloseTo(mean, 12);
    // lr 0: the model did not move, so this is also the loss of the whole set in one batch
    const whole = await evaluate(net, new MSELoss(), regression(25), { batchSize: 25 });
    expect(h.loss[0]).toBeCloseTo(whole.loss, 12);
  });

  it('shuffles with RNG(seed).permutation, a new permutation every epoch; shuffle: false keeps the order', async () => {
    const backend = cpu({ dtype: 'float64' });
    const n = 10;
    const rec = new Recorder(backend);
    await fit(rec, new MSELoss(), new SGD(rec, { lr: 0 }), indexData(n), { epochs: 2, batchSize: 4, seed: 42 });
    const rng = new RNG(42);
    const p1 = Array.from(rng.permutation(n));
    const p2 = Array.from(rng.permutation(n));
    expect(rec.batches).toEqual([p1.slice(0, 4), p1.slice(4, 8), p1.slice(8), p2.slice(0, 4), p2.slice(4, 8), p2.slice(8)]);
    expect(p1).not.toEqual(p2);

    const rec2 = new Recorder(backend);
    await fit(rec2, new MSELoss(), new SGD(rec2, { lr: 0 }), indexData(n), { epochs: 1, batchSize: 4, shuffle: false, seed: 42 });
    expect(rec2.batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('is reproducible: same seed → same history and weights; another seed → another history', async () => {
    const run = async (seed: number) => {
      const backend = cpu();
      const net = mlp(backend, 5);
      const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0.05, momentum: 0.9 }), regression(), { epochs: 3, batchSize: 8, seed });
      return { loss: h.loss, w: values(net.parameters()[0]!.value) };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b).toEqual(a);
    expect(c.loss).not.toEqual(a.loss);
  });

  it('onEpoch returning false stops after that epoch (kept in the history)', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const opt = counting(new SGD(net, { lr: 0.01 }));
    const h = await fit(net, new MSELoss(), opt, regression(), { epochs: 10, batchSize: 16, onEpoch: (e: EpochLog) => e.epoch < 3 });
    expect(h.stopped).toBe('onEpoch');
    expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(opt.count).toBe(3 * 4);
  });

  it('onEpoch may be async', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), {
      epochs: 5,
      batchSize: 16,
      onEpoch: async (e) => {
        await new Promise((r) => setTimeout(r, 1));
        return e.epoch !== 2;
      },
    });
    expect(h.epochs.length).toBe(2);
  });

  it('an AbortSignal stops cleanly between batches (no step after the abort, completed epochs kept)', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const opt = counting(new SGD(net, { lr: 0.01 }));
    const ctl = new AbortController();
    const before = backend.memory().tensors;
    const h = await fit(net, new MSELoss(), opt, regression(), {
      epochs: 5,
      batchSize: 16,
      signal: ctl.signal,
      onBatch: (b) => {
        if (b.epoch === 2 && b.batch === 3) ctl.abort();
      },
    });
    expect(h.stopped).toBe('aborted');
    expect(h.epochs.length).toBe(1);
    expect(opt.count).toBe(4 + 3);
    expect(backend.memory().tensors).toBe(before + 4); // + the parameters' grads; no batch tensor left
  });

  it('an AbortSignal fired by a timer interrupts a long fit (fit yields to the event loop)', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const h = fit(net, new MSELoss(), new SGD(net, { lr: 0.001 }), regression(256), {
      epochs: 100_000,
      batchSize: 4,
      signal: AbortSignal.timeout(100),
    });
    const res = await h;
    expect(res.stopped).toBe('aborted');
    expect(res.epochs.length).toBeLessThan(100_000);
  });

  it('an already aborted signal trains nothing; onBatch returning false stops too', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const opt = counting(new SGD(net, { lr: 0.01 }));
    const h = await fit(net, new MSELoss(), opt, regression(), { epochs: 3, batchSize: 16, signal: AbortSignal.abort() });
    expect([h.stopped, h.epochs.length, opt.count]).toEqual(['aborted', 0, 0]);
    const h2 = await fit(net, new MSELoss(), opt, regression(), { epochs: 3, batchSize: 16, onBatch: (b) => b.batch < 2 });
    expect([h2.stopped, h2.epochs.length, opt.count]).toEqual(['onBatch', 0, 2]);
  });

  it('a diverging loss (lr = 1e30) stops with a ValueError naming the epoch and the batch', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const p = fit(net, new MSELoss(), new SGD(net, { lr: 1e30 }), regression(), { epochs: 3, batchSize: 8 });
    await expect(p).rejects.toThrow(ValueError);
    await expect(fit(net, new MSELoss(), new SGD(net, { lr: 1e30 }), regression(), { epochs: 3, batchSize: 8 })).rejects.toThrow(
      /^fit: loss became (NaN|Infinity) at epoch 1, batch \d+ \(of 8\); .*lower the learning rate \(lr = 1e\+30\)/,
    );
    expect(backend.memory().tensors).toBe(4); // the 4 parameters (restored, grads dropped): the pending losses and the snapshot were freed
  });

  it('names the exact batch even when the loss is read every 5 batches', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const d = regression(40);
    d.y.data[9 * 2] = NaN; // sample 9 sits in batch 3 (samples 8–11) when not shuffled
    const seen: number[] = [];
    const p = fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), d, {
      epochs: 2,
      batchSize: 4,
      shuffle: false,
      readEvery: 5,
      onBatch: (b) => void seen.push(b.batch),
    });
    await expect(p).rejects.toThrow(/^fit: loss became NaN at epoch 1, batch 3 \(of 10\)/);
    expect(seen).toEqual([1, 2]); // the batches before the failure were reported, in order
    expect(backend.memory().tensors).toBe(4); // parameters only (restored, grads dropped): the pending losses were freed
  });

  it('validation: loss and accuracy on a separable 3-class problem; training accuracy metric', async () => {
    const backend = cpu();
    const net = new Linear(2, 3, { backend: backend, rng: new RNG(9) });
    const tr = blobs(150, 3, 1);
    const va = blobs(60, 3, 2);
    const train: Dataset = { x: { data: new Float32Array(tr.x), shape: [150, 2] }, y: { data: Uint8Array.from(tr.y), shape: [150] } };
    const val: Dataset = { x: { data: new Float32Array(va.x), shape: [60, 2] }, y: { data: Uint8Array.from(va.y), shape: [60] } };
    const h = await fit(net, new CrossEntropyLoss(), new SGD(net, { lr: 0.1, momentum: 0.9 }), train, {
      epochs: 10,
      batchSize: 16,
      validation: val,
      metrics: ['accuracy'],
    });
    expect(h.valLoss.length).toBe(10);
    expect(h.valAccuracy.length).toBe(10);
    expect(h.valAccuracy[9]).toBeGreaterThanOrEqual(0.95);
    expect(h.valLoss[9]!).toBeLessThan(h.valLoss[0]!);
    expect(h.epochs[9]!.metrics.accuracy).toBeGreaterThan(0.9);
    expect(h.epochs[9]!.valMetrics!.accuracy).toBe(h.valAccuracy[9]);

    // the reported accuracy equals a count done by hand on the predictions
    const r = await evaluate(net, new CrossEntropyLoss(), val, { batchSize: 7 });
    const out = await predict(net, val.x, { batchSize: 13 });
    const o = values(out);
    let correct = 0;
    for (let i = 0; i < 60; i++) {
      const row = o.slice(3 * i, 3 * i + 3);
      if (row.indexOf(Math.max(...row)) === va.y[i]) correct++;
    }
    expect(r.accuracy).toBeCloseTo(correct / 60, 6);
    expect(r.accuracy).toBeCloseTo(h.valAccuracy[9]!, 6);
    out.dispose();
  });

  it('accepts tensors as data, leaves no tensor behind, restores the training flag', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const d = regression(32);
    const x = backend.tensor(d.x.data, d.x.shape);
    const y = backend.tensor(d.y.data, d.y.shape);
    const before = backend.memory().tensors;
    net.eval();
    const h = await fit(net, new MSELoss(), new Adam(net, { lr: 0.01 }), { x, y }, { epochs: 2, batchSize: 8, validation: { x, y } });
    expect(h.epochs.length).toBe(2);
    expect(net.training).toBe(false);
    // the parameters' grads (4) and Adam's state (2 per parameter) are the only additions
    expect(backend.memory().tensors).toBe(before + 4 + 8);
  });

  it('works on a backend that reads only asynchronously (losses read in groups of 10 by default)', async () => {
    const backend = cpu();
    const net = mlp(backend);
    Object.defineProperty(backend, 'canReadSync', { value: false });
    const read = vi.spyOn(backend, 'read');
    const readSync = vi.spyOn(backend, 'readSync');
    const batches: number[] = [];
    const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0.05 }), regression(), {
      epochs: 3,
      batchSize: 4,
      validation: regression(16),
      onBatch: (b) => void batches.push(b.batch),
    });
    expect(h.epochs.length).toBe(3);
    expect(h.loss[2]!).toBeLessThan(h.loss[0]!);
    expect(batches.length).toBe(3 * 16);
    expect(readSync).not.toHaveBeenCalled();
    // per epoch: 16 losses (read 10 + 6) and 1 validation sum
    expect(read).toHaveBeenCalledTimes(3 * (16 + 1));
  });

  it('steps a scheduler after each epoch and logs the lr used', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const opt = new SGD(net, { lr: 0.08 });
    const h = await fit(net, new MSELoss(), opt, regression(), { epochs: 4, batchSize: 32, scheduler: new StepLR(opt, { stepSize: 2, gamma: 0.5 }) });
    expect(h.epochs.map((e) => e.lr)).toEqual([0.08, 0.08, 0.04, 0.04]);
    expect(opt.lr).toBe(0.02);
  });

  it('rejects bad data and options with clear errors', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const opt = new SGD(net, { lr: 0.1 });
    const d = regression(10);
    const bad = { x: d.x, y: { data: d.y.data.subarray(0, 18), shape: [9, 2] } };
    await expect(fit(net, new MSELoss(), opt, bad, { epochs: 1, batchSize: 4 })).rejects.toThrow(ShapeError);
    await expect(fit(net, new MSELoss(), opt, bad, { epochs: 1, batchSize: 4 })).rejects.toThrow(
      /fit: x and y must have the same number of samples \(axis 0\) \(x: \[10, 4\], y: \[9, 2\]\)/,
    );
    const short = { x: { data: d.x.data.subarray(0, 5), shape: [10, 4] }, y: d.y };
    await expect(fit(net, new MSELoss(), opt, short, { epochs: 1, batchSize: 4 })).rejects.toThrow(/fit: x holds 5 values, which do not fill its shape/);
    await expect(fit(net, new MSELoss(), opt, d, { epochs: 1, batchSize: 0 })).rejects.toThrow(/fit: batchSize must be a positive integer, got 0/);
    await expect(fit(net, new MSELoss(), opt, d, { epochs: 1.5, batchSize: 2 })).rejects.toThrow(/fit: epochs/);
    await expect(fit(net, new MSELoss(), opt, d, { epochs: 1, batchSize: 2, metrics: ['nope' as never] })).rejects.toThrow(ValueError);
    await expect(fit(net, new MSELoss(), opt, null as never, { epochs: 1, batchSize: 2 })).rejects.toThrow(/fit: data must be \{ x, y \}/);
  });

  it('prints nothing when stdout is not a TTY (the default), even with progress: true', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const write = vi.spyOn(process.stdout, 'write');
    const writeErr = vi.spyOn(process.stderr, 'write');
    expect(process.stdout.isTTY).not.toBe(true);
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), { epochs: 2, batchSize: 16 });
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), { epochs: 2, batchSize: 16, progress: true });
    expect(write).not.toHaveBeenCalled();
    expect(writeErr).not.toHaveBeenCalled();
  });

  it('draws a cli-progress bar on a TTY stream: epoch, batch, running loss, samples/s', async () => {
    const backend = cpu();
    const net = mlp(backend);
    let out = '';
    const tty: ProgressStream = { isTTY: true, columns: 120, write: (s: string) => ((out += s), true) };
    const h = await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), { epochs: 2, batchSize: 16, progress: { stream: tty } });
    expect(out).toMatch(/epoch 1\/2 \[[=-]+\] batch 4\/4 \| loss \d\.\d{3}/);
    expect(out).toMatch(/epoch 2\/2 .*batch 4\/4 \| loss [\d.]+ \| \d+ samples\/s/);
    expect(out).toContain(h.loss[1]!.toPrecision(4));
    let none = '';
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), { epochs: 1, batchSize: 16, progress: false });
    await fit(net, new MSELoss(), new SGD(net, { lr: 0.01 }), regression(), {
      epochs: 1,
      batchSize: 16,
      progress: { stream: { isTTY: false, write: (s: string) => ((none += s), true) } },
    });
    expect(none).toBe('');
  });
});

describe('evaluate and predict', () => {
  it('evaluate: the mean loss does not depend on the batch size; no accuracy for regression', async () => {
    const backend = cpu({ dtype: 'float64' });
    const net = mlp(backend);
    const d = regression(23);
    const a = await evaluate(net, new MSELoss(), d, { batchSize: 5 });
    const b = await evaluate(net, new MSELoss(), d, { batchSize: 100 });
    expect(a.loss).toBeCloseTo(b.loss, 12);
    expect(a.accuracy).toBeUndefined();
    expect(net.training).toBe(true);
  });

  it('predict: batched output equals one forward pass; a small tensor is forwarded directly', async () => {
    const backend = cpu({ dtype: 'float64' });
    const net = mlp(backend);
    const d = regression(23);
    const x = backend.tensor(d.x.data, d.x.shape);
    const whole = net.eval().forward(x); // eval: nothing saved for a backward, so the count below is predict's alone
    net.train();
    const before = backend.memory().tensors;
    const p = await predict(net, d.x, { batchSize: 4 });
    expect(p.shape).toEqual([23, 2]);
    values(p).forEach((v, i) => expect(v).toBeCloseTo(values(whole)[i]!, 6)); // float32 host copy of x
    const q = await predict(net, x, { batchSize: 64 });
    expect(values(q)).toEqual(values(whole));
    const r = await predict(net, x, { batchSize: 5 });
    expect(values(r)).toEqual(values(whole));
    [p, q, r].forEach((t) => t.dispose());
    expect(backend.memory().tensors).toBe(before);
  });

  it('accuracy metric: class indices and one-hot targets, checked by hand', () => {
    const backend = cpu();
    const yhat = backend.tensor([0.1, 0.9, 0, 2, 1, 0, 0, 0, 5, 1, 3, 2], [4, 3]); // argmax 1, 0, 2, 1
    const idx = backend.tensor([1, 0, 1, 1], [4]);
    expect(accuracy(idx, yhat).item()).toBeCloseTo(0.75, 6);
    const oneHot = backend.tensor([0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0], [4, 3]); // 1, 2, 2, 0
    expect(accuracy(oneHot, yhat).item()).toBeCloseTo(0.5, 6);
    expect(() => accuracy(backend.zeros([3]), yhat)).toThrow(/accuracy: targets must be class indices/);
  });
});

describe('fit on scaled byte inputs (HostTensor scale)', () => {
  it('trains exactly as on the float32 values they stand for: the same losses and weights', async () => {
    const n = 96;
    const rng = new RNG(5);
    const bytes = Uint8Array.from(rng.uniformArray(n * 4, 0, 256), Math.floor);
    const y = Float32Array.from({ length: n }, (_, i) => (bytes[i * 4]! > 127 ? 1 : 0));
    const floats = Float32Array.from(bytes, (v) => v / 255);
    const run = async (x: Dataset['x']) => {
      const B = cpu();
      const net = mlp(B, 3);
      const hist = await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.1 }), { x, y: { data: y, shape: [n] } }, { epochs: 2, batchSize: 10, seed: 2, progress: false });
      return { loss: hist.loss, w: net.parameters().map((p) => Array.from(p.value.dataSync())) };
    };
    const a = await run({ data: floats, shape: [n, 4] });
    const b = await run({ data: bytes, shape: [n, 4], scale: 1 / 255 });
    expect(b).toEqual(a);
    const raw = await run({ data: bytes, shape: [n, 4] }); // without the scale: other numbers (the scale is used)
    expect(raw.loss).not.toEqual(a.loss);
  });
});
