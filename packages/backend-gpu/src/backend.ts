import * as gpujs from 'gpu.js';
import { Backend, BackendError, NeuroneError, ValueError, broadcastStrides, checkOptions, sizeOf, stridesOf } from '@neurone/core';
import type { ActivationGrad, AxisSplit, BinaryOp, ConvGeometry, KernelTensor, Kernels, MatmulDims, PoolKind, Shape, TypedArray, UnaryOp } from '@neurone/core';
import { MAX_ELEMENTS, src, takesP } from './kernels';
import { convSrc } from './conv-kernels';
import { installNodeWebGPU } from './node-webgpu';
import type { DawnOptions } from './node-webgpu';

/** A gpu.js mode this backend runs on. */
export type GpuMode = 'webgpu' | 'webgl2' | 'headlessgl' | 'webasm';
/** Every mode, best first (the order in which `auto` tries them). */
export const GPU_MODES: readonly GpuMode[] = ['webgpu', 'webgl2', 'headlessgl', 'webasm'];

/** Options of `gpu()`. */
export interface GpuOptions {
  /** 'auto' (default) picks the first mode that is available here, in the order of GPU_MODES. */
  mode?: GpuMode | 'auto';
  /** Node only: how to start Dawn for the webgpu mode. */
  dawn?: DawnOptions;
}

// ---- the parts of gpu.js this backend uses ----------------------------------------------------

interface GpuKernel {
  (...args: unknown[]): unknown;
  destroy(): void;
  kernel?: { constructor: { mode?: string }; fallbackReason?: string | null };
}
interface GpuInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
  destroy(): unknown;
  context?: { isContextLost?: () => boolean; getError?: () => number } | null;
}
interface GpuStatics {
  new (settings: Record<string, unknown>): GpuInstance;
  isWebGL2Supported: boolean;
  isHeadlessGLSupported: boolean;
  isWebAssemblySupported: boolean;
  isWebGPUSupported: boolean;
}
interface ErrorScopeDevice {
  lost: Promise<{ message: string; reason: string }>;
  pushErrorScope(filter: string): void;
  popErrorScope(): Promise<{ message: string } | null>;
}
interface Readable {
  toArray(): unknown;
  delete(): void;
}

const lib = gpujs as unknown as { GPU: GpuStatics; WebGPUContext: { acquire(): Promise<{ device: ErrorScopeDevice }> } };
const GPU = lib.GPU ?? (gpujs as unknown as { default: { GPU: GpuStatics } }).default.GPU;
const WebGPUContext =
  lib.WebGPUContext ?? (gpujs as unknown as { default: { WebGPUContext: typeof lib.WebGPUContext } }).default.WebGPUContext;

/** One tensor storage on the device. */
interface Store {
  /** gpu.js Texture (GL), WebGPUBufferResult (webgpu) or Float32Array (webasm); null while pending or when empty. */
  handle: unknown;
  n: number;
  /** The op that produced it (named in errors). */
  op: string;
  /**
   * The output grid of the kernel that produced it ([n], or [n, m] for a matmul): GL textures
   * carry their dimensions, so a compiled kernel is cached per input grid too (gpu.js refuses a
   * texture of another layout than the one it compiled for).
   */
  grid?: readonly number[];
  /** webgpu: failure of the producing op, or of one of its inputs. */
  error?: Error;
  /** webgpu: device errors (validation, out of memory) reported for this op or any input. */
  check?: Promise<Error | undefined>;
}

/** What every backend instance of one mode shares: the gpu.js instance, compiled kernels, the webgpu queue. */
interface Shared {
  mode: GpuMode;
  gpu: GpuInstance;
  kernels: Map<string, GpuKernel>;
  /** webgpu: every op runs as a task on this chain, in issue order. */
  tail: Promise<void>;
  device?: ErrorScopeDevice;
  ready?: Promise<void>;
  /**
   * Why the device can no longer be trusted: webgpu's device was lost, or a GL context raised an
   * error flag (GL_OUT_OF_MEMORY, …). Every later op fails with a BackendError saying so.
   */
  lost?: string;
}

/** WebGL error codes by value (the ones getError returns). */
const GL_ERRORS: Record<number, string> = {
  0x0500: 'GL_INVALID_ENUM',
  0x0501: 'GL_INVALID_VALUE',
  0x0502: 'GL_INVALID_OPERATION',
  0x0505: 'GL_OUT_OF_MEMORY',
  0x0506: 'GL_INVALID_FRAMEBUFFER_OPERATION',
  0x9242: 'CONTEXT_LOST_WEBGL',
};
const shared = new Map<GpuMode, Shared>();

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Sync availability of each mode (webgpu: the API exists; an adapter is checked by `ready()`). */
export function modeAvailability(options: GpuOptions = {}): Record<GpuMode, string | true> {
  const out = {} as Record<GpuMode, string | true>;
  const dawn = installNodeWebGPU(options.dawn);
  out.webgpu = dawn.installed && GPU.isWebGPUSupported ? true : (dawn.error ?? 'navigator.gpu is missing');
  out.webgl2 = safe(() => GPU.isWebGL2Supported) ? true : 'no WebGL2 context (browser only)';
  out.headlessgl = safe(() => GPU.isHeadlessGLSupported) ? true : "no headless-gl context (npm 'gl' not built, or no X display)";
  out.webasm = safe(() => GPU.isWebAssemblySupported) ? true : 'no WebAssembly';
  return out;
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}

/**
 * Modes that work here, best first, checked for real (webgpu: an adapter and a device answer).
 */
export async function availableModes(options: GpuOptions = {}): Promise<GpuMode[]> {
  const av = modeAvailability(options);
  const out: GpuMode[] = [];
  for (const m of GPU_MODES) {
    if (av[m] !== true) continue;
    if (m === 'webgpu') {
      try {
        await WebGPUContext.acquire();
      } catch {
        continue;
      }
    }
    out.push(m);
  }
  return out;
}

function getShared(mode: GpuMode): Shared {
  let s = shared.get(mode);
  if (!s) {
    s = { mode, gpu: new GPU({ mode }), kernels: new Map(), tail: Promise.resolve() };
    shared.set(mode, s);
  }
  return s;
}

/** Destroys the compiled kernels and gpu.js instances shared by every backend of these modes. */
export function releaseGpu(modes: readonly GpuMode[] = GPU_MODES): void {
  for (const m of modes) {
    const s = shared.get(m);
    if (!s) continue;
    for (const k of s.kernels.values()) k.destroy();
    s.kernels.clear();
    s.gpu.destroy();
    shared.delete(m);
  }
}

function flatten(v: unknown, n: number): Float32Array {
  if (v instanceof Float32Array) return v.length === n ? v.slice() : v.slice(0, n);
  const out = new Float32Array(n);
  let at = 0;
  const walk = (x: unknown): void => {
    if (ArrayBuffer.isView(x)) {
      const a = x as Float32Array;
      const take = Math.min(a.length, n - at);
      out.set(take === a.length ? a : a.subarray(0, take), at);
      at += take;
    } else if (Array.isArray(x)) for (const y of x) walk(y);
    else if (typeof x === 'number') out[at++] = x;
  };
  walk(v);
  return out;
}

/** The most compiled kernels kept per mode; the least recently used one is destroyed past it. */
export const KERNEL_CACHE_SIZE = 256;

/**
 * The GPU kernels: every primitive as a gpu.js kernel; storages stay on the device until read.
 * Inputs arrive checked by the op layer in @neurone/core.
 */
export class GpuKernels implements Kernels<Store> {
  readonly name: string;
  readonly dtype = 'float32' as const;
  readonly canReadSync: boolean;
  readonly maxElements = MAX_ELEMENTS;
  readonly mode: GpuMode;
  readonly #s: Shared;
  readonly #async: boolean;
  #dispatches = 0;
  readonly #live = new Set<Store>();

  constructor(mode: GpuMode) {
    this.mode = mode;
    this.name = `gpu(${mode})`;
    this.#async = mode === 'webgpu';
    this.canReadSync = !this.#async;
    this.#s = getShared(mode);
    if (this.#async && !this.#s.ready) {
      const s = this.#s;
      s.ready = WebGPUContext.acquire().then(
        (ctx) => {
          s.device = ctx.device;
          void ctx.device.lost.then((info) => {
            s.lost = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
            // kernels compiled for the dead device go with it; a new backend starts afresh
            if (shared.get('webgpu') === s) shared.delete('webgpu');
          });
        },
        (e: unknown) => {
          s.ready = undefined;
          throw new BackendError(`gpu(webgpu): no WebGPU device: ${message(e)}`);
        },
      );
      s.ready.catch(() => {});
      s.tail = s.ready.catch(() => {});
    }
  }

  /** See GpuBackend.glContext. */
  get glContext(): unknown {
    return this.mode === 'webgpu' || this.mode === 'webasm' ? null : (this.#s.gpu.context ?? null);
  }

  /** Kernels launched so far, uploads included. */
  get dispatches(): number {
    return this.#dispatches;
  }

  /** Compiled kernels cached for this mode (bounded by KERNEL_CACHE_SIZE). */
  get cachedKernels(): number {
    return this.#s.kernels.size;
  }

  async ready(): Promise<void> {
    if (!this.#async) return;
    try {
      await this.#s.ready;
    } catch (e) {
      const av = await availableModes();
      throw new BackendError(`${message(e)}; available modes here: ${av.join(', ') || 'none'}`);
    }
  }

  /** Waits until every op issued so far has run (webgpu); immediate elsewhere. */
  async flush(): Promise<void> {
    await this.#s.tail;
  }

  // ---- kernels and launches ---------------------------------------------------------------

  /** The compiled kernel for `source` and `output`, from the mode's LRU cache, for one launch. */
  #kernel(source: string, output: number[], loops = 0, inputs: readonly Store[] = []): GpuKernel {
    this.#dispatches++;
    const cache = this.#s.kernels;
    const key = `${output.join('x')}|${inputs.map((i) => i.grid?.join('x') ?? 'host').join(',')}|${source}`;
    let k = cache.get(key);
    if (k) {
      cache.delete(key); // most recently used goes last
      cache.set(key, k);
      return k;
    }
    k = this.#s.gpu.createKernel(source, {
      output,
      pipeline: true,
      immutable: true,
      precision: 'single',
      tactic: 'precision',
      optimizeFloatMemory: false,
      dynamicArguments: true,
      loopMaxIterations: Math.max(1000, loops + 1),
    });
    cache.set(key, k);
    if (cache.size > KERNEL_CACHE_SIZE) {
      const [oldKey, old] = cache.entries().next().value as [string, GpuKernel];
      cache.delete(oldKey);
      // webgpu: launches already queued may still use it
      if (this.#async) this.#s.tail = this.#s.tail.then(() => old.destroy());
      else old.destroy();
    }
    return k;
  }

  #err(op: string, e: unknown): Error {
    if (e instanceof NeuroneError) return e;
    return new BackendError(`${op}: ${this.name} failed on the device: ${message(e)}`);
  }

  #checkKernel(op: string, k: GpuKernel): void {
    const impl = k.kernel;
    if (impl?.fallbackReason) throw new BackendError(`${op}: gpu.js fell back to its cpu backend (${impl.fallbackReason})`);
  }

  #checkLost(op: string): void {
    const s = this.#s;
    if (s.lost && !this.#async) throw new BackendError(`${op}: the ${this.mode} context failed earlier (${s.lost}); create a new backend`);
    const ctx = s.gpu.context;
    if (ctx && typeof ctx.isContextLost === 'function' && ctx.isContextLost()) {
      this.#poison('context lost');
      throw new BackendError(`${op}: the ${this.mode} context was lost; create a new backend`);
    }
  }

  /** Forgets this mode's shared context: the next backend created for it starts a fresh one. */
  #poison(why: string): void {
    const s = this.#s;
    s.lost ??= why;
    if (shared.get(this.mode) === s) shared.delete(this.mode);
  }

  /**
   * GL modes: reads the context's error flags (a read synchronises anyway). Any flag means an op
   * since the last read may have written nothing (GL_OUT_OF_MEMORY) or garbage, so the read throws
   * instead of returning values, and the context is not used again.
   */
  #checkGlErrors(op: string): void {
    const ctx = this.#s.gpu.context;
    if (this.mode === 'webasm' || !ctx || typeof ctx.getError !== 'function') return;
    const flags: string[] = [];
    for (let e = ctx.getError(); e !== 0 && flags.length < 8; e = ctx.getError()) flags.push(GL_ERRORS[e] ?? `GL error 0x${e.toString(16)}`);
    if (flags.length === 0) return;
    const what = [...new Set(flags)].join(', ');
    this.#poison(what);
    throw new BackendError(`${op}: ${this.name} reported ${what} at or before this op; its results cannot be trusted: create a new backend`);
  }

  #store(n: number, op: string): Store {
    const s: Store = { handle: null, n, op };
    this.#live.add(s);
    return s;
  }

  /** Runs kernel `source` over `args` (stores or scalars) into a new storage of n elements. */
  #launch(op: string, source: string, output: number[], args: (Store | number)[], n: number, loops = 0): Store {
    const out = this.#store(n, op);
    out.grid = output;
    if (n === 0) return out;
    const inputs = args.filter((a): a is Store => typeof a !== 'number');
    const k = this.#kernel(source, output, loops, inputs);
    if (!this.#async) {
      this.#checkLost(op);
      try {
        const h = k(...args.map((a) => (typeof a === 'number' ? a : a.handle)));
        out.handle = this.mode === 'webasm' ? flatten(h, n) : h;
        this.#checkKernel(op, k);
      } catch (e) {
        this.#live.delete(out);
        throw this.#err(op, e);
      }
      return out;
    }
    const s = this.#s;
    const checks = inputs.flatMap((i) => (i.check ? [i.check] : []));
    s.tail = s.tail.then(async () => {
      const bad = inputs.find((i) => i.error);
      if (bad) {
        out.error = bad.error;
        return;
      }
      if (s.lost) {
        out.error = new BackendError(`${op}: the WebGPU device was lost (${s.lost}); create a new backend`);
        return;
      }
      const dev = s.device!;
      dev.pushErrorScope('out-of-memory');
      dev.pushErrorScope('validation');
      try {
        out.handle = await k(...args.map((a) => (typeof a === 'number' ? a : a.handle)));
      } catch (e) {
        out.error = this.#err(op, e);
      }
      const scopes = [dev.popErrorScope(), dev.popErrorScope()];
      out.check = Promise.all([...checks, ...scopes]).then(
        (r) => {
          const prior = r.slice(0, checks.length).find(Boolean) as Error | undefined;
          if (prior) return prior;
          const own = r.slice(checks.length).find(Boolean) as { message: string } | undefined;
          return own ? new BackendError(`${op}: ${this.name} device error: ${own.message}`) : undefined;
        },
        (e: unknown) => new BackendError(`${op}: ${this.name} device error: ${message(e)}`),
      );
    });
    return out;
  }

  // ---- storage ----------------------------------------------------------------------------

  upload(values: ArrayLike<number>, n: number): Store {
    const v = new Float32Array(n);
    v.set(values);
    if (n === 0) return this.#store(0, 'tensor');
    if (this.mode === 'webasm') {
      const out = this.#store(n, 'tensor');
      out.handle = v;
      return out;
    }
    // the host array rides in a store of its own; the upload kernel copies it into a device one
    return this.#launch('tensor', src.upload(), [n], [{ handle: v, n, op: 'tensor' }], n);
  }

  fill(n: number, value: number): Store {
    return this.#launch(value === 0 ? 'zeros' : 'full', src.fill(), [Math.max(n, 1)], [value], n);
  }

  readSync(x: KernelTensor<Store>): TypedArray {
    const s = x.data;
    if (s.n === 0) return new Float32Array(0);
    this.#checkLost('dataSync');
    if (this.mode === 'webasm') return (s.handle as Float32Array).slice();
    let v: TypedArray;
    try {
      v = flatten((s.handle as Readable).toArray(), s.n);
    } catch (e) {
      throw this.#err(s.op, e);
    }
    this.#checkGlErrors(s.op);
    this.#checkLost(s.op);
    return v;
  }

  read(x: KernelTensor<Store>): Promise<TypedArray> {
    if (!this.#async) {
      try {
        return Promise.resolve(this.readSync(x));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const s = x.data;
    if (s.n === 0) return Promise.resolve(new Float32Array(0));
    let pending: Promise<unknown> | undefined;
    const sh = this.#s;
    const queued = (sh.tail = sh.tail.then(() => {
      if (s.error) return;
      try {
        // submits the copy now, so a later free on the queue cannot release the buffer first
        pending = Promise.resolve((s.handle as Readable).toArray());
      } catch (e) {
        pending = Promise.reject(e);
      }
      pending.catch(() => {});
    }));
    return queued.then(async () => {
      if (s.error) throw s.error;
      let v: unknown;
      try {
        v = await pending;
      } catch (e) {
        throw this.#err(s.op, e);
      }
      const bad = await s.check;
      if (bad) throw bad;
      return flatten(v, s.n);
    });
  }

  free(s: Store): void {
    this.#live.delete(s);
    if (this.mode === 'webasm') {
      s.handle = null;
      return;
    }
    if (!this.#async) {
      (s.handle as Readable | null)?.delete();
      s.handle = null;
      return;
    }
    const sh = this.#s;
    sh.tail = sh.tail.then(() => {
      (s.handle as Readable | null)?.delete();
      s.handle = null;
    });
  }

  destroy(): void {
    for (const s of [...this.#live]) this.free(s);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  matmul(a: KernelTensor<Store>, b: KernelTensor<Store>, { m, k, n, transposeA, transposeB }: MatmulDims, bias?: KernelTensor<Store>): Store {
    const args = [a.data, b.data, ...(bias ? [bias.data] : [])];
    return this.#launch('matmul', src.matmul(m, k, n, transposeA, transposeB, !!bias), [n, m], args, m * n, k);
  }

  unary(op: UnaryOp, x: KernelTensor<Store>, p: number): Store {
    return this.#launch(op, src.unary(op), [Math.max(x.size, 1)], takesP(op) ? [x.data, op === 'log' ? -Infinity : p] : [x.data], x.size);
  }

  binary(op: BinaryOp, a: KernelTensor<Store>, b: KernelTensor<Store>, shape: Shape): Store {
    const n = sizeOf(shape);
    const source = src.binary(op, shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), a.size, b.size, n);
    return this.#launch(op, source, [Math.max(n, 1)], [a.data, b.data], n);
  }

  affine(x: KernelTensor<Store>, scale: number, shift: number): Store {
    return this.#launch('affine', src.affine(), [Math.max(x.size, 1)], [x.data, scale, shift], x.size);
  }

  axpby(alpha: number, x: KernelTensor<Store>, beta: number, y: KernelTensor<Store>): Store {
    return this.#launch('axpby', src.axpby(), [Math.max(x.size, 1)], [x.data, alpha, y.data, beta], x.size);
  }

  clamp(x: KernelTensor<Store>, lo: number, hi: number): Store {
    const hasLo = lo !== -Infinity;
    const hasHi = hi !== Infinity;
    return this.#launch('clamp', src.clamp(hasLo, hasHi), [Math.max(x.size, 1)], [x.data, hasLo ? lo : 0, hasHi ? hi : 0], x.size);
  }

  activationGrad(op: ActivationGrad, saved: KernelTensor<Store>, delta: KernelTensor<Store>, p: number): Store {
    return this.#launch('activationGrad', src.activationGrad(op), [Math.max(saved.size, 1)], takesP(op) ? [saved.data, delta.data, p] : [saved.data, delta.data], saved.size);
  }

  // ---- reductions -------------------------------------------------------------------------

  sum(x: KernelTensor<Store>, ax: readonly number[], out: Shape): Store {
    // reduce runs of contiguous axes, last run first, each as (outer, red, inner)
    const runs: number[][] = [];
    for (const a of ax) {
      const last = runs[runs.length - 1];
      if (last && last[last.length - 1] === a - 1) last.push(a);
      else runs.push([a]);
    }
    let cur = x.data;
    let curShape = [...x.shape];
    for (const run of runs.reverse()) {
      const outer = sizeOf(curShape.slice(0, run[0]));
      const red = sizeOf(run.map((i) => curShape[i]!));
      const inner = sizeOf(curShape.slice(run[run.length - 1]! + 1));
      curShape = curShape.map((d, i) => (run.includes(i) ? 1 : d));
      const next = this.#sumAxis(cur, outer, red, inner);
      if (cur !== x.data) this.free(cur);
      cur = next;
    }
    void out;
    return cur;
  }

  /** Σ over the middle axis of (outer, red, inner), as a tree of passes of at most ~1024 terms. */
  #sumAxis(x: Store, outer: number, red: number, inner: number): Store {
    if (red <= 1024) return this.#launch('sum', src.sumChunks(red, inner, 1, red), [Math.max(outer * inner, 1)], [x], outer * inner, red);
    const ch = Math.ceil(Math.sqrt(red));
    const chunks = Math.ceil(red / ch);
    const partial = this.#launch('sum', src.sumChunks(red, inner, chunks, ch), [outer * chunks * inner], [x], outer * chunks * inner, ch);
    const out = this.#sumAxis(partial, outer, chunks, inner);
    this.free(partial);
    return out;
  }

  argmax(x: KernelTensor<Store>, { outer, len, inner }: AxisSplit): Store {
    return this.#launch('argmax', src.maxAlong(len, inner, true), [Math.max(outer * inner, 1)], [x.data], outer * inner, len);
  }

  // ---- rows -------------------------------------------------------------------------------

  rowwise(op: 'softmax' | 'logSoftmax', x: KernelTensor<Store>, rows: number, k: number): Store {
    const stats = this.#launch(op, src.rowStats(rows, k), [2 * rows], [x.data], 2 * rows, k);
    const out = this.#launch(op, src.rowApply(rows, k, op === 'logSoftmax'), [x.size], [x.data, stats], x.size);
    this.free(stats);
    return out;
  }

  oneHot(indices: KernelTensor<Store>, depth: number): Store {
    const n = indices.size;
    return this.#launch('oneHot', src.oneHot(depth), [Math.max(n * depth, 1)], [indices.data], n * depth);
  }

  // ---- layout and selection ----------------------------------------------------------------

  extremum(op: 'max' | 'min', x: KernelTensor<Store>, { outer, len, inner }: AxisSplit): Store {
    return this.#launch(op, src.maxAlong(len, inner, false, op === 'min'), [Math.max(outer * inner, 1)], [x.data], outer * inner, len);
  }

  where(c: KernelTensor<Store>, a: KernelTensor<Store>, b: KernelTensor<Store>, shape: Shape): Store {
    const n = sizeOf(shape);
    const ins = [c, a, b];
    const source = src.where(shape, ins.map((t) => broadcastStrides(t.shape, shape)), ins.map((t) => t.size), n);
    return this.#launch('where', source, [Math.max(n, 1)], [c.data, a.data, b.data], n);
  }

  strided(x: KernelTensor<Store>, shape: Shape, strides: readonly number[], offset: number): Store {
    const n = sizeOf(shape);
    return this.#launch('strided', src.strided(shape, strides, offset), [Math.max(n, 1)], [x.data], n);
  }

  concat(xs: readonly KernelTensor<Store>[], outer: number, lens: readonly number[], inner: number): Store {
    const parts = xs.map((x, j) => ({ x: x.data, len: lens[j]! })).filter((p) => p.len > 0);
    const n = outer * lens.reduce((p, q) => p + q, 0) * inner;
    if (parts.length === 0 || n === 0) return this.#store(0, 'concat');
    // at most 8 inputs per kernel (texture units): join the first 8, then that with the rest
    if (parts.length > 8) {
      const head = parts.slice(0, 8);
      const headLen = head.reduce((p, q) => p + q.len, 0);
      const first = this.#launch('concat', src.concat(head.map((p) => p.len), inner), [outer * headLen * inner], head.map((p) => p.x), outer * headLen * inner);
      const restLens = parts.slice(8).map((p) => p.len);
      const asT = (d: Store, len: number): KernelTensor<Store> => ({ data: d, shape: [outer, len, inner], size: outer * len * inner });
      const out = this.concat([asT(first, headLen), ...parts.slice(8).map((p) => asT(p.x, p.len))], outer, [headLen, ...restLens], inner);
      this.free(first);
      return out;
    }
    return this.#launch('concat', src.concat(parts.map((p) => p.len), inner), [n], parts.map((p) => p.x), n);
  }

  gather(x: KernelTensor<Store>, index: KernelTensor<Store>, axis: number): Store {
    const n = index.size;
    const source = src.gather(index.shape, stridesOf(x.shape), axis, x.shape[axis]!);
    return this.#launch('gather', source, [Math.max(n, 1)], [x.data, index.data], n);
  }

  // ---- windows (conv-kernels.ts) ----------------------------------------------------------

  im2col(x: KernelTensor<Store>, g: ConvGeometry): Store {
    const n = g.batch * g.outH * g.outW * g.kh * g.kw * g.chan;
    return this.#launch('im2col', convSrc.im2col(g), [n], [x.data], n);
  }

  col2im(cols: KernelTensor<Store>, g: ConvGeometry): Store {
    const n = g.batch * g.inH * g.inW * g.chan;
    return this.#launch('col2im', convSrc.col2im(g), [n], [cols.data], n, g.kh * g.kw);
  }

  pool(kind: PoolKind, x: KernelTensor<Store>, g: ConvGeometry): Store {
    const n = g.batch * g.outH * g.outW * g.chan;
    return this.#launch('pool', convSrc.pool(kind, g), [n], [x.data], n, g.kh * g.kw);
  }

  poolGrad(kind: PoolKind, x: KernelTensor<Store>, delta: KernelTensor<Store>, g: ConvGeometry): Store {
    const n = x.size;
    return this.#launch('poolGrad', convSrc.poolGrad(kind, g), [n], [x.data, delta.data], n, (g.kh * g.kw) ** 2);
  }
}

/**
 * The GPU backend: core's op layer over the gpu.js kernels, plus the device's extras (mode,
 * launch counter, GL context, flush).
 */
export class GpuBackend extends Backend<GpuKernels> {
  readonly #k: GpuKernels;
  constructor(kernels: GpuKernels) {
    super(kernels);
    this.#k = kernels;
  }

  get mode(): GpuMode {
    return this.#k.mode;
  }

  /**
   * Kernels launched by this backend so far, uploads included (each op is one or two). A
   * diagnostic for launch-bound work such as small-batch training: count one step's worth.
   */
  get dispatches(): number {
    return this.#k.dispatches;
  }

  /**
   * The WebGL context the GL modes ('webgl2', 'headlessgl') run on, for interop and diagnostics
   * (as TF.js exposes `backend.gpgpu.gl`); null on 'webgpu' and 'webasm'. Calls that leave an
   * error flag set make this backend's next read throw.
   */
  get glContext(): unknown {
    return this.#k.glContext;
  }

  /** Waits until every op issued so far has run (webgpu); immediate elsewhere. */
  flush(): Promise<void> {
    return this.#k.flush();
  }
}

/**
 * A GPU backend on gpu.js. `mode` picks the gpu.js mode; 'auto' (default) takes the first
 * available of webgpu, webgl2, headlessgl, webasm. Throws a BackendError listing the available
 * modes when the requested one is not; on webgpu, `await backend.ready()` confirms an adapter.
 */
export function gpu(options: GpuOptions = {}): GpuBackend {
  checkOptions('gpu', options ?? undefined, { mode: 'string', dawn: 'object' });
  options ??= {};
  const mode = options.mode ?? 'auto';
  const av = modeAvailability(options);
  const available = GPU_MODES.filter((m) => av[m] === true);
  if (mode === 'auto') {
    const first = available[0];
    if (!first) throw new BackendError(`gpu: no gpu.js mode is available here (${GPU_MODES.map((m) => `${m}: ${String(av[m])}`).join('; ')})`);
    return new GpuBackend(new GpuKernels(first));
  }
  if (!GPU_MODES.includes(mode)) throw new ValueError(`gpu: unknown mode '${String(mode)}' (one of ${GPU_MODES.join(', ')}, auto)`);
  if (av[mode] !== true) {
    throw new BackendError(`gpu: mode '${mode}' is not available here (${String(av[mode])}); available modes: ${available.join(', ') || 'none'}`);
  }
  return new GpuBackend(new GpuKernels(mode));
}
