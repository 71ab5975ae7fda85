import { Backend, ValueError } from '@neurone/core';
import type { DType } from '@neurone/core';
import { CpuKernels } from './kernels';

export { CpuKernels };

/** Options of `cpu()`. */
export interface CpuOptions {
  /** 'float32' (default) or 'float64' (for tight gradient checks). */
  dtype?: DType;
  /** Worker threads for large kernels (default: the cores available; 1 on a browser main thread). */
  threads?: number;
}

/** The CPU backend: core's op layer over the CPU kernels. */
export type CpuBackend = Backend<CpuKernels>;

/** A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks. */
export function cpu(options: CpuOptions = {}): CpuBackend {
  if (options == null || typeof options !== 'object') throw new ValueError(`cpu: options must be an object, got ${String(options)}`);
  const { dtype = 'float32', threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new ValueError(`cpu: threads must be a positive integer, got ${String(threads)}`);
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`cpu: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  return new Backend(new CpuKernels(dtype));
}
