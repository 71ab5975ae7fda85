/**
 * The thread pool of `cpu({ threads })`: threads − 1 workers (worker_threads in Node, Web Workers
 * in a browser worker or cross-origin-isolated page) and the calling thread share one WebAssembly
 * memory. Ops stay synchronous: the caller lays out the job in the shared memory, writes each
 * worker's part into a control block, wakes the workers (Atomics.notify), computes part 0 itself
 * and blocks in Atomics.wait until every part is done. Nothing here runs where the caller cannot
 * block (a browser's main thread): there `threads` is 1. Parts are fixed blocks of the output,
 * each computed in the same order as on one thread, so results are bit-identical for any count.
 */
import { GEMM_FMA_WASM_SHARED_HEX, GEMM_WASM_SHARED_HEX } from './wasm/gemm-shared.wasm';
import { KC, MC, bindArena, compileGemm, packA, packB } from './wasm-gemm';
import type { GemmExports, WasmMap } from './wasm-gemm';
import { Arena, place } from './arena';
import { onWasm, unaryRange } from './kernels';
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

/** gemm.wat's maps worth a thread now that their operands lie in the arena (relu and its backward are a pass over memory: not worth a wake-up). */
const THREADED_MAPS: WasmMap[] = ['tanh', 'sigmoid', 'tanhGrad', 'sigmoidGrad', 'bce'];

/** Sets the work floors (tests run every product across the threads with 0); returns the previous ones. Not public API. */
export function setFloors(next: Partial<typeof floors>): typeof floors {
  const was = { ...floors };
  Object.assign(floors, next);
  return was;
}

/**
 * Control block (Int32): the job's sequence number, parts still running, workers started, the
 * job's kind (0: gemm, 1: unary, 2: pool, 3: a wasm map), a pool's geometry (GEOMETRY, 12 fields),
 * whether a worker failed its part; then 16 arguments per thread. Workers are unref'd: they end
 * with the process.
 */
const SEQ = 0;
const PENDING = 1;
const READY = 2;
const KIND = 3;
const GEO = 4;
const FAILED = 16;
const ARGS = 20;
const GEOMETRY = ['batch', 'inH', 'inW', 'chan', 'outH', 'outW', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw'] as const;

/** What the workers run besides the wasm GEMM: kernels.ts's and conv.ts's own functions, sent as source text. */
const KERNELS = { unaryRange, pool, poolGrad };
type Kernels = typeof KERNELS;

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: SharedArrayBuffer;
  id: number;
  unaryOps: string[];
  mapOps: string[];
  geometry: readonly string[];
}

/**
 * The worker's whole program; its source is sent to the worker as text, so it closes over
 * nothing: `k` holds the kernels of KERNELS, sent as text beside it.
 */
function workerMain(init: WorkerInit, k: Kernels): void {
  const ctl = new Int32Array(init.ctl);
  const ex = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports as unknown as GemmExports;
  const o = 20 + init.id * 16;
  let heap = new Float32Array(init.memory.buffer);
  let seen = Atomics.load(ctl, 0);
  Atomics.add(ctl, 2, 1);
  for (;;) {
    // spin briefly (the next job of a training step comes within microseconds), then sleep
    for (let i = 0; i < 4000 && Atomics.load(ctl, 0) === seen; i++);
    while (Atomics.load(ctl, 0) === seen) Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    try {
      if (ctl[3] !== 0 && heap.length < init.memory.buffer.byteLength / 4) heap = new Float32Array(init.memory.buffer);
      if (ctl[3] === 1) {
        // unary: [op, in, out, lo, hi] in floats of the shared memory
        const n = ctl[o + 4]!;
        k.unaryRange(init.unaryOps[ctl[o]!] as Parameters<Kernels['unaryRange']>[0], heap.subarray(ctl[o + 1]!, ctl[o + 1]! + n), heap.subarray(ctl[o + 2]!, ctl[o + 2]! + n), ctl[o + 3]!, n, 0);
      } else if (ctl[3] === 3) {
        // a map of gemm.wat on [lo, hi): [op, inputs, in0, in1, out, lo, hi, extra] in floats of the shared memory (extra: BCE's log floor)
        const [op, inputs, a, b, out, lo, hi, extra] = ctl.subarray(o, o + 8);
        const args = [a!, b!].slice(0, inputs).concat(out!).map((at) => (at + lo!) * 4);
        (ex[init.mapOps[op!] as 'tanh'] as (...x: number[]) => void)(...args, hi! - lo!, extra!);
      } else if (ctl[3] === 2) {
        // pool (op 0) or poolGrad (1) on images [b0, b1): [op, max?, x, x per image, delta, delta per image, out, out per image, b0, b1]
        const [op, max, x, xs, d, ds, out, os, b0, b1] = ctl.subarray(o, o + 10);
        const g: Record<string, number> = {};
        init.geometry.forEach((f, i) => (g[f] = ctl[4 + i]!));
        g.batch = b1! - b0!; // this part's images
        const geo = g as unknown as ConvGeometry;
        const at = (off: number, per: number): Float32Array => heap.subarray(off + b0! * per, off + b1! * per);
        const kind = max ? 'max' : 'avg';
        if (op === 0) k.pool(kind, at(x!, xs!), at(out!, os!), geo);
        else k.poolGrad(kind, at(x!, xs!), at(d!, ds!), at(out!, os!), geo);
      } else if (ctl[o + 3]! > 0 && ctl[o + 4]! > 0)
        ex.gemm(ctl[o]!, ctl[o + 1]!, ctl[o + 2]!, ctl[o + 3]!, ctl[o + 4]!, ctl[o + 5]!, ctl[o + 6]!, ctl[o + 7]!,
          ctl[o + 8]!, ctl[o + 9]!, ctl[o + 10]!, ctl[o + 11]!, ctl[o + 12]!, ctl[o + 13]!, ctl[o + 14]!, ctl[o + 15]!);
    } catch {
      Atomics.store(ctl, 16, 1); // the caller then computes the whole job itself
    } finally {
      if (Atomics.sub(ctl, 1, 1) === 1) Atomics.notify(ctl, 1);
    }
  }
}

interface NodeWorkerThreads {
  Worker: new (src: string, opts: { eval: true; workerData: unknown; execArgv: string[] }) => { unref(): void };
}

/** Starts one worker running workerMain(init); false where this environment cannot. */
function spawn(init: WorkerInit): boolean {
  // each function under its own (possibly minified) name, as the others call it
  const fns = [...Object.values(KERNELS), windowTable];
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
  readonly #ctl: Int32Array;
  readonly #arena: Arena;
  readonly #ex: GemmExports;

  private constructor(threads: number, { arena, module, ex }: SharedWasm) {
    this.threads = threads;
    this.#ctl = new Int32Array(new SharedArrayBuffer((ARGS + 16 * threads) * 4));
    this.#arena = arena;
    this.#ex = ex;
    for (let id = 1; id < threads; id++) spawn({ module, memory: arena.memory, ctl: this.#ctl.buffer as SharedArrayBuffer, id, unaryOps: THREADED_UNARY, mapOps: THREADED_MAPS, geometry: GEOMETRY });
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
   * Runs parts 1.. on the workers and part 0 on this thread; returns when all are done: true, or
   * false when a worker failed its part (then the pool takes no more jobs, and the caller
   * computes this one itself: never a result with a part missing).
   */
  #run(kind: number, args: number[][], part0: () => void): boolean {
    const ctl = this.#ctl;
    const workers = args.length - 1;
    ctl[KIND] = kind;
    for (let t = 1; t < args.length; t++) ctl.set(args[t]!, ARGS + t * 16);
    Atomics.store(ctl, PENDING, workers);
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    try {
      part0();
    } finally {
      for (let i = 0; i < 20_000 && Atomics.load(ctl, PENDING) !== 0; i++);
      for (let p = Atomics.load(ctl, PENDING); p !== 0; p = Atomics.load(ctl, PENDING)) Atomics.wait(ctl, PENDING, p);
    }
    return Atomics.load(ctl, FAILED) === 0;
  }

  /**
   * C[m×n] = op(A)·op(B) split over the threads (m, n, k ≥ 1): C in blocks of columns (multiples
   * of 8) when n ≥ m, of rows (multiples of 4) otherwise, each part with its own pack buffers and
   * scratch tile in scratch (arena.ts's place: operands in the arena are read where they lie); a
   * part may be empty. Every element is summed in the same order in any split. False when memory cannot grow.
   */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): boolean {
    if (a.length < m * k || b.length < k * n || c.length < m * n) return false; // never past an array's end
    const parts = this.ready === this.threads - 1 ? this.threads : 1;
    const [ars, aps, brs, bps] = [transposeA ? 1 : k, transposeA ? m : 1, transposeB ? k : 1, transposeB ? 1 : n];
    const byCols = n >= m;
    const unit = byCols ? 8 : 4;
    const len = byCols ? n : m;
    const chunk = Math.ceil(Math.ceil(len / unit) / parts) * unit;
    const pa = packA(byCols ? m : chunk, k);
    const pb = packB(byCols ? chunk : n, k);
    const region = pa + pb + 32;
    return place(this.#arena, [a.subarray(0, m * k), b.subarray(0, k * n)], [c.subarray(0, m * n)], parts * region, ([aOff, bOff, cOff], end) => {
      const args: number[][] = [];
      for (let t = 0; t < parts; t++) {
        const lo = Math.min(len, t * chunk);
        const size = Math.min(len, lo + chunk) - lo;
        const r = end + t * region;
        args.push([
          (aOff! + (byCols ? 0 : lo * ars)) * 4, (bOff! + (byCols ? lo * brs : 0)) * 4, (cOff! + (byCols ? lo : lo * n)) * 4,
          byCols ? m : size, byCols ? size : n, k, ars, aps, brs, bps, r * 4, (r + pa) * 4, KC, MC, n, (r + pa + pb) * 4,
        ]);
      }
      const run0 = (): void => {
        const [a0, b0, c0, m0, n0, ...rest] = args[0]!;
        if (m0! > 0 && n0! > 0) this.#ex.gemm(a0!, b0!, c0!, m0!, n0!, ...(rest as [number, number, number, number, number, number, number, number, number, number, number]));
      };
      if (parts === 1) run0();
      else return this.#run(0, args, run0);
    });
  }

  /** out = op(a) split over the threads, for the costly ops of THREADED_UNARY on float32; false when it does not take the job. */
  unary(op: string, a: Float32Array | Float64Array, out: Float32Array | Float64Array): boolean {
    const code = THREADED_UNARY.indexOf(op);
    return code >= 0 && this.#elementwise(1, [a], out, ([x, o], lo, hi) => [code, x!, o!, lo, hi], (chunk) => unaryRange(op as Parameters<typeof unaryRange>[0], a, out, 0, chunk, 0));
  }

  /**
   * out = op(inputs) with gemm.wat's map `op` split over the threads, for THREADED_MAPS on float32
   * arrays that all lie in the arena; false when it does not take the job. (Arrays off the arena
   * would go through scratch, which the caller's own part, a wasm call too, reuses while the
   * workers read it; and their copies would cost what the split saves.)
   */
  map(op: WasmMap, inputs: readonly (Float32Array | Float64Array)[], out: Float32Array | Float64Array, extra: readonly number[] = []): boolean {
    const code = extra.length < 2 && extra.every(Number.isInteger) && [...inputs, out].every((x) => this.#arena.at(x) >= 0) ? THREADED_MAPS.indexOf(op) : -1;
    return code >= 0 && this.#elementwise(3, [...inputs], out, (offs, lo, hi) => [code, inputs.length, offs[0]!, offs[inputs.length - 1]!, offs.at(-1)!, lo, hi, extra[0] ?? 0],
      (chunk) => onWasm(op, inputs.map((x) => x.subarray(0, chunk)), out.subarray(0, chunk), extra));
  }

  /**
   * An element-wise job of `kind` on float32 arrays of out.length elements, split by ranges (of
   * multiples of 4): the caller computes [0, chunk) in place (`part0`), the workers the rest on
   * the arena (place); `slot` gives a part's arguments from the arrays' offsets and its range.
   * False when it does not take the job.
   */
  #elementwise(kind: number, inputs: (Float32Array | Float64Array)[], out: Float32Array | Float64Array,
    slot: (offsets: number[], lo: number, hi: number) => number[], part0: (chunk: number) => boolean | void): boolean {
    const n = out.length;
    if (n < floors.unary || ![...inputs, out].every((x) => x instanceof Float32Array) || this.ready !== this.threads - 1) return false;
    const parts = this.threads;
    const chunk = Math.min(n, Math.ceil(n / parts / 4) * 4);
    let own = true; // part0 done (a wasm map's may fail: then the caller computes the whole job)
    return place(this.#arena, inputs as Float32Array[], [out as Float32Array], 0, (offsets) =>
      this.#run(kind, Array.from({ length: parts }, (_, t) => slot(offsets, Math.min(n, t * chunk), Math.min(n, (t + 1) * chunk))), () => void (own = part0(chunk) !== false)) && own, [...inputs, out].map(() => chunk));
  }

  /**
   * A pool (conv.ts: 0 pool, 1 poolGrad) split over the threads by images (each image's outputs
   * depend on that image alone); false when it does not take the job.
   */
  window(op: 0 | 1, kind: PoolKind, x: TypedArray, delta: TypedArray | null, out: TypedArray, g: ConvGeometry): boolean {
    if (!(x instanceof Float32Array) || !(out instanceof Float32Array) || (delta && !(delta instanceof Float32Array)) || g.batch < 2 || this.ready !== this.threads - 1) return false;
    const parts = this.threads;
    const xs = x.length / g.batch;
    const ds = delta ? delta.length / g.batch : 0;
    const os = out.length / g.batch;
    const chunk = Math.ceil(g.batch / parts);
    const ctl = this.#ctl;
    GEOMETRY.forEach((f, i) => (ctl[GEO + i] = g[f]));
    const own = { ...g, batch: chunk };
    // the caller computes its own images in place, the workers theirs on the arena
    return place(this.#arena, (delta ? [x, delta] : [x]) as Float32Array[], [out], 0, (offs) => {
      const [xo, dOff, oOff] = delta ? offs : [offs[0]!, 0, offs[1]!];
      const args: number[][] = [];
      for (let t = 0; t < parts; t++) args.push([op, kind === 'max' ? 1 : 0, xo!, xs, dOff!, ds, oOff!, os, Math.min(g.batch, t * chunk), Math.min(g.batch, (t + 1) * chunk)]);
      return this.#run(2, args, () => {
        const xa = x.subarray(0, chunk * xs);
        const oa = out.subarray(0, chunk * os);
        if (op === 0) pool(kind, xa, oa, own);
        else poolGrad(kind, xa, delta!.subarray(0, chunk * ds), oa, own);
      });
    }, delta ? [chunk * xs, chunk * ds, chunk * os] : [chunk * xs, chunk * os]);
  }
}
