/**
 * float32 GEMM through the WebAssembly SIMD kernel of wasm/gemm.wat.
 *
 * The module (≈7 KB) is compiled and instantiated synchronously on first use, so matmul stays a
 * synchronous op; where the runtime has relaxed SIMD it is the variant whose micro-kernel fuses
 * its multiply-adds (`wasmGemmFused`). Where index.ts has bound the arena (arena.ts: float32
 * tensors inside the shared memory), the kernels run on an instance of the shared module there
 * and read and write tensors in place; otherwise (the browser build) on the module's own memory,
 * where operands are copied in and results out (`place`). That memory grows as needed and is
 * kept for later calls up to 32 MiB; past that the instance is dropped after the call and a fresh
 * one serves the next. When WebAssembly or its SIMD extension is missing (the module does not
 * validate), or memory cannot grow that far, the functions return false and the caller uses the
 * JavaScript loops. The thread pool (threads.ts) splits the same kernels across threads.
 */
import type { ConvGeometry } from '@neurone/core';
import { GEMM_FMA_WASM_HEX, GEMM_WASM_HEX } from './wasm/gemm.wasm';
import { align4, ensureMemory, place } from './arena';
import type { Arena, WasmMemory } from './arena';

/** k block (B panel of 8·KC floats = 8 KB stays in L1) and m block (A block of MC·KC floats = 128 KB in L2). */
export const KC = 256;
export const MC = 128;

export interface GemmExports {
  /** out = α·x + β·y on n floats (byte offsets; room for n rounded up to 4 at each). */
  axpby(x: number, y: number, out: number, n: number, alpha: number, beta: number): void;
  /** Adam's and RMSprop's step in one pass (core's updateChain on the CPU: the same bits): passWasm's slots, n, then its numbers. */
  adam(...args: number[]): void;
  /** out = tanh(x) on n floats, kernels.ts's tanh32 two lanes at a time. */
  tanh(x: number, out: number, n: number): void;
  /** out = σ(x), kernels.ts's loop (V8's exp: the same bits). */
  sigmoid(x: number, out: number, n: number): void;
  /** V8's exp, the one sigmoid uses, and bce's log (for the tests that hold them to Math.exp and log32). */
  exp(x: number): number;
  log(x: number): number;
  /** BCELoss's terms (kernels.ts's bceRange with log32, log floor F) and its gradient c·(ŷ − y)/max(ŷ(1 − ŷ), ε), the same bits. */
  bce(y: number, p: number, out: number, n: number, F: number): void;
  bceGrad(y: number, p: number, out: number, n: number, c: number, eps: number): void;
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
  /** pre: 1 when A lies packed at pa already (every block), 2 when B does at pb (gemm.wat's header). */
  gemm(
    a: number, b: number, c: number, m: number, n: number, k: number,
    ars: number, aps: number, brs: number, bps: number,
    pa: number, pb: number, kcMax: number, mcMax: number, ldc: number, scratch: number, pre: number,
  ): void;
  /** Rows [0, rows) × k [k0, k0 + kc) of X[r, p] = src[r·rs + p·ps] into panels of R rows at dst. */
  pack(src: number, rows: number, k0: number, kc: number, rs: number, ps: number, dst: number, R: number): void;
}

/** A module's own memory above this is released after the call (the instance is dropped and re-made on demand). */
const KEEP_BYTES = 32 * 1024 * 1024;

/** A module's bytes from its hex text (hex rather than base64: gzip finds the module's repeats in it, 1.1 kB less in a bundle). */
const decodeHex = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

/** The bytes of `hex` when they validate here (so WebAssembly, SIMD and, for a fused module, relaxed SIMD exist), else null. */
function valid(hex: string): Uint8Array<ArrayBuffer> | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    const bytes = decodeHex(hex);
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
  return (fused ??= valid(GEMM_FMA_WASM_HEX) !== null);
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

/** The kernels on this thread and the memory they run on. */
interface WasmHere {
  ex: GemmExports;
  mem: WasmMemory;
}

/** undefined: not tried yet; null: unavailable here. */
let compiled: WebAssembly.Module | null | undefined;
let own: WasmHere | null = null;
/** The arena's instance on this thread, once index.ts binds one (bindArena): then every kernel runs there. */
let bound: WasmHere | null = null;

/** Runs this thread's kernels on `arena` from now on (index.ts: an instance of the thread pool's shared module on the arena's memory). */
export function bindArena(ex: GemmExports, arena: Arena): void {
  bound = { ex, mem: arena };
}

/** The kernels on this thread: the arena's when one is bound, else the module's own instance; null when WebAssembly SIMD is unavailable. */
function instance(): WasmHere | null {
  return bound ?? ownInstance();
}

/** The module's own instance, made (synchronously) on demand; null when WebAssembly SIMD is unavailable. */
function ownInstance(): WasmHere | null {
  if (compiled === undefined) compiled = compileGemm(GEMM_WASM_HEX, GEMM_FMA_WASM_HEX);
  if (compiled === null) return null;
  if (own === null) {
    try {
      const ex = new WebAssembly.Instance(compiled, {}).exports as unknown as GemmExports & { memory: WebAssembly.Memory };
      // its own memory: no tensor lies in it, and scratch starts at the bottom
      own = { ex, mem: { memory: ex.memory, at: () => -1, scratch: (floats) => (ensureMemory(ex.memory, 32 + floats) ? 32 : -1) } };
    } catch {
      compiled = null;
    }
  }
  return own;
}

/** Whether the WebAssembly SIMD kernel can run in this environment (compiles it if needed). */
export function wasmGemmAvailable(): boolean {
  return instance() !== null;
}

/** Bytes of the module's own memory held now (0 when no such instance is live; an arena is not counted). */
export function wasmGemmMemoryBytes(): number {
  return own === null ? 0 : own.mem.memory.buffer.byteLength;
}

/** Floats of the pack buffers: the A block of a product with `rows` rows of C, the B panels of one with `cols` columns. */
export const packA = (rows: number, k: number): number => align4(Math.min(rows, MC)) * Math.min(k, KC);
export const packB = (cols: number, k: number): number => ((cols + 7) & ~7) * Math.min(k, KC);

/**
 * A kernel of gemm.wat on this thread over float32 arrays (arena.ts's place: each where it lies in
 * the memory, or copied through scratch), with `extra` floats of scratch (byte offsets all); false
 * when the kernel is unavailable or memory cannot grow. A module's own memory past 32 MiB is let go after the call.
 */
function onWasm(
  inputs: readonly Float32Array[], outputs: readonly Float32Array[], extra: number,
  run: (ex: GemmExports, offsets: number[], extraAt: number, memory: WebAssembly.Memory) => void,
): boolean {
  const on = (w: WasmHere, maxScratch: number): boolean =>
    place(w.mem, inputs, outputs, extra, (offsets, at) => run(w.ex, offsets.map((o) => o * 4), at * 4, w.mem.memory), [], maxScratch);
  // an arena's scratch is kept for good: a call copying more than 32 MiB through it (heap arrays: tensors too large for the arena) takes the module's own memory, let go after
  if (bound && on(bound, KEEP_BYTES / 4)) return true;
  const w = ownInstance();
  if (w === null) return false;
  const ok = on(w, Infinity);
  if (w.mem.memory.buffer.byteLength > KEEP_BYTES) own = null;
  return ok;
}

/**
 * C[m×n] = op(A)·op(B) (+ bias on every row) into `c` (overwritten) with the WebAssembly kernel on this thread; m, n, k ≥ 1.
 * Returns false, leaving `c` untouched, when the kernel is unavailable or memory cannot grow.
 */
export function gemmWasm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, n: number, k: number, transposeA: boolean, transposeB: boolean, bias?: Float32Array,
): boolean {
  if (a.length < m * k || b.length < k * n || c.length < m * n || (bias && bias.length < n)) return false; // never past an array's end
  const pa = packA(m, k);
  const ins = [a.subarray(0, m * k), b.subarray(0, k * n), ...(bias ? [bias.subarray(0, n)] : [])];
  // scratch after the operands: a 32-float tile, then the pack buffers.
  // logical A is m×k: element (i,p) at a[i*k+p], or a[p*m+i] when transposed;
  // logical Bᵀ is n×k: element (j,p) at b[p*n+j], or b[j*k+p] when B is transposed
  return onWasm(ins, [c.subarray(0, m * n)], 32 + pa + packB(n, k), (ex, offs, x) => {
    const co = offs.at(-1)!;
    ex.gemm(offs[0]!, offs[1]!, co, m, n, k, transposeA ? 1 : k, transposeA ? m : 1, transposeB ? k : 1, transposeB ? 1 : n, x + 128, x + 128 + pa * 4, KC, MC, n, x, 0);
    if (bias) ex.addBias(co, offs[2]!, m, n);
  });
}

/**
 * gemm.wat's out-of-place passes that take numbers after the length: `axpby`, out = α·x + β·y
 * (slots x, y, out; numbers α, β: kernels.ts's loop, the same bits), and `adam`, core's
 * updateChain for Adam and RMSprop (the same bits as on the CPU's primitives; slots p, g, m, v,
 * b, then the new p, m, v, b, null where the step has none: 0 for the kernel; numbers from the
 * rule's h, made by kernels.ts).
 */
export type WasmPass = 'axpby' | 'adam';

/** Each pass's input slots (its outputs follow them). */
const PASS_INPUTS: Record<WasmPass, number> = { axpby: 2, adam: 5 };

/** A pass of gemm.wat over the first slot's length, on this thread; false when unavailable. */
export const passWasm = (op: WasmPass, slots: readonly (Float32Array | null)[], numbers: readonly number[]): boolean =>
  onWasm(slots.slice(0, PASS_INPUTS[op]).filter((x) => x !== null), slots.slice(PASS_INPUTS[op]).filter((x) => x !== null), 0, (ex, offs) =>
    (ex[op] as (...args: number[]) => void)(...slots.map((x) => (x ? offs.shift()! : 0)), slots[0]!.length, ...numbers),
  );

/** gemm.wat's exp (V8's Math.exp) or log (log32) of x, or null when WebAssembly SIMD is unavailable: for tests. */
export const scalarWasm = (f: 'exp' | 'log', x: number): number | null => instance()?.ex[f](x) ?? null;

/** The element-wise maps of gemm.wat taking float32 operands only (kernels.ts's loops give the same bits). */
export type WasmMap = 'tanh' | 'sigmoid' | 'relu' | 'tanhGrad' | 'sigmoidGrad' | 'reluGrad' | 'bce' | 'bceGrad';

/**
 * out = op(inputs…) with gemm.wat's map `op` (one input for tanh and relu, saved output and δ for
 * the activations' gradients, y and ŷ for BCE's), `extra` its numbers after the length (BCE's log
 * floor; its gradient's scale and ε); false when unavailable.
 */
export const mapOnWasm = (op: WasmMap, inputs: readonly Float32Array[], out: Float32Array, extra: readonly number[] = []): boolean =>
  onWasm(inputs, [out], 0, (ex, offs) => (ex[op] as (...args: number[]) => void)(...offs, out.length, ...extra));

/**
 * out[o·cols + j] = Σᵣ x[(o·rows + r)·cols + j] in float64, summed in row order (kernels.ts's
 * loop for few long columns, the same bits), for o < outer; false when the kernel is unavailable.
 */
export function colsumWasm(x: Float32Array, outer: number, rows: number, cols: number, out: Float64Array): boolean {
  const block = rows * cols;
  // the float64 accumulators in scratch (16-byte aligned: place's regions are)
  return onWasm([x.subarray(0, outer * block)], [], 2 * align4(cols), (ex, [xo], acc, memory) => {
    const sums = new Float64Array(memory.buffer, acc, cols);
    for (let o = 0; o < outer; o++) {
      ex.colsum(xo! + o * block * 4, rows, cols, acc);
      out.set(sums, o * cols);
    }
  });
}

/** Whether `g` is the 2×2 stride-2 unpadded window with channels in multiples of 4 that gemm.wat's max pool takes. */
export const maxPool2Fits = (g: ConvGeometry): boolean =>
  g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0 && g.chan % 4 === 0;

/** conv.ts's max pool for a window where maxPool2Fits, on WebAssembly (the same values); false when unavailable. */
export const maxPool2Wasm = (x: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x], [out], 0, (ex, [xo, oo]) => ex.maxpool2(xo!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW));

/** Its backward (conv.ts's poolGrad for max, the same bits); false when unavailable. */
export const maxPool2GradWasm = (x: Float32Array, delta: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x, delta], [out], 0, (ex, [xo, dOff, oo]) => ex.maxpool2Grad(xo!, dOff!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW));

/** conv.ts's im2col on WebAssembly (the same values); false when unavailable. */
export const im2colWasm = (x: Float32Array, out: Float32Array, g: ConvGeometry): boolean =>
  onWasm([x], [out], 0, (ex, [xo, oo]) => ex.im2col(xo!, oo!, g.batch, g.inH, g.inW, g.chan, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw));
