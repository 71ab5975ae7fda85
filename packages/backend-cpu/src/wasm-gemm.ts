/**
 * float32 GEMM through the WebAssembly SIMD kernel of wasm/gemm.wat.
 *
 * The module (≈2 KB) is compiled and instantiated synchronously on first use, so matmul stays a
 * synchronous op. Operands are copied into the module's memory (per part: a scratch tile; then
 * A, B, C; then per part two pack buffers, all 16-byte aligned), the kernel runs, and C is copied
 * out. Memory grows as needed and is kept for later calls up to 32 MiB; past that the instance is
 * dropped after the call and a fresh one (from the compiled module) serves the next. When
 * WebAssembly or its SIMD extension is missing (the module does not validate), or memory cannot
 * grow that far, `gemmWasm` returns false and the caller uses the JavaScript kernel.
 * The thread pool (threads.ts) runs the same layout on a shared memory, one part per thread.
 */
import { GEMM_WASM_BASE64 } from './wasm/gemm.wasm';

/** k block (B panel of 8·KC floats = 8 KB stays in L1) and m block (A block of MC·KC floats = 128 KB in L2). */
const KC = 256;
const MC = 128;

export interface GemmExports {
  gemm(
    a: number, b: number, c: number, m: number, n: number, k: number,
    ars: number, aps: number, brs: number, bps: number,
    pa: number, pb: number, kcMax: number, mcMax: number, ldc: number, scratch: number,
  ): void;
}

/** Memory above this is released after the call (the instance is dropped and re-made on demand). */
const KEEP_BYTES = 32 * 1024 * 1024;

export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

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

const align4 = (floats: number): number => (floats + 3) & ~3; // 16-byte alignment in floats

/**
 * Lays out C[m×n] = op(A)·op(B) for `parts` threads in a memory and gives each part's 16 kernel
 * arguments: C is split into column blocks (multiples of 8) when n ≥ m, row blocks (multiples of
 * 4) otherwise; a part may be empty (m or n 0). Each element is summed in the same order in any
 * split, so the result does not depend on `parts`. Returns the floats the layout needs.
 */
export function gemmLayout(
  m: number, n: number, k: number, transposeA: boolean, transposeB: boolean, parts: number,
): { aOff: number; bOff: number; cOff: number; end: number; args: number[][] } {
  const kc = Math.min(k, KC);
  const byCols = n >= m;
  const unit = byCols ? 8 : 4;
  const len = byCols ? n : m;
  const chunk = Math.ceil(Math.ceil(len / unit) / parts) * unit;
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  const ars = transposeA ? 1 : k;
  const aps = transposeA ? m : 1;
  const brs = transposeB ? k : 1;
  const bps = transposeB ? 1 : n;
  const aOff = parts * 32; // parts scratch tiles of 32 floats
  const bOff = aOff + align4(m * k);
  const cOff = bOff + align4(k * n);
  let end = cOff + align4(m * n);
  const args: number[][] = [];
  for (let t = 0; t < parts; t++) {
    const lo = Math.min(len, t * chunk);
    const hi = Math.min(len, lo + chunk);
    const pm = byCols ? m : hi - lo;
    const pn = byCols ? hi - lo : n;
    const pa = end;
    const pb = pa + Math.ceil(Math.min(pm, MC) / 4) * 4 * kc;
    end = pb + Math.ceil(pn / 8) * 8 * kc;
    const a = aOff + (byCols ? 0 : lo * ars);
    const b = bOff + (byCols ? lo * brs : 0);
    const c = cOff + (byCols ? lo : lo * n);
    args.push([a * 4, b * 4, c * 4, pm, pn, k, ars, aps, brs, bps, pa * 4, pb * 4, KC, MC, n, t * 128]);
  }
  return { aOff, bOff, cOff, end, args };
}

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
  const { aOff, bOff, cOff, end, args } = gemmLayout(m, n, k, transposeA, transposeB, 1);
  if (!ensureMemory(ex.memory, end)) return false;
  const heap = new Float32Array(ex.memory.buffer);
  heap.set(a.subarray(0, m * k), aOff);
  heap.set(b.subarray(0, k * n), bOff);
  ex.gemm(...(args[0] as Parameters<GemmExports['gemm']>));
  c.set(heap.subarray(cOff, cOff + m * n));
  // a large product: let its memory go rather than hold it for the life of the process
  if (ex.memory.buffer.byteLength > KEEP_BYTES) wasm = null;
  return true;
}
