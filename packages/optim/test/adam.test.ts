import { describe, expect, it } from 'vitest';
import { Parameter, RNG, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam } from '../src/index';
import type { AdamOptions } from '../src/index';
import { values } from './helpers';

const SHAPES = [[3, 2], [5]] as const;
const SIZES = [6, 5];

/** PyTorch's Adam written out element by element (torch/optim/adam.py, single-tensor path, amsgrad off). */
function referenceAdam(init: number[][], grads: number[][][], o: { lr: number; b1: number; b2: number; eps: number; wd: number }): number[][] {
  const p = init.map((v) => [...v]);
  const m = init.map((v) => v.map(() => 0));
  const v = init.map((x) => x.map(() => 0));
  grads.forEach((stepGrads, s) => {
    const t = s + 1;
    const bc1 = 1 - Math.pow(o.b1, t);
    const bc2 = 1 - Math.pow(o.b2, t);
    for (let i = 0; i < p.length; i++)
      for (let j = 0; j < p[i]!.length; j++) {
        let g = stepGrads[i]![j]!;
        if (o.wd !== 0) g += o.wd * p[i]![j]!;
        m[i]![j] = o.b1 * m[i]![j]! + (1 - o.b1) * g;
        v[i]![j] = o.b2 * v[i]![j]! + (1 - o.b2) * g * g;
        const denom = Math.sqrt(v[i]![j]!) / Math.sqrt(bc2) + o.eps;
        p[i]![j] = p[i]![j]! - (o.lr / bc1) * (m[i]![j]! / denom);
      }
  });
  return p;
}

function run(options: AdamOptions, steps = 6) {
  const backend = cpu({ dtype: 'float64' });
  const rng = new RNG(21);
  const init = SIZES.map((n) => Array.from(rng.uniformArray(n, -1, 1)));
  const grads = Array.from({ length: steps }, () => SIZES.map((n) => Array.from(rng.uniformArray(n, -3, 3))));
  const params = init.map((v, i) => new Parameter(backend.tensor(v, SHAPES[i]!)));
  const opt = new Adam(params, options);
  for (let s = 0; s < steps; s++) {
    params.forEach((p, i) => (p.grad = backend.tensor(grads[s]![i]!, p.shape)));
    opt.step();
  }
  const [b1, b2] = options.betas ?? [0.9, 0.999];
  const want = referenceAdam(init, grads, { lr: options.lr ?? 1e-3, b1, b2, eps: options.eps ?? 1e-8, wd: options.weightDecay ?? 0 });
  return { got: params.map((p) => values(p.value)), want, backend, params, opt };
}

describe('Adam', () => {
  it('the first step moves every weight by lr·g/(|g| + ε) (bias correction cancels)', () => {
    const backend = cpu({ dtype: 'float64' });
    const p = new Parameter(backend.tensor([1, 2, 3], [3]));
    const opt = new Adam([p], { lr: 0.01 });
    p.grad = backend.tensor([0.5, -4, 1e-9], [3]);
    opt.step();
    const got = values(p.value);
    expect(got[0]).toBeCloseTo(1 - (0.01 * 0.5) / (0.5 + 1e-8), 14);
    expect(got[1]).toBeCloseTo(2 + (0.01 * 4) / (4 + 1e-8), 14);
    // |g| = 1e-9 is comparable to ε = 1e-8: 0.01 · 1e-9 / (1e-9 + 1e-8)
    expect(got[2]).toBeCloseTo(3 - (0.01 * 1e-9) / (1e-9 + 1e-8), 14);
  });

  it.each<[string, AdamOptions]>([
    ['defaults', {}],
    ['lr 0.05, betas [0.8, 0.99]', { lr: 0.05, betas: [0.8, 0.99] }],
    ['weight decay', { lr: 0.01, weightDecay: 0.1 }],
    ['large eps', { lr: 0.1, eps: 0.5, betas: [0.5, 0.9] }],
  ])('%s matches the PyTorch update written out in loops over 6 steps', (_, options) => {
    const { got, want } = run(options);
    got.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(1e-12)));
  });

  it('keeps the defaults PyTorch has', () => {
    const backend = cpu();
    const opt = new Adam([new Parameter(backend.zeros([1]))]);
    expect(opt.defaults).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect({ ...opt.paramGroups[0], params: undefined }).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: undefined });
  });

  it('lr is settable between steps', () => {
    const backend = cpu({ dtype: 'float64' });
    const p = new Parameter(backend.tensor([0], [1]));
    const opt = new Adam([p], { lr: 0.01 });
    p.grad = backend.tensor([1], [1]);
    opt.step();
    opt.lr = 0.5;
    p.grad = backend.tensor([1], [1]);
    opt.step(); // constant gradient: m̂ = 1, v̂ = 1, so each step moves by lr/(1 + ε)
    expect(values(p.value)[0]).toBeCloseTo(-(0.01 + 0.5) / (1 + 1e-8), 10);
  });

  it('frees every temporary: only the two moments per parameter stay', () => {
    const backend = cpu();
    const p = new Parameter(backend.full([4, 3], 1));
    const opt = new Adam([p], { lr: 0.1, weightDecay: 0.01 });
    p.grad = backend.full([4, 3], 0.5);
    opt.step();
    const after1 = backend.memory().tensors;
    expect(after1).toBe(4); // value, grad, expAvg, expAvgSq
    for (let i = 0; i < 20; i++) {
      p.grad = backend.full([4, 3], -0.5);
      opt.step();
    }
    expect(backend.memory().tensors).toBe(after1);
  });

  it('rejects bad options with a ValueError naming Adam', () => {
    const p = [new Parameter(cpu().zeros([2]))];
    expect(() => new Adam(p, { lr: -1 })).toThrow(ValueError);
    expect(() => new Adam(p, { betas: [1, 0.999] })).toThrow(/Adam: betas\[0\] must be a finite number in \[0, 1\)/);
    expect(() => new Adam(p, { betas: [0.9, -0.1] })).toThrow(/Adam: betas\[1\]/);
    expect(() => new Adam(p, { betas: [0.9] as never })).toThrow(/betas must be a pair/);
    expect(() => new Adam(p, { eps: -1 })).toThrow(/Adam: eps/);
    expect(() => new Adam(p, { weightDecay: Infinity })).toThrow(/Adam: weightDecay/);
  });
});
