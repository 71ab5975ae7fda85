import { describe, expect, it } from 'vitest';
import { Parameter, RNG, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, SGD } from '../src/index';
import type { BaseOptimizer, OptimizerStateDictInput } from '../src/index';
import { hostDict } from './helpers';

const be = cpu({ dtype: 'float64' });

function trained(make: (ps: Parameter[]) => BaseOptimizer): BaseOptimizer {
  const rng = new RNG(3);
  const ps = [new Parameter(be.tensor(rng.uniformArray(6), [3, 2])), new Parameter(be.tensor(rng.uniformArray(2), [2]))];
  const opt = make(ps);
  for (let s = 0; s < 2; s++) {
    ps.forEach((p) => (p.grad = be.tensor(rng.uniformArray(p.value.size, -1, 1), p.shape)));
    opt.step();
  }
  return opt;
}

describe.each([
  ['SGD', (ps: Parameter[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), 'momentumBuffer'],
  ['Adam', (ps: Parameter[]) => new Adam(ps, { lr: 0.05 }), 'expAvg'],
] as const)('%s.loadStateDict changes nothing when it throws', (_name, make, key) => {
  const cases: [string, (d: OptimizerStateDictInput) => void, RegExp][] = [
    ['a null state entry', (d) => ((d.state as Record<string, unknown>)['0'] = null), /state 0 must be a \{ name: values \} object/],
    ['a null state value', (d) => ((d.state['0'] as Record<string, unknown>)[key] = null), new RegExp(`state 0\\.${key} must be a tensor`)],
    ['string values', (d) => ((d.state['0']![key] as { data: unknown }).data = ['1', '2', '3', '4', '5', '6']), /value 0 is "1" \(string\), not a finite number/],
    ['a NaN value', (d) => ((d.state['1']![key] as { data: unknown }).data = [0, NaN]), /state 1\.\w+: value 1 is NaN/],
    ['a disposed tensor (was found only after the state was wiped)', (d) => {
      const t = be.zeros([2]);
      t.dispose();
      d.state['1']![key] = t;
    }, /the tensor was disposed/],
    ['a fractional state index', (d) => (d.state['0.5'] = d.state['0']!), /state index 0\.5 is outside/],
    ['a null state', (d) => ((d as { state: unknown }).state = 5), /state must be/],
  ];
  it.each(cases)('%s', (_what, patch, message) => {
    const opt = trained(make);
    const good = hostDict(opt.stateDict());
    const lr = opt.lr;
    const d = structuredClone(good) as OptimizerStateDictInput;
    d.hyper.lr = 0.777; // a valid change that must not be applied
    patch(d);
    expect(() => opt.loadStateDict(d)).toThrow(ValueError);
    expect(() => opt.loadStateDict(d)).toThrow(message);
    expect(opt.lr).toBe(lr);
    expect(hostDict(opt.stateDict())).toEqual(good);
  });
});
