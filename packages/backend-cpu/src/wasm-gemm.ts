/**
 * float32 GEMM through the WebAssembly SIMD kernel of wasm/gemm.wat.
 *
 * The module (≈7 KB) is compiled and instantiated synchronously on first use, so matmul stays a
 * synchronous op; where the runtime has relaxed SIMD it is the variant whose micro-kernel fuses
 * its multiply-adds (`wasmGemmFused`). Operands are copied into the module's memory (a scratch tile, A, B, C, then the
 * two pack buffers, all 16-byte aligned), the kernel runs, and C is copied out. Memory grows as needed and is kept for later calls up to 32 MiB; past that the instance is
 * dropped after the call and a fresh one (from the compiled module) serves the next. When
 * WebAssembly or its SIMD extension is missing (the module does not validate), or memory cannot
 * grow that far, `gemmWasm` returns false and the caller uses the JavaScript kernel.
 * The thread pool (threads.ts) runs the same layout on a shared memory, one part per thread.
 */
import type { ConvGeometry } from '@neurone/core';
import { GEMM_FMA_WASM_BASE64, GEMM_WASM_BASE64 } from './wasm/gemm.wasm';

/** k block (B panel of 8·KC floats = 8 KB stays in L1) and m block (A block of MC·KC floats = 128 KB in L2). */
export const KC = 256;
export const MC = 128;

export interface GemmExports {
  /** out = α·x + β·y on n floats (byte offsets; room for n rounded up to 4 at each). */
  axpby(x: number, y: number, out: number, n: number, alpha: number, beta: number): void;
  /** Adam's and RMSprop's kernels: out = β·a + c·x²; out = x − lr·m / (√v·s + ε). */
  emaSquare(x: number, a: number, out: number, n: number, beta: number, c: number): void;
  rootStep(x: number, m: number, v: number, out: number, n: number, lr: number, s: number, eps: number): void;
  /** out = tanh(x) on n floats, kernels.ts's tanh32 two lanes at a time. */
  tanh(x: number, out: number, n: number): void;
  /** out = σ(x), kernels.ts's loop (V8's exp: the same bits). */
  sigmoid(x: number, out: number, n: number): void;
  /** V8's exp, the one sigmoid uses (for the test that holds it to Math.exp). */
  exp(x: number): number;
  /** out = x < 0 ? 0 : x. */
  relu(x: number, out: number, n: number): void;
  /** The activations' backward from the saved s and δ: δ(1 − s²), δ·s(1 − s), s > 0 ? δ : 0. */
  tanhGrad(s: number, d: number, out: number, n: number): void;
  sigmoidGrad(s: number, d: number, out: number, n: number): void;
  reluGrad(s: number, d: number, out: number, n: number): void;
  /** Float64 column sums of a rows×cols float32 matrix at x into the float64 accumulators at acc. */
  colsum(x: number, rows: number, cols: number, acc: number): void;
  /** C[m×n] += bias on every row, in place. */
  addBias(c: number, bias: number, m: number, n: number): void;
  /** conv.ts's 2×2 stride-2 max pool and its backward (C a multiple of 4), and im2col, on byte offsets. */
  maxpool2(x: number, out: number, batch: number, inH: number, inW: number, C: number, outH: number, outW: number): void;
  maxpool2Grad(x: number, d: number, out: number, batch: number, inH: number, inW: number, C: number, outH: number, outW: number): void;
  im2col(x: number, out: number, batch: number, inH: number, inW: number, C: number, outH: number, outW: number,
    kh: number, kw: number, sh: number, sw: number, ph: number, pw: number): void;
  gemm(
    a: number, b: number, c: number, m: number, n: number, k: number,
    ars: number, aps: number, brs: number, bps: number,
    pa: number, pb: number, kcMax: number, mcMax: number, ldc: number, scratch: number,
  ): void;
}

/** Memory above this is released after the call (the instance is dropped and re-made on demand). */
const KEEP_BYTES = 32 * 1024 * 1024;

export const decodeBase64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** The bytes of `base64` when they validate here (so WebAssembly, SIMD and, for a fused module, relaxed SIMD exist), else null. */
function valid(base64: string): Uint8Array<ArrayBuffer> | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = decodeBase64(base64);
    return WebAssembly.validate(bytes) ? bytes : null;
  } catch {
    return null;
  }
}

/** undefined: not tried yet. Decided once per process, so that every thread runs the same kernel. */
let fused: boolean | undefined;

/**
 * Whether products fuse their multiply-adds (f32x4.relaxed_madd: one rounding per a·b + c where
 * the CPU has FMA): where the runtime has relaxed SIMD (Chrome 114+, Node 22+; Node 20 with
 * --experimental-wasm-relaxed-simd). Float32 products then differ from other runtimes' in the last
 * bits; they stay bit-identical for any thread count.
 */
export function wasmGemmFused(): boolean {
  return (fused ??= valid(GEMM_FMA_WASM_BASE64) !== null);
}

/**
 * The module: the fused variant where wasmGemmFused, else the plain one; null where WebAssembly
 * SIMD is missing (the module uses f32x4 throughout, so validating it is the feature test).
 */
export function compileGemm(plain: string, fma: string): WebAssembly.Module | null {
  try {
    const bytes = valid(wasmGemmFused() ? fma : plain);
    return bytes && new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

/** undefined: not tried yet; null: unavailable here. */
let compiled: WebAssembly.Module | null | undefined;
let wasm: (GemmExports & { memory: WebAssembly.Memory }) | null = null;

/** The live instance, made (synchronously) on demand; null when WebAssembly SIMD is unavailable. */
function instance(): (GemmExports & { memory: WebAssembly.Memory }) | null {
  if (compiled === undefined) compiled = compileGemm(GEMM_WASM_BASE64, GEMM_FMA_WASM_BASE64);
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
 * C[m×n] = op(A)·op(B) (+ bias on every row) into `c` (overwritten) with the WebAssembly kernel on this thread; m, n, k ≥ 1.
 * Returns false, leaving `c` untouched, when the kernel is unavailable or memory cannot grow.
 */
export function gemmWasm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, n: number, k: number, transposeA: boolean, transposeB: boolean, bias?: Float32Array,
): boolean {
  const ex = instance();
  if (ex === null) return false;
  // layout in floats: a scratch tile, A, B, C, then the pack buffers (threads.ts adds a region per thread)
  const aOff = 32;
  const bOff = aOff + align4(m * k);
  const cOff = bOff + align4(k * n);
  const pa = cOff + align4(m * n);
  const pb = pa + packA(m, k);
  const biasOff = pb + packB(n, k);
  if (!ensureMemory(ex.memory, biasOff + (bias ? n : 0))) return false;
  const heap = new Float32Array(ex.memory.buffer);
  heap.set(a.subarray(0, m * k), aOff);
  heap.set(b.subarray(0, k * n), bOff);
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  ex.gemm(aOff * 4, bOff * 4, cOff * 4, m, n, k, transposeA ? 1 : k, transposeA ? m : 1, transposeB ? k : 1, transposeB ? 1 : n, pa * 4, pb * 4, KC, MC, n, 0);
  if (bias) {
    heap.set(bias.subarray(0, n), biasOff);
    ex.addBias(cOff * 4, biasOff * 4, m, n);
  }
  c.set(heap.subarray(cOff, cOff + m * n));
  // a large product: let its memory go rather than hold it for the life of the process
  if (ex.memory.buffer.byteLength > KEEP_BYTES) wasm = null;
  return true;
}

/**
 * A kernel of gemm.wat on this thread over float32 arrays: the inputs are copied into the module's
 * memory (each 16-byte aligned, with room for its length rounded up to 4 plus 4), `run` gets their
 * byte offsets and the output's, and the result is copied into `out`. False when the kernel is
 * unavailable or memory cannot grow.
 */
function onWasm(inputs: readonly Float32Array[], out: Float32Array, run: (ex: GemmExports, offsets: number[]) => void): boolean {
  const ex = instance();
  if (ex === null) return false;
  const offsets: number[] = [];
  let end = 32;
  for (const a of [...inputs, out]) {
    offsets.push(end);
    end += align4(a.length) + 4;
  }
  if (!ensureMemory(ex.memory, end)) return false;
  const heap = new Float32Array(ex.memory.buffer);
  inputs.forEach((x, i) => heap.set(x, offsets[i]!));
  run(ex, offsets.map((o) => o * 4));
  const o = offsets[inputs.length]!;
  out.set(heap.subarray(o, o + out.length));
  if (ex.memory.buffer.byteLength > KEEP_BYTES) wasm = null;
  return true;
}

/** out = α·x + β·y with gemm.wat's `axpby` (the same bits as kernels.ts's loop); false when unavailable. */
export const axpbyWasm = (alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array): boolean =>
  onWasm([x, y], out, (ex, [xo, yo, oo]) => ex.axpby(xo!, yo!, oo!, out.length, alpha, beta));

/** The second moment β·a + c·x² of kernels.ts's optimizerStep on WebAssembly (the same bits); false when unavailable. */
export const emaSquareWasm = (x: Float32Array, a: Float32Array, out: Float32Array, beta: number, c: number): boolean =>
  onWasm([x, a], out, (ex, [xo, ao, oo]) => ex.emaSquare(xo!, ao!, oo!, out.length, beta, c));

/** The step x − lr·m / (√v·s + ε) of kernels.ts's optimizerStep on WebAssembly (the same bits); false when unavailable. */
export const rootStepWasm = (x: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, lr: number, s: number, eps: number): boolean =>
  onWasm([x, m, v], out, (ex, [xo, mo, vo, oo]) => ex.rootStep(xo!, mo!, vo!, oo!, out.length, lr, s, eps));

/** gemm.wat's exp of x (V8's Math.exp), or null when WebAssembly SIMD is unavailable: for tests. */
export const expWasm = (x: number): number | null => instance()?.exp(x) ?? null;

/** The element-wise maps of gemm.wat taking float32 operands only (kernels.ts's loops give the same bits). */
export type WasmMap = 'tanh' | 'sigmoid' | 'relu' | 'tanhGrad' | 'sigmoidGrad' | 'reluGrad';

/** out = op(inputs…) with gemm.wat's map `op` (one input for tanh and relu, saved output and δ for the gradients); false when unavailable. */
export const mapOnWasm = (op: WasmMap, inputs: readonly Float32Array[], out: Float32Array): boolean =>
  onWasm(inputs, out, (ex, offs) => (ex[op] as (...args: number[]) => void)(...offs, out.length));

/**
 * out[o·cols + j] = Σᵣ x[(o·rows + r)·cols + j] in float64, summed in row order (kernels.ts's
 * loop for few long columns, the same bits), for o < outer; false when the kernel is unavailable.
 */
export function colsumWasm(x: Float32Array, outer: number, rows: number, cols: number, out: Float64Array): boolean {
  const ex = instance();
  if (ex === null) return false;
  const block = rows * cols;
  const xOff = 32;
  const accOff = xOff + align4(block + 1); // floats; 16-byte aligned
  if (!ensureMemory(ex.memory, accOff + 2 * align4(cols))) return false;
  const heap = new Float32Array(ex.memory.buffer);
  const acc = new Float64Array(ex.memory.buffer, accOff * 4, cols);
  for (let o = 0; o < outer; o++) {
    heap.set(x.subarray(o * block, (o + 1) * block), xOff);
    ex.colsum(xOff * 4, rows, cols, accOff * 4);
    out.set(acc, o * cols);
  }
  if (ex.memory.buffer.byteLength > KEEP_BYTES) wasm = null;
  return true;
}

/** Whether `g` is the 2×2 stride-2 unpadded window with channels in multiples of 4 that gemm.wat's max pool takes. */
export const maxPool2Fits = (g: ConvGeometry): boolean =>
  g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0 && g.chan % 4 === 0;

/** conv.ts's max pool for a window where maxPool2Fits, on WebAssembly (the same values); false when unavailable. */
export const maxPool2Wasm = (x: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x], out, (ex, [xo, oo]) => ex.maxpool2(xo!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW));

/** Its backward (conv.ts's poolGrad for max, the same bits); false when unavailable. */
export const maxPool2GradWasm = (x: Float32Array, delta: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x, delta], out, (ex, [xo, dOff, oo]) => ex.maxpool2Grad(xo!, dOff!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW));

/** conv.ts's im2col on WebAssembly (the same values); false when unavailable. */
export const im2colWasm = (x: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x], out, (ex, [xo, oo]) => ex.im2col(xo!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw));
