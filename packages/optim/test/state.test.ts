import { describe, expect, it } from 'vitest';
import { Parameter, RNG, ValueError } from '@neurone/core';
import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, CosineAnnealingLR, SGD, StepLR } from '../src/index';
import type { BaseOptimizer, OptimizerStateDictInput } from '../src/index';
import { hostDict, values } from './helpers';
import type { HostDict } from './helpers';


function params(backend: Backend, seed = 5): Parameter[] {
  const rng = new RNG(seed);
  return [new Parameter(backend.tensor(rng.uniformArray(6), [3, 2])), new Parameter(backend.tensor(rng.uniformArray(2), [2]))];
}

/** Applies seeded gradients for `steps` steps starting at step index `from`. */
function train(opt: BaseOptimizer, ps: Parameter[], from: number, steps: number): void {
  for (let s = from; s < from + steps; s++) {
    const rng = new RNG(100 + s);
    ps.forEach((p) => (p.grad = p.backend.tensor(rng.uniformArray(p.value.size, -1, 1), p.shape)));
    opt.step();
  }
}

describe.each([
  ['SGD', (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['Adam', (ps: Parameter[]) => new Adam(ps, { lr: 0.05, betas: [0.8, 0.95], weightDecay: 0.02 })],
] as const)('%s stateDict', (name, make) => {
  it('round trip (through JSON): a restored optimizer continues exactly like the original', () => {
    const backend = cpu({ dtype: 'float64' });
    const a = params(backend);
    const optA = make(a);
    train(optA, a, 0, 3);
    const dict = optA.stateDict();
    expect(dict.type).toBe(name);
    expect(dict.step).toBe(3);
    expect(Object.keys(dict.state)).toEqual(['0', '1']);
    // JSON-friendly once the tensors are read into plain arrays
    const json = JSON.parse(
      JSON.stringify(hostDict(dict), (_, v: unknown) => (v instanceof Float64Array || v instanceof Float32Array ? Array.from(v) : v)),
    ) as OptimizerStateDictInput;

    // a second copy of the parameters, a fresh optimizer with other hyper-parameters
    const b = a.map((p) => new Parameter(backend.tensor(p.value.dataSync(), p.shape)));
    const optB = name === 'SGD' ? new SGD(b, { lr: 1 }) : new Adam(b, { lr: 1 });
    optB.loadStateDict(json);
    expect(optB.lr).toBe(optA.lr);
    expect(optB.steps).toBe(3);
    expect(hostDict(optB.stateDict())).toEqual(hostDict(dict));

    train(optA, a, 3, 2);
    train(optB, b, 3, 2);
    a.forEach((p, i) => expect(values(b[i]!.value)).toEqual(values(p.value)));
  });

  it('a fresh optimizer has an empty state and loads the state tensors as tensors too', () => {
    const backend = cpu();
    const a = params(backend);
    const optA = make(a);
    expect(optA.stateDict().state).toEqual({});
    train(optA, a, 0, 1);
    const b = params(backend);
    const optB = make(b);
    const live: OptimizerStateDictInput = { ...optA.stateDict(), state: {} };
    // pass the state as tensors (on the same backend)
    const t = backend.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
    live.state['0'] = name === 'SGD' ? { momentumBuffer: t } : { expAvg: t, expAvgSq: t };
    optB.loadStateDict(live);
    const got = optB.stateDict().state['0']!;
    for (const v of Object.values(got)) expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    t.dispose(); // the optimizer copied it
    train(optB, b, 1, 1);
  });

  it('rejects a bad dict with a clear ValueError and changes nothing', () => {
    const backend = cpu();
    const a = params(backend);
    const opt = make(a);
    train(opt, a, 0, 2);
    const good = hostDict(opt.stateDict());
    const key = Object.keys(good.state['0']!)[0]!;
    const bad = (patch: (d: HostDict) => void): HostDict => {
      const d = structuredClone(good);
      patch(d);
      return d;
    };
    const cases: [HostDict, RegExp][] = [
      [bad((d) => (d.type = name === 'SGD' ? 'Adam' : 'SGD')), /the dict is for (Adam|SGD), not/],
      [bad((d) => (d.state['0']![key]!.shape = [2, 3])), /state 0\.\w+ does not match its parameter \(state: \[2, 3\], parameter: \[3, 2\]\)/],
      [bad((d) => (d.state['0']![key]!.data = new Float32Array(5))), /5 values for shape \[3, 2\]/],
      [bad((d) => (d.state['7'] = d.state['0']!)), /state index 7 is outside the 2 parameters/],
      [bad((d) => (d.state['1'] = { nope: d.state['1']![key]! })), /unknown state 'nope'/],
      [bad((d) => (d.hyper.lr = -3)), /lr must be a finite number/],
      [bad((d) => (d.step = -1)), /step must be a non-negative integer/],
    ];
    for (const [d, re] of cases) {
      expect(() => opt.loadStateDict(d)).toThrow(ValueError);
      expect(() => opt.loadStateDict(d)).toThrow(re);
      expect(() => opt.loadStateDict(d)).toThrow(/nothing was loaded/);
    }
    expect(hostDict(opt.stateDict())).toEqual(good);
  });
});

describe('schedulers', () => {
  const opt = () => new SGD([new Parameter(cpu().zeros([1]))], { lr: 0.2 });

  it('StepLR: lr = base·γ^⌊epoch/stepSize⌋', () => {
    const o = opt();
    const s = new StepLR(o, { stepSize: 3, gamma: 0.5 });
    const seen: number[] = [];
    for (let e = 0; e < 7; e++) {
      seen.push(o.lr);
      s.step();
    }
    expect(seen).toEqual([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05]);
  });

  it('CosineAnnealingLR: base at 0, (base + ηmin)/2 at tMax/2, ηmin at tMax', () => {
    const o = opt();
    const s = new CosineAnnealingLR(o, { tMax: 4, etaMin: 0.02 });
    const seen: number[] = [o.lr];
    for (let e = 0; e < 4; e++) {
      s.step();
      seen.push(o.lr);
    }
    expect(seen[0]).toBe(0.2);
    expect(seen[1]).toBeCloseTo(0.02 + 0.18 * (1 + Math.SQRT1_2) / 2, 14);
    expect(seen[2]).toBeCloseTo(0.11, 14);
    expect(seen[4]).toBeCloseTo(0.02, 14);
  });

  it('scheduler state round trip and option checks', () => {
    const o = opt();
    const s = new StepLR(o, { stepSize: 2 });
    s.step();
    s.step();
    const o2 = opt();
    const s2 = new StepLR(o2, { stepSize: 2 });
    s2.loadStateDict(s.stateDict());
    expect(o2.lr).toBeCloseTo(0.02, 14);
    expect(() => new StepLR(o, { stepSize: 0 })).toThrow(/StepLR: stepSize must be a positive integer/);
    expect(() => new CosineAnnealingLR(o, { tMax: 1.5 })).toThrow(ValueError);
  });
});

describe('stateDict on a backend that reads only asynchronously', () => {
  it('stateDict() reads nothing: it gives the live state tensors, and loadStateDict copies them on the device', async () => {
    const base = cpu();
    const p = new Parameter(base.tensor([1, 2], [2]));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    p.grad = base.tensor([1, 1], [2]);
    opt.step();
    // this CPU backend now claims async-only reads, as a GPU backend on WebGPU does
    Object.defineProperty(base, 'canReadSync', { value: false });
    const d = opt.stateDict();
    expect(d.step).toBe(1);
    const buf = d.state['0']!.momentumBuffer!;
    expect(Array.from(await buf.data())).toEqual([1, 1]);
    const other = new SGD([p], { lr: 0.1, momentum: 0.5 });
    other.loadStateDict(d);
    const copy = other.stateDict().state['0']!.momentumBuffer!;
    expect(copy).not.toBe(buf);
    expect(Array.from(await copy.data())).toEqual([1, 1]);
  });
});
