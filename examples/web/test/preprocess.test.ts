import { describe, expect, it } from 'vitest';
import { SIDE, moments, toMnist } from '../src/preprocess';
import { packSubset, unpackSubset } from '../src/subset';
import { DataError } from '@neurone/core';

/** A 280×280 canvas with a filled rectangle of ink. */
function rect(x0: number, y0: number, w: number, h: number, W = 280, H = 280): Float32Array {
  const ink = new Float32Array(W * H);
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) ink[y * W + x] = 1;
  return ink;
}

describe('toMnist: the MNIST preprocessing of a drawing', () => {
  it('scales the ink to a 20-pixel box (aspect kept) and centres its mass', () => {
    // a tall bar in the top-left corner: 20 rows high, 20·30/120 = 5 columns wide, then centred
    const img = toMnist(rect(10, 5, 30, 120), 280, 280);
    const m = moments(img);
    expect([m.width, m.height]).toEqual([5, 20]);
    expect(Math.abs(m.cx - (SIDE - 1) / 2)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.cy - (SIDE - 1) / 2)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...img)).toBe(1);
  });

  it('centres by mass, not by box: an L puts its heavy side near the centre', () => {
    const ink = rect(100, 40, 20, 200);
    ink.set(rect(100, 220, 160, 20).subarray(220 * 280, 240 * 280), 220 * 280); // the foot
    const img = toMnist(ink, 280, 280);
    const m = moments(img);
    expect(Math.abs(m.cx - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.cy - 13.5)).toBeLessThanOrEqual(0.5);
    expect(m.height).toBe(20);
  });

  it('gives zeros for an empty drawing, and values in [0, 1]', () => {
    expect(toMnist(new Float32Array(100), 10, 10).every((v) => v === 0)).toBe(true);
    const img = toMnist(rect(3, 3, 2, 2, 10, 10), 10, 10);
    expect(img.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(moments(img).width).toBe(20);
  });
});

describe('the packed MNIST subset', () => {
  const ds = (n: number, seed: number) => ({
    x: { data: Float32Array.from({ length: n * 784 }, (_, i) => ((i * seed) % 256) / 255), shape: [n, 784] },
    y: { data: Float32Array.from({ length: n }, (_, i) => (i + seed) % 10), shape: [n] },
  });

  it('round-trips pixels (to 1/255) and labels', () => {
    const [train, test] = [ds(3, 7), ds(2, 3)];
    const back = unpackSubset(packSubset(train, test));
    expect(back.train.x.shape).toEqual([3, 784]);
    expect(back.test.y.shape).toEqual([2]);
    expect(Array.from(back.train.y.data)).toEqual(Array.from(train.y.data));
    expect(Array.from(back.test.y.data)).toEqual(Array.from(test.y.data));
    back.test.x.data.forEach((v, i) => expect(Math.abs(v - test.x.data[i]!)).toBeLessThan(1e-6));
  });

  it('refuses a truncated or foreign file with a DataError', () => {
    const bytes = packSubset(ds(2, 1), ds(1, 1));
    expect(() => unpackSubset(bytes.subarray(0, bytes.length - 1))).toThrow(DataError);
    expect(() => unpackSubset(bytes.subarray(0, bytes.length - 1))).toThrow(/expected/);
    expect(() => unpackSubset(new Uint8Array(40))).toThrow(/not an MNIST subset/);
    const bad = bytes.slice();
    bad[bad.length - 1] = 12;
    expect(() => unpackSubset(bad)).toThrow(/outside 0..9/);
  });
});
