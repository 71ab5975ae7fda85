import * as gpujs from 'gpu.js';
import {
  BackendError,
  NeuroneError,
  ShapeError,
  Tensor,
  ValueError,
  broadcastShapes,
  checkInputs,
  checkShape,
  matmulShape,
  normAxes,
  splitAxis,
  reducedShape,
  shapesEqual,
  sizeOf,
  stridesOf,
} from '@neurone/core';
import type { ActivationGrad, Backend, BinaryOp, MemoryInfo, Shape, TypedArray, UnaryOp } from '@neurone/core';
import { MAX_ELEMENTS, src } from './kernels';
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

/** Storage shared by a tensor and its reshaped views. */
interface Store {
  /** gpu.js Texture (GL), WebGPUBufferResult (webgpu) or Float32Array (webasm); null while pending or when empty. */
  handle: unknown;
  n: number;
  refs: number;
  /** The op that produced it (named in errors). */
  op: string;
  /**
   * A host copy of 1-D tensors made from host values (labels, biases): oneHot validates from it
   * and reads return it without a device round trip.
   */
  host?: Float32Array;
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

/** The GPU backend: every primitive as a gpu.js kernel; tensors stay on the device until read. */
export class GpuBackend implements Backend {
  readonly name: string;
  readonly dtype = 'float32' as const;
  readonly canReadSync: boolean;
  readonly mode: GpuMode;
  readonly #s: Shared;
  readonly #async: boolean;
  #tensors = 0;
  #buffers = 0;
  #dispatches = 0;
  #bytes = 0;
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

  /**
   * The WebGL context the GL modes ('webgl2', 'headlessgl') run on, for interop and diagnostics
   * (as TF.js exposes `backend.gpgpu.gl`); null on 'webgpu' and 'webasm'. Calls that leave an
   * error flag set make this backend's next read throw.
   */
  get glContext(): unknown {
    return this.mode === 'webgpu' || this.mode === 'webasm' ? null : (this.#s.gpu.context ?? null);
  }

  /** Resolves when the device answers (webgpu: adapter and device acquired); rejects with a BackendError otherwise. */
  async ready(): Promise<this> {
    if (this.#async) {
      try {
        await this.#s.ready;
      } catch (e) {
        const av = await availableModes();
        throw new BackendError(`${message(e)}; available modes here: ${av.join(', ') || 'none'}`);
      }
    }
    return this;
  }

  // ---- storage ----------------------------------------------------------------------------

  #wrap(s: Store, shape: Shape): Tensor {
    this.#buffers++;
    this.#bytes += s.n * 4;
    this.#tensors++;
    this.#live.add(s);
    return new Tensor(this, s, shape, this.dtype);
  }

  #store(x: Tensor): Store {
    return x.dataId as Store;
  }

  /**
   * Kernels launched by this backend so far, uploads included (each op is one or two). A
   * diagnostic for launch-bound work such as small-batch training: count one step's worth.
   */
  get dispatches(): number {
    return this.#dispatches;
  }

  /** The compiled kernel for `source` and `output` (cached per mode), for one launch. */
  #kernel(source: string, output: number[], loops = 0): GpuKernel {
    this.#dispatches++;
    const key = `${output.join('x')}|${source}`;
    let k = this.#s.kernels.get(key);
    if (!k) {
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
      this.#s.kernels.set(key, k);
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

  /** Runs kernel `source` over `args` (stores or scalars) into a new tensor of `shape`. */
  #launch(op: string, source: string, output: number[], args: (Store | number)[], shape: Shape, loops = 0): Tensor {
    const n = sizeOf(shape);
    if (n > MAX_ELEMENTS) throw new ShapeError(op, `${this.name} holds at most 2^24 elements per tensor`, { out: shape });
    const out: Store = { handle: null, n, refs: 1, op };
    if (n === 0) return this.#wrap(out, shape);
    const k = this.#kernel(source, output, loops);
    const inputs = args.filter((a): a is Store => typeof a !== 'number');
    if (!this.#async) {
      this.#checkLost(op);
      try {
        const h = k(...args.map((a) => (typeof a === 'number' ? a : a.handle)));
        out.handle = this.mode === 'webasm' ? flatten(h, n) : h;
        this.#checkKernel(op, k);
      } catch (e) {
        throw this.#err(op, e);
      }
      return this.#wrap(out, shape);
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
    return this.#wrap(out, shape);
  }

  tensor(values: ArrayLike<number>, shape: Shape): Tensor {
    checkShape('tensor', shape);
    const n = sizeOf(shape);
    if (values == null || typeof values.length !== 'number') throw new ValueError(`tensor: values must be array-like, got ${String(values)}`);
    if (values.length !== n) throw new ShapeError('tensor', `${values.length} values do not fill the shape (${n} needed)`, { shape });
    if (n > MAX_ELEMENTS) throw new ShapeError('tensor', `${this.name} holds at most 2^24 elements per tensor`, { shape });
    const v = new Float32Array(n);
    v.set(values);
    const out: Store = { handle: null, n, refs: 1, op: 'tensor' };
    if (shape.length === 1) out.host = v;
    if (n === 0) return this.#wrap(out, shape);
    if (this.mode === 'webasm') {
      out.handle = v;
      return this.#wrap(out, shape);
    }
    const k = this.#kernel(src.upload(), [n]);
    if (!this.#async) {
      this.#checkLost('tensor');
      try {
        out.handle = k(v);
      } catch (e) {
        throw this.#err('tensor', e);
      }
      return this.#wrap(out, shape);
    }
    const s = this.#s;
    s.tail = s.tail.then(async () => {
      try {
        out.handle = await k(v);
      } catch (e) {
        out.error = this.#err('tensor', e);
      }
    });
    return this.#wrap(out, shape);
  }

  zeros(shape: Shape): Tensor {
    checkShape('zeros', shape);
    return this.#launch('zeros', src.fill(), [Math.max(sizeOf(shape), 1)], [0], shape);
  }

  full(shape: Shape, value: number): Tensor {
    checkShape('full', shape);
    return this.#launch('full', src.fill(), [Math.max(sizeOf(shape), 1)], [value], shape);
  }

  readSync(t: Tensor): TypedArray {
    checkInputs('dataSync', this, t);
    if (this.#async) throw new BackendError(`dataSync: ${this.name} reads only asynchronously; use await t.data()`);
    const s = this.#store(t);
    if (s.n === 0) return new Float32Array(0);
    if (s.host) return s.host.slice(); // made from host values (immutable): no device round trip
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

  read(t: Tensor): Promise<TypedArray> {
    try {
      checkInputs('data', this, t);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.#async) {
      try {
        return Promise.resolve(this.readSync(t));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const s = this.#store(t);
    if (s.n === 0) return Promise.resolve(new Float32Array(0));
    if (s.host) return Promise.resolve(s.host.slice());
    let pending: Promise<unknown> | undefined;
    const sh = this.#s;
    const queued = (sh.tail = sh.tail.then(() => {
      if (s.error) return;
      try {
        // submits the copy now, so a later dispose on the queue cannot free the buffer first
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

  disposeData(t: Tensor): void {
    const s = this.#store(t);
    this.#tensors--;
    if (--s.refs > 0) return;
    this.#buffers--;
    this.#bytes -= s.n * 4;
    this.#live.delete(s);
    this.#free(s);
  }

  #free(s: Store): void {
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

  memory(): MemoryInfo {
    return { tensors: this.#tensors, buffers: this.#buffers, bytes: this.#bytes };
  }

  /** Waits until every op issued so far has run (webgpu); immediate elsewhere. */
  async flush(): Promise<void> {
    await this.#s.tail;
  }

  destroy(): void {
    for (const s of this.#live) this.#free(s);
    this.#live.clear();
  }

  // ---- layout -----------------------------------------------------------------------------

  reshape(x: Tensor, shape: Shape): Tensor {
    checkInputs('reshape', this, x);
    checkShape('reshape', shape);
    if (sizeOf(shape) !== x.size) throw new ShapeError('reshape', `cannot reshape ${x.size} elements`, { x: x.shape, shape });
    const s = this.#store(x);
    s.refs++;
    this.#tensors++;
    return new Tensor(this, s, shape, this.dtype);
  }

  transpose(x: Tensor): Tensor {
    checkInputs('transpose', this, x);
    if (x.rank !== 2) throw new ShapeError('transpose', 'expects a 2-D tensor', { x: x.shape });
    const [r, c] = x.shape as [number, number];
    return this.#launch('transpose', src.transpose(r, c), [Math.max(r * c, 1)], [this.#store(x)], [c, r]);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false, bias?: Tensor): Tensor {
    if (bias) checkInputs('matmul', this, a, b, bias);
    else checkInputs('matmul', this, a, b);
    const [m, k, n] = matmulShape(a.shape, b.shape, transposeA, transposeB, bias?.shape);
    const args = [this.#store(a), this.#store(b), ...(bias ? [this.#store(bias)] : [])];
    if (k === 0) {
      if (!bias) return this.zeros([m, n]);
      const z = this.zeros([m, n]);
      const out = this.binary('add', z, bias);
      z.dispose();
      return out;
    }
    return this.#launch('matmul', src.matmul(m, k, n, transposeA, transposeB, !!bias), [n, m], args, [m, n], k);
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    checkInputs(op, this, x);
    if (!UNARY_OPS.has(op)) throw new ValueError(`unary: unknown op '${String(op)}'`);
    return this.#launch(op, src.unary(op), [Math.max(x.size, 1)], [this.#store(x)], x.shape);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    checkInputs(op, this, a, b);
    if (!BINARY_OPS.has(op)) throw new ValueError(`binary: unknown op '${String(op)}'`);
    const shape = broadcastShapes(op, a.shape, b.shape);
    const n = sizeOf(shape);
    const source = src.binary(op, shape, bstrides(a.shape, shape), bstrides(b.shape, shape), a.size, b.size, n);
    return this.#launch(op, source, [Math.max(n, 1)], [this.#store(a), this.#store(b)], shape);
  }

  affine(x: Tensor, scale: number, shift: number): Tensor {
    checkInputs('affine', this, x);
    return this.#launch('affine', src.affine(), [Math.max(x.size, 1)], [this.#store(x), scale, shift], x.shape);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
    checkInputs('axpby', this, x, y);
    if (!shapesEqual(x.shape, y.shape)) throw new ShapeError('axpby', 'x and y must have the same shape', { x: x.shape, y: y.shape });
    return this.#launch('axpby', src.axpby(), [Math.max(x.size, 1)], [this.#store(x), alpha, this.#store(y), beta], x.shape);
  }

  clamp(x: Tensor, lo: number, hi: number): Tensor {
    checkInputs('clamp', this, x);
    if (!(lo <= hi)) throw new ValueError(`clamp: lo (${lo}) must be ≤ hi (${hi})`);
    const hasLo = lo !== -Infinity;
    const hasHi = hi !== Infinity;
    return this.#launch('clamp', src.clamp(hasLo, hasHi), [Math.max(x.size, 1)], [this.#store(x), hasLo ? lo : 0, hasHi ? hi : 0], x.shape);
  }

  activationGrad(op: ActivationGrad, saved: Tensor, delta: Tensor): Tensor {
    checkInputs('activationGrad', this, saved, delta);
    if (!shapesEqual(saved.shape, delta.shape)) {
      throw new ShapeError('activationGrad', `${op}: saved tensor and delta must have the same shape`, { saved: saved.shape, delta: delta.shape });
    }
    if (op !== 'tanh' && op !== 'sigmoid' && op !== 'relu') throw new ValueError(`activationGrad: unknown activation '${String(op)}'`);
    return this.#launch('activationGrad', src.activationGrad(op), [Math.max(saved.size, 1)], [this.#store(saved), this.#store(delta)], saved.shape);
  }

  // ---- reductions -------------------------------------------------------------------------

  sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    checkInputs('sum', this, x);
    const ax = normAxes('sum', axes, x.shape);
    const shape = reducedShape(x.shape, ax, keepDims);
    if (ax.length === 0) return this.affine(x, 1, 0);
    // reduce runs of contiguous axes, last run first, each as (outer, red, inner)
    let cur = x;
    let curShape = [...x.shape];
    const temps: Tensor[] = [];
    const runs: number[][] = [];
    for (const a of ax) {
      const last = runs[runs.length - 1];
      if (last && last[last.length - 1] === a - 1) last.push(a);
      else runs.push([a]);
    }
    for (const run of runs.reverse()) {
      const outer = sizeOf(curShape.slice(0, run[0]));
      const red = sizeOf(run.map((i) => curShape[i]!));
      const inner = sizeOf(curShape.slice(run[run.length - 1]! + 1));
      curShape = curShape.map((d, i) => (run.includes(i) ? 1 : d));
      const next = this.#sumAxis(cur, outer, red, inner, curShape);
      if (cur !== x) temps.push(cur);
      cur = next;
    }
    const out = this.reshape(cur, shape);
    if (cur !== x) temps.push(cur);
    for (const t of temps) t.dispose();
    return out;
  }

  /** Σ over the middle axis of (outer, red, inner), as a tree of passes of at most ~1024 terms. */
  #sumAxis(x: Tensor, outer: number, red: number, inner: number, shape: Shape): Tensor {
    if (red <= 1024) return this.#launch('sum', src.sumChunks(red, inner, 1, red), [Math.max(outer * inner, 1)], [this.#store(x)], shape, red);
    const ch = Math.ceil(Math.sqrt(red));
    const chunks = Math.ceil(red / ch);
    const partial = this.#launch('sum', src.sumChunks(red, inner, chunks, ch), [outer * chunks * inner], [this.#store(x)], [outer, chunks, inner], ch);
    const out = this.#sumAxis(partial, outer, chunks, inner, shape);
    partial.dispose();
    return out;
  }

  max(x: Tensor, axis: number, keepDims = false): Tensor {
    return this.#reduceAlong('max', x, axis, keepDims, false);
  }

  argmax(x: Tensor, axis: number): Tensor {
    return this.#reduceAlong('argmax', x, axis, false, true);
  }

  #reduceAlong(op: string, x: Tensor, axis: number, keepDims: boolean, arg: boolean): Tensor {
    checkInputs(op, this, x);
    const { axis: ax, outer, len, inner } = splitAxis(op, x.shape, axis);
    return this.#launch(op, src.maxAlong(len, inner, arg), [Math.max(outer * inner, 1)], [this.#store(x)], reducedShape(x.shape, [ax], keepDims), len);
  }

  // ---- rows -------------------------------------------------------------------------------

  softmax(x: Tensor): Tensor {
    return this.#rowwise('softmax', x, false);
  }

  logSoftmax(x: Tensor): Tensor {
    return this.#rowwise('logSoftmax', x, true);
  }

  #rowwise(op: string, x: Tensor, log: boolean): Tensor {
    checkInputs(op, this, x);
    if (x.rank < 1) throw new ShapeError(op, 'needs at least one axis (it works over the last)', { x: x.shape });
    const k = x.shape[x.rank - 1]!;
    const rows = x.size / Math.max(k, 1);
    if (x.size === 0) return this.zeros(x.shape);
    const stats = this.#launch(op, src.rowStats(rows, k), [2 * rows], [this.#store(x)], [2 * rows], k);
    const out = this.#launch(op, src.rowApply(rows, k, log), [x.size], [this.#store(x), this.#store(stats)], x.shape);
    stats.dispose();
    return out;
  }

  oneHot(indices: Tensor, depth: number): Tensor {
    checkInputs('oneHot', this, indices);
    if (indices.rank !== 1) throw new ShapeError('oneHot', 'indices must be 1-D', { indices: indices.shape });
    if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`oneHot: depth must be a positive integer, got ${depth}`);
    const s = this.#store(indices);
    // validate on the host: from the host copy, or (sync modes) a read-back
    const host = s.host ?? (this.#async ? undefined : this.readSync(indices));
    if (host) {
      for (let i = 0; i < host.length; i++) {
        const c = host[i]!;
        if (!Number.isInteger(c) || c < 0 || c >= depth) throw new ValueError(`oneHot: index ${c} at position ${i} is not a class in [0, ${depth})`);
      }
    }
    const n = indices.size;
    const out = this.#launch('oneHot', src.oneHot(depth), [Math.max(n * depth, 1)], [s], [n, depth]);
    if (!host && n > 0) {
      // webgpu, indices computed on the device: validated when the result is read
      const o = this.#store(out);
      const check = this.read(indices).then((v) => {
        for (let i = 0; i < v.length; i++) {
          const c = v[i]!;
          if (!Number.isInteger(c) || c < 0 || c >= depth) return new ValueError(`oneHot: index ${c} at position ${i} is not a class in [0, ${depth})`);
        }
        return undefined;
      });
      const prev = o.check;
      const sh = this.#s;
      sh.tail = sh.tail.then(() => {
        const own = o.check ?? prev;
        o.check = Promise.all([own, check]).then(([a, b]) => a ?? b);
      });
    }
    return out;
  }
}

const UNARY_OPS = new Set<string>(['neg', 'abs', 'exp', 'log', 'sqrt', 'square', 'reciprocal', 'tanh', 'sigmoid', 'relu', 'softplus', 'sign']);
const BINARY_OPS = new Set<string>(['add', 'sub', 'mul', 'div', 'maximum', 'minimum']);

/** Strides of `shape` read as broadcast to `out` (0 along broadcast axes). */
function bstrides(shape: Shape, out: Shape): number[] {
  const pad = out.length - shape.length;
  const own = stridesOf(shape);
  return out.map((_, i) => (i < pad || shape[i - pad] === 1 ? 0 : own[i - pad]!));
}

/**
 * A GPU backend on gpu.js. `mode` picks the gpu.js mode; 'auto' (default) takes the first
 * available of webgpu, webgl2, headlessgl, webasm. Throws a BackendError listing the available
 * modes when the requested one is not; on webgpu, `await backend.ready()` confirms an adapter.
 */
export function gpu(options: GpuOptions = {}): GpuBackend {
  const mode = options.mode ?? 'auto';
  const av = modeAvailability(options);
  const available = GPU_MODES.filter((m) => av[m] === true);
  if (mode === 'auto') {
    const first = available[0];
    if (!first) throw new BackendError(`gpu: no gpu.js mode is available here (${GPU_MODES.map((m) => `${m}: ${String(av[m])}`).join('; ')})`);
    return new GpuBackend(first);
  }
  if (!GPU_MODES.includes(mode)) throw new ValueError(`gpu: unknown mode '${String(mode)}' (one of ${GPU_MODES.join(', ')}, auto)`);
  if (av[mode] !== true) {
    throw new BackendError(`gpu: mode '${mode}' is not available here (${String(av[mode])}); available modes: ${available.join(', ') || 'none'}`);
  }
  return new GpuBackend(mode);
}
