/**
 * The thread pool of `cpu({ threads })`: threads − 1 workers (worker_threads in Node, Web Workers
 * in a browser worker or cross-origin-isolated page) and the calling thread share one WebAssembly
 * memory. Ops stay synchronous: the caller lays out the job in the shared memory, writes its
 * chunks (two per thread) into a control block and wakes the workers (Atomics.notify); then
 * every thread, the caller too, claims the next chunk until none is left, so a worker that wakes
 * late or is descheduled costs only its chunk in progress; the caller spins, then blocks in
 * Atomics.wait, until every chunk is done. Nothing here runs where the caller cannot block (a
 * browser's main thread): there `threads` is 1. Chunks are fixed blocks of the output, each
 * computed in the same order as on one thread whichever thread takes it, so results are
 * bit-identical for any count.
 */
import { GEMM_FMA_WASM_SHARED_HEX, GEMM_WASM_SHARED_HEX } from './wasm/gemm-shared.wasm';
import { KC, MC, bindArena, compileGemm, packA, packB } from './wasm-gemm';
import type { GemmExports, WasmMap, WasmPass } from './wasm-gemm';
import { Arena, place } from './arena';
import { unaryRange } from './kernels';
import { pool, poolGrad, windowTable } from './conv';
import type { ConvGeometry, PoolKind, TypedArray } from '@neurone/core';

/**
 * Work floors: products below `gemm` flops (2·m·n·k), or with fewer than `intensity`
 * multiply-adds per float copied through the shared memory (m·n·k against m·k + k·n + m·n: a
 * convolution's im2col product, [positions × 9]·[9 × 8], does 4 and runs slower split), the
 * unary ops of THREADED_UNARY below `unary` elements and the pools (pool, poolGrad) over fewer
 * than `window` elements stay on the calling thread (waking a worker or copying costs more).
 * im2col and col2im are copies: moving half of their operands through the shared memory costs
 * what a thread would save, so they never split.
 */
export const floors = { gemm: 2 ** 22, intensity: 32, unary: 2 ** 14, map: 2 ** 15, window: 2 ** 16 };

/**
 * The unary ops worth a thread (the others cost less than copying their operand to the shared
 * memory; float32 tanh runs on the WebAssembly kernel at ≈ 5 ns an element: a wake-up costs more).
 */
const THREADED_UNARY = ['sigmoid', 'exp', 'log', 'softplus'];

/**
 * gemm.wat's maps and passes worth a thread, their operands in the arena: tanh, sigmoid, their
 * backward and BCELoss's terms (a split costs a wake-up, not a copy), and the optimizers' adam
 * (Adam, AdamW, RMSprop: Adam's step over 200,704 floats took a median 0.37 ms on 2 threads
 * against 0.51 on one, in eight runs). relu and its backward, BCE's gradient and SGD's axpby are
 * passes over memory: a second thread made axpby slower there (0.15–0.16 ms a step against
 * 0.10–0.14), so they stay on the caller.
 */
const PASSES: (WasmMap | WasmPass)[] = ['tanh', 'sigmoid', 'tanhGrad', 'sigmoidGrad', 'bce', 'adam'];

/** Sets the work floors (tests run every product across the threads with 0); returns the previous ones. Not public API. */
export function setFloors(next: Partial<typeof floors>): typeof floors {
  const was = { ...floors };
  Object.assign(floors, next);
  return was;
}

/**
 * Control block (Int32): the job's sequence number, (1 unused), workers started, the job's kind
 * (0: gemm, 1: unary, 2: pool, 3: a wasm map or pass), a pool's geometry (GEOMETRY, 12
 * fields), whether a worker failed a chunk; the claim word (the job's tag · 1024 + the next
 * chunk), the chunks done and in all, a product's pack regions' base and size (bytes), a pass's
 * count of numbers; from int 24 (byte 96) 16 float64 numbers (a pass's); then 20 arguments per
 * chunk. Workers are unref'd: they end with the process. workerMain, claimChunks and runPart,
 * sent as text, use these indices as literals.
 */
const [SEQ, READY, KIND, GEO, FAILED, NEXT, DONE, CHUNKS, REGION, REGION_SIZE, NUMBERS, F64, ARGS] = [0, 2, 3, 4, 16, 17, 18, 19, 20, 21, 22, 24, 56] as const;
/**
 * A job's chunks per thread (at most 1023 in all: the claim word's 1023 closes a job): a late or
 * descheduled thread's chunks go to the others. Two per thread trained W2 and W3 on 2 threads no
 * slower than four, and each chunk of a product packs its own part of the operand split.
 */
const CHUNKS_PER_THREAD = 2;
const GEOMETRY = ['batch', 'inH', 'inW', 'chan', 'outH', 'outW', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw'] as const;

/** The names behind a job's codes. */
const NAMES: Names = { unaryOps: THREADED_UNARY, passes: PASSES, geometry: GEOMETRY };

/** What the workers run besides the wasm GEMM: kernels.ts's and conv.ts's own functions, sent as source text. */
const KERNELS = { unaryRange, pool, poolGrad };
type Kernels = typeof KERNELS;

interface WorkerInit extends Names {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: SharedArrayBuffer;
  id: number;
}

/** The names a job's codes stand for (sent to the workers with the module). */
interface Names {
  unaryOps: string[];
  passes: string[];
  geometry: readonly string[];
}

/**
 * The worker's whole program; its source is sent to the worker as text, so it closes over
 * nothing: `k` holds the kernels of KERNELS, sent as text beside it, with runPart and claimChunks.
 */
function workerMain(init: WorkerInit, k: Kernels): void {
  const ctl = new Int32Array(init.ctl);
  const ex = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports as unknown as GemmExports;
  let heap = new Float32Array(init.memory.buffer);
  const mine = { job: -1 }; // the product whose shared operand this thread has packed
  let seen = Atomics.load(ctl, 0);
  Atomics.add(ctl, 2, 1);
  for (;;) {
    // spin briefly (the next job of a training step comes within microseconds), then sleep
    for (let i = 0; i < 4000 && Atomics.load(ctl, 0) === seen; i++);
    while (Atomics.load(ctl, 0) === seen) Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    if (heap.length < init.memory.buffer.byteLength / 4) heap = new Float32Array(init.memory.buffer);
    try {
      claimChunks(ctl, seen, (t) => runPart(ctl, init.id, t, ex, heap, k, init, mine));
    } catch {
      Atomics.store(ctl, 16, 1); // the caller then computes the whole job itself
    }
  }
}

/**
 * Runs the chunks of job `seq` that this thread claims (the claim word at 17 holds the job's tag
 * and the next chunk; a claim for a finished or later job fails), counting each one done at 18
 * and waking the caller after the last of the 19th's count. Sent to the workers as text.
 */
function claimChunks(ctl: Int32Array, seq: number, run: (chunk: number) => void): void {
  const tag = (seq & 0xfffff) * 1024;
  for (;;) {
    const v = Atomics.load(ctl, 17);
    if (v - (v % 1024) !== tag || v % 1024 >= ctl[19]!) return;
    if (Atomics.compareExchange(ctl, 17, v, v + 1) !== v) continue;
    try {
      run(v % 1024);
    } finally {
      if (Atomics.add(ctl, 18, 1) + 1 === ctl[19]) Atomics.notify(ctl, 18);
    }
  }
}

/**
 * Chunk t of the job in the control block, on thread `id` (whose pack region a product uses):
 * the same code on the caller and the workers (sent to them as text). Offsets are in floats of
 * the shared memory, a product's in bytes.
 */
function runPart(ctl: Int32Array, id: number, t: number, ex: GemmExports, heap: Float32Array, k: Kernels, names: Names, mine: { job: number }): void {
  const q = 56 + t * 20;
  const kind = ctl[3];
  if (kind === 0) {
    // gemm's 17 arguments, the pack buffers and scratch tile in this thread's region; pre (1: A, 2: B): the operand all
    // chunks read whole, which this thread packs, every block, on its first chunk of the product (gemm.wat's header)
    const [a, b, c, m, n, kk, ars, aps, brs, bps, pa, pb, kcMax, mcMax, ldc, sc, pre] = ctl.subarray(q, q + 17);
    const r = ctl[20]! + id * ctl[21]!;
    if (!(m! > 0 && n! > 0)) return;
    for (let k0 = 0; pre && mine.job !== ctl[0] && k0 < kk!; k0 += kcMax!) {
      const kc = Math.min(kcMax!, kk! - k0);
      if (pre === 2) ex.pack(b!, n!, k0, kc, brs!, bps!, r + pb! + k0 * Math.ceil(n! / 8) * 32, 8);
      else for (let i0 = 0; i0 < m!; i0 += mcMax!) ex.pack(a! + i0 * ars! * 4, Math.min(mcMax!, m! - i0), k0, kc, ars!, aps!, r + pa! + (k0 * Math.ceil(m! / 4) * 4 + i0 * kc) * 4, 4);
    }
    mine.job = ctl[0]!;
    ex.gemm(a!, b!, c!, m!, n!, kk!, ars!, aps!, brs!, bps!, r + pa!, r + pb!, kcMax!, mcMax!, ldc!, r + sc!, pre!);
  } else if (kind === 1) {
    // unary: [op, in, out, lo, hi]
    const n = ctl[q + 4]!;
    k.unaryRange(names.unaryOps[ctl[q]!] as Parameters<Kernels['unaryRange']>[0], heap.subarray(ctl[q + 1]!, ctl[q + 1]! + n), heap.subarray(ctl[q + 2]!, ctl[q + 2]! + n), ctl[q + 3]!, n, 0);
  } else if (kind === 3) {
    // a map or pass of gemm.wat on [lo, hi): [op, slots, each slot's offset or −1 (none: 0 for the kernel), lo, hi]; its numbers at byte 96
    const slots = ctl[q + 1]!;
    const [lo, hi] = [ctl[q + 2 + slots]!, ctl[q + 3 + slots]!];
    const at = Array.from(ctl.subarray(q + 2, q + 2 + slots), (o) => (o < 0 ? 0 : (o + lo) * 4));
    (ex[names.passes[ctl[q]!] as 'adam'])(...at, hi - lo, ...new Float64Array(ctl.buffer, 96, ctl[22]!)); // slots, n, numbers
  } else {
    // pool (op 0) or poolGrad (1) on images [b0, b1): [op, max?, x, x per image, delta, delta per image, out, out per image, b0, b1]
    const [op, max, x, xs, d, ds, out, os, b0, b1] = ctl.subarray(q, q + 10);
    const g: Record<string, number> = {};
    names.geometry.forEach((f, i) => (g[f] = ctl[4 + i]!));
    g.batch = b1! - b0!; // this part's images
    const geo = g as unknown as ConvGeometry;
    const at = (off: number, per: number): Float32Array => heap.subarray(off + b0! * per, off + b1! * per);
    if (op === 0) k.pool(max ? 'max' : 'avg', at(x!, xs!), at(out!, os!), geo);
    else k.poolGrad(max ? 'max' : 'avg', at(x!, xs!), at(d!, ds!), at(out!, os!), geo);
  }
}

interface NodeWorkerThreads {
  Worker: new (src: string, opts: { eval: true; workerData: unknown; execArgv: string[] }) => { unref(): void };
}

/** Starts one worker running workerMain(init); false where this environment cannot. */
function spawn(init: WorkerInit): boolean {
  // each function under its own (possibly minified) name, as the others call it
  const fns = [...Object.values(KERNELS), windowTable, claimChunks, runPart];
  const main = `((init) => { const __name = (f) => f; ${fns.map((f) => `const ${f.name} = (${f.toString()});`).join('\n')}
    (${workerMain.toString()})(init, { ${Object.entries(KERNELS).map(([key, f]) => `${key}: ${f.name}`).join(', ')} }); })`;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const wt = proc?.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
  if (wt) {
    // execArgv: [] — the worker runs only this source, without the parent's loaders (tsx, …)
    new wt.Worker(`${main}(require('node:worker_threads').workerData)`, { eval: true, workerData: init, execArgv: [] }).unref();
    return true;
  }
  const W = (globalThis as { Worker?: new (url: string) => { postMessage(m: unknown): void } }).Worker;
  if (!W || typeof Blob !== 'function') return false;
  const url = URL.createObjectURL(new Blob([`onmessage = (e) => ${main}(e.data);`], { type: 'text/javascript' }));
  new W(url).postMessage(init);
  return true;
}

/** Whether this thread may block in Atomics.wait over shared memory (not a browser's main thread, not a page without cross-origin isolation). */
export function canBlock(): boolean {
  try {
    return Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0) === 'not-equal';
  } catch {
    return false;
  }
}

/** The cores of this machine (Node's availableParallelism, a browser's hardwareConcurrency), 1 when unknown. */
export function availableCores(): number {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = proc?.getBuiltinModule?.('node:os') as { availableParallelism(): number } | undefined;
  const n = os ? os.availableParallelism() : (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.floor(n ?? 1));
}

/** The process's arena and the shared module's instance on it, on this thread. */
export interface SharedWasm {
  arena: Arena;
  module: WebAssembly.Module;
  ex: GemmExports;
}

/** undefined: not tried yet. */
let shared: SharedWasm | null | undefined;

/**
 * The process's arena (arena.ts) with the shared module instantiated on it, bound as this thread's
 * kernels (bindArena): made on first use, by every float32 `cpu()` of this entry; null where
 * WebAssembly SIMD or shared memory is missing (storage then stays on the JS heap).
 */
export function sharedWasm(): SharedWasm | null {
  if (shared !== undefined) return shared;
  shared = null;
  const module = compileGemm(GEMM_WASM_SHARED_HEX, GEMM_FMA_WASM_SHARED_HEX);
  const arena = module && Arena.make();
  if (!module || !arena) return null;
  try {
    const ex = new WebAssembly.Instance(module, { env: { memory: arena.memory } }).exports as unknown as GemmExports;
    bindArena(ex, arena);
    return (shared = { arena, module, ex });
  } catch {
    return null;
  }
}

export class ThreadPool {
  readonly threads: number;
  /** A job's chunks at most. */
  readonly #chunks: number;
  readonly #ctl: Int32Array;
  readonly #arena: Arena;
  readonly #ex: GemmExports;
  #heap: Float32Array;
  readonly #mine = { job: -1 };

  private constructor(threads: number, { arena, module, ex }: SharedWasm) {
    this.threads = threads;
    this.#chunks = Math.min(1023, threads * CHUNKS_PER_THREAD);
    this.#ctl = new Int32Array(new SharedArrayBuffer((ARGS + 20 * this.#chunks) * 4));
    this.#arena = arena;
    this.#ex = ex;
    this.#heap = new Float32Array(arena.memory.buffer);
    for (let id = 1; id < threads; id++) spawn({ module, memory: arena.memory, ctl: this.#ctl.buffer as SharedArrayBuffer, id, ...NAMES });
  }

  static #pools = new Map<number, ThreadPool | null>();

  /** The process's pool of `threads` threads on the arena's memory, made on first use; null where threads cannot run here. */
  static get(threads: number): ThreadPool | null {
    let pool = ThreadPool.#pools.get(threads);
    if (pool === undefined) {
      pool = null;
      const wasm = canBlock() ? sharedWasm() : null;
      try {
        if (wasm) pool = new ThreadPool(threads, wasm);
      } catch {
        pool = null; // no workers here: one thread
      }
      ThreadPool.#pools.set(threads, pool);
    }
    return pool;
  }

  /** Workers started so far (they start asynchronously; until all have, jobs run on the caller alone). */
  get ready(): number {
    return Atomics.load(this.#ctl, FAILED) ? 0 : Atomics.load(this.#ctl, READY);
  }

  /**
   * C[m×n] = op(A)·op(B) split over the threads (m, n, k ≥ 1): C in chunks of columns (multiples
   * of 8) when n ≥ m, of rows (multiples of 4) otherwise, each thread with its own pack buffers and
   * scratch tile in scratch (arena.ts's place: operands in the arena are read where they lie), the
   * operand all chunks read packed whole there once per product (runPart); a chunk may be empty. Every element is summed in the same order in any split, whichever thread
   * computes it. False when memory cannot grow.
   */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): boolean {
    if (a.length < m * k || b.length < k * n || c.length < m * n) return false; // never past an array's end
    const threads = this.ready === this.threads - 1 ? this.threads : 1;
    const [ars, aps, brs, bps] = [transposeA ? 1 : k, transposeA ? m : 1, transposeB ? k : 1, transposeB ? 1 : n];
    const byCols = n >= m;
    const unit = byCols ? 8 : 4;
    const len = byCols ? n : m;
    const units = Math.ceil(len / unit);
    const chunks = threads === 1 ? 1 : Math.min(units, this.#chunks);
    const chunk = Math.ceil(units / chunks) * unit;
    const pre = chunks === 1 ? 0 : byCols ? 1 : 2; // several chunks: each thread packs the shared operand whole, once
    const pa = pre === 1 ? Math.ceil(m / 4) * 4 * k : packA(byCols ? m : chunk, k);
    const pb = pre === 2 ? Math.ceil(n / 8) * 8 * k : packB(byCols ? chunk : n, k);
    const region = pa + pb + 32;
    return place(this.#arena, [a.subarray(0, m * k), b.subarray(0, k * n)], [c.subarray(0, m * n)], threads * region, ([aOff, bOff, cOff], end) => {
      const args: number[][] = [];
      for (let t = 0; t < chunks; t++) {
        const lo = Math.min(len, t * chunk);
        const size = Math.min(len, lo + chunk) - lo;
        args.push([
          (aOff! + (byCols ? 0 : lo * ars)) * 4, (bOff! + (byCols ? lo * brs : 0)) * 4, (cOff! + (byCols ? lo : lo * n)) * 4,
          byCols ? m : size, byCols ? size : n, k, ars, aps, brs, bps, 0, pa * 4, KC, MC, n, (pa + pb) * 4, pre,
        ]);
      }
      const [a0, b0, c0, m0, n0, ...rest] = args[0]!;
      if (chunks === 1) this.#ex.gemm(a0!, b0!, c0!, m0!, n0!, rest[0]!, rest[1]!, rest[2]!, rest[3]!, rest[4]!, end * 4 + rest[5]!, end * 4 + rest[6]!, rest[7]!, rest[8]!, rest[9]!, end * 4 + rest[10]!, 0);
      else return this.#claimed(0, args, [end * 4, region * 4]);
    });
  }

  /**
   * Runs a job of `kind` in chunks (args: up to 20 numbers each, runPart's; a pass's `numbers` beside
   * them) on every thread: each takes the next unclaimed chunk until none is left (a product's
   * with its own pack region, `region`: base + thread · size bytes), so a thread that starts late or is descheduled costs the others
   * only its chunk in progress. Returns when every chunk is done: true, or false when a worker
   * failed one (then the pool takes no more jobs, and the caller computes this one itself: never
   * a result with a part missing).
   */
  #claimed(kind: number, args: number[][], [base, size] = [0, 0], numbers: readonly number[] = []): boolean {
    const ctl = this.#ctl;
    const seq = (ctl[SEQ]! + 1) | 0;
    // close the last job's claims first: a worker that read its claim word before cannot take a chunk of this one
    Atomics.store(ctl, NEXT, (ctl[SEQ]! & 0xfffff) * 1024 + 1023);
    ctl[KIND] = kind;
    args.forEach((x, t) => ctl.set(x, ARGS + t * 20));
    [ctl[REGION], ctl[REGION_SIZE], ctl[CHUNKS], ctl[NUMBERS]] = [base, size, args.length, numbers.length];
    new Float64Array(ctl.buffer, F64 * 4, numbers.length).set(numbers);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, NEXT, (seq & 0xfffff) * 1024);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
    if (this.#heap.buffer !== this.#arena.memory.buffer) this.#heap = new Float32Array(this.#arena.memory.buffer);
    let count = args.length;
    try {
      claimChunks(ctl, seq, (t) => runPart(ctl, 0, t, this.#ex, this.#heap, KERNELS, NAMES, this.#mine));
    } catch (e) {
      // no more claims; wait for the chunks the workers hold
      count = Math.min(count, Atomics.exchange(ctl, NEXT, (seq & 0xfffff) * 1024 + 1023) % 1024);
      throw e;
    } finally {
      // this thread has nothing else to do: spin up to 2 ms for the chunks in progress (waking a sleeping caller costs more), then sleep
      for (const until = performance.now() + 2; Atomics.load(ctl, DONE) < count && performance.now() < until;);
      for (let d = Atomics.load(ctl, DONE); d < count; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d, count < args.length ? 1 : Infinity);
    }
    return Atomics.load(ctl, FAILED) === 0;
  }

  /** out = op(a) split over the threads by ranges of elements, for the costly ops of THREADED_UNARY on float32 (arrays off the arena copied through scratch: place); false when it does not take the job. */
  unary(op: string, a: Float32Array | Float64Array, out: Float32Array | Float64Array): boolean {
    const [code, n] = [THREADED_UNARY.indexOf(op), out.length];
    if (code < 0 || !(a instanceof Float32Array && out instanceof Float32Array) || this.ready !== this.threads - 1) return false;
    const chunk = Math.ceil(n / this.#chunks / 4) * 4;
    return place(this.#arena, [a], [out], 0, ([x, o]) => this.#claimed(1, Array.from({ length: Math.ceil(n / chunk) }, (_, t) => [code, x!, o!, t * chunk, Math.min(n, (t + 1) * chunk)])));
  }

  /**
   * A map or pass of gemm.wat among PASSES (wasm-gemm.ts's mapOnWasm: inputs then the output, or
   * passWasm's slots; then its numbers) split over the threads by ranges of elements, on float32
   * arrays that all lie in the arena; false when it does not take the job. (Arrays off the arena
   * would go through scratch, which the caller's own chunks, wasm calls too, reuse while the
   * workers read it; and their copies would cost what the split saves.)
   */
  pass(op: WasmMap | WasmPass, slots: readonly (Float32Array | Float64Array | null)[], numbers: readonly number[] = []): boolean {
    const n = slots[0]!.length;
    const code = PASSES.indexOf(op);
    if (code < 0 || numbers.length > 16 || this.ready !== this.threads - 1) return false;
    const offsets = slots.map((x) => (x ? this.#arena.at(x) : -1));
    if (offsets.some((o, i) => slots[i] && o < 0)) return false;
    const chunk = Math.ceil(n / this.#chunks / 4) * 4;
    return this.#claimed(3, Array.from({ length: Math.ceil(n / chunk) }, (_, t) => [code, slots.length, ...offsets, t * chunk, Math.min(n, (t + 1) * chunk)]), [0, 0], numbers);
  }

  /**
   * A pool (conv.ts: 0 pool, 1 poolGrad) split over the threads by images (each image's outputs
   * depend on that image alone); false when it does not take the job.
   */
  window(op: 0 | 1, kind: PoolKind, x: TypedArray, delta: TypedArray | null, out: TypedArray, g: ConvGeometry): boolean {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array) || (delta && !(delta instanceof Float32Array)) || g.batch < 2 || this.ready !== this.threads - 1) return false;
    const xs = x.length / g.batch;
    const ds = delta ? delta.length / g.batch : 0;
    const os = out.length / g.batch;
    const chunk = Math.ceil(g.batch / Math.min(g.batch, this.#chunks));
    const ctl = this.#ctl;
    GEOMETRY.forEach((f, i) => (ctl[GEO + i] = g[f]));
    return place(this.#arena, (delta ? [x, delta] : [x]) as Float32Array[], [out], 0, (offs) => {
      const [xo, dOff, oOff] = delta ? offs : [offs[0]!, 0, offs[1]!];
      const args: number[][] = [];
      for (let b0 = 0; b0 < g.batch; b0 += chunk) args.push([op, kind === 'max' ? 1 : 0, xo!, xs, dOff!, ds, oOff!, os, b0, Math.min(g.batch, b0 + chunk)]);
      return this.#claimed(2, args);
    });
  }
}
