/**
 * The op layer's guarantees that hold for every backend: one entry for every op (the size
 * limit on every output), kernels out of the public API, one `isTensor`, a `memory()` that
 * tells the truth (the garbage collector's backstop), and the leak detector.
 */
import { describe, expect, it } from 'vitest';
import { Backend, LEAK_STEPS, ShapeError, checkLeaks, col2im, im2col, isTensor, tidy } from '../src/index';
import type { Tensor } from '../src/index';
import { referenceKernels } from '../src/testing/index';

/** A reference backend holding at most `max` elements per tensor, recording the kernels it runs. */
function small(max: number): { B: Backend; calls: string[]; freed: () => number } {
  const calls: string[] = [];
  let freed = 0;
  const k = { ...referenceKernels(), maxElements: max };
  const spied = new Proxy(k, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (prop === 'free') return () => void freed++;
      return typeof v === 'function' ? (...a: unknown[]) => (calls.push(String(prop)), (v as (...x: unknown[]) => unknown).apply(target, a)) : v;
    },
  });
  return { B: new Backend(spied), calls, freed: () => freed };
}

/** Collects garbage until `done()` or 50 rounds (finalizers run on later turns of the event loop). */
async function collectUntil(done: () => boolean): Promise<void> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with --expose-gc (vitest.shared.ts sets it)');
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('the size limit holds on every op output', () => {
  it('matmul, binary broadcasting and the window ops refuse an output over maxElements before any kernel runs', () => {
    const { B, calls } = small(100);
    const a = B.zeros([20, 5]);
    const col = B.zeros([20, 1]);
    const row = B.zeros([1, 20]);
    calls.length = 0;
    expect(() => B.matmul(a, a, false, true)).toThrow(ShapeError);
    expect(() => B.matmul(a, a, false, true)).toThrow(/^matmul: 400 elements exceed what reference\(float64\) holds in one tensor \(100\) \(shape: \[20, 20\]\)$/);
    expect(() => B.binary('add', col, row)).toThrow(/^add: 400 elements exceed .* \(shape: \[20, 20\]\)$/);
    expect(() => im2col(B.zeros([1, 10, 10, 1]), { kernel: [2, 2] })).toThrow(/^im2col: 324 elements exceed/);
    expect(calls.filter((c) => c !== 'fill')).toEqual([]); // only the zeros above ran
    // within the limit they run
    expect(B.matmul(a, a, true, false).shape).toEqual([5, 5]);
    expect(col2im(B.zeros([1, 4]), { kernel: [2, 2] }, [1, 2, 2, 1]).shape).toEqual([1, 2, 2, 1]);
  });
});

describe('the op layer is the only way to the kernels', () => {
  it('a Backend exposes neither its kernels nor a raw run method', () => {
    const B = new Backend(referenceKernels());
    expect('kernels' in B).toBe(false);
    expect('run' in B).toBe(false);
    expect(Object.keys(B)).toEqual(['debugLeaks']);
  });
});

describe('isTensor', () => {
  it('recognises tensors (of this or another loaded copy of core) and nothing else', () => {
    const B = new Backend(referenceKernels());
    const t = B.zeros([2]);
    expect(isTensor(t)).toBe(true);
    expect(isTensor(B.reshape(t, [1, 2]))).toBe(true);
    // a tensor of a second copy of @neurone/core (its CommonJS build beside the ES one) has the same fields
    const twin = Object.assign(Object.create(null) as object, { dataId: {}, backend: B, shape: [2], data: () => Promise.resolve(new Float64Array(2)) });
    expect(isTensor(twin)).toBe(true);
    for (const v of [null, undefined, 3, 'x', [t], { shape: [2], data: new Float64Array(2) }, { dataId: {} }, { dataId: {}, backend: B }]) expect(isTensor(v)).toBe(false);
  });
});

describe('memory() tells the truth: the garbage collector backstop', () => {
  it('a tensor reclaimed by the garbage collector without dispose is no longer counted, and its storage is freed', async () => {
    const { B, freed } = small(2 ** 20);
    const keepAlive = B.tensor([1, 2, 3, 4], [2, 2]);
    const view = B.reshape(keepAlive, [4]);
    const before = B.memory();
    // 200 tensors made and dropped without dispose or tidy
    (() => {
      for (let i = 0; i < 200; i++) B.tensor([i, i + 1], [2]);
    })();
    expect(B.memory().tensors).toBe(before.tensors + 200);
    await collectUntil(() => B.memory().tensors === before.tensors);
    expect(B.memory()).toEqual(before);
    expect(freed()).toBe(200);
    // a view keeps its storage alive when the handle it came from is reclaimed
    let source: Tensor | undefined = B.tensor([5, 6], [2]);
    const v2 = B.reshape(source, [1, 2]);
    source = undefined;
    await collectUntil(() => B.memory().tensors === before.tensors + 1);
    expect(B.memory().tensors).toBe(before.tensors + 1);
    expect(Array.from(v2.dataSync())).toEqual([5, 6]);
    expect(freed()).toBe(200);
    v2.dispose();
    expect(B.memory()).toEqual(before);
    expect(Array.from(view.dataSync())).toEqual([1, 2, 3, 4]);
    void source;
  });

  it('dispose and tidy still free at once, and a disposed tensor is not freed twice by the backstop', async () => {
    const { B, freed } = small(2 ** 20);
    (() => {
      for (let i = 0; i < 50; i++) B.tensor([i], [1]).dispose();
      tidy(() => {
        for (let i = 0; i < 50; i++) B.tensor([i], [1]);
      });
    })();
    expect(freed()).toBe(100);
    expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    await collectUntil(() => false);
    expect(freed()).toBe(100);
    expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
  });
});

describe('backend.debugLeaks', () => {
  it('warns, naming the backend and the counts, when live tensors grow step after step', () => {
    const B = new Backend(referenceKernels());
    const msgs: string[] = [];
    B.debugLeaks = (m) => msgs.push(m);
    const w = B.tensor([1, 2], [2]);
    const leaked: Tensor[] = [];
    const step = (leak: boolean): void => {
      const l = tidy(() => B.sum(B.binary('mul', w, w)));
      if (leak) leaked.push(l);
      else l.dispose();
      checkLeaks(B);
    };
    for (let i = 0; i < 20; i++) step(false);
    expect(msgs).toEqual([]);
    for (let i = 0; i < LEAK_STEPS - 1; i++) step(true);
    expect(msgs).toEqual([]);
    step(true);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^neurone: live tensors on reference\(float64\) grew on 5 steps in a row: 1 → 2 → 3 → 4 → 5 → 6 \(\+1 per step\); .*tidy\(\)/);
    // off by default: nothing is tracked
    const quiet = new Backend(referenceKernels());
    expect(quiet.debugLeaks).toBe(false);
    const spy: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => void spy.push(m);
    try {
      for (let i = 0; i < 10; i++) {
        leaked.push(quiet.zeros([1]));
        checkLeaks(quiet);
      }
      quiet.debugLeaks = true;
      for (let i = 0; i < 1 + LEAK_STEPS; i++) {
        leaked.push(quiet.zeros([1]));
        checkLeaks(quiet);
      }
    } finally {
      console.warn = warn;
    }
    expect(spy).toHaveLength(1);
    expect(spy[0]).toMatch(/^neurone: live tensors on reference\(float64\) grew on 5 steps in a row: 11 → 12 → 13 → 14 → 15 → 16/);
  });
});
