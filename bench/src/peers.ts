/** TF.js, the peer measured beside us: its pure-JS `cpu` backend and its `wasm` backend (XNNPACK). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';

type Tf = typeof TfModule;

let tf: Tf | undefined;
let wasmReady = false;

/** TF.js on backend `name`; loaded on first use, so a process that runs only ours never loads it. */
export async function useTf(name: 'cpu' | 'wasm'): Promise<Tf> {
  // the umbrella package: its Node bundle registers the gradients that optimizers need
  tf ??= await import('@tensorflow/tfjs');
  if (name === 'wasm' && !wasmReady) {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // in Node the wasm backend loads its .wasm files from its own package folder
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(join(dir, 'dist') + '/');
    wasmReady = true;
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' did not initialise`);
  await tf.ready();
  return tf;
}
