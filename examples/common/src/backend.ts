import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';

/**
 * The `--backend` flag of the example apps: `cpu`, `cpu:float64`, `gpu` (auto) or `gpu:<mode>`
 * with mode webgpu | webgl2 | headlessgl | webasm.
 */
export async function backendFromFlag(flag = 'cpu'): Promise<Backend> {
  const [kind, opt] = flag.split(':');
  if (kind === 'cpu') {
    if (opt && opt !== 'float32' && opt !== 'float64') throw new Error(`--backend ${flag}: cpu takes float32 or float64`);
    return cpu({ dtype: (opt as 'float32' | 'float64' | undefined) ?? 'float32' });
  }
  if (kind === 'gpu') {
    const { gpu } = await import('@neurone/backend-gpu');
    return gpu({ mode: (opt ?? 'auto') as never });
  }
  throw new Error(`--backend ${flag}: expected cpu, cpu:float64, gpu or gpu:<mode>`);
}
