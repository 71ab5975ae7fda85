/**
 * `@neurone/backend-cpu/threads` in a Web Worker of a cross-origin-isolated page in headless
 * Chromium (Debian's `chromium`, driven by playwright-core): the pool's workers are Web Workers
 * there, and every job gives the bits of one thread (test/browser/threads-worker.ts).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { launchChromium } from '../../../scripts/lib/chromium.mjs';
import type { LaunchedChromium } from '../../../scripts/lib/chromium.mjs';

let server: Server | undefined;
let browser: LaunchedChromium | undefined;
let origin = '';

beforeAll(async () => {
  const entry = fileURLToPath(new URL('./browser/threads-worker.ts', import.meta.url));
  const out = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', conditions: ['@neurone/source'], logLevel: 'silent' });
  const js = out.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><title>neurone threads</title><script type="module">
    const w = new Worker('/worker.js', { type: 'module' });
    globalThis.result = new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.onerror = (e) => resolve({ error: e.message }); });
  </script>`;
  // cross-origin isolation: SharedArrayBuffer and Atomics.wait in workers
  const isolated = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  server = createServer((req, res) => {
    if (req.url === '/worker.js') res.writeHead(200, { 'content-type': 'text/javascript', ...isolated }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html', ...isolated }).end(html);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('headless Chromium, a Web Worker of a cross-origin-isolated page', () => {
  it('cpu({ threads: 2 | 3 }) of ./threads starts its Web Workers and gives the bits of one thread on every kind of job', async () => {
    const page = await browser!.context.newPage();
    await page.goto(`${origin}/`);
    const r = (await page.evaluate(() => (globalThis as unknown as { result: Promise<unknown> }).result)) as { error?: string; ready: number[]; crossOriginIsolated: boolean; runs: number[][][] };
    if (r.error) throw new Error(`in Chromium: ${r.error}`);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.ready).toEqual([1, 2]); // the pools of 2 and 3 threads: 1 and 2 workers started
    const [one, ...rest] = r.runs;
    expect(one!.length).toBe(9);
    for (const [i, run] of rest.entries())
      run.forEach((arr, j) => {
        expect(arr.length).toBe(one![j]!.length);
        for (let e = 0; e < arr.length; e++) if (!Object.is(arr[e], one![j]![e])) expect.fail(`${i + 2} threads, output ${j} [${e}]: ${arr[e]} ≠ ${one![j]![e]}`);
      });
  }, 180_000);
});
