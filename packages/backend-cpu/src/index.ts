import { Backend, ValueError, checkOptions } from '@neurone/core';
import type { DType } from '@neurone/core';
import { CpuKernels } from './kernels';

export { CpuKernels };

/** Options of `cpu()`. */
export interface CpuOptions {
  /** 'float32' (default) or 'float64' (for tight gradient checks). */
  dtype?: DType;
}

/** The CPU backend: core's op layer over the CPU kernels. */
export type CpuBackend = Backend<CpuKernels>;

/** A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks. */
export function cpu(options: CpuOptions = {}): CpuBackend {
  if (options == null || typeof options !== 'object') throw new ValueError(`cpu: options must be an object, got ${String(options)}`);
  const { dtype = 'float32' } = checkOptions('cpu', options, { dtype: ['float32', 'float64'] });
  return new Backend(new CpuKernels(dtype));
}
