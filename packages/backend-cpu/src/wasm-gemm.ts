/**
 * float32 GEMM through the WebAssembly SIMD kernel of wasm/gemm.wat.
 *
 * The module (≈2 KB) is compiled and instantiated synchronously on first use, so matmul stays a
 * synchronous op. Operands are copied into the module's memory (a scratch tile, A, B, C, then the
 * two pack buffers, all 16-byte aligned), the kernel runs, and C is copied out. Memory grows as needed and is kept for later calls up to 32 MiB; past that the instance is
 * dropped after the call and a fresh one (from the compiled module) serves the next. When
 * WebAssembly or its SIMD extension is missing (the module does not validate), or memory cannot
 * grow that far, `gemmWasm` returns false and the caller uses the JavaScript kernel.
 * The thread pool (threads.ts) runs the same layout on a shared memory, one part per thread.
 */
import { GEMM_WASM_BASE64 } from './wasm/gemm.wasm';

/** k block (B panel of 8·KC floats = 8 KB stays in L1) and m block (A block of MC·KC floats = 128 KB in L2). */
export const KC = 256;
export const MC = 128;

export interface GemmExports {
  gemm(
    a: number, b: number, c: number, m: number, n: number, k: number,
    ars: number, aps: number, brs: number, bps: number,
    pa: number, pb: number, kcMax: number, mcMax: number, ldc: number, scratch: number,
  ): void;
}

/** Memory above this is released after the call (the instance is dropped and re-made on demand). */
const KEEP_BYTES = 32 * 1024 * 1024;

export const decodeBase64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** The module of `base64`, or null where WebAssembly (SIMD: the module uses f32x4 throughout, so validating it is the feature test) is missing. */
export function compileGemm(base64: string): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = decodeBase64(base64);
    if (!WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

/** undefined: not tried yet; null: unavailable here. */
let compiled: WebAssembly.Module | null | undefined;
let wasm: (GemmExports & { memory: WebAssembly.Memory }) | null = null;

/** The live instance, made (synchronously) on demand; null when WebAssembly SIMD is unavailable. */
function instance(): (GemmExports & { memory: WebAssembly.Memory }) | null {
  if (compiled === undefined) compiled = compileGemm(GEMM_WASM_BASE64);
  if (compiled === null) return null;
  if (wasm === null) {
    try {
      wasm = new WebAssembly.Instance(compiled, {}).exports as unknown as GemmExports & { memory: WebAssembly.Memory };
    } catch {
      compiled = null;
    }
  }
  return wasm;
}

/** Whether the WebAssembly SIMD kernel can run in this environment (compiles it if needed). */
export function wasmGemmAvailable(): boolean {
  return instance() !== null;
}

/** Bytes of WebAssembly memory the single-thread kernel holds now (0 when no instance is live). */
export function wasmGemmMemoryBytes(): number {
  return wasm === null ? 0 : wasm.memory.buffer.byteLength;
}

export const align4 = (floats: number): number => (floats + 3) & ~3; // 16-byte alignment in floats
/** Floats of the pack buffers: the A block of a product with `rows` rows of C, the B panels of one with `cols` columns. */
export const packA = (rows: number, k: number): number => align4(Math.min(rows, MC)) * Math.min(k, KC);
export const packB = (cols: number, k: number): number => ((cols + 7) & ~7) * Math.min(k, KC);

/** Grows `memory` to hold `floats` floats; false when it cannot. */
export function ensureMemory(memory: WebAssembly.Memory, floats: number): boolean {
  const bytes = floats * 4;
  if (bytes > 2 ** 32 - 65536) return false;
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  try {
    memory.grow(Math.ceil((bytes - have) / 65536));
    return true;
  } catch {
    return false;
  }
}

/**
 * C[m×n] = op(A)·op(B) into `c` (overwritten) with the WebAssembly kernel on this thread; m, n, k ≥ 1.
 * Returns false, leaving `c` untouched, when the kernel is unavailable or memory cannot grow.
 */
export function gemmWasm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, n: number, k: number, transposeA: boolean, transposeB: boolean,
): boolean {
  const ex = instance();
  if (ex === null) return false;
  // layout in floats: a scratch tile, A, B, C, then the pack buffers (threads.ts adds a region per thread)
  const aOff = 32;
  const bOff = aOff + align4(m * k);
  const cOff = bOff + align4(k * n);
  const pa = cOff + align4(m * n);
  const pb = pa + packA(m, k);
  if (!ensureMemory(ex.memory, pb + packB(n, k))) return false;
  const heap = new Float32Array(ex.memory.buffer);
  heap.set(a.subarray(0, m * k), aOff);
  heap.set(b.subarray(0, k * n), bOff);
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  ex.gemm(aOff * 4, bOff * 4, cOff * 4, m, n, k, transposeA ? 1 : k, transposeA ? m : 1, transposeB ? k : 1, transposeB ? 1 : n, pa * 4, pb * 4, KC, MC, n, 0);
  c.set(heap.subarray(cOff, cOff + m * n));
  // a large product: let its memory go rather than hold it for the life of the process
  if (ex.memory.buffer.byteLength > KEEP_BYTES) wasm = null;
  return true;
}
