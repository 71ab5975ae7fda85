/**
 * The package as bundlers build it for a browser (the `browser` export condition): the same API,
 * every kernel on the calling thread. A browser's main thread cannot block on workers, and this
 * keeps the thread pool out of the page's bundle; in a Web Worker of a cross-origin-isolated
 * page, import `@neurone/backend-cpu/threads` for `cpu({ threads })` across Web Workers.
 */
import { Backend } from '@neurone/core';
import { CpuKernels } from './kernels';
import { cpuOptions } from './options';
import type { CpuBackend, CpuOptions } from './options';

export { CpuKernels };
export { wasmGemmFused as fusedMultiplyAdd } from './wasm-gemm';
export type { CpuBackend, CpuOptions };

/** A CPU backend on the calling thread: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks (`threads` is accepted and ignored here). */
export function cpu(options: CpuOptions = {}): CpuBackend {
  const { dtype, maxBytes } = cpuOptions(options);
  return new Backend(new CpuKernels(dtype, maxBytes));
}
