import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeuroneError, broadcastShapes, sizeOf } from '@neurone/core';
import type { Shape, Tensor } from '@neurone/core';
import { cpu } from '../src/index';

/**
 * Property-based fuzzing of op shape validation on cpu(): random shapes, axes and flags either give
 * the right output shape or a typed error (NeuroneError) — never a RangeError, a TypeError or a
 * silent wrong shape — and no tensor leaks either way.
 */

const B = cpu();
const dim = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 4 }) }, fc.constantFrom(-1, 1.5, NaN, 2 ** 31, 2 ** 40, 65536));
const shape = fc.array(dim, { maxLength: 4 });
const goodShape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });

/** Runs fn; a thrown error must be typed; checks no tensor leaked. */
function typedOrOk(fn: () => Tensor | void, expectShape?: () => Shape): void {
  const before = B.memory().tensors;
  let out: Tensor | void;
  try {
    out = fn();
  } catch (e) {
    if (!(e instanceof NeuroneError)) throw e;
    expect(B.memory().tensors).toBe(before);
    return;
  }
  if (out) {
    if (expectShape) expect([...out.shape]).toEqual([...expectShape()]);
    out.dispose();
  }
  expect(B.memory().tensors).toBe(before);
}

describe('fuzz: op shape validation on cpu()', () => {
  it('creation: zeros / full / tensor with any shape', () => {
    fc.assert(
      fc.property(shape, (s) => {
        typedOrOk(() => B.zeros(s), () => s);
        typedOrOk(() => B.full(s, 2), () => s);
        typedOrOk(() => B.tensor(new Float32Array(Math.min(64, Math.max(0, sizeOf(s) || 0))), s), () => s);
      }),
      { numRuns: 600 },
    );
  });

  it('zeros([1e9, 1e9]) is a typed error before allocating', () => {
    expect(() => B.zeros([1e9, 1e9])).toThrow(NeuroneError);
    expect(() => B.zeros([1e9, 1e9])).toThrow(/zeros: .* more than a tensor can hold/);
  });

  it('matmul with random shapes, flags and bias', () => {
    fc.assert(
      fc.property(goodShape, goodShape, fc.boolean(), fc.boolean(), fc.option(goodShape, { nil: undefined }), (sa, sb, ta, tb, sbias) => {
        const a = B.zeros(sa);
        const b = B.zeros(sb);
        const bias = sbias ? B.zeros(sbias) : undefined;
        const expected = (): Shape => [ta ? sa[1]! : sa[0]!, tb ? sb[0]! : sb[1]!];
        typedOrOk(() => B.matmul(a, b, ta, tb, bias), expected);
        for (const t of [a, b, bias]) t?.dispose();
      }),
      { numRuns: 800 },
    );
  });

  it('binary ops broadcast or refuse', () => {
    fc.assert(
      fc.property(goodShape, goodShape, fc.constantFrom('add', 'sub', 'mul', 'div' as const), (sa, sb, op) => {
        const a = B.zeros(sa);
        const b = B.zeros(sb);
        typedOrOk(() => B.binary(op, a, b), () => broadcastShapes(op, sa, sb));
        a.dispose();
        b.dispose();
      }),
      { numRuns: 800 },
    );
  });

  it('reshape to any shape', () => {
    fc.assert(
      fc.property(goodShape, shape, (sa, sb) => {
        const a = B.zeros(sa);
        typedOrOk(() => B.reshape(a, sb), () => sb);
        a.dispose();
      }),
      { numRuns: 800 },
    );
  });

  it('sum / argmax over random axes', () => {
    const axis = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, NaN));
    fc.assert(
      fc.property(goodShape, fc.option(fc.oneof(axis, fc.array(axis, { maxLength: 3 })), { nil: undefined }), fc.boolean(), (sa, axes, keep) => {
        const a = B.zeros(sa);
        typedOrOk(() => B.sum(a, axes, keep));
        if (typeof axes === 'number') {
          typedOrOk(() => B.argmax(a, axes));
        }
        a.dispose();
      }),
      { numRuns: 800 },
    );
  });
});
