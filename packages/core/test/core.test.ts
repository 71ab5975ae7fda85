import { describe, expect, it } from 'vitest';
import {
  RNG,
  ShapeError,
  NeuroneError,
  ValueError,
  DataError,
  broadcastShapes,
  checkShape,
  decodeSafetensors,
  encodeSafetensors,
  fans,
  gatherRows,
  getBackend,
  init,
  matmulShape,
  setBackend,
} from '../src/index';
import type { Backend } from '../src/index';
import { compareGradients, numericGradient } from '../src/testing/index';

describe('RNG', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = new RNG(42).uniformArray(5);
    const b = new RNG(42).uniformArray(5);
    const c = new RNG(43).uniformArray(5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
  it('gives uniform and normal samples with the right moments', () => {
    const r = new RNG(7);
    const n = 200_000;
    const u = r.uniformArray(n, -1, 3);
    const mu = u.reduce((s, v) => s + v, 0) / n;
    expect(u.reduce((a, v) => Math.min(a, v), Infinity)).toBeGreaterThanOrEqual(-1);
    expect(u.reduce((a, v) => Math.max(a, v), -Infinity)).toBeLessThan(3);
    expect(mu).toBeCloseTo(1, 1.5);
    const z = r.normalArray(n, 2, 0.5);
    const m = z.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(z.reduce((s, v) => s + (v - m) ** 2, 0) / n);
    expect(m).toBeCloseTo(2, 2);
    expect(sd).toBeCloseTo(0.5, 2);
  });
  it('permutes every index exactly once', () => {
    const p = new RNG(1).permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...p].slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('initialisers', () => {
  const stats = (a: Float64Array) => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    return { m, sd: Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length), max: a.reduce((x, v) => Math.max(x, Math.abs(v)), 0) };
  };
  it('fans follow PyTorch ([out, in, ...kernel])', () => {
    expect(fans([256, 784])).toEqual({ fanIn: 784, fanOut: 256 });
    expect(fans([8, 1, 3, 3])).toEqual({ fanIn: 9, fanOut: 72 });
  });
  it('fanInUniform (PyTorch Linear default) stays within ±1/√fanIn; lecunUniform is its deprecated alias', () => {
    const w = init.fanInUniform()([256, 784], fans([256, 784]), new RNG(0));
    const s = stats(w);
    expect(s.max).toBeLessThanOrEqual(1 / Math.sqrt(784));
    expect(s.max).toBeGreaterThan(0.99 / Math.sqrt(784));
    expect(s.sd).toBeCloseTo(1 / Math.sqrt(784) / Math.sqrt(3), 3);
    expect(Array.from(init.lecunUniform()([4, 9], fans([4, 9]), new RNG(5)))).toEqual(Array.from(init.fanInUniform()([4, 9], fans([4, 9]), new RNG(5))));
  });
  it('xavier and kaiming have their textbook spreads', () => {
    const f = { fanIn: 400, fanOut: 600 };
    expect(stats(init.xavierUniform()([600, 400], f, new RNG(1))).max).toBeLessThanOrEqual(Math.sqrt(6 / 1000));
    expect(stats(init.xavierNormal()([600, 400], f, new RNG(2))).sd).toBeCloseTo(Math.sqrt(2 / 1000), 3);
    expect(stats(init.kaimingNormal('relu')([600, 400], f, new RNG(3))).sd).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(stats(init.kaimingUniform('relu')([600, 400], f, new RNG(4))).max).toBeLessThanOrEqual(Math.sqrt(6 / 400));
    expect(() => init.normal(0, -1)).toThrow(ValueError);
  });
});

describe('shape helpers', () => {
  it('broadcast like NumPy and name the op on failure', () => {
    expect(broadcastShapes('add', [4, 1], [3])).toEqual([4, 3]);
    expect(broadcastShapes('add', [], [2, 2])).toEqual([2, 2]);
    expect(() => broadcastShapes('mul', [2, 3], [4])).toThrow(/mul: shapes do not broadcast.*\[2, 3\].*\[4\]/);
  });
  it('reject bad dimensions', () => {
    expect(() => checkShape('zeros', [2, -1])).toThrow(ShapeError);
    expect(() => checkShape('zeros', [NaN])).toThrow(/zeros/);
  });
  it('matmul shapes honour the transpose flags', () => {
    expect(matmulShape([3, 5], [2, 5], false, true)).toEqual([3, 5, 2]);
    expect(matmulShape([5, 3], [5, 2], true, false)).toEqual([3, 5, 2]);
    expect(() => matmulShape([3, 5], [3, 5], false, false)).toThrow(/inner dimensions differ: 5 vs 3/);
  });
  it('errors share a base class', () => {
    expect(new ShapeError('x', 'y')).toBeInstanceOf(NeuroneError);
    expect(new ShapeError('x', 'y').name).toBe('ShapeError');
  });
});

describe('default backend registry', () => {
  it('explains what to do when no backend is set, and returns the one set', () => {
    expect(() => getBackend()).toThrow(/setBackend/);
    const fake = { name: 'fake', tensor: () => null, zeros: () => null, readSync: () => null, read: () => null } as unknown as Backend;
    setBackend(fake);
    expect(getBackend()).toBe(fake);
  });
});

describe('safetensors', () => {
  it('round-trips float32 and float64 with the layout other tools read', () => {
    const bytes = encodeSafetensors(
      { '0.weight': { shape: [2, 2], data: new Float32Array([1, -2.5, 3, 4]) }, '0.bias': { shape: [2], data: new Float64Array([0.1, 0.2]) } },
      { format: 'pt' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header['0.weight']).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header['0.bias']).toEqual({ dtype: 'F64', shape: [2], data_offsets: [16, 32] });
    expect((8 + n) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(Array.from(back['0.weight']!.data)).toEqual([1, -2.5, 3, 4]);
    expect(Array.from(back['0.bias']!.data)).toEqual([0.1, 0.2]);
  });
  it('rejects truncated files naming the source', () => {
    const bytes = encodeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3), 'model.safetensors')).toThrow(DataError);
    expect(() => decodeSafetensors(bytes.subarray(0, 5), 'model.safetensors')).toThrow(/model\.safetensors/);
  });
});

describe('gradcheck helpers', () => {
  it('numeric gradient of a known function matches its derivative', () => {
    const f = (x: Float64Array) => x[0]! ** 3 + Math.sin(x[1]!);
    const g = numericGradient(f, [1.5, 0.3]);
    expect(compareGradients([3 * 1.5 ** 2, Math.cos(0.3)], g)).toBeLessThan(1e-8);
  });
  it('flags a wrong gradient', () => {
    expect(compareGradients([1, 2], [1, 2.01])).toBeGreaterThan(1e-3);
    expect(compareGradients([NaN], [1])).toBe(Infinity);
  });
});

describe('gatherRows', () => {
  const t = { data: Uint8Array.from({ length: 12 }, (_, i) => i * 20), shape: [4, 3], scale: 1 / 255 };
  it('applies a host tensor\'s scale: bytes read as fround(v / 255), rows by index or range', () => {
    const { data, shape } = gatherRows(t, [2, 0]);
    expect(shape).toEqual([2, 3]);
    expect(Array.from(data)).toEqual([120, 140, 160, 0, 20, 40].map((v) => Math.fround(v / 255)));
    expect(Array.from(gatherRows({ ...t, scale: undefined }, { start: 3, end: 4 }).data)).toEqual([180, 200, 220]);
  });
  it('writes into a buffer of the right type and length (reused batch after batch), else a fresh one', () => {
    const into = new Float32Array(6).fill(NaN);
    expect(gatherRows(t, [1, 3], false, into).data).toBe(into);
    expect(Array.from(into)).toEqual([60, 80, 100, 180, 200, 220].map((v) => Math.fround(v / 255)));
    for (const other of [new Float32Array(3), new Float64Array(6)]) {
      const got = gatherRows(t, [1, 3], false, other).data;
      expect(got).not.toBe(other);
      expect(got).toBeInstanceOf(Float32Array);
    }
    expect(gatherRows(t, [0], true, new Float64Array(3)).data).toBeInstanceOf(Float64Array);
  });
  it('scaled bytes give v·scale as float32 / float64 store it, for every byte and several scales, by range and by index', () => {
    const all = { data: Uint8Array.from({ length: 512 }, (_, i) => (i * 37) % 256), shape: [128, 4] };
    for (const scale of [1 / 255, 0.5, 1 / 3, -0.1, 1e-40, 3e38]) {
      for (const float64 of [false, true]) {
        const want = Array.from(all.data, (v) => (float64 ? v * scale : Math.fround(v * scale)));
        const byRange = gatherRows({ ...all, scale }, { start: 0, end: 128 }, float64).data;
        expect(Array.from(byRange)).toEqual(want);
        const rows = [5, 0, 127, 5];
        const byIndex = Array.from(gatherRows({ ...all, scale }, rows, float64).data);
        expect(byIndex).toEqual(rows.flatMap((r) => want.slice(r * 4, r * 4 + 4)));
      }
    }
  });
});
