import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { useTf } from './peers';
import { table, time } from './util';

/** W1: float32 GEMM, readback included; GFLOP/s = 2N³ / time. */
export async function w1(peers: ('cpu' | 'wasm')[]): Promise<void> {
  const B = cpu();
  const rows: (string | number)[][] = [['case', 'neurone GFLOP/s', ...peers.flatMap((p) => [`tfjs-${p} GFLOP/s`, `ratio vs ${p}`])]];
  const cases: [number, boolean, boolean][] = [[256, false, false], [512, false, false], [1024, false, false], [512, false, true], [512, true, false]];
  for (const [n, ta, tb] of cases) {
    const rng = new RNG(n);
    const a = Float32Array.from(rng.uniformArray(n * n, -1, 1));
    const b = Float32Array.from(rng.uniformArray(n * n, -1, 1));
    const flop = 2 * n ** 3;
    const A = B.tensor(a, [n, n]);
    const Bm = B.tensor(b, [n, n]);
    const ours = await time(() => {
      const c = B.matmul(A, Bm, ta, tb);
      c.dataSync();
      c.dispose();
    });
    const row: (string | number)[] = [`${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} ${n}`, (flop / ours / 1e6).toFixed(2)];
    for (const p of peers) {
      const tf = await useTf(p);
      const ta2 = tf.tensor2d(a, [n, n]);
      const tb2 = tf.tensor2d(b, [n, n]);
      const theirs = await time(async () => {
        const c = tf.matMul(ta2, tb2, ta, tb);
        await c.data();
        c.dispose();
      }, p === 'cpu' && n === 1024 ? 3 : 5, 1);
      tf.dispose([ta2, tb2]);
      row.push((flop / theirs / 1e6).toFixed(2), (theirs / ours).toFixed(2) + '×');
    }
    A.dispose();
    Bm.dispose();
    rows.push(row);
  }
  console.log(`\nW1 — float32 GEMM, median of 5 after warm-up, readback included (ratio > 1: neurone faster)\n${table(rows)}`);
}
