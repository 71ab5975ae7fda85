/**
 * A third backend made of kernels only: `referenceKernels()` (plain float64 loops in
 * core/testing) behind core's op layer passes the same conformance suite as cpu() and gpu().
 * Every check (shapes, liveness, backends, arguments) comes from the op layer, not the kernels.
 */
import { describe, expect, it } from 'vitest';
import { Backend, BackendError, ShapeError } from '../src/index';
import { referenceKernels, runConformance } from '../src/testing/index';

runConformance('reference kernels (core/testing) behind the op layer', () => new Backend(referenceKernels()), { describe, it });

describe('the op layer', () => {
  it('calls a kernel only with valid inputs: a bad op never reaches it', () => {
    const calls: string[] = [];
    const k = referenceKernels();
    const spied = new Proxy(k, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv) as unknown;
        return typeof v === 'function' ? (...a: unknown[]) => (calls.push(String(prop)), (v as (...x: unknown[]) => unknown).apply(target, a)) : v;
      },
    });
    const B = new Backend(spied);
    const a = B.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    calls.length = 0;
    expect(() => B.matmul(a, a)).toThrow(ShapeError);
    expect(() => B.binary('add', a, B.zeros([4]))).toThrow(ShapeError);
    expect(calls).toEqual(['fill']); // only zeros([4]) ran
  });

  it('turns an untyped kernel failure into a BackendError naming the op and the backend', () => {
    const k = referenceKernels();
    k.unary = () => {
      throw new RangeError('Array buffer allocation failed');
    };
    const B = new Backend(k);
    expect(() => B.unary('tanh', B.zeros([2]))).toThrow(BackendError);
    expect(() => B.unary('tanh', B.zeros([2]))).toThrow(/^tanh: reference\(float64\) failed: Array buffer allocation failed$/);
  });

  it('counts memory once for every backend: views share one buffer, the last dispose frees it', () => {
    let freed = 0;
    const k = referenceKernels();
    k.free = () => void freed++;
    const B = new Backend(k);
    const x = B.tensor([1, 2, 3, 4], [2, 2]);
    const v = B.reshape(x, [4]);
    expect(B.memory()).toEqual({ tensors: 2, buffers: 1, bytes: 32 });
    x.dispose();
    expect(freed).toBe(0);
    v.dispose();
    expect(freed).toBe(1);
    expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
  });

  it('ready() resolves with the backend', async () => {
    const B = new Backend(referenceKernels());
    expect(await B.ready()).toBe(B);
  });
});
