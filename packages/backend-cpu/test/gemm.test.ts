import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { referenceMatmul } from '@neurone/core/testing';
import { cpu, fusedMultiplyAdd } from '../src/index';
import { FUSED, UNFUSED, roundingProbe } from './rounding-probe';
import { gemm, gemmJs, useWasmGemm } from '../src/gemm';
import { wasmGemmAvailable, wasmGemmMemoryBytes } from '../src/wasm-gemm';

/** Small integers: every product and partial sum below is exact in float32, so results must match exactly. */
function ints(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push((s >>> 24) % 17 - 8);
  }
  return out;
}

/** The float64 triple loop: op(A)[m×k]·op(B)[k×n], A stored k×m when ta, B stored n×k when tb. */
const ref = referenceMatmul;

function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>): string | null {
  if (got.length !== want.length) return `length ${got.length} ≠ ${want.length}`;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return `[${i}]: got ${got[i]}, want ${want[i]}`;
  return null;
}

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

describe('float32 GEMM kernels against a plain triple loop', () => {
  it('WebAssembly SIMD is available under Node, so the kernel under test is the wasm one', () => {
    expect(wasmGemmAvailable()).toBe(true);
  });

  const kernels: [string, (a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean) => void][] = [
    ['wasm', gemm],
    ['js', gemmJs],
  ];
  for (const [name, run] of kernels) {
    it(`${name}: every m, n, k in 1..17 and all four transpose flags, exact on integers`, () => {
      let seed = 1;
      for (let m = 1; m <= 17; m++)
        for (let n = 1; n <= 17; n++)
          for (let k = 1; k <= 17; k++)
            for (const [ta, tb] of FLAGS) {
              const a = ints(m * k, seed++);
              const b = ints(k * n, seed++);
              const c = new Float32Array(m * n).fill(NaN); // must be overwritten, not accumulated into
              run(Float32Array.from(a), Float32Array.from(b), c, m, n, k, ta, tb);
              const bad = firstMismatch(c, ref(a, b, m, n, k, ta, tb));
              if (bad) expect.fail(`${name} ${m}x${k}x${n} ta=${ta} tb=${tb}: ${bad}`);
            }
    });

    it(`${name}: k spanning several k blocks and m spanning several m blocks, exact on integers`, () => {
      // KC = 256 and MC = 128 in the wasm kernel; KC = 256 in the JS one
      for (const [m, k, n] of [[133, 515, 19], [5, 769, 37], [260, 300, 9], [64, 784, 10]] as const)
        for (const [ta, tb] of FLAGS) {
          const a = ints(m * k, m + k);
          const b = ints(k * n, k + n);
          const c = new Float32Array(m * n);
          run(Float32Array.from(a), Float32Array.from(b), c, m, n, k, ta, tb);
          const bad = firstMismatch(c, ref(a, b, m, n, k, ta, tb));
          if (bad) expect.fail(`${name} ${m}x${k}x${n} ta=${ta} tb=${tb}: ${bad}`);
        }
    });
  }

  it('wasm: random floats within the float32 summation bound k·2⁻²³·Σ|aᵢₚ·bₚⱼ| (MNIST shapes)', () => {
    let s = 7;
    const rnd = (n: number): Float32Array => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        out[i] = s / 2 ** 31 - 1;
      }
      return out;
    };
    for (const [m, k, n, ta, tb] of [[64, 784, 256, false, true], [256, 64, 784, true, false], [64, 10, 256, false, false]] as const) {
      const a = rnd(m * k);
      const b = rnd(k * n);
      const c = new Float32Array(m * n);
      gemm(a, b, c, m, n, k, ta, tb);
      const want = ref(a, b, m, n, k, ta, tb);
      const absA = a.map(Math.abs);
      const absB = b.map(Math.abs);
      const mag = ref(absA, absB, m, n, k, ta, tb);
      for (let i = 0; i < want.length; i++) {
        const err = Math.abs(c[i]! - want[i]!);
        if (!(err <= k * 2 ** -23 * mag[i]!)) expect.fail(`${m}x${k}x${n}[${i}]: got ${c[i]}, want ${want[i]}`);
      }
    }
  });

  it('wasm: memory grows for a large product and later small products still run', () => {
    const [m, k, n] = [300, 700, 400]; // ≈ 2.5 MB of operands: more than the first 64 KiB page
    const a = ints(m * k, 3);
    const b = ints(k * n, 4);
    const c = new Float32Array(m * n);
    gemm(Float32Array.from(a), Float32Array.from(b), c, m, n, k, false, false);
    expect(firstMismatch(c, ref(a, b, m, n, k, false, false))).toBeNull();
    const c2 = new Float32Array(4);
    gemm(Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6, 7, 8]), c2, 2, 2, 2, false, false);
    expect(Array.from(c2)).toEqual([19, 22, 43, 50]);
    expect(wasmGemmMemoryBytes()).toBeGreaterThan(2_000_000); // kept for the next call (below 32 MiB)
  });

  it('wasm: memory past 32 MiB is released after the call, and the next call re-instantiates', () => {
    const [m, k, n] = [1700, 1600, 1800]; // (m·k + k·n + m·n)·4 bytes ≈ 34.6 MB > 32 MiB
    const a = new Float32Array(m * k).fill(1);
    const b = new Float32Array(k * n).fill(0.5);
    const c = new Float32Array(m * n);
    gemm(a, b, c, m, n, k, false, true);
    expect(c.every((v) => v === 800)).toBe(true);
    expect(wasmGemmMemoryBytes()).toBe(0);
    const c2 = new Float32Array(1);
    gemm(Float32Array.from([3]), Float32Array.from([-4]), c2, 1, 1, 1, false, false);
    expect(c2[0]).toBe(-12);
    expect(wasmGemmMemoryBytes()).toBeGreaterThan(0);
  });

  it('wasm: each multiply-add rounds twice (f32x4 mul, add) unless the runtime has relaxed SIMD, where it rounds once (fused)', () => {
    expect(wasmGemmAvailable()).toBe(true);
    expect(roundingProbe(cpu({ threads: 1 }))).toBe(fusedMultiplyAdd() ? FUSED : UNFUSED);
    const relaxed = WebAssembly.validate(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]));
    expect(fusedMultiplyAdd()).toBe(relaxed); // a one-function module with f32x4.relaxed_madd
  });

  it('wasm: NaN and ±Infinity propagate like the triple loop', () => {
    const a = Float32Array.from([NaN, 1, Infinity, 2, 3, 4]); // 2×3
    const b = Float32Array.from([1, 0, 1, 1, -1, 2]); // 3×2
    const c = new Float32Array(4);
    gemm(a, b, c, 2, 2, 3, false, false);
    const want = ref(a, b, 2, 2, 3, false, false);
    expect(Array.from(c)).toEqual(Array.from(want)); // [NaN, NaN, Infinity, Infinity]
  });
});

describe('cpu() matmul through the backend', () => {
  it('zero-size dimensions give zero-filled (or empty) results on both dtypes and both kernels', () => {
    for (const dtype of ['float32', 'float64'] as const)
      for (const wasmOn of [true, false]) {
        const was = useWasmGemm(wasmOn);
        try {
          const B = cpu({ dtype });
          const k0 = B.matmul(B.zeros([3, 0]), B.zeros([0, 2]));
          expect(k0.shape).toEqual([3, 2]);
          expect(Array.from(k0.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
          expect(B.matmul(B.zeros([0, 4]), B.zeros([4, 5])).shape).toEqual([0, 5]);
          expect(B.matmul(B.zeros([2, 4]), B.zeros([4, 0]), false, false).dataSync().length).toBe(0);
        } finally {
          useWasmGemm(was);
        }
      }
  });

  it('float32 with and without the wasm kernel, and float64, agree exactly on integers', () => {
    const [m, k, n] = [37, 300, 29];
    const a = ints(m * k, 11);
    const b = ints(k * n, 12);
    const want = Array.from(ref(a, b, m, n, k, true, true));
    for (const dtype of ['float32', 'float64'] as const)
      for (const wasmOn of [true, false]) {
        const was = useWasmGemm(wasmOn);
        try {
          const B = cpu({ dtype });
          const out = B.matmul(B.tensor(a, [k, m]), B.tensor(b, [n, k]), true, true);
          expect(out.shape).toEqual([m, n]);
          expect(Array.from(out.dataSync())).toEqual(want);
        } finally {
          useWasmGemm(was);
        }
      }
  });
});

describe('gemm.wat and the committed gemm.wasm.ts', () => {
  it('re-assembling gemm.wat with wabt reproduces the committed bytes exactly', () => {
    const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));
    // exits 1 with a message when the committed file differs from a fresh build
    const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/matches gemm\.wat/);
  });
});
