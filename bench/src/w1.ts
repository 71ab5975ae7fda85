import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { useTf } from './peers';
import { W1_CASES, time, w1Label } from './util';
import type { Result } from './util';

/** W1: float32 GEMM, readback included; GFLOP/s = 2N³ / median time (ours: of 11 after an untimed pass over the cases, then ≥ 3 warm-ups and ≥ 0.5 s). The same matrices for every library (RNG(N)). */
export function w1Data(n: number): [Float32Array, Float32Array] {
  const rng = new RNG(n);
  return [Float32Array.from(rng.uniformArray(n * n, -1, 1)), Float32Array.from(rng.uniformArray(n * n, -1, 1))];
}

/**
 * Runs every case once untimed (`run`: ≥ 300 ms of it) before the timed pass: the first
 * pass over the cases measured a kernel still being tiered up or a thread pool still starting
 * (ours: A·B 512 at 31 GFLOP/s in the first pass, 48 in the next, in one process).
 */
async function warmPass(run: (c: (typeof W1_CASES)[number]) => Promise<unknown>): Promise<void> {
  for (const c of W1_CASES) await run(c);
}

export async function w1Neurone(threads: number): Promise<Result> {
  const B = cpu({ threads });
  const gflops: Record<string, number> = {};
  await warmPass(async ([n, ta, tb]) => {
    const [a, b] = w1Data(n);
    const [A, Bm] = [B.tensor(a, [n, n]), B.tensor(b, [n, n])];
    await time(() => B.matmul(A, Bm, ta, tb).dispose(), 0, 3, 300);
    A.dispose();
    Bm.dispose();
  });
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
  if (p === 'wasm')
    await warmPass(async ([n, ta, tb]) => {
      const [a, b] = w1Data(n);
      const [ta2, tb2] = [tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])];
      await time(async () => tf.matMul(ta2, tb2, ta, tb).dispose(), 0, 1, 300);
      tf.dispose([ta2, tb2]);
    });
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
