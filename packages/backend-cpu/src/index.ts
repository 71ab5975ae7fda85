import { Backend, ValueError } from '@neurone/core';
import type { DType } from '@neurone/core';
import { CpuKernels } from './kernels';
import type { Parallel } from './gemm';
import { ThreadPool, availableCores, canBlock, floors } from './threads';

export { CpuKernels };

/** Options of `cpu()`. */
export interface CpuOptions {
  /** 'float32' (default) or 'float64' (for tight gradient checks). */
  dtype?: DType;
  /**
   * Threads that large float32 products run on (default: the cores available; always 1 where
   * the calling thread cannot block, e.g. a browser's main thread, and in the browser build).
   * Results are bit-identical whatever the count.
   */
  threads?: number;
}

/** The CPU backend: core's op layer over the CPU kernels. */
export type CpuBackend = Backend<CpuKernels>;

/** Checks cpu()'s options; the dtype and the thread count asked for (undefined: the default). */
export function cpuOptions(options: CpuOptions): { dtype: DType; threads: number | undefined } {
  if (options == null || typeof options !== 'object') throw new ValueError(`cpu: options must be an object, got ${String(options)}`);
  const { dtype = 'float32', threads } = options;
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`cpu: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new ValueError(`cpu: threads must be an integer from 1 to 256, got ${String(threads)}`);
  return { dtype, threads };
}

/**
 * A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks,
 * `cpu({ threads: 1 })` to keep every kernel on the calling thread.
 */
export function cpu(options: CpuOptions = {}): CpuBackend {
  const { dtype, threads: asked } = cpuOptions(options);
  const threads = canBlock() ? (asked ?? availableCores()) : 1;
  let pool: ThreadPool | null | undefined;
  const parallel: Parallel | undefined =
    threads > 1
      ? {
          gemm: (a, b, c, m, n, k, ta, tb) => 2 * m * n * k >= floors.gemm && (pool ??= ThreadPool.get(threads)) !== null && pool.gemm(a, b, c, m, n, k, ta, tb),
          unary: (op, a, out) => a.length >= floors.unary && (pool ??= ThreadPool.get(threads)) !== null && pool.unary(op, a, out),
        }
      : undefined;
  return new Backend(new CpuKernels(dtype, threads, parallel));
}
