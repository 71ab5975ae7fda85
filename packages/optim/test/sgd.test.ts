import { describe, expect, it } from 'vitest';
import { Parameter, RNG, ValueError, tidy } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { SGD } from '../src/index';
import type { SGDOptions } from '../src/index';
import { Linear } from '@neurone/layers';
import { values } from './helpers';

const SHAPES = [[2, 3], [4]] as const;
const SIZES = [6, 4];

/** Parameters with seeded values, and a seeded gradient for each step. */
function setup(seed = 11) {
  const backend = cpu({ dtype: 'float64' });
  const rng = new RNG(seed);
  const init = SIZES.map((n) => Array.from(rng.uniformArray(n, -1, 1)));
  const grads = Array.from({ length: 5 }, () => SIZES.map((n) => Array.from(rng.uniformArray(n, -2, 2))));
  const params = init.map((v, i) => new Parameter(backend.tensor(v, SHAPES[i]!)));
  return { backend, init, grads, params };
}

/** PyTorch's SGD written out element by element (torch/optim/sgd.py, single-tensor path). */
function referenceSGD(init: number[][], grads: number[][][], o: Required<SGDOptions>): number[][] {
  const p = init.map((v) => [...v]);
  const buf: (number[] | null)[] = p.map(() => null);
  for (const stepGrads of grads) {
    for (let i = 0; i < p.length; i++) {
      const pi = p[i]!;
      const next: number[] = [];
      for (let j = 0; j < pi.length; j++) {
        let g = stepGrads[i]![j]!;
        if (o.weightDecay !== 0) g = g + o.weightDecay * pi[j]!;
        if (o.momentum !== 0) {
          const b = buf[i] === null ? g : o.momentum * buf[i]![j]! + (1 - o.dampening) * g;
          next.push(b);
          g = o.nesterov ? g + o.momentum * b : b;
        }
        pi[j] = pi[j]! - o.lr * g;
      }
      if (o.momentum !== 0) buf[i] = next;
    }
  }
  return p;
}

function run(options: SGDOptions, steps = 5) {
  const { init, grads, params } = setup();
  const opt = new SGD(params, options);
  for (let s = 0; s < steps; s++) {
    params.forEach((p, i) => (p.grad = p.backend.tensor(grads[s]![i]!, p.shape)));
    opt.step();
  }
  const full = { lr: 0, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options };
  return { got: params.map((p) => values(p.value)), want: referenceSGD(init, grads.slice(0, steps), full), opt, params };
}

function expectClose(got: number[][], want: number[][], tol = 1e-12) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.length).toBe(want[i]!.length);
    g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]![j]!))));
  });
}

describe('SGD', () => {
  it('plain SGD is p −= lr·grad (two hand-computed steps)', () => {
    const backend = cpu({ dtype: 'float64' });
    const p = new Parameter(backend.tensor([1, -2], [2]));
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = backend.tensor([0.5, 4], [2]);
    opt.step();
    expect(values(p.value)).toEqual([0.95, -2.4]);
    p.grad = backend.tensor([-1, 0], [2]);
    opt.step();
    expect(values(p.value)[0]).toBeCloseTo(1.05, 14);
    expect(values(p.value)[1]).toBeCloseTo(-2.4, 14);
  });

  it('momentum: buf = g on the first step, then μ·buf + g (hand-computed)', () => {
    const backend = cpu({ dtype: 'float64' });
    const p = new Parameter(backend.tensor([1], [1]));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = backend.tensor([0.5], [1]);
    opt.step(); // buf = 0.5, p = 1 − 0.05
    expect(values(p.value)[0]).toBeCloseTo(0.95, 14);
    p.grad = backend.tensor([0.5], [1]);
    opt.step(); // buf = 0.45 + 0.5 = 0.95, p = 0.95 − 0.095
    expect(values(p.value)[0]).toBeCloseTo(0.855, 14);
  });

  it.each<[string, SGDOptions]>([
    ['plain', { lr: 0.05 }],
    ['momentum', { lr: 0.05, momentum: 0.9 }],
    ['momentum + dampening', { lr: 0.05, momentum: 0.8, dampening: 0.3 }],
    ['nesterov', { lr: 0.05, momentum: 0.9, nesterov: true }],
    ['weight decay', { lr: 0.05, weightDecay: 0.1 }],
    ['weight decay + nesterov', { lr: 0.02, momentum: 0.5, weightDecay: 0.2, nesterov: true }],
    ['everything but nesterov', { lr: 0.3, momentum: 0.7, dampening: 0.1, weightDecay: 0.05 }],
  ])('%s matches the PyTorch update written out in loops over 5 steps', (_, options) => {
    const { got, want } = run(options);
    expectClose(got, want);
  });

  it('nesterov and dampening actually change the trajectory', () => {
    const a = run({ lr: 0.05, momentum: 0.9 }).got;
    const b = run({ lr: 0.05, momentum: 0.9, nesterov: true }).got;
    const c = run({ lr: 0.05, momentum: 0.9, dampening: 0.5 }).got;
    expect(a[0]![0]).not.toBeCloseTo(b[0]![0]!, 6);
    expect(a[0]![0]).not.toBeCloseTo(c[0]![0]!, 6);
  });

  it('lr is settable between steps', () => {
    const backend = cpu({ dtype: 'float64' });
    const p = new Parameter(backend.tensor([0], [1]));
    const opt = new SGD([p], { lr: 1 });
    p.grad = backend.tensor([1], [1]);
    opt.step();
    opt.lr = 0.25;
    opt.step();
    expect(values(p.value)[0]).toBeCloseTo(-1.25, 14);
    expect(opt.steps).toBe(2);
    expect(() => (opt.lr = -1)).toThrow(ValueError);
    expect(() => (opt.lr = NaN)).toThrow(/lr must be a finite number/);
  });

  it('takes a Module, deduplicates shared parameters, zeroGrad clears every grad', () => {
    const backend = cpu();
    const net = new Linear(3, 2, { backend });
    const opt = new SGD(net, { lr: 0.1 });
    expect(opt.params).toEqual([net.weight, net.bias]);
    expect(net.bias).not.toBeNull();
    expect(new SGD([net.weight, net.weight, net.bias!], { lr: 0.1 }).params.length).toBe(2);
    net.weight.grad = backend.full([2, 3], 1);
    opt.zeroGrad();
    expect(net.weight.grad).toBeNull();
  });

  it('rejects bad options with a ValueError naming SGD', () => {
    const backend = cpu();
    const p = [new Parameter(backend.zeros([2]))];
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/SGD: got an empty parameter list/);
    expect(() => new SGD(p, { lr: -0.1 })).toThrow(ValueError);
    expect(() => new SGD(p, { lr: 0.1, momentum: -0.5 })).toThrow(/SGD: momentum/);
    expect(() => new SGD(p, { lr: 0.1, weightDecay: -1 })).toThrow(/SGD: weightDecay/);
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires momentum > 0/);
    expect(() => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/dampening = 0/);
    expect(() => new SGD({} as never, { lr: 0.1 })).toThrow(/params must be a Parameter\[\], a Module/);
  });

  it('frees every temporary: only the momentum buffers stay', () => {
    const backend = cpu();
    const p = new Parameter(backend.full([3, 2], 1));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true });
    const setGrad = () => (p.grad = backend.full([3, 2], 0.5));
    setGrad();
    opt.step();
    const after1 = backend.memory().tensors;
    for (let i = 0; i < 20; i++) {
      setGrad();
      opt.step();
    }
    expect(backend.memory().tensors).toBe(after1);
    // value + grad + momentum buffer
    expect(after1).toBe(3);
    opt.dispose();
    expect(backend.memory().tensors).toBe(2);
  });

  it('works inside tidy: the state survives the scope', () => {
    const backend = cpu();
    const p = new Parameter(backend.full([2], 1));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.5 });
    tidy(() => {
      p.grad = backend.full([2], 1);
      opt.step();
    });
    p.grad = backend.full([2], 1);
    opt.step(); // would throw a DisposedError if the buffer had been freed by tidy
    expect(values(p.value)[0]).toBeCloseTo(1 - 0.1 - 0.1 * 1.5, 6);
  });
});
