import { describe, expect, it } from 'vitest';
import { Parameter, RNG, keep, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { cpu } from '../src/index';

/** One training step of a 20→16→TanH→4 MLP with cross-entropy, written with the primitives. */
function makeStep(B = cpu()) {
  const rng = new RNG(3);
  const W1 = new Parameter(B.tensor(rng.uniformArray(16 * 20, -0.2, 0.2), [16, 20]));
  const b1 = new Parameter(B.zeros([16]));
  const W2 = new Parameter(B.tensor(rng.uniformArray(4 * 16, -0.2, 0.2), [4, 16]));
  const x = keep(B.tensor(rng.uniformArray(8 * 20), [8, 20]));
  const labels = B.tensor([0, 1, 2, 3, 0, 1, 2, 3], [8]);
  const y = keep(B.oneHot(labels, 4));
  labels.dispose();
  const step = (): number =>
    tidy(() => {
      const a1 = B.binary('add', B.matmul(x, W1.value, false, true), b1.value);
      const z1 = B.unary('tanh', a1);
      const logits = B.matmul(z1, W2.value, false, true);
      const lsm = B.logSoftmax(logits);
      const loss = B.sum(B.binary('mul', lsm, y)).dataSync()[0]! / -8;
      const d2 = B.affine(B.binary('sub', B.softmax(logits), y), 1 / 8, 0); // softmax(ŷ) − y
      W2.accumulateGrad(B.matmul(d2, z1, true, false));
      const d1 = B.activationGrad('tanh', z1, B.matmul(d2, W2.value));
      W1.accumulateGrad(B.matmul(d1, x, true, false));
      b1.accumulateGrad(B.sum(d1, 0));
      for (const p of [W1, b1, W2]) {
        p.value = B.axpby(1, p.value, -0.5, p.grad!);
        p.zeroGrad();
      }
      return loss;
    });
  return { B, step };
}

describe('memory stays flat over training steps', () => {
  it('1,000 forward/backward steps: live tensors constant, heap flat, loss decreasing', () => {
    const { B, step } = makeStep();
    const first = step();
    for (let i = 0; i < 9; i++) step();
    const at10 = B.memory();
    globalThis.gc?.();
    const heap10 = process.memoryUsage().heapUsed;
    let last = first;
    for (let i = 10; i < 1000; i++) last = step();
    const at1000 = B.memory();
    globalThis.gc?.();
    const heap1000 = process.memoryUsage().heapUsed;
    console.log(`[cpu memory] tensors ${at10.tensors} at step 10, ${at1000.tensors} at step 1000; heapUsed +${heap1000 - heap10} B, gc ${globalThis.gc ? 'on' : 'off'}`);
    expect(at1000).toEqual(at10);
    expect(at10.tensors).toBe(5); // W1, b1, W2, x, y
    // without gc exposed, the heap may hold up to a few MB of unreachable arrays; a leak of one
    // 8×16 float32 tensor per step would already add ~0.5 MB and more per kept handle
    expect(heap1000 - heap10).toBeLessThan(8 * 1024 * 1024);
    expect(last).toBeLessThan(first / 4);
  });

  it('tidy frees temporaries, keeps what is returned, and frees on throw', () => {
    const B = cpu();
    const before = B.memory().tensors;
    const kept = tidy(() => {
      const a = B.tensor([1, 2], [2]);
      const b = B.unary('sqrt', a);
      return B.binary('add', a, b);
    });
    expect(B.memory().tensors).toBe(before + 1);
    expect(() =>
      tidy(() => {
        B.zeros([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(B.memory().tensors).toBe(before + 1);
    // nested: the inner result survives into the outer scope until the outer one ends
    const outer = tidy(() => {
      const inner = tidy(() => B.affine(kept, 2, 0));
      expect(inner.isDisposed).toBe(false);
      return B.sum(inner);
    });
    expect(outer.dataSync()[0]).toBeCloseTo(2 * (1 + 2 + 1 + Math.SQRT2), 5);
    for (const t of [kept, outer] as Tensor[]) t.dispose();
    expect(B.memory().tensors).toBe(before);
  });
});
