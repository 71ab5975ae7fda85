/**
 * float32 GEMM through the WebAssembly SIMD kernel of wasm/gemm.wat.
 *
 * The module (≈2 KB) is compiled and instantiated synchronously on first use, so matmul stays a
 * synchronous op. Operands are copied into the module's memory (A, B, then C and the two pack
 * buffers, 16-byte aligned), the kernel runs, and C is copied out. Memory grows as needed and is
 * kept for later calls up to 32 MiB; past that the instance is dropped after the call and a
 * fresh one (from the compiled module) serves the next. When WebAssembly or its SIMD extension is missing (the module does not
 * validate), or memory cannot grow that far, `gemmWasm` returns false and the caller uses the
 * JavaScript kernel.
 */
import { GEMM_WASM_BASE64 } from './wasm/gemm.wasm';

/** k block (B panel of 8·KC floats = 8 KB stays in L1) and m block (A block of MC·KC floats = 128 KB in L2). */
const KC = 256;
const MC = 128;
/** Bytes [0, 128) are the kernel's scratch tile. */
const SCRATCH = 128;

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(
    a: number, b: number, c: number, m: number, n: number, k: number,
    ars: number, aps: number, brs: number, bps: number,
    pa: number, pb: number, kcMax: number, mcMax: number,
  ): void;
}

/** Memory above this is released after the call (the instance is dropped and re-made on demand). */
const KEEP_BYTES = 32 * 1024 * 1024;

/** undefined: not tried yet; null: unavailable here. */
let compiled: WebAssembly.Module | null | undefined;
let wasm: GemmExports | null = null;
let heap = new Float32Array(0);

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function compile(): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = decodeBase64(GEMM_WASM_BASE64);
    // validating the module itself is the SIMD feature test: it uses f32x4 throughout
    if (!WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

/** The live instance, made (synchronously) on demand; null when WebAssembly SIMD is unavailable. */
function instance(): GemmExports | null {
  if (compiled === undefined) compiled = compile();
  if (compiled === null) return null;
  if (wasm === null) {
    try {
      wasm = new WebAssembly.Instance(compiled, {}).exports as unknown as GemmExports;
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

/** Bytes of WebAssembly memory the kernel holds now (0 when no instance is live). */
export function wasmGemmMemoryBytes(): number {
  return wasm === null ? 0 : wasm.memory.buffer.byteLength;
}

const align4 = (floats: number): number => (floats + 3) & ~3; // 16-byte alignment in floats

/**
 * C[m×n] = op(A)·op(B) into `c` (overwritten) with the WebAssembly kernel; m, n, k ≥ 1.
 * Returns false, leaving `c` untouched, when the kernel is unavailable or memory cannot grow.
 */
export function gemmWasm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, n: number, k: number, transposeA: boolean, transposeB: boolean,
): boolean {
  const ex = instance();
  if (ex === null) return false;
  const kc = Math.min(k, KC);
  // layout in floats
  const aOff = SCRATCH / 4;
  const bOff = aOff + align4(m * k);
  const cOff = bOff + align4(k * n);
  const paOff = cOff + align4(m * n);
  const pbOff = paOff + Math.ceil(Math.min(m, MC) / 4) * 4 * kc;
  const end = pbOff + Math.ceil(n / 8) * 8 * kc;
  const bytes = end * 4;
  if (bytes > 2 ** 32 - 65536) return false;
  const have = ex.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      ex.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return false;
    }
  }
  if (heap.buffer !== ex.memory.buffer) heap = new Float32Array(ex.memory.buffer);
  heap.set(a.subarray(0, m * k), aOff);
  heap.set(b.subarray(0, k * n), bOff);
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  ex.gemm(
    aOff * 4, bOff * 4, cOff * 4, m, n, k,
    transposeA ? 1 : k, transposeA ? m : 1,
    transposeB ? k : 1, transposeB ? 1 : n,
    paOff * 4, pbOff * 4, KC, MC,
  );
  c.set(heap.subarray(cOff, cOff + m * n));
  if (ex.memory.buffer.byteLength > KEEP_BYTES) {
    // a large product: let its memory go rather than hold it for the life of the process
    wasm = null;
    heap = new Float32Array(0);
  }
  return true;
}
