import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { useTf } from './peers';
import { W1_CASES, time, w1Label } from './util';
import type { Result } from './util';

/** W1: float32 GEMM, readback included; GFLOP/s = 2N³ / median time (ours: of 11 after ≥ 3 warm-ups and ≥ 0.5 s). The same matrices for every library (RNG(N)). */
export function w1Data(n: number): [Float32Array, Float32Array] {
  const rng = new RNG(n);
  return [Float32Array.from(rng.uniformArray(n * n, -1, 1)), Float32Array.from(rng.uniformArray(n * n, -1, 1))];
}

export async function w1Neurone(threads: number): Promise<Result> {
  const B = cpu({ threads });
  const gflops: Record<string, number> = {};
  for (const c of W1_CASES) {
    const [n, ta, tb] = c;
    const [a, b] = w1Data(n);
    const A = B.tensor(a, [n, n]);
    const Bm = B.tensor(b, [n, n]);
    const ms = await time(() => {
      const out = B.matmul(A, Bm, ta, tb);
      out.dataSync();
      out.dispose();
    }, 11, 3, 500);
    gflops[w1Label(c)] = (2 * n ** 3) / ms / 1e6;
    A.dispose();
    Bm.dispose();
  }
  return { gflops };
}

export async function w1Tf(p: 'cpu' | 'wasm'): Promise<Result> {
  const tf = await useTf(p);
  const gflops: Record<string, number> = {};
  for (const c of W1_CASES) {
    const [n, ta, tb] = c;
    const [a, b] = w1Data(n);
    const ta2 = tf.tensor2d(a, [n, n]);
    const tb2 = tf.tensor2d(b, [n, n]);
    const ms = await time(async () => {
      const out = tf.matMul(ta2, tb2, ta, tb);
      await out.data();
      out.dispose();
    }, p === 'cpu' && n === 1024 ? 3 : 5, 1);
    tf.dispose([ta2, tb2]);
    gflops[w1Label(c)] = (2 * n ** 3) / ms / 1e6;
  }
  return { gflops };
}
