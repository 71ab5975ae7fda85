import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryError, ShapeError, ValueError } from '@neurone/core';
import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Conv1D, Conv2D, Linear } from '../src/index';

describe('Linear options', () => {
  it('refuses unknown keys, listing the valid ones', () => {
    expect(() => new Linear(2, 3, { backend: cpu(), use_bias: false } as never)).toThrow(ValueError);
    expect(() => new Linear(2, 3, { backend: cpu(), use_bias: false } as never)).toThrow(/Linear: unknown option 'use_bias'; valid options: bias, backend, init, biasInit, rng, tiedTo/);
  });
  it('refuses a backend that is not one, with a typed error', () => {
    expect(() => new Linear(2, 3, { backend: 'x' as unknown as Backend })).toThrow(/\{ backend \}: expected a Backend/);
  });
});

describe('huge sizes are typed errors before anything is allocated', () => {
  afterEach(() => vi.restoreAllMocks());

  it('past the op layer\'s element limit: a ShapeError naming the layer (no RangeError from a typed array)', () => {
    const backend = cpu();
    for (const make of [() => new Linear(1e5, 1e5, { backend }), () => new Linear(50_000, 50_000, { backend }), () => new Conv2D(3, 1, 1e9, { backend }), () => new Conv1D(1e5, 1e5, 1, 1, { backend })]) {
      expect(make).toThrow(ShapeError);
    }
    expect(() => new Linear(1e5, 1e5, { backend })).toThrow(/^Linear\(100000, 100000\): 10000000000 elements are more than a tensor can hold \(2147483647\)/);
    expect(() => new Conv2D(3, 1, 1e9, { backend })).toThrow(/^Conv2D: 9000000000 elements are more than a tensor can hold/);
    expect(backend.memory().bytes).toBe(0);
  });

  it('past the host\'s memory (mocked to 256 MiB) or cpu({ maxBytes }): a MemoryError saying how much was asked and how much there is', () => {
    vi.spyOn(process, 'availableMemory').mockReturnValue(2 ** 28);
    expect(() => new Linear(8192, 8192, { backend: cpu() })).toThrow(MemoryError);
    expect(() => new Linear(8192, 8192, { backend: cpu() })).toThrow(/^Linear\(8192, 8192\): a tensor of shape \[8192, 8192\] needs 268435456 bytes \(256\.0 MiB\) \(768\.0 MiB with its 512\.0 MiB of host temporaries\); the host has 268435456 bytes \(256\.0 MiB\) available$/);
    const small = cpu({ maxBytes: 4096 });
    const l = new Linear(16, 16, { backend: small }); // 1088 bytes
    expect(() => new Conv2D(3, 16, 16, { backend: small })).toThrow(/^Conv2D: a tensor of shape \[3, 3, 16, 16\] needs 9216 bytes .*cpu\(float32\) may hold 4096 bytes \(maxBytes\) and holds 1088 already: 3008 bytes are left$/);
    expect(() => cpu({ maxBytes: 0 })).toThrow(/cpu: maxBytes must be a positive number of bytes, got 0/);
    l.dispose();
  });
});
