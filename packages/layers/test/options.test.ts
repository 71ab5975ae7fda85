import { describe, expect, it } from 'vitest';
import { ValueError } from '@neurone/core';
import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear } from '../src/index';

describe('Linear options', () => {
  it('refuses unknown keys, listing the valid ones', () => {
    expect(() => new Linear(2, 3, { backend: cpu(), use_bias: false } as never)).toThrow(ValueError);
    expect(() => new Linear(2, 3, { backend: cpu(), use_bias: false } as never)).toThrow(/Linear: unknown option 'use_bias'; valid options: bias, backend, init, biasInit, rng, tiedTo/);
  });
  it('refuses a backend that is not one, with a typed error', () => {
    expect(() => new Linear(2, 3, { backend: 'x' as unknown as Backend })).toThrow(/\{ backend \}: expected a Backend/);
  });
});
