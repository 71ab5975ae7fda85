import { gemmWasm } from './wasm-gemm';

let wasmEnabled = true;

/**
 * Switches the WebAssembly SIMD kernel for float32 on or off (tests and benchmarks compare the
 * two paths); returns the previous setting. Not part of the package's public API.
 */
export function useWasmGemm(on: boolean): boolean {
  const was = wasmEnabled;
  wasmEnabled = on;
  return was;
}

/** Whether float32 products may run on WebAssembly (the thread pool's too). */
export const wasmGemmEnabled = (): boolean => wasmEnabled;

/**
 * C[m×n] = op(A)·op(B), overwriting c; true when it also added `bias` to every row (the wasm
 * kernel does, in its memory before the copy out), false when the caller must. float32 runs on the WebAssembly SIMD kernel
 * (wasm/gemm.wat) where the runtime has one; float64, and float32 without WebAssembly SIMD, on
 * the packed JavaScript kernel below. (index.ts's threaded kernels try the thread pool first.)
 */
export function gemm(
  a: Arr,
  b: Arr,
  c: Arr,
  m: number,
  n: number,
  k: number,
  transposeA: boolean,
  transposeB: boolean,
  bias?: Arr,
): boolean {
  if (
    wasmEnabled &&
    m > 0 && n > 0 && k > 0 &&
    a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array &&
    (bias === undefined || bias instanceof Float32Array) &&
    gemmWasm(a, b, c, m, n, k, transposeA, transposeB, bias)
  ) {
    return bias !== undefined;
  }
  gemmJs(a, b, c, m, n, k, transposeA, transposeB);
  return false;
}

/**
 * Packed GEMM on typed arrays in JavaScript: C[m×n] = op(A)·op(B).
 *
 * Both operands are packed, whatever their transpose flags, into float64 panels of 4 rows
 * interleaved along k (A: 4 rows of C, B: 4 columns of C), so the 4×4 micro-kernel reads
 * both streams sequentially and keeps 16 accumulators in registers. Packing costs O(mk + kn),
 * so A·Bᵀ and Aᵀ·B run as fast as A·B. k is blocked so that panels stay in cache.
 */
const KC = 256;
const MR = 4;
const NR = 4;

let packA = new Float64Array(0);
let packB = new Float64Array(0);

type Arr = Float32Array | Float64Array;

/** Packs rows [r0, r0+rows) × k [k0, k0+kc) of the logical matrix X (rows × k) into 4-row panels. */
function pack(
  dst: Float64Array,
  src: Arr,
  rows: number,
  k0: number,
  kc: number,
  // element (r, p) of the logical matrix is src[r * rs + p * ps]
  rs: number,
  ps: number,
): void {
  const panels = Math.ceil(rows / 4);
  for (let pi = 0; pi < panels; pi++) {
    const base = pi * kc * 4;
    for (let r = 0; r < 4; r++) {
      const row = pi * 4 + r;
      if (row < rows) {
        let s = row * rs + k0 * ps;
        for (let p = 0; p < kc; p++, s += ps) dst[base + p * 4 + r] = src[s]!;
      } else {
        for (let p = 0; p < kc; p++) dst[base + p * 4 + r] = 0;
      }
    }
  }
}

export function gemmJs(
  a: Arr,
  b: Arr,
  c: Arr,
  m: number,
  n: number,
  k: number,
  transposeA: boolean,
  transposeB: boolean,
): void {
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed
  const ars = transposeA ? 1 : k;
  const aps = transposeA ? m : 1;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  const brs = transposeB ? k : 1;
  const bps = transposeB ? 1 : n;
  c.fill(0);
  if (k === 0 || m === 0 || n === 0) return;
  const mp = Math.ceil(m / MR);
  const np = Math.ceil(n / NR);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    if (packA.length < mp * 4 * kc) packA = new Float64Array(mp * 4 * KC);
    if (packB.length < np * 4 * kc) packB = new Float64Array(np * 4 * KC);
    pack(packA, a, m, k0, kc, ars, aps);
    pack(packB, b, n, k0, kc, brs, bps);
    for (let ip = 0; ip < mp; ip++) {
      for (let jp = 0; jp < np; jp++) kernel(packA, ip * kc * 4, packB, jp * kc * 4, kc, c, ip * 4, jp * 4, m, n);
    }
  }
}

function kernel(A: Float64Array, ao: number, B: Float64Array, bo: number, kc: number, C: Arr, i0: number, j0: number, m: number, n: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  const end = ao + kc * 4;
  for (let pa = ao, pb = bo; pa < end; pa += 4, pb += 4) {
    const a0 = A[pa]!, a1 = A[pa + 1]!, a2 = A[pa + 2]!, a3 = A[pa + 3]!;
    const b0 = B[pb]!, b1 = B[pb + 1]!, b2 = B[pb + 2]!, b3 = B[pb + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (i0 + 4 <= m && j0 + 4 <= n) {
    let o = i0 * n + j0;
    C[o]! += c00; C[o + 1]! += c01; C[o + 2]! += c02; C[o + 3]! += c03; o += n;
    C[o]! += c10; C[o + 1]! += c11; C[o + 2]! += c12; C[o + 3]! += c13; o += n;
    C[o]! += c20; C[o + 1]! += c21; C[o + 2]! += c22; C[o + 3]! += c23; o += n;
    C[o]! += c30; C[o + 1]! += c31; C[o + 2]! += c32; C[o + 3]! += c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < 4 && i0 + r < m; r++)
    for (let s = 0; s < 4 && j0 + s < n; s++) C[(i0 + r) * n + j0 + s]! += acc[r * 4 + s]!;
}
