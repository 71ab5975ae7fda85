import { describe, expect, it } from 'vitest';
import { RNG, ValueError } from '@neurone/core';
import type { Dataset } from '@neurone/core';
import { fromBytes, toBytes } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { Adam, SGD, StepLR, fit } from '../src/index';
import { hostDict } from './helpers';

const net = (backend = cpu({ dtype: 'float64' })): Sequential =>
  new Sequential(new Linear(3, 5, { backend, rng: new RNG(1) }), new ReLU(), new Linear(5, 2, { backend, rng: new RNG(2) }));

function regression(n = 24): Dataset {
  const r = new RNG(5);
  return { x: { data: new Float64Array(r.normalArray(n * 3)), shape: [n, 3] }, y: { data: new Float64Array(r.normalArray(n * 2)), shape: [n, 2] } };
}

describe('fit restores the optimizer and the scheduler with the parameters on a non-finite loss', () => {
  it('a NaN-stopped fit, then a fit on clean data trains, and its checkpoint loads', async () => {
    const m = net();
    const opt = new Adam(m, { lr: 0.01 });
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const bad = regression();
    (bad.y.data as Float64Array)[2 * 4 * 2] = NaN; // sample 8: the first of batch 3
    let afterBatch2: ReturnType<typeof hostDict> | undefined;
    await expect(
      fit(m, new MSELoss(), opt, bad, {
        epochs: 1, batchSize: 4, shuffle: false, progress: false, scheduler: sched,
        onBatch: (b) => void (b.batch === 2 && (afterBatch2 = hostDict(opt.stateDict()))),
      }),
    ).rejects.toThrow(/restored to their values before batch 3 of epoch 1 \(the bad step is undone\); the optimizer's and the scheduler's state too — lower/);
    // Adam's moments and step count are those after batch 2: finite
    expect(hostDict(opt.stateDict())).toEqual(afterBatch2);
    expect(opt.steps).toBe(2);
    expect(sched.stateDict()).toEqual({ lastEpoch: 0, baseLrs: [0.01], lastLr: [0.01] });
    for (const s of Object.values(hostDict(opt.stateDict()).state)) for (const t of Object.values(s)) expect(Array.from(t.data).every(Number.isFinite)).toBe(true);

    const h = await fit(m, new MSELoss(), opt, regression(), { epochs: 3, batchSize: 4, shuffle: false, progress: false, scheduler: sched });
    expect(h.loss.every(Number.isFinite)).toBe(true);
    expect(h.loss[2]!).toBeLessThan(h.loss[0]!);
    const c = fromBytes(await toBytes({ model: m, optimizer: opt, scheduler: sched, epoch: 3 }));
    const m2 = net();
    const opt2 = new Adam(m2, { lr: 0.5 });
    m2.loadStateDict(c.weights);
    opt2.loadStateDict(c.optimizer as never);
    expect(hostDict(opt2.stateDict())).toEqual(hostDict(opt.stateDict()));
  });

  it('SGD with momentum: the momentum buffers come back too', async () => {
    const m = net();
    const opt = new SGD(m, { lr: 0.01, momentum: 0.9 });
    const bad = regression();
    (bad.x.data as Float64Array)[5 * 4 * 3] = Infinity; // batch 6
    await expect(fit(m, new MSELoss(), opt, bad, { epochs: 1, batchSize: 4, shuffle: false, progress: false })).rejects.toThrow(ValueError);
    expect(opt.steps).toBe(5);
    const h = await fit(m, new MSELoss(), opt, regression(), { epochs: 2, batchSize: 4, progress: false });
    expect(h.loss.every(Number.isFinite)).toBe(true);
    await expect(toBytes({ model: m, optimizer: opt })).resolves.toBeInstanceOf(Uint8Array);
  });
});

describe('loads that narrow float64 to float32 check the range', () => {
  const f32 = cpu();
  const small = (): Linear => new Linear(2, 1, { backend: f32, rng: new RNG(3) });

  it('a float64 checkpoint holding 1e300 or 3.5e38: a ValueError naming the tensor and the value; nothing loaded', async () => {
    for (const big of [1e300, -3.5e38]) {
      const c = fromBytes(await toBytes({ model: { weight: { shape: [1, 2], data: new Float64Array([0.5, big]) }, bias: { shape: [1], data: new Float64Array([0]) } } }));
      const l = small();
      const before = Array.from(l.weight.value.dataSync());
      expect(() => l.loadStateDict(c.weights)).toThrow(ValueError);
      expect(() => l.loadStateDict(c.weights)).toThrow(`Linear.loadStateDict: weight: value 1 is ${big}, beyond float32's range (±3.4028234663852886e+38); it would become ${big > 0 ? '' : '-'}Infinity (nothing was loaded)`);
      expect(Array.from(l.weight.value.dataSync())).toEqual(before);
    }
    const l = small(); // the largest float32 and values that round to it load
    l.loadStateDict({ weight: { shape: [1, 2], data: new Float64Array([3.4028234663852886e38, -3.40282356e38]) }, bias: { shape: [1], data: [0] } });
    expect(Array.from(l.weight.value.dataSync())).toEqual([3.4028234663852886e38, -3.4028234663852886e38]);
  });

  it('float64 tensors into a float32 model, and optimizer state: the same check', () => {
    const f64 = cpu({ dtype: 'float64' });
    const l = small();
    expect(() => l.loadStateDict({ weight: f64.tensor([1, 1e39], [1, 2]), bias: f64.tensor([0], [1]) })).toThrow(/weight: value 1 is 1e\+39, beyond float32's range/);
    const opt = new Adam(l);
    const state = { type: 'Adam', hyper: { lr: 0.001 }, step: 1, state: { '0': { expAvg: { shape: [1, 2], data: new Float64Array([0, 1e300]) } } } };
    expect(() => opt.loadStateDict(state)).toThrow(/Adam\.loadStateDict: state 0\.expAvg: value 1 is 1e\+300, beyond float32's range .* \(nothing was loaded\)/);
    state.state['0'].expAvg = f64.tensor([0, -1e300], [1, 2]) as never;
    expect(() => opt.loadStateDict(state)).toThrow(/value 1 is -1e\+300, beyond float32's range/);
    expect(opt.steps).toBe(0);
  });
});
