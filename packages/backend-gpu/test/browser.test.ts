/**
 * The backend in headless Chromium (Debian's `chromium` package): WebGL2 and WebGPU, both on
 * SwiftShader (software) on machines without a GPU. The page is bundled here with esbuild,
 * served from localhost (a secure context, which WebGPU requires) and driven by playwright-core.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../../scripts/lib/chromium.mjs';
import type { LaunchedChromium } from '../../../scripts/lib/chromium.mjs';
import type { Task } from './browser/page';
import { PARITY_RTOL } from './tolerances';

let server: Server | undefined;
const MiB = 2 ** 20;
let browser: LaunchedChromium | undefined;
let page: Page | undefined;
let origin = '';

beforeAll(async () => {
  const entry = fileURLToPath(new URL('./browser/page.ts', import.meta.url));
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@neurone/source'],
    logLevel: 'silent',
  });
  const js = out.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>neurone gpu</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium({ flags: ['--enable-unsafe-webgpu', '--enable-precise-memory-info', '--js-flags=--expose-gc'] });
  page = await browser.context.newPage();
  await page.exposeFunction('chromiumRss', () => browser!.rssByType());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

/** Loads a fresh page and runs one task in it. */
async function runInPage(task: Task): Promise<Record<string, unknown>> {
  await page!.goto(`${origin}/`);
  await page!.waitForFunction(() => 'neuroneRun' in globalThis);
  const r = (await page!.evaluate((t) => (globalThis as unknown as { neuroneRun: (t: unknown) => Promise<unknown> }).neuroneRun(t), task)) as Record<string, unknown>;
  if (r.error) throw new Error(`in Chromium (${task.mode}): ${String(r.error)}`);
  return r;
}

for (const mode of ['webgl2', 'webgpu'] as const) {
  describe(`headless Chromium, gpu({ mode: '${mode}' })`, () => {
    it('passes every case of the conformance suite', async () => {
      const r = await runInPage({ kind: 'conformance', mode });
      expect(r.name).toBe(`gpu(${mode})`);
      const results = r.results as { name: string; ok: boolean; error?: string }[];
      console.log(`chromium ${mode}: conformance ${results.filter((x) => x.ok).length}/${results.length} in ${((r.ms as number) / 1000).toFixed(1)} s`);
      expect(results.filter((x) => !x.ok)).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(13);
    }, 300_000);

    it('passes every case of the module conformance suite (layers, losses, optimizer steps)', async () => {
      const r = await runInPage({ kind: 'modules', mode });
      const results = r.results as { name: string; ok: boolean; error?: string }[];
      console.log(`chromium ${mode}: module conformance ${results.filter((x) => x.ok).length}/${results.length} in ${((r.ms as number) / 1000).toFixed(1)} s`);
      expect(results.filter((x) => !x.ok)).toEqual([]);
      expect(results.length).toBeGreaterThanOrEqual(21);
    }, 300_000);

    it('trains W2 (reduced width, see parity.test.ts) on the same loss curve as cpu()', async () => {
      const steps = Number(process.env.BROWSER_PARITY_STEPS ?? 200);
      const hidden = Number(process.env.BROWSER_PARITY_HIDDEN ?? 32);
      const r = await runInPage({ kind: 'parity', mode, steps, hidden });
      const gap = r.gap as { maxRel: number; at: number };
      const g = r.gpu as { losses: number[]; ms: number };
      console.log(`chromium ${mode}: W2 hidden ${hidden}, ${steps} steps in ${(g.ms / 1000).toFixed(1)} s; max relative loss gap ${gap.maxRel.toExponential(2)} at step ${gap.at}`);
      expect(g.losses).toHaveLength(steps);
      expect(gap.maxRel).toBeLessThanOrEqual(PARITY_RTOL);
    }, 600_000);

    it('does not grow memory over 500 training steps (tensors and device objects)', async () => {
      const r = await runInPage({ kind: 'memory', mode, steps: 500 });
      const warm = r.warm as Record<string, number>;
      const end = r.end as Record<string, number>;
      console.log(`chromium ${mode}: memory after 10 steps ${JSON.stringify(warm)}, after 500 ${JSON.stringify(end)}`);
      expect(end).toEqual(warm);
      expect(Number.isFinite(r.lastLoss as number)).toBe(true);
    }, 600_000);
  });
}

describe("headless Chromium, gpu({ mode: 'webgpu' }): a training loop with no tidy() and no dispose()", () => {
  it('2,000 steps (Linear, BatchNorm1d, Dropout, AdamW through Optim.step) leave tensors, GPU buffers and memory flat', async () => {
    const r = await runInPage({ kind: 'no-tidy', mode: 'webgpu', steps: 2000 });
    type Sample = { tensors: number; bytes: number; device: number; jsHeap: number; rss: Record<string, number> };
    const [start, warm, end] = [r.start, r.warm, r.end] as Sample[];
    const samples = r.samples as Sample[]; // steps 1000, 1250, 1500, 1750, 2000
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    const total = (s: Sample) => Object.values(s.rss).reduce((a, b) => a + b, 0);
    const byType = (s: Sample) => Object.entries(s.rss).map(([k, v]) => `${k} ${mib(v)}`).join(', ');
    const renderer = samples.map((s) => s.rss.renderer!);
    const steps = renderer.slice(1).map((v, k) => v - renderer[k]!);
    console.log(
      `chromium webgpu no-tidy loop: Chromium RSS ${mib(total(start!))} at step 1, ${mib(total(warm!))} at step 1000, ${mib(total(end!))} at step 2000 ` +
        `(step 1000: ${byType(warm!)}; step 2000: ${byType(end!)}); renderer every 250 steps from 1000: ${renderer.map(mib).join(', ')}; ` +
        `JS heap ${mib(warm!.jsHeap)} → ${mib(end!.jsHeap)}; live tensors ${start!.tensors} → ${end!.tensors}, GPU buffers ${start!.device} → ${end!.device}; last loss ${(r.lastLoss as number).toFixed(4)}`,
    );
    expect(samples).toHaveLength(5);
    expect(end!.tensors).toBe(warm!.tensors);
    expect(end!.bytes).toBe(warm!.bytes);
    expect(end!.device).toBeLessThanOrEqual(warm!.device); // gpu.js keeps a few buffers for reuse
    // The counters above are the exact leak check. The renderer's RSS is the backstop for what
    // they cannot see (Dawn's client objects, mapped read-back buffers). It reaches a plateau of
    // ~580 MiB, but not always by step 1000: on an idle machine it was flat from 1000 to 2000
    // (583.5 → 581.2 MiB); with the whole test suite beside it, it still grew 539 → 589 MiB. A
    // leak grows in every interval, a warm-up once: at least one of the four 250-step intervals
    // grows < 4 MiB (a leak of 16 KiB per step, one 64×64 float tensor, grows 4 MiB in each), and
    // the 1,000 steps grow < 64 MiB (the leak this loop was written for grew 256 KiB per step).
    expect(Math.min(...steps)).toBeLessThan(4 * MiB);
    expect(renderer[4]! - renderer[0]!).toBeLessThan(64 * MiB);
    expect(Number.isFinite(r.lastLoss as number)).toBe(true);
  }, 1_200_000);
});

describe("headless Chromium, gpu({ mode: 'webgl2' }) device errors", () => {
  it('a GL error flag and a real context loss (WEBGL_lose_context) each give a BackendError naming the op, never values', async () => {
    const r = await runInPage({ kind: 'device-errors', mode: 'webgl2' });
    console.log(`chromium webgl2 device errors: ${JSON.stringify(r)}`);
    expect(r.before).toBe('values 1, 4, 9');
    expect(r.flagged).toMatch(/^BackendError: tanh: gpu\(webgl2\) reported GL_INVALID_ENUM at or before this op; its results cannot be trusted/);
    expect(r.later).toMatch(/^BackendError: abs: the webgl2 context failed earlier \(GL_INVALID_ENUM\)/);
    expect(r.fresh).toBe('values 9');
    expect(r.lost).toMatch(/^BackendError: tanh: the webgl2 context was lost; create a new backend/);
  }, 120_000);
});
