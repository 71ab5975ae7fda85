/**
 * WebGPU in Node through Dawn (the `webgpu` npm package): gpu.js only looks at `navigator.gpu`,
 * which Node lacks, so this module creates it. Loaded synchronously (Node ≥ 20.19 can require
 * an ES module), and only in Node: browsers bring their own `navigator.gpu`.
 */

export interface DawnOptions {
  /**
   * Dawn toggles passed to `create()`, e.g. `['backend=vulkan']` or `['backend=opengles']`.
   * Default: the `NEURONE_DAWN` environment variable (comma-separated), else none (Dawn picks).
   */
  flags?: string[];
}

/** Whether Dawn (npm `webgpu`) set up `navigator.gpu` in Node, and why not. */
export interface DawnStatus {
  installed: boolean;
  /** Why `navigator.gpu` could not be set up (missing package, library, glibc...). */
  error?: string;
}

let status: DawnStatus | undefined;

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

type GpuLike = { requestAdapter(o?: Record<string, unknown>): Promise<unknown> };

/**
 * Sets `globalThis.navigator.gpu` from Dawn when running in Node and no `navigator.gpu` exists.
 * Asks Dawn for a core adapter first and falls back to a compatibility one (Dawn's OpenGL ES
 * backend offers only that — e.g. Mesa llvmpipe, with EGL_PLATFORM=surfaceless, on machines
 * without a GPU). Idempotent; returns what happened.
 */
export function installNodeWebGPU(options: DawnOptions = {}): DawnStatus {
  if (status) return status;
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu) return (status = { installed: true });
  if (!isNode()) return (status = { installed: false, error: 'navigator.gpu is missing (this browser has no WebGPU, or it is disabled)' });
  try {
    // EGL without a display server: Mesa's surfaceless platform (read when EGL starts)
    process.env.EGL_PLATFORM ??= 'surfaceless';
    const getBuiltin = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    if (!getBuiltin) throw new Error('process.getBuiltinModule is missing (Node ≥ 20.16 needed)');
    const { createRequire } = getBuiltin('node:module') as { createRequire: (u: string) => (id: string) => unknown };
    const req = createRequire(import.meta.url);
    const dawn = req('webgpu') as { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    const env = process.env.NEURONE_DAWN;
    const flags = options.flags ?? (env ? env.split(',').map((s) => s.trim()).filter(Boolean) : []);
    const gpu = dawn.create(flags);
    const request = gpu.requestAdapter.bind(gpu);
    let gles: GpuLike | undefined;
    gpu.requestAdapter = async (o: Record<string, unknown> = {}) => {
      const core = o.featureLevel ? null : await request(o).catch(() => null);
      const compat = core ?? (await request({ ...o, featureLevel: 'compatibility' }).catch(() => null));
      if (compat || flags.some((f) => f.startsWith('backend='))) return compat;
      // no Vulkan adapter (no driver, or Mesa lavapipe which Dawn rejects): Dawn's OpenGL ES backend
      gles ??= dawn.create(['backend=opengles']);
      return gles.requestAdapter({ ...o, featureLevel: 'compatibility' });
    };
    for (const [k, v] of Object.entries(dawn.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (g.navigator) {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    } else {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    return (status = { installed: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return (status = { installed: false, error: `cannot load Dawn (npm package 'webgpu'): ${msg}` });
  }
}
