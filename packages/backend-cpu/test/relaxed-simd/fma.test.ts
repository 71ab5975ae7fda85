import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMatmul } from '@neurone/core/testing';
import { cpu, fusedMultiplyAdd } from '../../src/index';
import { ThreadPool, setFloors } from '../../src/threads';
import { conv, mlp } from '../training-steps';
import { FUSED, UNFUSED, roundingProbe } from '../rounding-probe';
import { rnd } from '../rnd';

// This project's processes start with --experimental-wasm-relaxed-simd (vitest.config.ts): the
// GEMM takes its fused variant, as it does by default from Node 22 and in Chrome 114+.

const SHAPES: [number, number, number][] = [[131, 259, 97], [67, 515, 301], [5, 7, 3], [1, 300, 1001], [29, 1, 37]];

describe('relaxed SIMD: the fused-multiply-add GEMM', () => {
  let floors: ReturnType<typeof setFloors>;
  beforeAll(async () => {
    floors = setFloors({ gemm: 0, intensity: 0 }); // every product across the threads
    for (const t of [2, 3]) while (ThreadPool.get(t)!.ready < t - 1) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(() => {
    setFloors(floors);
  });

  it('is the kernel this process runs', () => {
    expect(fusedMultiplyAdd()).toBe(true);
  });

  it('rounds a·b + c once on 1, 2 and 3 threads: (1 + 2⁻¹²)² − 1 is 2⁻¹¹ + 2⁻²⁴, not 2⁻¹¹ (a CPU with FMA: x86-64 FMA3, arm64)', () => {
    for (const threads of [1, 2, 3]) expect(roundingProbe(cpu({ threads }))).toBe(FUSED);
    expect(FUSED).not.toBe(UNFUSED);
  });

  it('float32 products are bit-identical on 1, 2 and 3 threads (every transpose, sizes off every block) and within float32 error of float64', () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    for (const [m, k, n] of SHAPES)
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        const a = rnd(m * k, m + k);
        const b = rnd(k * n, n + 7);
        const [one, ...rest] = backends.map((B) => B.matmul(B.tensor(a, ta ? [k, m] : [m, k]), B.tensor(b, tb ? [n, k] : [k, n]), ta, tb).dataSync());
        for (const [i, r] of rest.entries())
          for (let j = 0; j < r.length; j++) if (!Object.is(r[j], one![j])) expect.fail(`${m}×${k}×${n} ta=${ta} tb=${tb}, ${i + 2} threads [${j}]: ${r[j]} ≠ ${one![j]}`);
        const want = referenceMatmul(Float64Array.from(a), Float64Array.from(b), m, n, k, ta, tb);
        for (let j = 0; j < want.length; j++) if (!(Math.abs(one![j]! - want[j]!) <= 1e-5 * Math.sqrt(k))) expect.fail(`${m}×${k}×${n} [${j}]: ${one![j]} against ${want[j]}`);
      }
  });

  it('training steps of W2 and W4 shapes give the same bits on 1, 2 and 3 threads (the default work floors)', () => {
    setFloors(floors);
    try {
      const [one, ...rest] = [1, 2, 3].map((threads) => mlp(cpu({ threads }), 3));
      expect(one![2]).toBeLessThan(one![0]!);
      for (const r of rest) expect(r.every((v, i) => Object.is(v, one![i]))).toBe(true);
      const [c1, ...cs] = [1, 2, 3].map((threads) => conv(cpu({ threads })));
      for (const r of cs) expect(r.every((v, i) => Object.is(v, c1![i]))).toBe(true);
    } finally {
      setFloors({ gemm: 0, intensity: 0 });
    }
  });
});
