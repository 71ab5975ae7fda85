import { describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError } from '@neurone/core';
import type { Dataset } from '@neurone/core';
import { batches, normalize, oneHot, scale, standardize, subset, take, trainValidationSplit } from '../src/index';

/** n samples: x row i = [100i, 100i + 1, ..., 100i + f - 1], y[i] = i (so every row names its index). */
function toy(n: number, f = 3): Dataset {
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) x[i * f + j] = 100 * i + j;
  return { x: { data: x, shape: [n, f] }, y: { data: Float32Array.from({ length: n }, (_, i) => i), shape: [n] } };
}

/** Checks a gathered dataset: y lists the source indices and x rows are the matching toy rows. */
function rowsMatch(d: Dataset, f = 3): number[] {
  const idx = [...d.y.data];
  idx.forEach((k, i) => {
    for (let j = 0; j < f; j++) expect(d.x.data[i * f + j]).toBe(100 * k + j);
  });
  return idx;
}

describe('oneHot', () => {
  it('puts a 1 at each label, row by row', () => {
    const out = oneHot([2, 0, 3, 2], 4);
    expect(out).toBeInstanceOf(Float32Array);
    // written out by hand
    expect([...out]).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0]);
    expect(oneHot(Float32Array.from([1]), 2)).toEqual(Float32Array.from([0, 1]));
    expect(oneHot([], 3).length).toBe(0);
  });

  it('names the bad label and its index', () => {
    expect(() => oneHot([0, 1, 10], 10)).toThrow(ValueError);
    expect(() => oneHot([0, 1, 10], 10)).toThrow('oneHot: label 10 at index 2 is not an integer class in [0, 10)');
    expect(() => oneHot([1.5], 3)).toThrow('label 1.5 at index 0');
    expect(() => oneHot([0, -1], 3)).toThrow('label -1 at index 1');
    expect(() => oneHot([Number.NaN], 3)).toThrow('label NaN at index 0');
    expect(() => oneHot([0], 0)).toThrow('oneHot: numClasses must be a positive integer, got 0');
    expect(() => oneHot([0], 2.5)).toThrow(ValueError);
  });
});

describe('batches', () => {
  it('without shuffle: consecutive batches, the last one short, rows and labels gathered', () => {
    const it10 = batches(toy(10), { batchSize: 4 });
    expect(it10.length).toBe(3);
    const all = [...it10];
    expect(all.map((b) => [...b.indices])).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(all[2]!.x.shape).toEqual([2, 3]);
    expect(all[2]!.y.shape).toEqual([2]);
    expect([...all[2]!.x.data]).toEqual([800, 801, 802, 900, 901, 902]);
    for (const b of all) {
      expect(b.x.data).toBeInstanceOf(Float32Array);
      expect([...b.y.data]).toEqual([...b.indices]);
      rowsMatch(b);
    }
  });

  it('dropLast leaves out the short batch', () => {
    const b = batches(toy(10), { batchSize: 4, dropLast: true });
    expect(b.length).toBe(2);
    expect([...b].map((x) => x.indices.length)).toEqual([4, 4]);
    expect([...batches(toy(8), { batchSize: 4, dropLast: true })].length).toBe(2);
  });

  it('with shuffle: every index exactly once per epoch, a new order each epoch, reproducible per seed', () => {
    const n = 1000;
    const data = toy(n);
    const epochs = (seed: number): number[][] => {
      const it = batches(data, { batchSize: 32, shuffle: true, seed });
      const out: number[][] = [];
      for (let e = 0; e < 3; e++) {
        const order: number[] = [];
        for (const b of it) {
          expect(b.indices.length).toBeLessThanOrEqual(32);
          order.push(...rowsMatch(b));
        }
        out.push(order);
      }
      return out;
    };
    const a = epochs(7);
    for (const order of a) {
      expect(order.length).toBe(n);
      expect([...order].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(a[0]).not.toEqual(a[1]); // a new permutation each epoch
    expect(a[0]).not.toEqual(Array.from({ length: n }, (_, i) => i)); // actually shuffled
    expect(epochs(7)).toEqual(a); // same seed, same epochs
    expect(epochs(8)[0]).not.toEqual(a[0]);
    expect(a[0]).toEqual([...new RNG(7).permutation(n)]); // epoch 1 is core's seeded permutation
  });

  it('an rng option continues a shared generator', () => {
    const rng = new RNG(3);
    const first = [...batches(toy(5), { batchSize: 5, shuffle: true, rng })][0]!.indices;
    const expected = new RNG(3);
    expect([...first]).toEqual([...expected.permutation(5)]);
  });

  it('gathers [n, k] targets and keeps float64 data float64; batches are fresh copies', () => {
    const x = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
    const y = Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]);
    const d: Dataset = { x: { data: x, shape: [4, 1] }, y: { data: y, shape: [4, 2] } };
    const [b0, b1] = [...batches(d, { batchSize: 2 })];
    expect(b0!.x.data).toBeInstanceOf(Float64Array);
    expect([...b0!.x.data]).toEqual([0.1, 0.2]);
    expect(b1!.y.shape).toEqual([2, 2]);
    expect([...b1!.y.data]).toEqual([1, 1, 0, 0]);
    b0!.x.data[0] = 42;
    expect(x[0]).toBe(0.1);
  });

  it('turns uint8 data into float32', () => {
    const d: Dataset = { x: { data: Uint8Array.from([0, 255, 7, 8]), shape: [2, 2] }, y: { data: Uint8Array.from([1, 0]), shape: [2] } };
    const [b] = [...batches(d, { batchSize: 2 })];
    expect(b!.x.data).toBeInstanceOf(Float32Array);
    expect([...b!.x.data]).toEqual([0, 255, 7, 8]);
  });

  it('rejects a bad batchSize and mismatched x / y', () => {
    for (const bs of [0, -1, 1.5, Number.NaN]) {
      expect(() => batches(toy(4), { batchSize: bs })).toThrow(ValueError);
      expect(() => batches(toy(4), { batchSize: bs })).toThrow(`batches: batchSize must be a positive integer, got ${bs}`);
    }
    const mismatched: Dataset = { x: toy(4).x, y: toy(5).y };
    expect(() => batches(mismatched, { batchSize: 2 })).toThrow(ShapeError);
    expect(() => batches(mismatched, { batchSize: 2 })).toThrow('batches: x has 4 samples but y has 5 (axis 0 must match) (x: [4, 3], y: [5])');
    const short: Dataset = { x: { data: new Float32Array(5), shape: [2, 3] }, y: toy(2).y };
    expect(() => batches(short, { batchSize: 2 })).toThrow('batches: x holds 5 values but its shape [2, 3] needs 6');
  });
});

describe('trainValidationSplit', () => {
  it('a fraction or a count; disjoint parts that cover the dataset, in original order', () => {
    const d = toy(10);
    const s = trainValidationSplit(d, { validation: 0.2, seed: 1 });
    expect(s.train.x.shape).toEqual([8, 3]);
    expect(s.validation.x.shape).toEqual([2, 3]);
    const tr = rowsMatch(s.train);
    const va = rowsMatch(s.validation);
    expect([...tr, ...va].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tr).toEqual([...tr].sort((a, b) => a - b));
    expect(trainValidationSplit(d, { validation: 3 }).validation.y.shape).toEqual([3]);
    expect(trainValidationSplit(d, { validation: 0.25 }).validation.y.shape).toEqual([3]); // round(2.5) = 3
    expect(trainValidationSplit(toy(60_000, 1), { validation: 0.1 }).validation.y.shape).toEqual([6000]);
  });

  it('reproducible per seed; shuffle: false takes the last samples', () => {
    const d = toy(50);
    const a = trainValidationSplit(d, { validation: 0.2, seed: 5 });
    expect(trainValidationSplit(d, { validation: 0.2, seed: 5 })).toEqual(a);
    expect(trainValidationSplit(d, { validation: 0.2, seed: 6 }).validation.y.data).not.toEqual(a.validation.y.data);
    const last = trainValidationSplit(d, { validation: 0.1, shuffle: false });
    expect([...last.validation.y.data]).toEqual([45, 46, 47, 48, 49]);
    expect([...last.train.y.data]).toEqual(Array.from({ length: 45 }, (_, i) => i));
  });

  it('rejects fractions outside (0, 1), non-integer counts and empty parts', () => {
    const d = toy(10);
    for (const v of [0, -0.1, Number.NaN, Infinity]) {
      expect(() => trainValidationSplit(d, { validation: v })).toThrow(ValueError);
      expect(() => trainValidationSplit(d, { validation: v })).toThrow(`trainValidationSplit: validation must be a fraction in (0, 1) or a positive count, got ${v}`);
    }
    expect(() => trainValidationSplit(d, { validation: 1.5 })).toThrow('validation 1.5 is neither a fraction in (0, 1) nor a whole count');
    expect(() => trainValidationSplit(d, { validation: 10 })).toThrow('validation 10 of 10 samples gives 10 validation and 0 training samples');
    expect(() => trainValidationSplit(d, { validation: 0.01 })).toThrow('gives 0 validation and 10 training samples');
    expect(() => trainValidationSplit({ x: toy(3).x, y: toy(2).y }, { validation: 1 })).toThrow('trainValidationSplit: x has 3 samples but y has 2');
  });
});

describe('subset and take', () => {
  it('subset gathers the given rows in order, repeats allowed, as copies', () => {
    const d = toy(6);
    const s = subset(d, [5, 0, 5]);
    expect(s.x.shape).toEqual([3, 3]);
    expect(rowsMatch(s)).toEqual([5, 0, 5]);
    s.x.data[0] = -1;
    expect(d.x.data[15]).toBe(500);
    expect(() => subset(d, [0, 6])).toThrow('subset: index 6 at position 1 is not an integer in [0, 6) (the dataset has 6 samples)');
    expect(() => subset(d, [1.5])).toThrow(ValueError);
  });

  it('take keeps the first n (all when fewer)', () => {
    expect(rowsMatch(take(toy(6), 2))).toEqual([0, 1]);
    expect(take(toy(3), 10).y.shape).toEqual([3]);
    expect(take(toy(3), 0).x.shape).toEqual([0, 3]);
    expect(() => take(toy(3), -1)).toThrow('take: n must be a non-negative integer, got -1');
  });
});

describe('standardize, normalize, scale', () => {
  // x: 4 samples, 2 features; column 1 is constant
  const x = { data: Float32Array.from([1, 5, 2, 5, 3, 5, 6, 5]), shape: [4, 2] };

  it('global statistics: one mean and one (population) std over every value', () => {
    const vals = [...x.data];
    let m = 0;
    for (const v of vals) m += v;
    m /= vals.length; // 4
    let v2 = 0;
    for (const v of vals) v2 += (v - m) ** 2;
    const sd = Math.sqrt(v2 / vals.length);
    const r = standardize(x);
    expect(r.mean).toBeCloseTo(m, 12);
    expect(r.std).toBeCloseTo(sd, 12);
    expect(r.values.shape).toEqual([4, 2]);
    vals.forEach((v, i) => expect(r.values.data[i]).toBeCloseTo((v - m) / sd, 6));
  });

  it('per-feature statistics, a constant feature divided by 1, reused on test data', () => {
    const r = standardize(x, { per: 'feature' });
    // column 0: 1, 2, 3, 6 → mean 3, var (4 + 1 + 0 + 9) / 4 = 3.5
    expect([...(r.mean as Float64Array)]).toEqual([3, 5]);
    expect((r.std as Float64Array)[0]).toBeCloseTo(Math.sqrt(3.5), 12);
    expect((r.std as Float64Array)[1]).toBe(1);
    expect(r.values.data[0]).toBeCloseTo((1 - 3) / Math.sqrt(3.5), 6);
    expect(r.values.data[1]).toBe(0);
    const test = { data: Float32Array.from([3, 7]), shape: [1, 2] };
    const t = standardize(test, r); // the training statistics
    expect(t.mean).toEqual(r.mean);
    expect(t.std).toEqual(r.std);
    expect(t.values.data[0]).toBe(0);
    expect(t.values.data[1]).toBe(2);
  });

  it('on a Dataset, standardises x and keeps y', () => {
    const d = toy(4, 2);
    const r = standardize(d, { mean: 100, std: 50 });
    expect(r.values.y).toBe(d.y);
    expect([...r.values.x.data.subarray(0, 4)]).toEqual([-2, -1.98, 0, 0.02].map(Math.fround));
  });

  it('normalize with { mean, std } or minmax; scale', () => {
    expect([...normalize(x, { mean: 1, std: 2 }).data]).toEqual([0, 2, 0.5, 2, 1, 2, 2.5, 2]);
    expect([...normalize(x, { mean: [1, 5], std: [1, 0.5] }).data]).toEqual([0, 0, 1, 0, 2, 0, 5, 0]);
    // minmax: min 1, max 6
    expect([...normalize(x, 'minmax').data]).toEqual([0, 0.8, 0.2, 0.8, 0.4, 0.8, 1, 0.8].map(Math.fround));
    const s = scale(toy(2, 2), 0.5);
    expect([...s.x.data]).toEqual([0, 0.5, 50, 50.5]);
    expect([...s.y.data]).toEqual([0, 1]);
  });

  it('clear errors', () => {
    expect(() => normalize(x, { mean: 0, std: 0 })).toThrow('normalize: std must be a positive finite number, got 0');
    expect(() => standardize(x, { mean: [1, 2, 3] })).toThrow('standardize: mean has 3 values but x has 2 features per sample');
    expect(() => standardize(x, { per: 'global', mean: [1, 2] })).toThrow(/per 'global' takes numbers/);
    expect(() => standardize(x, { std: [1, -1] })).toThrow('standardize: std[1] must be a positive finite number, got -1');
    expect(() => scale(x, Number.NaN)).toThrow('scale: factor must be a finite number, got NaN');
    expect(() => standardize({ data: new Float32Array(0), shape: [0, 2] })).toThrow('cannot compute statistics of an empty x');
    expect(standardize({ data: new Float32Array(0), shape: [0, 2] }, { mean: [1, 2], std: [1, 1] }).values.shape).toEqual([0, 2]);
    expect(() => scale({ x: toy(2).x, y: toy(3).y }, 2)).toThrow('scale: x has 2 samples but y has 3');
    expect(() => normalize(x, 'zscore' as never)).toThrow(ValueError);
  });
});
