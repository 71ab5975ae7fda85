/** Against PyTorch 1.13 float64 values (test/fixtures/make_optim.py writes optim.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Parameter } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, AdamW, LinearLR, MultiStepLR, OneCycleLR, RMSprop, ReduceLROnPlateau, SGD, clipGradNorm, clipGradValue } from '../src/index';
import type { BaseOptimizer, HasLr, LRScheduler } from '../src/index';

type Seen = { lr: number[]; momentum: number[] };
const fx = JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8')) as {
  shapes: number[][];
  init: number[][];
  grads: number[][][];
  optimizers: Record<string, { params: number[][][]; norms: number[] }>;
  schedulers: Record<string, Seen[]>;
  plateauMetrics: number[];
};

const close = (got: ArrayLike<number>, want: readonly number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
};

type Make = (ps: Parameter[]) => BaseOptimizer;
const optimizers: [string, Make, ('norm' | 'value')?][] = [
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ['AdamW-wd0.1-betas', (ps) => new AdamW(ps, { lr: 0.02, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 })],
  ['AdamW-groups', (ps) => new AdamW([{ params: [ps[0]!], lr: 0.05 }, { params: [ps[1]!], weightDecay: 0 }], { lr: 0.01 })],
  ['RMSprop', (ps) => new RMSprop(ps)],
  ['RMSprop-momentum-wd', (ps) => new RMSprop(ps, { lr: 0.005, alpha: 0.9, eps: 1e-6, momentum: 0.8, weightDecay: 0.05 })],
  ['RMSprop-centered', (ps) => new RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true })],
  ['SGD-clipnorm', (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), 'norm'],
  ['Adam-clipvalue', (ps) => new Adam(ps, { lr: 0.01 }), 'value'],
];

describe('optimizers and clipping match PyTorch float64 over 5 steps', () => {
  it.each(optimizers)('%s', (name, make, clip) => {
    const b = cpu({ dtype: 'float64' });
    const want = fx.optimizers[name]!;
    const ps = fx.init.map((v, i) => new Parameter(b.tensor(v, fx.shapes[i]!)));
    const opt = make(ps);
    fx.grads.forEach((gs, s) => {
      ps.forEach((p, i) => (p.grad = b.tensor(gs[i]!, p.shape)));
      if (clip === 'norm') {
        const n = clipGradNorm(ps, 1.5);
        close(n.dataSync(), [want.norms[s]!]);
        n.dispose();
      }
      if (clip === 'value') clipGradValue(ps, 0.5);
      opt.step();
      ps.forEach((p, i) => close(p.value.dataSync(), want.params[s]![i]!));
    });
  });
});

const sgd2 = (): SGD => new SGD([{ params: [new Parameter(cpu().zeros([1]))], lr: 0.1 }, { params: [new Parameter(cpu().zeros([1]))], lr: 0.02 }], { lr: 0.1, momentum: 0.9 });
const schedulers: [string, () => HasLr, (o: HasLr) => LRScheduler, boolean?][] = [
  ['MultiStepLR', sgd2, (o) => new MultiStepLR(o, { milestones: [2, 5, 6], gamma: 0.5 })],
  ['LinearLR', sgd2, (o) => new LinearLR(o, { startFactor: 0.25, totalIters: 4 })],
  ['LinearLR-default', sgd2, (o) => new LinearLR(o)],
  ['OneCycleLR-sgd', sgd2, (o) => new OneCycleLR(o, { maxLr: [1.0, 0.5], totalSteps: 12 })],
  [
    'OneCycleLR-adam-linear-3phase',
    () => new Adam([new Parameter(cpu().zeros([1]))], { lr: 0.1 }),
    (o) => new OneCycleLR(o, { maxLr: 0.3, epochs: 4, stepsPerEpoch: 5, pctStart: 0.25, annealStrategy: 'linear', threePhase: true, divFactor: 10, finalDivFactor: 100 }),
  ],
  ['ReduceLROnPlateau', sgd2, (o) => new ReduceLROnPlateau(o, { patience: 1, factor: 0.5, cooldown: 1, minLr: [0.01, 0.005] }), true],
  ['ReduceLROnPlateau-max-abs', sgd2, (o) => new ReduceLROnPlateau(o, { mode: 'max', threshold: 0.05, thresholdMode: 'abs', patience: 2 }), true],
];

describe('schedulers match PyTorch (lr and cycled momentum of every group, every step)', () => {
  it.each(schedulers)('%s, and a stateDict taken midway continues identically', (name, makeOpt, makeSched, metric) => {
    const want = fx.schedulers[name]!;
    const opt = makeOpt();
    const s = makeSched(opt);
    const groups = () => (opt as unknown as BaseOptimizer).paramGroups as unknown as { lr: number; momentum?: number; betas?: number[] }[];
    let copy: { opt: HasLr; s: LRScheduler } | null = null;
    want.forEach((w, k) => {
      close(groups().map((g) => g.lr), w.lr, 1e-13);
      close(s.getLastLr(), w.lr, 1e-13);
      close(groups().map((g) => g.betas?.[0] ?? g.momentum!), w.momentum, 1e-13);
      if (copy) close(copy.s.getLastLr(), w.lr, 1e-13);
      if (k === 3) {
        const o2 = makeOpt();
        const s2 = makeSched(o2);
        s2.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
        copy = { opt: o2, s: s2 };
        close(s2.getLastLr(), w.lr, 1e-13);
      }
      for (const x of copy ? [s, copy.s] : [s]) x.step(metric ? fx.plateauMetrics[k] : undefined);
    });
  });

  it('OneCycleLR refuses to step past totalSteps, as PyTorch does', () => {
    const s = new OneCycleLR(sgd2(), { maxLr: 1, totalSteps: 3 });
    for (let k = 0; k < 3; k++) s.step(); // PyTorch counts the constructor's step too: 4 in all
    expect(() => s.step()).toThrow(/OneCycleLR: tried to step 5 times; the cycle has totalSteps = 3/);
  });
});
