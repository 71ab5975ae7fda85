import { Backend } from '@neurone/core';
import type { ConvGeometry, DType, PoolKind, TypedArray, UnaryOp } from '@neurone/core';
import { CpuKernels, onWasm, unaryRange } from './kernels';
import { pool, poolGrad } from './conv';
import { gemm, wasmGemmEnabled } from './gemm';
import { cpuOptions } from './options';
import type { CpuBackend, CpuOptions } from './options';
import { ThreadPool, availableCores, canBlock, floors, sharedWasm } from './threads';
import type { Arena } from './arena';
import { passWasm } from './wasm-gemm';
import type { WasmMap, WasmPass } from './wasm-gemm';

export { CpuKernels };
export { wasmGemmFused as fusedMultiplyAdd } from './wasm-gemm';
export type { CpuBackend, CpuOptions };

/** The kernels of `cpu({ threads })` with threads > 1: large products, costly maps (BCE's terms among them), the pools and the optimizers' passes go to the thread pool (threads.ts). */
class ThreadedKernels extends CpuKernels {
  override readonly threads: number;
  #pool: ThreadPool | null | undefined;

  constructor(dtype: DType, maxBytes: number, threads: number, arena: Arena | null) {
    super(dtype, maxBytes, arena);
    this.threads = threads;
  }

  /** The pool when `work` reaches `floor`; null below it or where threads cannot run. */
  #get(work: number, floor: number): ThreadPool | null {
    return work < floor ? null : (this.#pool ??= ThreadPool.get(this.threads));
  }

  #window(op: 0 | 1, kind: PoolKind, x: TypedArray, delta: TypedArray | null, out: TypedArray, g: ConvGeometry): boolean {
    return this.#get(Math.max(x.length, out.length), floors.window)?.window(op, kind, x, delta, out, g) ?? false;
  }

  protected override readonly k = {
    gemm: (a: TypedArray, b: TypedArray, c: TypedArray, m: number, n: number, k: number, ta: boolean, tb: boolean, bias?: TypedArray): boolean => {
      const f32 = wasmGemmEnabled() && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array;
      const dense = m * n * k >= floors.intensity * (m * k + k * n + m * n);
      if (f32 && dense && m > 0 && n > 0 && k > 0 && this.#get(2 * m * n * k, floors.gemm)?.gemm(a, b, c, m, n, k, ta, tb)) return false; // bias: the caller's
      return gemm(a, b, c, m, n, k, ta, tb, bias);
    },
    map: (op: WasmMap, inputs: readonly TypedArray[], out: TypedArray, extra: readonly number[] = []): boolean =>
      (wasmGemmEnabled() && this.#get(out.length, floors.map)?.pass(op, [...inputs, out], extra)) || onWasm(op, inputs, out, extra),
    unaryRange: (op: UnaryOp, a: TypedArray, out: TypedArray, lo: number, hi: number, p: number): void => {
      if (!(lo === 0 && hi === a.length && this.#get(a.length, floors.unary)?.unary(op, a, out))) unaryRange(op, a, out, lo, hi, p);
    },
    pass: (op: WasmPass, slots: readonly (Float32Array | null)[], numbers: readonly number[]): boolean =>
      this.#get(slots[0]!.length, floors.map)?.pass(op, slots, numbers) || passWasm(op, slots, numbers),
    pool: (kind: PoolKind, x: TypedArray, out: TypedArray, g: ConvGeometry): void => void (this.#window(0, kind, x, null, out, g) || pool(kind, x, out, g)),
    poolGrad: (kind: PoolKind, x: TypedArray, d: TypedArray, out: TypedArray, g: ConvGeometry): void =>
      void (this.#window(1, kind, x, d, out, g) || poolGrad(kind, x, d, out, g)),
  };
}

/**
 * A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks,
 * `cpu({ threads: 1 })` to keep every kernel on the calling thread.
 */
export function cpu(options: CpuOptions = {}): CpuBackend {
  const { dtype, maxBytes, threads: asked } = cpuOptions(options);
  const threads = canBlock() ? (asked ?? availableCores()) : 1;
  const arena = dtype === 'float32' ? (sharedWasm()?.arena ?? null) : null;
  return new Backend(threads > 1 ? new ThreadedKernels(dtype, maxBytes, threads, arena) : new CpuKernels(dtype, maxBytes, arena));
}
