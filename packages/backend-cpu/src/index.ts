import { Backend } from '@neurone/core';
import type { DType, TypedArray, UnaryOp } from '@neurone/core';
import { CpuKernels } from './kernels';
import { gemm } from './gemm';
import type { ParallelGemm } from './gemm';
import { cpuOptions } from './options';
import type { CpuBackend, CpuOptions } from './options';
import { ThreadPool, availableCores, canBlock, floors } from './threads';

export { CpuKernels };
export type { CpuBackend, CpuOptions };

/** The kernels of `cpu({ threads })` with threads > 1: large products and costly maps go to the pool (threads.ts). */
class ThreadedKernels extends CpuKernels {
  readonly #threads: number;
  #pool: ThreadPool | null | undefined;
  readonly #gemm: ParallelGemm = (a, b, c, m, n, k, ta, tb) => 2 * m * n * k >= floors.gemm && this.#get() !== null && this.#pool!.gemm(a, b, c, m, n, k, ta, tb);

  constructor(dtype: DType, threads: number) {
    super(dtype);
    this.#threads = threads;
  }

  override get threads(): number {
    return this.#threads;
  }

  #get(): ThreadPool | null {
    return (this.#pool ??= ThreadPool.get(this.#threads));
  }

  protected override product(a: TypedArray, b: TypedArray, c: TypedArray, m: number, n: number, k: number, ta: boolean, tb: boolean): void {
    gemm(a, b, c, m, n, k, ta, tb, this.#gemm);
  }

  protected override map(op: UnaryOp, a: TypedArray, out: TypedArray): void {
    if (!(a.length >= floors.unary && this.#get() !== null && this.#pool!.unary(op, a, out))) super.map(op, a, out);
  }
}

/**
 * A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks,
 * `cpu({ threads: 1 })` to keep every kernel on the calling thread.
 */
export function cpu(options: CpuOptions = {}): CpuBackend {
  const { dtype, threads: asked } = cpuOptions(options);
  const threads = canBlock() ? (asked ?? availableCores()) : 1;
  return new Backend(threads > 1 ? new ThreadedKernels(dtype, threads) : new CpuKernels(dtype));
}
