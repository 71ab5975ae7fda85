/** The toolbox layers against PyTorch 1.13 float64 (test/fixtures/pytorch/make_toolbox.py writes toolbox.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RNG, StateError, ValueError, tidy } from '@neurone/core';
import type { Module } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { BatchNorm1d, BatchNorm2d, Dropout, ELU, GELU, LayerNorm, LeakyReLU, Linear, Sequential } from '../src/index';
import { gradcheckInto, rand } from './helpers';

type Step = { x: number[]; shape: number[]; delta: number[]; y: number[]; dx: number[]; grads: Record<string, number[]>; buffers: Record<string, number[]> };
type Case = { params0: Record<string, number[]>; steps: Step[]; eval: { x: number[]; y: number[] } };
const fx = JSON.parse(readFileSync(new URL('./fixtures/pytorch/toolbox.json', import.meta.url), 'utf8')) as Record<string, Case>;
const be = cpu({ dtype: 'float64' });
const close = (got: ArrayLike<number>, want: readonly number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
};

const cases: [string, () => Module][] = [
  ['BatchNorm1d', () => new BatchNorm1d(3, { momentum: 0.3, backend: be })],
  ['BatchNorm2d', () => new BatchNorm2d(2, { backend: be })],
  ['BatchNorm1d-noaffine-notrack', () => new BatchNorm1d(4, { affine: false, trackRunningStats: false, backend: be })],
  ['LayerNorm', () => new LayerNorm(4, { eps: 1e-3, backend: be })],
  ['LeakyReLU', () => new LeakyReLU(0.05)],
  ['ELU', () => new ELU(0.7)],
  ['GELU', () => new GELU()],
  ['GELU-tanh', () => new GELU({ approximate: 'tanh' })],
];

describe('toolbox layers = PyTorch float64: training steps (output, ∂x, ∂params, buffers), then eval', () => {
  it.each(cases)('%s', (name, make) => {
    const c = fx[name]!;
    const m = make();
    m.loadStateDict(Object.fromEntries(Object.entries(c.params0).map(([k, v]) => [k, { shape: [v.length], data: v }])), { strict: false });
    for (const s of c.steps) {
      tidy(() => {
        const x = be.tensor(s.x, s.shape);
        const d = be.tensor(s.delta, s.shape);
        close(m.forward(x).dataSync(), s.y);
        m.zeroGrad();
        close(m.backwardDelta(x, d).dataSync(), s.dx); // either order: the record of that forward
        m.backwardUpdateGradient(x, d);
        for (const [n, p] of m.namedParameters()) close(p.grad!.dataSync(), s.grads[n]!);
        const buffers = Object.fromEntries(m.namedBuffers().map(([n, t]) => [n, Array.from(t.dataSync())]));
        expect(Object.keys(buffers)).toEqual(Object.keys(s.buffers));
        for (const [n, v] of Object.entries(s.buffers)) close(buffers[n]!, v);
      });
    }
    m.eval();
    close(m.forward(be.tensor(c.eval.x, c.steps[0]!.shape)).dataSync(), c.eval.y);
  });

  it('BatchNorm: PyTorch names in the stateDict (params, then buffers), and they load back', () => {
    const bn = new BatchNorm2d(3, { backend: be });
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const net = new Sequential(new Linear(2, 3, { backend: be }), new BatchNorm1d(3, { backend: be }));
    tidy(() => net.forward(rand(be, [4, 2], 1)));
    const copy = new Sequential(new Linear(2, 3, { backend: be }), new BatchNorm1d(3, { backend: be }));
    copy.loadStateDict(net.stateDict());
    expect(Array.from(copy.stateDict()['1.running_mean']!.dataSync())).toEqual(Array.from(net.stateDict()['1.running_mean']!.dataSync()));
    expect(copy.stateDict()['1.num_batches_tracked']!.item()).toBe(1);
  });

  it('BatchNorm refuses a backward without its forward, a one-sample batch in training and a wrong layout', () => {
    const bn = new BatchNorm1d(3, { backend: be });
    const x = rand(be, [4, 3], 2);
    expect(() => bn.backwardDelta(x, x)).toThrow(StateError);
    expect(() => bn.forward(rand(be, [1, 3], 3))).toThrow(/expected more than 1 value per channel when training/);
    expect(() => new BatchNorm2d(3, { backend: be }).forward(rand(be, [2, 3, 4, 4], 3))).toThrow(/BatchNorm2d\(3\).forward: expects \[batch, H, W, n\] \(channels last\)/);
    expect(() => new BatchNorm1d(3, { momentum: 'x' } as never)).toThrow(ValueError);
    expect(() => new LayerNorm(0)).toThrow(/positive integer/);
    bn.eval();
    expect(() => bn.backwardDelta(x, x)).not.toThrow(); // eval: a function of x alone
  });
});

/** Dropout with its mask fixed (the hook the RNG fills), for gradcheck. */
class FixedDropout extends Dropout {
  protected override drawMask(size: number): Float64Array {
    return Float64Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 0 : 1 / (1 - this.p)));
  }
}

describe('Dropout', () => {
  it('inverted: zeros ≈ p of the elements, scales the rest by 1/(1 − p); backward uses the same mask; eval is the identity', () => {
    const d = new Dropout({ p: 0.3, rng: new RNG(5) });
    const x = be.full([200, 50], 2);
    const y = Array.from(d.forward(x).dataSync());
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.02);
    expect(y.every((v) => v === 0 || Math.abs(v - 2 / 0.7) < 1e-15)).toBe(true);
    const g = Array.from(d.backwardDelta(x, be.full([200, 50], 1)).dataSync());
    g.forEach((v, i) => expect(v).toBe(y[i]! / 2));
    expect(() => d.backwardDelta(be.full([200, 50], 2), x)).toThrow(StateError);
    d.eval();
    expect(Array.from(d.forward(be.tensor([1, 2], [2])).dataSync())).toEqual([1, 2]);
    // the same seed draws the same mask
    const a = Array.from(new Dropout({ p: 0.5, rng: new RNG(9) }).forward(be.full([10], 1)).dataSync());
    expect(Array.from(new Dropout({ p: 0.5, rng: new RNG(9) }).forward(be.full([10], 1)).dataSync())).toEqual(a);
    expect(() => new Dropout(1.5)).toThrow(/p must be a probability in \[0, 1\]/);
    expect(() => new Dropout({ q: 1 } as never)).toThrow(ValueError);
  });
});

describe('gradcheck (float64, maxRelError ≤ 1e-6): the normalisations in training mode, Dropout with a fixed mask', () => {
  const results: Record<string, number> = {};
  const bn2 = () => {
    const m = new BatchNorm2d(3, { backend: be });
    m.loadStateDict({ weight: { shape: [3], data: [1.2, -0.7, 0.4] }, bias: { shape: [3], data: [0.1, 0, -0.3] } }, { strict: false });
    return m;
  };
  it.each([
    ['BatchNorm1d [6, 3]', () => new BatchNorm1d(3, { backend: be }), [6, 3]],
    ['BatchNorm1d [4, 5, 2] (length axis)', () => new BatchNorm1d(2, { backend: be }), [4, 5, 2]],
    ['BatchNorm1d affine=false', () => new BatchNorm1d(3, { affine: false, backend: be }), [5, 3]],
    ['BatchNorm2d [2, 3, 3, 3]', bn2, [2, 3, 3, 3]],
    ['LayerNorm(4) [3, 4]', () => new LayerNorm(4, { backend: be }), [3, 4]],
    ['LayerNorm(3) [2, 2, 3]', () => new LayerNorm(3, { backend: be }), [2, 2, 3]],
    ['Dropout(0.4), mask fixed', () => new FixedDropout(0.4), [3, 5]],
  ] as const)('%s', (name, make, shape) => {
    gradcheckInto(results, name, make(), rand(be, [...shape], 31, -2, 2));
  });
  it('BatchNorm2d in eval mode (running statistics)', () => {
    const m = bn2();
    tidy(() => m.forward(rand(be, [2, 3, 3, 3], 32)));
    m.eval();
    gradcheckInto(results, 'BatchNorm2d eval', m, rand(be, [2, 3, 3, 3], 33));
  });
});

describe('summary(model, inputShape)', () => {
  it('lists every module with its output shape, trainable/frozen params, buffers and bytes', async () => {
    const { Conv2D, Flatten, MaxPool2D, ReLU, summary } = await import('../src/index');
    const b32 = cpu();
    const net = new Sequential(
      new Conv2D(3, 1, 4, { padding: 1, backend: b32 }),
      new BatchNorm2d(4, { backend: b32 }),
      new ReLU(),
      new MaxPool2D(2),
      new Flatten(),
      new Dropout(0.5),
      new Linear(4 * 4 * 4, 10, { backend: b32 }),
    );
    net.namedParameters()[0]![1].requiresGrad = false; // freeze the conv weight
    const s = summary(net, [2, 8, 8, 1]);
    expect(s.rows.map((r) => [r.name, r.type, r.outputShape])).toEqual([
      ['', 'Sequential', [2, 10]],
      ['0', 'Conv2D', [2, 8, 8, 4]],
      ['1', 'BatchNorm2d', [2, 8, 8, 4]],
      ['2', 'ReLU', [2, 8, 8, 4]],
      ['3', 'MaxPool2D', [2, 4, 4, 4]],
      ['4', 'Flatten', [2, 64]],
      ['5', 'Dropout', [2, 64]],
      ['6', 'Linear', [2, 10]],
    ]);
    expect([s.trainableParams, s.frozenParams, s.bufferElements]).toEqual([4 + 8 + 650, 36, 9]);
    expect(s.bytes).toBe((698 + 9) * 4);
    expect(String(s)).toMatch(/Params: 698 \(trainable 662, frozen 36\); buffers: 9 values; size: 2\.8 KiB \(2,828 bytes\)/);
    expect(String(s)).toMatch(/ {2}3 \(MaxPool2D\) +\[2, 4, 4, 4\]/);
    // nothing changed: training mode, no running-statistics update, forwards unwrapped
    expect(net.training).toBe(true);
    expect(net.stateDict()['1.num_batches_tracked']!.item()).toBe(0);
    expect(Object.prototype.hasOwnProperty.call(net.children()[0], 'forward')).toBe(false);
    expect(() => summary(net, [2, 8, 8, 3])).toThrow(); // the model's own error for a wrong input
    expect(() => summary({} as never, [1])).toThrow(/model must be a Module/);
    expect(() => summary(net, [2, 0])).toThrow(/inputShape must be an array of positive integers/);
  });
});
