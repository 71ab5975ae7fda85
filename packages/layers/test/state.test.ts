import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeuroneError, RNG, ValueError } from '@neurone/core';
import type { StateValue } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '../src/index';

const be = cpu({ dtype: 'float64' });
const mlp = (): Sequential => new Sequential(new Linear(3, 2, { backend: be, rng: new RNG(1) }), new ReLU(), new Linear(2, 1, { backend: be, rng: new RNG(2) }));
const snapshot = (m: Sequential): Record<string, number[]> => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
const plain = (m: Sequential): Record<string, StateValue> =>
  Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, { shape: [...t.shape], data: Array.from(t.dataSync(), (v) => v + 1) }]));

describe('Module.loadStateDict is all-or-nothing', () => {
  it.each([
    ['a null entry (strict)', { '0.weight': null }, /0\.weight: null is not a tensor/],
    ['a string entry', { '0.weight': 'w' }, /0\.weight: string is not a tensor/],
    ['string values', { '0.weight': { shape: [2, 3], data: ['1', '2', '3', '4', '5', '6'] } }, /0\.weight: value 0 is "1" \(string\), not a finite number/],
    ['a NaN value', { '0.bias': { shape: [2], data: [0, NaN] } }, /0\.bias: value 1 is NaN, not a finite number/],
    ['an Infinity value', { '0.bias': { shape: [2], data: new Float32Array([Infinity, 0]) } }, /value 0 is Infinity/],
    ['a wrong length', { '0.bias': { shape: [2], data: [1, 2, 3] } }, /0\.bias: 3 values for shape \[2\]/],
    ['a wrong shape', { '0.bias': { shape: [3], data: [1, 2, 3] } }, /0\.bias: shape \[3\] does not match the parameter's \[2\]/],
    ['no shape', { '0.bias': { data: [1, 2] } }, /0\.bias: the value has no shape array/],
    ['data that is not an array', { '0.bias': { shape: [2], data: 5 } }, /0\.bias: data must be an array/],
  ])('refuses %s and changes no parameter', (_what, bad, message) => {
    const m = mlp();
    const before = snapshot(m);
    const dict = { ...plain(m), ...(bad as Record<string, StateValue>) };
    expect(() => m.loadStateDict(dict)).toThrow(ValueError);
    expect(() => m.loadStateDict(dict)).toThrow(message);
    expect(() => m.loadStateDict(dict, { strict: false })).toThrow(message);
    expect(snapshot(m)).toEqual(before);
  });

  it('refuses a disposed tensor and a non-object dict', () => {
    const m = mlp();
    const t = be.zeros([2]);
    t.dispose();
    expect(() => m.loadStateDict({ ...plain(m), '0.bias': t })).toThrow(/0\.bias: the tensor was disposed/);
    expect(() => m.loadStateDict(null as never)).toThrow(ValueError);
  });
});

describe('fuzz: Module.loadStateDict', () => {
  const value = fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: 3 }),
    fc.double(),
    fc.record({
      shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), fc.constant('2')),
      data: fc.oneof(fc.array(fc.oneof({ weight: 8, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) }, fc.constant(NaN), fc.string({ maxLength: 1 }), fc.constant(null)), { maxLength: 7 }), fc.constant(null), fc.constant(3)),
    }, { requiredKeys: [] }),
  );
  const key = fc.constantFrom('0.weight', '0.bias', '2.weight', '2.bias', 'extra', 'constructor', '__proto__');

  it('every dict loads fully or throws a typed error and changes nothing', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), fc.boolean(), (partial, strict) => {
        const m = mlp();
        const before = snapshot(m);
        const dict = { ...plain(m), ...partial };
        let ok = true;
        try {
          m.loadStateDict(dict as Record<string, StateValue>, { strict });
        } catch (e) {
          expect(e).toBeInstanceOf(NeuroneError);
          ok = false;
        }
        const after = snapshot(m);
        if (!ok) expect(after).toEqual(before);
        else expect(Object.values(after).flat().every(Number.isFinite)).toBe(true);
        m.dispose();
      }),
      { numRuns: 400 },
    );
  });
});
