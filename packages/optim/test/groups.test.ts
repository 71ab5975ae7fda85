import { describe, expect, it } from 'vitest';
import { Parameter, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { Adam, AdamW, RMSprop, SGD, clipGradNorm, clipGradValue } from '../src/index';
import { hostDict, values } from './helpers';

const be = () => cpu({ dtype: 'float64' });
const param = (b: ReturnType<typeof be>, v: number[]) => new Parameter(b.tensor(v, [v.length]));

describe('parameter groups (PyTorch param_groups)', () => {
  it('each group steps with its own hyper-parameters; options are the defaults a group overrides', () => {
    const b = be();
    const a = param(b, [1, 2]);
    const c = param(b, [1, 2]);
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [c] }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.1]);
    a.grad = b.tensor([1, 1], [2]);
    c.grad = b.tensor([1, 1], [2]);
    opt.step();
    expect(values(a.value)).toEqual([0.5, 1.5]);
    expect(values(c.value)).toEqual([0.9, 1.9]);
    expect(opt.params).toEqual([a, c]);
  });

  it('SGD takes lr from every group when the options have none (PyTorch: lr=required)', () => {
    const b = be();
    const opt = new SGD([{ params: [param(b, [1])], lr: 0.2 }, { params: [param(b, [1])], lr: 0.3, momentum: 0.9 }]);
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.2, 0], [0.3, 0.9]]);
    expect(() => new SGD([{ params: [param(b, [1])] }])).toThrow(/SGD \(param group 0\)|SGD: lr is required/);
    expect(() => new SGD([param(b, [1])])).toThrow(/SGD: lr is required/);
  });

  it('takes a Module, its parameters, or groups of module parameters', () => {
    const b = be();
    const net = new Sequential([new Linear(2, 3, { backend: b }), new TanH(), new Linear(3, 1, { backend: b })]);
    expect(new Adam(net).params).toHaveLength(4);
    const [l0, , l2] = net.namedChildren().map(([, m]) => m);
    const opt = new AdamW([{ params: l0!.parameters(), weightDecay: 0 }, { params: l2!, lr: 1e-2 }]);
    expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay])).toEqual([[1e-3, 0], [1e-2, 0.01]]);
  });

  it('refuses what is not parameters or groups, naming what was passed', () => {
    const b = be();
    const linear = new Linear(2, 2, { backend: b });
    const p = param(b, [1]);
    const cases: [() => unknown, RegExp][] = [
      [() => new SGD([linear] as never, { lr: 0.1 }), /SGD: params\[0\] is a Linear, not a Parameter \(pass module.parameters\(\), or the module itself\)/],
      [() => new SGD([1, 2] as never, { lr: 0.1 }), /SGD: params\[0\] is the number 1, not a Parameter/],
      [() => new SGD('w' as never, { lr: 0.1 }), /SGD: params must be a Parameter\[\], a Module or \[\{ params, … \}\] groups, got the string w/],
      [() => new SGD([{ params: [p] }, p] as never, { lr: 0.1 }), /SGD: param group 1 is a Parameter, not a \{ params, … \} object/],
      [() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 }), /a parameter appears in more than one parameter group/],
      [() => new SGD([{ params: [p], lrr: 1 }] as never, { lr: 0.1 }), /SGD \(param group 0\): unknown option 'lrr'|SGD: unknown option 'lrr'/],
      [() => new SGD([p], { lr: 0.1, foo: 1 } as never), /SGD: unknown option 'foo'/],
      [() => new SGD([p], { lr: '0.1' } as never), /SGD: lr must be a finite number/],
      [() => new Adam([p], { betas: 0.9 } as never), /Adam: betas must be a pair/],
      [() => new Adam([{ params: [p], eps: -1 }]), /Adam: eps must be a finite number ≥ 0, got -1/],
      [() => new RMSprop([p], { centered: 'yes' } as never), /RMSprop: centered must be a boolean/],
      [() => new SGD([p], 0.1 as never), /SGD: options must be an object/],
    ];
    for (const [f, re] of cases) {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
    }
  });

  it('groups are in the state dict and come back; a dict for other groups is refused', () => {
    const b = be();
    const ps = [param(b, [1, 2]), param(b, [3])];
    const opt = new SGD([{ params: [ps[0]!], lr: 0.5, momentum: 0.9 }, { params: [ps[1]!] }], { lr: 0.1 });
    ps.forEach((p) => (p.grad = b.full(p.shape, 1)));
    opt.step();
    const d = opt.stateDict();
    expect(d.groups).toEqual([
      { lr: 0.5, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, params: [0] },
      { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, params: [1] },
    ]);
    const qs = [param(b, [1, 2]), param(b, [3])];
    const other = new SGD([{ params: [qs[0]!] }, { params: [qs[1]!] }], { lr: 1 });
    other.loadStateDict(hostDict(d));
    expect(other.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.5, 0.9], [0.1, 0]]);
    const single = new SGD(qs, { lr: 1 });
    expect(() => single.loadStateDict(hostDict(d))).toThrow(/the dict has 2 parameter groups, the optimizer 1 \(nothing was loaded\)/);
    expect(single.lr).toBe(1);
  });

  it('a group edited by hand is checked at the next step', () => {
    const b = be();
    const p = param(b, [1]);
    const opt = new SGD([p], { lr: 0.1 });
    opt.paramGroups[0]!.lr = Number.NaN;
    p.grad = b.full([1], 1);
    expect(() => opt.step()).toThrow(/SGD: lr must be a finite number/);
  });
});

describe('clipping', () => {
  it('clipGradNorm returns the total norm before clipping and scales to maxNorm; skips parameters without a grad', () => {
    const b = be();
    const [p, q, r] = [param(b, [0, 0]), param(b, [0]), param(b, [5])];
    p.grad = b.tensor([3, 0], [2]);
    q.grad = b.tensor([4], [1]);
    const n = clipGradNorm([p, q, r], 1);
    expect(n.item()).toBe(5);
    expect(values(p.grad)[0]).toBeCloseTo(3 / (5 + 1e-6), 15);
    expect(values(q.grad)[0]).toBeCloseTo(4 / (5 + 1e-6), 15);
    expect(r.grad).toBeNull();
    n.dispose();
    const m = clipGradNorm([p, q], 10); // below maxNorm: unchanged
    expect(values(p.grad)[0]).toBeCloseTo(3 / (5 + 1e-6), 15);
    m.dispose();
    expect(() => (clipGradNorm as (...a: unknown[]) => unknown)([p])).toThrow(/maxNorm is required/);
    expect(() => clipGradNorm([p], -1)).toThrow(ValueError);
  });

  it('clipGradValue clamps every element', () => {
    const b = be();
    const p = param(b, [0, 0, 0]);
    p.grad = b.tensor([-3, 0.5, 7], [3]);
    clipGradValue([p], 1);
    expect(values(p.grad)).toEqual([-1, 0.5, 1]);
    expect(() => (clipGradValue as (...a: unknown[]) => unknown)([p])).toThrow(/clipValue is required/);
  });
});
