import type { Backend } from '../backend';
import { RNG } from '../random';
import type { Tensor } from '../tensor';

/**
 * Reference GEMM in float64, the textbook triple loop: C[m×n] = op(A)·op(B), with A stored
 * k×m when `ta` and B stored n×k when `tb`. What backends' matmul kernels are checked against.
 */
export function referenceMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i]! : a[i * k + p]!) * (tb ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  return c;
}

/** A tensor of seeded uniform values in [lo, hi). */
export function randomTensor(be: Backend, shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return be.tensor(new RNG(seed).uniformArray(n, lo, hi), shape);
}

/**
 * Throws unless every |actual − expected| ≤ tol·max(1, |expected|), naming the first element
 * that is not (framework-agnostic: works under any test runner).
 */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}
