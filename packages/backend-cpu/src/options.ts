import { ValueError, checkOptions } from '@neurone/core';
import type { Backend, DType } from '@neurone/core';
import type { CpuKernels } from './kernels';

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
  /**
   * The most bytes its live tensors may hold together (default: no limit but the host's
   * available memory); an op past it throws a MemoryError before allocating.
   */
  maxBytes?: number;
}

/** The CPU backend: core's op layer over the CPU kernels. */
export type CpuBackend = Backend<CpuKernels>;

/** Checks cpu()'s options; the dtype, the byte bound and the thread count asked for (undefined: the default). */
export function cpuOptions(options: CpuOptions): { dtype: DType; maxBytes: number; threads: number | undefined } {
  if (options == null || typeof options !== 'object') throw new ValueError(`cpu: options must be an object, got ${String(options)}`);
  const { dtype = 'float32', maxBytes = Infinity, threads } = checkOptions('cpu', options, { dtype: ['float32', 'float64'], maxBytes: 'number', threads: 'integer' });
  if (!(maxBytes > 0)) throw new ValueError(`cpu: maxBytes must be a positive number of bytes, got ${String(maxBytes)}`);
  if (threads !== undefined && !(threads >= 1 && threads <= 256)) throw new ValueError(`cpu: threads must be an integer in 1..256, got ${threads}`);
  return { dtype, maxBytes, threads };
}
