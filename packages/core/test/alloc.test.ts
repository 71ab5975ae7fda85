import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backend, MemoryError, BackendError, ShapeError, checkAllocation, im2col } from '../src/index';
import { referenceKernels } from '../src/testing/index';

/** A backend of the reference kernels with a `maxBytes` budget. */
const limited = (maxBytes?: number): Backend => new Backend({ ...referenceKernels(), ...(maxBytes === undefined ? {} : { maxBytes }) });

describe('allocations are checked before they are made: a MemoryError says how much was asked and how much there is', () => {
  afterEach(() => vi.restoreAllMocks());

  it('maxBytes bounds the live tensors together; freeing makes room again', () => {
    const be = limited(1000); // float64: 125 values
    const a = be.zeros([100]); // 800 bytes
    expect(() => be.full([10, 5], 1)).toThrow(MemoryError);
    expect(() => be.full([10, 5], 1)).toThrow('full: a tensor of shape [10, 5] needs 400 bytes (0.0 MiB); reference(float64) may hold 1000 bytes (maxBytes) and holds 800 already: 200 bytes are left');
    const [col, row] = [a.reshape([100, 1]), a.reshape([1, 100])]; // views: no bytes
    const err = (() => { try { be.matmul(col, row); } catch (e) { return e as MemoryError; } })()!;
    expect(err).toBeInstanceOf(BackendError); // a MemoryError is a BackendError
    expect([err.requested, err.available]).toEqual([80_000, 200]);
    expect(be.memory().bytes).toBe(800); // nothing was allocated
    for (const t of [a, col, row]) t.dispose();
    expect(be.full([10, 5], 1).size).toBe(50);
  });

  it('more than the host has available: refused before allocating (the host probe is mocked to 1 GiB)', () => {
    vi.spyOn(process, 'availableMemory').mockReturnValue(2 ** 30);
    const be = limited();
    expect(() => be.full([2 ** 31 - 1], 1)).toThrow(MemoryError);
    expect(() => be.full([2 ** 31 - 1], 1)).toThrow(/^full: a tensor of shape \[2147483647\] needs 17179869176 bytes \(16\.00 GiB\); the host has 1073741824 bytes \(1\.00 GiB\) available$/);
    // an im2col past the host's memory, in the window ops' op layer
    const x = be.zeros([1, 1000, 1000, 1]);
    expect(() => im2col(x, { kernel: [20, 20] })).toThrow(/^im2col: a tensor of shape \[962361, 400\] needs 3079555200 bytes \(2\.87 GiB\); the host has 1073741824 bytes/);
    // a layer's host temporaries count too
    expect(() => checkAllocation(be, 'Linear(8192, 8192)', [8192, 8192], 0, 2 ** 29 + 2 ** 26)).toThrow(/needs 536870912 bytes \(512\.0 MiB\) \(1\.06 GiB with its 576\.0 MiB of host temporaries\); the host has/);
    expect(checkAllocation(be, 'Linear(8192, 8192)', [8192, 8192], 0, 2 ** 29)).toBe(2 ** 26); // exactly what there is: allowed
    expect(checkAllocation(be, 'small', [1024, 1024])).toBe(2 ** 20); // 8 MiB: under the probe's threshold
  });

  it('the shape checks come first: a ShapeError past the element limit', () => {
    expect(() => checkAllocation(limited(), 'Linear(100000, 100000)', [100_000, 100_000])).toThrow(ShapeError);
  });
});
