/** TF.js, the peer measured beside us: its pure-JS `cpu` backend and its `wasm` backend (XNNPACK). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// the umbrella package: its Node bundle registers the gradients that optimizers need
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let wasmReady = false;

export async function useTf(name: 'cpu' | 'wasm'): Promise<typeof tf> {
  if (name === 'wasm' && !wasmReady) {
    const require = createRequire(import.meta.url);
    // in Node the wasm backend loads its .wasm files from its own package folder
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    setWasmPaths(join(dir, 'dist') + '/');
    wasmReady = true;
  }
  await tf.setBackend(name);
  await tf.ready();
  return tf;
}

export { tf };
