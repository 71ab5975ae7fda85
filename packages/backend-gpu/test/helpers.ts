/** Test helpers: clear failures naming what to install, and device-object counters. */
import { modeAvailability } from '../src/index';
import type { GpuMode } from '../src/index';

/** Debian packages that Node's webgpu mode needs on a machine without a GPU (Dawn's OpenGL ES backend over Mesa llvmpipe). */
export const DAWN_GLES_APT = 'libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri';

/** Throws, naming what to install, when `mode` cannot run here. */
export function requireMode(mode: GpuMode): void {
  const why = modeAvailability()[mode];
  if (why === true) return;
  const hint =
    mode === 'webgpu'
      ? `install the npm package webgpu@0.6.2 (pnpm install), and on Debian: apt-get install -y ${DAWN_GLES_APT}`
      : mode === 'headlessgl'
        ? 'build the npm package gl (allowBuilds in pnpm-workspace.yaml) and run under Xvfb (apt-get install -y xvfb)'
        : 'this runtime has no WebAssembly';
  throw new Error(`gpu mode '${mode}' is not available: ${why}. To fix: ${hint}`);
}

interface Proto {
  prototype: Record<string, unknown>;
}

/** Counts live WebGPU buffers by wrapping GPUDevice.createBuffer / GPUBuffer.destroy (Dawn's globals in Node, the browser's own). */
export function countGpuBuffers(): () => number {
  const g = globalThis as unknown as { GPUDevice?: Proto; GPUBuffer?: Proto };
  if (!g.GPUDevice || !g.GPUBuffer) throw new Error('GPUDevice/GPUBuffer globals are missing');
  const live = new Set<unknown>();
  const dev = g.GPUDevice.prototype;
  const buf = g.GPUBuffer.prototype;
  const create = dev.createBuffer as (this: unknown, d: unknown) => unknown;
  const destroy = buf.destroy as (this: unknown) => void;
  dev.createBuffer = function (this: unknown, d: unknown) {
    const b = create.call(this, d);
    live.add(b);
    return b;
  };
  buf.destroy = function (this: unknown) {
    live.delete(this);
    return destroy.call(this);
  };
  return () => live.size;
}
