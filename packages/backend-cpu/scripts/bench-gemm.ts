/**
 * GFLOP/s of cpu() float32 matmul: 2·m·n·k / median time of 7 timed samples after warm-up
 * (and / best sample, steadier on a loaded machine). Run from bench/ (whose tsx loads it):
 *   node --conditions=@neurone/source --import tsx ../packages/backend-cpu/scripts/bench-gemm.ts [--js] [--threads N]
 * (--js forces the packed JavaScript kernel, i.e. the pre-WebAssembly path; --threads N runs
 * cpu({ threads: N }) instead of the default, every core).
 */
import { cpu } from '../src/index';
import * as gemmModule from '../src/gemm';

const forceJs = process.argv.includes('--js');
const toggle = (gemmModule as { useWasmGemm?: (on: boolean) => boolean }).useWasmGemm;
if (forceJs) {
  if (!toggle) throw new Error('this build has no WebAssembly kernel to switch off');
  toggle(false);
}
const ti = process.argv.indexOf('--threads');
const threads = ti > 0 ? Number(process.argv[ti + 1]) : undefined;
const B = cpu({ threads });

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** Median GFLOP/s of `B.matmul` for logical op(A) m×k · op(B) k×n. */
function bench(name: string, m: number, k: number, n: number, ta: boolean, tb: boolean): void {
  const a = B.tensor(rand(m * k), ta ? [k, m] : [m, k]);
  const b = B.tensor(rand(k * n), tb ? [n, k] : [k, n]);
  const flop = 2 * m * n * k;
  // repeat each timed sample until it lasts ≥ 20 ms so small products are timed reliably
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) B.matmul(a, b, ta, tb).dispose();
    if (performance.now() - t0 > 20) break;
    reps *= 2;
  }
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) B.matmul(a, b, ta, tb).dispose();
    samples.push((performance.now() - t0) / reps);
  }
  samples.sort((x, y) => x - y);
  const ms = samples[3]!;
  const best = samples[0]!;
  const gf = (t: number): string => (flop / t / 1e6).toFixed(2).padStart(7);
  console.log(`${name.padEnd(34)} median ${gf(ms)} GFLOP/s (${(ms * 1000).toFixed(1)} µs)   best ${gf(best)} GFLOP/s`);
  a.dispose();
  b.dispose();
}

console.log(`cpu(float32, threads: ${threads ?? 'every core'}) matmul, ${forceJs ? 'JavaScript kernel (--js)' : 'default kernel'}, node ${process.version}`);
for (const N of [256, 512, 1024]) bench(`W1 A·B ${N}²`, N, N, N, false, false);
bench('W1 A·Bᵀ 512²', 512, 512, 512, false, true);
bench('W1 Aᵀ·B 512²', 512, 512, 512, true, false);
bench('MNIST x·W1ᵀ (64×784)(256×784)ᵀ', 64, 784, 256, false, true);
bench('MNIST δᵀ·x (64×256)ᵀ(64×784)', 256, 64, 784, true, false);
bench('MNIST δ·W (64×10)(10×256)', 64, 10, 256, false, false);
bench('MNIST z·W2ᵀ (64×256)(10×256)ᵀ', 64, 256, 10, false, true);
bench('MNIST δ2ᵀ·z (64×10)ᵀ(64×256)', 10, 64, 256, true, false);
