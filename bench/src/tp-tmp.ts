import { ThreadPool } from '../../packages/backend-cpu/src/threads';
import { gemmWasm } from '../../packages/backend-cpu/src/wasm-gemm';
const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
const [m, n, k] = [64, 256, 784];
const a = rnd(m * k), b = rnd(n * k), c = new Float32Array(m * n);
const pool = ThreadPool.get(2)!;
while (pool.ready < 1) await new Promise((r) => setTimeout(r, 20));
for (let r = 0; r < 4; r++) {
  let t = performance.now();
  for (let i = 0; i < 300; i++) gemmWasm(a, b, c, m, n, k, false, true);
  const one = (performance.now() - t) / 300;
  t = performance.now();
  for (let i = 0; i < 300; i++) pool.gemm(a, b, c, m, n, k, false, true);
  const two = (performance.now() - t) / 300;
  t = performance.now();
  for (let i = 0; i < 300; i++) { pool.gemm(a, b, c, m, n, k, false, true); const s = performance.now(); while (performance.now() - s < 0.5); }
  const twoGap = (performance.now() - t) / 300 - 0.5;
  console.log(`1 thread ${(one * 1000).toFixed(0)} µs, pool of 2 back-to-back ${(two * 1000).toFixed(0)} µs, with 0.5 ms gaps ${(twoGap * 1000).toFixed(0)} µs`);
}
process.exit(0);
