/**
 * Runs in a Web Worker of a cross-origin-isolated page (browser-threads.test.ts): `cpu({ threads })`
 * of `@neurone/backend-cpu/threads` on 1, 2 and 3 threads, each job of the pool (products, a
 * costly map, a pool, Adam's step) at sizes off every block, posting the results' bits and whether
 * the pools' workers started.
 */
import { optimizerUpdate, pool } from '@neurone/core';
import { cpu } from '../../src/index';
import { ThreadPool, setFloors } from '../../src/threads';
import { rnd } from '../rnd';

const post = (m: unknown): void => (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(m);

async function main(): Promise<void> {
  setFloors({ gemm: 0, intensity: 0, unary: 0, map: 0, window: 0 });
  const ready: number[] = [];
  for (const t of [2, 3]) {
    const pool = ThreadPool.get(t);
    for (let i = 0; pool && i < 200 && pool.ready < t - 1; i++) await new Promise((r) => setTimeout(r, 50));
    ready.push(pool?.ready ?? -1);
  }
  const runs = [1, 2, 3].map((threads) => {
    const B = cpu({ threads });
    const out: number[][] = [];
    for (const [m, k, n, ta, tb] of [[131, 259, 97, false, true], [150, 270, 301, true, false], [67, 515, 301, false, false]] as const)
      out.push(Array.from(B.matmul(B.tensor(rnd(m * k, m), ta ? [k, m] : [m, k]), B.tensor(rnd(k * n, n), tb ? [n, k] : [k, n]), ta, tb).dataSync()));
    const x = B.tensor(rnd(40_003, 3), [40_003]);
    out.push(Array.from(B.unary('sigmoid', x).dataSync()), Array.from(B.unary('tanh', x).dataSync()));
    out.push(Array.from(pool('avg', B.tensor(rnd(7 * 9 * 9 * 4, 5), [7, 9, 9, 4]), { kernel: [3, 3], stride: [2, 2] }).dataSync()));
    const [p, mm, v] = [rnd(40_003, 6), rnd(40_003, 7).map(Math.abs), rnd(40_003, 8).map((a) => a * a)].map((a) => B.tensor(a, [40_003]));
    for (const s of optimizerUpdate('adam', p!, B.tensor(rnd(40_003, 9), [40_003]), [mm!, v!], [1e-3, 0.9, 0.999, 1.0005, 1e-8, 0, 0, 1e-3])) out.push(Array.from(s.dataSync()));
    return out;
  });
  post({ ready, crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated, runs });
}

main().catch((e: unknown) => post({ error: String((e as Error)?.stack ?? e) }));
