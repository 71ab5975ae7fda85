import { gemmWasm } from '../../packages/backend-cpu/src/wasm-gemm';
const r = (n: number) => new Float32Array(n).map(Math.random);
const shapes: [string, number, number, number, boolean, boolean][] = [
  ['fwd patches·Wᵀ', 43264, 8, 9, false, true],
  ['bwd δᵀ·patches', 8, 9, 43264, true, false],
  ['fc fwd', 64, 10, 1352, false, true],
  ['fc δᵀx', 10, 1352, 64, true, false],
  ['fc δW', 64, 1352, 10, false, false],
];
for (const [name, m, n, k, ta, tb] of shapes) {
  const a = r(m * k), b = r(k * n), c = new Float32Array(m * n);
  for (let i = 0; i < 50; i++) gemmWasm(a, b, c, m, n, k, ta, tb);
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) gemmWasm(a, b, c, m, n, k, ta, tb);
  const us = (performance.now() - t0) * 1000 / 200;
  console.log(name, us.toFixed(0), 'µs', (2 * m * n * k / us / 1000).toFixed(1), 'GFLOP/s');
}
