import { Backend, ValueError, checkOptions } from '@neurone/core';
import type { DType } from '@neurone/core';
import { CpuKernels } from './kernels';

export { CpuKernels };

/** Options of `cpu()`. */
export interface CpuOptions {
  /** 'float32' (default) or 'float64' (for tight gradient checks). */
  dtype?: DType;
  /**
   * The most bytes its live tensors may hold together (default: no limit but the host's
   * available memory); an op past it throws a MemoryError before allocating.
   */
  maxBytes?: number;
}

/** The CPU backend: core's op layer over the CPU kernels. */
export type CpuBackend = Backend<CpuKernels>;

/** A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks. */
export function cpu(options: CpuOptions = {}): CpuBackend {
  if (options == null || typeof options !== 'object') throw new ValueError(`cpu: options must be an object, got ${String(options)}`);
  const { dtype = 'float32', maxBytes = Infinity } = checkOptions('cpu', options, { dtype: ['float32', 'float64'], maxBytes: 'number' });
  if (!(maxBytes > 0)) throw new ValueError(`cpu: maxBytes must be a positive number of bytes, got ${String(maxBytes)}`);
  return new Backend(new CpuKernels(dtype, maxBytes));
}
