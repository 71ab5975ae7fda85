import type { Backend } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import type { OptionDef } from './cli';

const CPU_DTYPES = ['float32', 'float64'] as const;

/**
 * What is wrong with a `--backend` value, or undefined when it names a backend: `cpu`,
 * `cpu:float32`, `cpu:float64`, `gpu` (the first available gpu.js mode) or `gpu:<mode>`.
 * Whether a GPU mode is *available* on this machine is only known when it is built.
 */
export async function checkBackendFlag(flag: string): Promise<string | undefined> {
  const [kind, opt, ...rest] = flag.split(':');
  if (rest.length) return 'expected cpu, cpu:float64, gpu or gpu:<mode>';
  if (kind === 'cpu') return opt === undefined || (CPU_DTYPES as readonly string[]).includes(opt) ? undefined : `cpu takes ${CPU_DTYPES.join(' or ')}`;
  if (kind === 'gpu') {
    if (opt === undefined || opt === 'auto') return undefined;
    const { GPU_MODES } = await import('@neurone/backend-gpu');
    return (GPU_MODES as readonly string[]).includes(opt) ? undefined : `unknown gpu mode '${opt}' (one of ${GPU_MODES.join(', ')}, auto)`;
  }
  return 'expected cpu, cpu:float64, gpu or gpu:<mode>';
}

/**
 * The backend a `--backend` value names (see checkBackendFlag); on a GPU it waits for the
 * device (webgpu confirms an adapter here).
 */
export async function backendFromFlag(flag = 'cpu'): Promise<Backend> {
  const problem = await checkBackendFlag(flag);
  if (problem) throw new Error(`--backend ${flag}: ${problem}`);
  const [kind, opt] = flag.split(':');
  if (kind === 'cpu') return cpu({ dtype: (opt as 'float32' | 'float64' | undefined) ?? 'float32' });
  const { gpu } = await import('@neurone/backend-gpu');
  const b = gpu({ mode: (opt ?? 'auto') as 'auto' });
  return b.ready();
}

/** The `--backend` option of the apps whose model can run on any backend. */
export function backendOption(defaultFlag = 'cpu'): OptionDef & { type: 'string'; default: string } {
  return {
    type: 'string',
    arg: 'KIND',
    default: defaultFlag,
    description: 'cpu, cpu:float64, gpu (first available mode) or gpu:webgpu|webgl2|headlessgl|webasm',
    validate: checkBackendFlag,
  };
}
