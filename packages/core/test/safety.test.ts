import { describe, expect, it } from 'vitest';
import { NeuroneError, ValueError, checkOptions, gain, init, resolveBackend, setBackend, tidy } from '../src/index';
import type { Backend, Nonlinearity } from '../src/index';

describe('initialisers validate their arguments', () => {
  it('kaimingNormal({ nonlinearity: "relu" }) is a ValueError, not NaN weights', () => {
    expect(() => init.kaimingNormal({ nonlinearity: 'relu' } as unknown as Nonlinearity)).toThrow(ValueError);
    expect(() => init.kaimingNormal({ nonlinearity: 'relu' } as unknown as Nonlinearity)).toThrow(
      /init\.kaimingNormal: nonlinearity must be one of 'linear', 'sigmoid', 'tanh', 'relu', got \{"nonlinearity":"relu"\}/,
    );
    expect(() => init.kaimingUniform('leaky' as Nonlinearity)).toThrow(/kaimingUniform: nonlinearity must be one of/);
    expect(() => gain('toString' as Nonlinearity)).toThrow(ValueError);
  });
  it('non-finite or non-number parameters, and an empty fan', () => {
    expect(() => init.uniform(NaN, 1)).toThrow(/low must be a finite number/);
    expect(() => init.normal(Infinity, 1)).toThrow(/mean must be a finite number/);
    expect(() => init.normal(0, '1' as unknown as number)).toThrow(ValueError);
    expect(() => init.constant(NaN)).toThrow(/value must be a finite number/);
    expect(() => init.kaimingNormal()([3, 0], { fanIn: 0, fanOut: 3 })).not.toThrow(); // no values: nothing to scale
    expect(() => init.kaimingNormal()([3], { fanIn: 0, fanOut: 3 })).toThrow(/fan of shape \[3\] is 0/);
    expect(() => init.lecunUniform()([2, 2], { fanIn: 0, fanOut: 2 })).toThrow(ValueError);
    const w = init.kaimingNormal('relu')([4, 3], { fanIn: 3, fanOut: 4 });
    expect(w.every(Number.isFinite)).toBe(true);
  });
});

describe('backends are checked where they are given', () => {
  it('setBackend with a non-backend, { backend: "x" }', () => {
    expect(() => setBackend('cpu' as unknown as Backend)).toThrow(ValueError);
    expect(() => setBackend({} as Backend)).toThrow(/setBackend: expected a Backend such as cpu\(\)/);
    expect(() => resolveBackend('x' as unknown as Backend)).toThrow(/\{ backend \}: expected a Backend .* got 'x'/);
  });
});

describe('tidy', () => {
  it('refuses an async fn with a typed error', async () => {
    let threw: unknown;
    try {
      tidy(async () => 1);
    } catch (e) {
      threw = e;
    }
    expect(threw).toBeInstanceOf(ValueError);
    expect((threw as Error).message).toMatch(/tidy: fn returned a Promise/);
  });
});

describe('checkOptions', () => {
  it('lists the unknown and the valid keys, suggesting close names', () => {
    expect(() => checkOptions('X', { a: 1, weight_decay: 1 }, ['a', 'weightDecay'])).toThrow(/X: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\); valid options: a, weightDecay/);
    expect(() => checkOptions('X', 5, ['a'])).toThrow(NeuroneError);
    expect(() => checkOptions('X', [], ['a'])).toThrow(/options must be an object/);
    expect(checkOptions('X', undefined, ['a'])).toBeUndefined();
    expect(checkOptions('X', { a: 1 }, ['a'])).toEqual({ a: 1 });
  });
});
