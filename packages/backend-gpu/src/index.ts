export { gpu, GpuBackend, GpuKernels, KERNEL_CACHE_SIZE, availableModes, modeAvailability, releaseGpu, GPU_MODES } from './backend';
export type { GpuMode, GpuOptions } from './backend';
export { installNodeWebGPU } from './node-webgpu';
export type { DawnOptions, DawnStatus } from './node-webgpu';
