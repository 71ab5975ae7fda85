import { describe, expect, it } from 'vitest';
import { Parameter } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, SGD } from '../src/index';
import { values } from './helpers';

/** Two parameters; only the first gets a gradient on every step. */
function setup() {
  const backend = cpu({ dtype: 'float64' });
  const a = new Parameter(backend.tensor([1, -2, 3], [3]));
  const frozen = new Parameter(backend.tensor([0.5, 0.25], [2]));
  return { backend, a, frozen };
}

describe('parameters without a gradient (PyTorch: grad is None)', () => {
  it('.grad is null until a backward accumulates one (reading it allocates nothing); zeroGrad clears it', () => {
    const { backend, a } = setup();
    expect(a.hasGrad).toBe(false);
    const before = backend.memory().tensors;
    expect(a.grad).toBeNull();
    expect(backend.memory().tensors).toBe(before);
    expect(a.hasGrad).toBe(false);
    a.accumulateGrad(backend.tensor([1, 1, 1], [3]));
    expect(a.hasGrad).toBe(true);
    a.zeroGrad();
    expect(a.hasGrad).toBe(false);
    a.grad = backend.tensor([2, 2, 2], [3]);
    expect(a.hasGrad).toBe(true);
  });

  it.each([
    ['SGD with momentum and weight decay', (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })],
    ['Adam with weight decay', (ps: Parameter[]) => new Adam(ps, { lr: 0.1, weightDecay: 0.01 })],
  ])('%s leaves a parameter with no gradient untouched and keeps no state for it', (_, make) => {
    const { backend, a, frozen } = setup();
    const opt = make([a, frozen]);
    for (let s = 0; s < 3; s++) {
      opt.zeroGrad();
      a.accumulateGrad(backend.tensor([0.5, -1, 2], [3]));
      void frozen.grad; // a read must not make it trainable
      opt.step();
    }
    expect(values(frozen.value)).toEqual([0.5, 0.25]); // weight decay alone would have moved it
    expect(values(a.value)).not.toEqual([1, -2, 3]);
    const dict = opt.stateDict();
    expect(Object.keys(dict.state)).toEqual(['0']);
    expect(dict.step).toBe(3);
    expect(dict.paramSteps).toEqual({ '1': 0 });
  });

  it('Adam counts steps per parameter: one that joins late gets a first-step bias correction', () => {
    // Parameter b has a gradient only from step 3 on; its trajectory must equal a fresh Adam's on b alone.
    const backend = cpu({ dtype: 'float64' });
    const a = new Parameter(backend.tensor([1, 2], [2]));
    const b = new Parameter(backend.tensor([3, -1], [2]));
    const bAlone = new Parameter(backend.tensor([3, -1], [2]));
    const opt = new Adam([a, b], { lr: 0.05 });
    const alone = new Adam([bAlone], { lr: 0.05 });
    const gb = [[0.3, -0.7], [1.5, 0.2], [-0.4, 0.9]];
    for (let s = 0; s < 5; s++) {
      opt.zeroGrad();
      a.accumulateGrad(backend.tensor([0.1 * s, -0.2], [2]));
      if (s >= 2) {
        b.accumulateGrad(backend.tensor(gb[s - 2]!, [2]));
        alone.zeroGrad();
        bAlone.accumulateGrad(backend.tensor(gb[s - 2]!, [2]));
        alone.step();
      }
      opt.step();
    }
    const got = values(b.value);
    const want = values(bAlone.value);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
    expect(opt.stateDict().paramSteps).toEqual({ '1': 3 });
  });

  it('a state dict carries the per-parameter step counts across a reload', () => {
    const backend = cpu({ dtype: 'float64' });
    const make = () => [new Parameter(backend.tensor([1, 2], [2])), new Parameter(backend.tensor([3, -1], [2]))];
    const p1 = make();
    const o1 = new Adam(p1, { lr: 0.05 });
    for (let s = 0; s < 4; s++) {
      o1.zeroGrad();
      p1[0]!.accumulateGrad(backend.tensor([0.3, -0.1], [2]));
      if (s >= 2) p1[1]!.accumulateGrad(backend.tensor([0.2, 0.4], [2]));
      o1.step();
    }
    const p2 = make();
    p2.forEach((p, i) => (p.value = p1[i]!.value.clone()));
    const o2 = new Adam(p2, { lr: 0.05 });
    o2.loadStateDict(o1.stateDict());
    for (const [o, ps] of [[o1, p1], [o2, p2]] as const) {
      o.zeroGrad();
      ps.forEach((p) => p.accumulateGrad(backend.tensor([0.5, 0.5], [2])));
      o.step();
    }
    p1.forEach((p, i) => expect(values(p2[i]!.value)).toEqual(values(p.value)));
    expect(() => o2.loadStateDict({ ...o1.stateDict(), paramSteps: { '1': 99 } })).toThrow(/paramSteps\[1\] must be an integer in \[0, 5\], got 99 \(nothing was loaded\)/);
  });
});
