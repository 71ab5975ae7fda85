#!/usr/bin/env node
/**
 * Size budgets, measured as a user's bundler would ship the packages to a browser: esbuild
 * --platform=browser --minify from the built dist, then gzip -9.
 * - the CPU MLP bundle (core + backend-cpu + layers + losses + optim, a script that trains XOR
 *   with fit): at most BUDGET bytes gzipped;
 * - the GPU backend's own code (gpu.js left external) reported beside gpu.js's own size.
 * Exits 1 when a budget is exceeded.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { xorSource } from './lib/xor.mjs';

const BUDGET = 37_600; // bytes, minified + gzipped (README.md, "Size budget")
const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'examples/autoencoder/.size-check'); // resolves every @neurone package
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

async function measure(name, source, external = [], resolveDir = dir) {
  const entry = join(dir, `${name}.mjs`);
  const out = await build({ stdin: { contents: source, resolveDir, sourcefile: entry }, bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', minify: true, external, logLevel: 'silent' });
  const bytes = out.outputFiles[0].contents;
  return { min: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
}
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

let failed = false;
try {
  const mlp = await measure(
    'mlp',
    xorSource(`import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
const report = (r) => console.log(r);`),
  );
  const ok = mlp.gz <= BUDGET;
  failed ||= !ok;
  console.log(`size: CPU MLP bundle (core + backend-cpu + layers + losses + optim): ${kB(mlp.min)} minified, ${kB(mlp.gz)} gzipped (budget ${kB(BUDGET)}) ${ok ? 'OK' : 'OVER BUDGET'}`);
  const own = await measure('gpu-own', `export { gpu, availableModes } from '@neurone/backend-gpu';`, ['gpu.js', '@neurone/core']);
  const gpujs = await measure('gpujs', `export { GPU } from 'gpu.js';`, [], join(root, 'packages/backend-gpu'));
  console.log(`size: @neurone/backend-gpu's own code ${kB(own.min)} minified, ${kB(own.gz)} gzipped; gpu.js ${kB(gpujs.min)} minified, ${kB(gpujs.gz)} gzipped`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
