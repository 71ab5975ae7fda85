/**
 * The app end to end in headless Chromium (Debian's `chromium`, driven by playwright-core): the
 * site is built with Vite, served from 127.0.0.1 and used as a person would — pick a backend,
 * train, switch backend mid-training, draw digits with the mouse, save and load the model, export
 * it as ONNX, feed
 * it a corrupt file and a learning rate that makes the loss overflow. WebGL2 and WebGPU run on
 * SwiftShader (software). Screenshots go to examples/web/test-results/.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { fromOnnx } from '@neurone/onnx';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../../scripts/lib/chromium.mjs';
import type { LaunchedChromium } from '../../../scripts/lib/chromium.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const ARTIFACTS = join(ROOT, 'test-results');
const PORT = 47318;
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.bin': 'application/octet-stream' };

type Kind = 'cpu' | 'webgl2' | 'webgpu';
interface WebState {
  ready: boolean;
  running: boolean;
  backend: Kind;
  arch: 'mlp' | 'cnn';
  availability: Record<Kind, true | string>;
  steps: { step: number; loss: number; backend: Kind }[];
  evals: { step: number; accuracy: number }[];
  speed: Partial<Record<Kind, number>>;
  errors: string[];
  prediction: null | { digit: number; probs: number[] };
  loaded: number;
  moves: { from: Kind; optimizerStep: number; before: number; after: number }[];
}

let server: Server | undefined;
let origin = '';
const browsers: LaunchedChromium[] = [];

async function launch(flags: string[]): Promise<Page> {
  const browser = await launchChromium({ flags, prefix: 'neurone-web-', acceptDownloads: true, viewport: { width: 1280, height: 960 } });
  browsers.push(browser);
  return browser.context.newPage();
}

/** Opens the app; every console error and page error is collected into `errors`. */
async function open(page: Page, errors: string[]): Promise<void> {
  page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as { webState?: WebState }).webState?.ready, null, { timeout: 120_000 });
}

const web = (page: Page): Promise<WebState> => page.evaluate(() => (window as unknown as { webState: WebState }).webState);
async function until(page: Page, what: string, fn: (s: WebState) => boolean, timeoutMs = 480_000): Promise<WebState> {
  const t0 = Date.now();
  for (;;) {
    const s = await web(page);
    if (fn(s)) return s;
    if (s.errors.length) throw new Error(`${what}: the page shows an error: ${s.errors.join('; ')}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not reached in ${timeoutMs / 1000} s; last accuracy ${JSON.stringify(s.evals.at(-1))}, ${s.steps.length} steps`);
    await page.waitForTimeout(250);
  }
}
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const std = (a: number[]): number => Math.sqrt(mean(a.map((v) => (v - mean(a)) ** 2)));

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  // the site as `pnpm --filter @example/web build` makes it
  execFileSync('pnpm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = join(DIST, path === '/' ? 'index.html' : path);
    if (!file.startsWith(DIST) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  // a port of its own; another if something holds it
  await new Promise<void>((resolve, reject) => {
    server!.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? server!.listen(0, '127.0.0.1', resolve) : reject(e)));
    server!.listen(PORT, '127.0.0.1', resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 300_000);

afterAll(async () => {
  for (const b of browsers) await b.close();
  await new Promise((r) => server?.close(r));
});

describe('the built site', () => {
  it('loads gpu.js, uPlot and @neurone/onnx only when used; reports its JavaScript, gzipped', () => {
    const assets = join(DIST, 'assets');
    const html = readFileSync(join(DIST, 'index.html'), 'utf8');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const read = (f: string): string => readFileSync(join(assets, f), 'utf8');
    // loaded at once: the page's entry, the worker it starts, and the chunks they import statically
    const atLoad = new Set(js.filter((f) => html.includes(f) || f.startsWith('worker-')));
    for (const f of atLoad) for (const m of read(f).matchAll(/(?:from|import)\s*"\.\/([\w.-]+\.js)"/g)) atLoad.add(m[1]!);
    const rows = js.map((f) => {
      const text = read(f);
      return { f, initial: atLoad.has(f), gzip: gzipSync(text).length, gpujs: text.includes('isWebGL2Supported'), uplot: text.includes('u-legend'), onnx: text.includes('BatchNormalization') };
    });
    const kb = (n: number): string => `${(n / 1024).toFixed(1)} kB`;
    const initial = rows.filter((r) => r.initial);
    console.log(`built site JavaScript (gzip): ${rows.map((r) => `${r.f} ${kb(r.gzip)}${r.initial ? ' (at load)' : ' (lazy)'}`).join(', ')}`);
    console.log(`  at load: ${kb(initial.reduce((s, r) => s + r.gzip, 0))}; total: ${kb(rows.reduce((s, r) => s + r.gzip, 0))}`);
    expect(initial.map((r) => r.f.split('-')[0])).toEqual(expect.arrayContaining(['index', 'worker']));
    expect(initial.some((r) => r.gpujs || r.uplot || r.onnx)).toBe(false);
    for (const what of ['gpujs', 'uplot', 'onnx'] as const) expect(rows.some((r) => !r.initial && r[what]), what).toBe(true);
  });
});

describe('the app in Chromium (WebGL2 and WebGPU on SwiftShader)', () => {
  let page: Page;
  const errors: string[] = [];

  it('loads with no console error and finds every backend', async () => {
    page = await launch(['--enable-unsafe-webgpu']);
    await open(page, errors);
    const s = await web(page);
    expect(s.availability).toEqual({ cpu: true, webgl2: true, webgpu: true });
    expect(errors).toEqual([]);
  });

  it('trains on webgl2, continues on webgpu and on the CPU worker; each switch continues the loss curve with the optimizer state', async () => {
    await page.check('input[value=webgl2]');
    await until(page, 'on webgl2', (s) => s.backend === 'webgl2');
    await page.click('#toggle');
    let s = await until(page, 'webgl2 accuracy ≥ 0.5', (s) => (s.evals.at(-1)?.accuracy ?? 0) >= 0.5);
    console.log(`webgl2 from scratch: accuracy ${s.evals.at(-1)!.accuracy} at step ${s.evals.at(-1)!.step}`);
    await shot(page, 'webgl2');
    for (const [kind, minSteps, target] of [['webgpu', 10, 0.6], ['cpu', 150, 0.85]] as const) {
      const before = (await web(page)).steps.length;
      await page.check(`input[value=${kind}]`);
      s = await until(page, `${minSteps} steps on ${kind}`, (s) => s.steps.filter((p) => p.backend === kind).length >= minSteps);
      const i = s.steps.findIndex((p, j) => j >= before && p.backend === kind);
      const last = s.steps.slice(Math.max(0, i - 10), i).map((p) => p.loss);
      const first = s.steps.slice(i, i + 10).map((p) => p.loss);
      const move = s.moves.at(-1)!;
      const switchStep = s.steps[i]!.step;
      console.log(`switch ${move.from} → ${kind} at step ${s.steps[i]!.step}: loss ${mean(last).toFixed(3)} ± ${std(last).toFixed(3)} over the 10 steps before, ${mean(first).toFixed(3)} over the 10 after; optimizer state Σv² ${move.before.toPrecision(6)} → ${move.after.toPrecision(6)}`);
      // the same curve: no jump beyond the batch-to-batch noise (a fresh model starts at ≈ 2.3)
      expect(mean(first)).toBeLessThan(mean(last) + 3 * std(last));
      expect(move.optimizerStep).toBeGreaterThan(0);
      expect(move.after).toBeGreaterThan(0);
      expect(Math.abs(move.after - move.before) / move.before).toBeLessThan(1e-5);
      s = await until(page, `${kind} accuracy ≥ ${target}`, (s) => s.evals.some((e) => e.step > switchStep + minSteps / 2 && e.accuracy >= target));
      console.log(`${kind}: accuracy ${s.evals.at(-1)!.accuracy} at step ${s.evals.at(-1)!.step}`);
      await shot(page, kind);
    }
    console.log(`samples/s: ${Object.entries(s.speed).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`);
    expect(Object.keys(s.speed).sort()).toEqual(['cpu', 'webgl2', 'webgpu']);
    expect(errors).toEqual([]);
  }, 1_200_000); // SwiftShader is slow, and slower still while other suites share the cores

  /** Drags the mouse through the points (canvas coordinates, 280×280) and waits for the prediction. */
  async function draw(strokes: [number, number][][]): Promise<WebState['prediction']> {
    await page.click('#clear');
    const box = (await page.locator('#pad').boundingBox())!;
    for (const stroke of strokes) {
      await page.mouse.move(box.x + stroke[0]![0], box.y + stroke[0]![1]);
      await page.mouse.down();
      for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
      await page.mouse.up();
    }
    await page.waitForTimeout(300);
    return (await until(page, 'a prediction', (s) => s.prediction !== null)).prediction;
  }
  const ONE: [number, number][][] = [[[150, 40], [140, 240]]];
  const SEVEN: [number, number][][] = [[[70, 50], [210, 50], [120, 245]]];

  it('predicts a drawn 1 and a drawn 7; the autoencoder panel renders', async () => {
    await until(page, 'step 600 and accuracy ≥ 0.88', (s) => s.steps.length >= 600 && (s.evals.at(-1)?.accuracy ?? 0) >= 0.88);
    await page.click('#toggle');
    await until(page, 'paused', (s) => !s.running);
    const one = await draw(ONE);
    await shot(page, 'drawn-1');
    const seven = await draw(SEVEN);
    await shot(page, 'drawn-7');
    console.log(`drawn 1 → ${one!.digit} (p = ${one!.probs[1]!.toFixed(3)}); drawn 7 → ${seven!.digit} (p = ${seven!.probs[7]!.toFixed(3)})`);
    expect(one!.digit).toBe(1);
    expect(seven!.digit).toBe(7);
    const painted = await page.evaluate(() =>
      ['recon', 'latent', 'seen'].map((id) => {
        const c = document.getElementById(id) as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0; // pixels neither black nor white
        for (let i = 0; i < d.length; i += 4) if (!(d[i] === d[i + 1] && d[i + 1] === d[i + 2] && (d[i] === 0 || d[i] === 255))) n++;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if (id !== 'latent' && d[i]! > 64) lit++;
        return id === 'latent' ? n : lit;
      }),
    );
    console.log(`autoencoder panel: ${painted[0]} lit pixels in the reconstruction, ${painted[1]} coloured pixels on the latent map; ${painted[2]} lit pixels in the 28×28 input`);
    expect(painted[0]).toBeGreaterThan(20);
    expect(painted[1]).toBeGreaterThan(1000);
    expect(errors).toEqual([]);
  });

  it('saves the model and loads it back with the same predictions; a corrupt file is refused and the model kept', async () => {
    const saved = (await web(page)).prediction!.probs;
    const download = page.waitForEvent('download');
    await page.click('#save');
    const file = join(ARTIFACTS, 'model.safetensors');
    await (await download).saveAs(file);
    // train on, so that the predictions move away from the saved ones
    const n = (await web(page)).steps.length;
    await page.click('#toggle');
    await until(page, '50 more steps', (s) => s.steps.length >= n + 50);
    await page.click('#toggle');
    await until(page, 'paused', (s) => !s.running);
    await draw(SEVEN);
    const trained = (await web(page)).prediction!.probs;
    expect(trained).not.toEqual(saved);

    const bytes = readFileSync(file);
    await page.setInputFiles('#load', { name: 'corrupt.safetensors', mimeType: 'application/octet-stream', buffer: bytes.subarray(0, bytes.length - 100) });
    await page.waitForFunction(() => !(document.getElementById('error') as HTMLElement).hidden);
    const message = await page.textContent('#error');
    console.log(`corrupt file: "${message}"`);
    expect(message).toMatch(/loading the model.*corrupt\.safetensors/);
    await page.waitForTimeout(500);
    expect((await web(page)).prediction!.probs).toEqual(trained); // the current model is kept
    await shot(page, 'corrupt-file');

    await page.evaluate(() => ((window as unknown as { webState: WebState }).webState.errors.length = 0));
    await page.setInputFiles('#load', file);
    await until(page, 'loaded', (s) => s.loaded === 1);
    await page.waitForTimeout(500);
    const loaded = (await web(page)).prediction!.probs;
    loaded.forEach((p, d) => expect(Math.abs(p - saved[d]!)).toBeLessThan(1e-6));

    // the loaded model as ONNX: fromOnnx reads the file back with the saved weights, bit for bit
    const onnxDownload = page.waitForEvent('download');
    await page.click('#onnx');
    const onnxFile = join(ARTIFACTS, 'model.onnx');
    await (await onnxDownload).saveAs(onnxFile);
    const net = fromOnnx(new Uint8Array(readFileSync(onnxFile)), { backend: cpu() });
    const weights = decodeSafetensors(new Uint8Array(bytes));
    const state = Object.entries(net.stateDict());
    console.log(`Download ONNX: ${readFileSync(onnxFile).length} bytes, ${net.children().map((m) => m.constructor.name).join(' → ')}`);
    expect(state.map(([k]) => `classifier.${k}`).sort()).toEqual(Object.keys(weights).filter((k) => k.startsWith('classifier.')).sort());
    for (const [k, t] of state) expect(Array.from(t.dataSync()), k).toEqual(Array.from(weights[`classifier.${k}`]!.data));
    expect(errors).toEqual([]);
  });

  it('shows a training error in the page and stops training', async () => {
    await page.evaluate(() => ((window as unknown as { webState: WebState }).webState.errors.length = 0));
    await page.fill('#lr', '1e38');
    await page.press('#lr', 'Enter');
    await page.click('#toggle');
    await page.waitForFunction(() => (document.getElementById('error') as HTMLElement).textContent?.includes('the loss became'), null, { timeout: 120_000 });
    const message = await page.textContent('#error');
    console.log(`training error: "${message}"`);
    expect(message).toMatch(/while training: the loss became (NaN|-?Infinity) at step \d+/);
    await until(page, 'stopped', (s) => !s.running && s.errors.length > 0);
    await shot(page, 'training-error');
    expect(errors).toEqual([]);
  });
});

/** A port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the dev server', () => {
  it("`pnpm --filter @example/web dev` serves the app, worker and data included", async () => {
    const DEV_PORT = await freePort(); // vite's --strictPort fails on a held port; ask the OS for one
    const dev = spawn('pnpm', ['run', 'dev', '--port', String(DEV_PORT), '--strictPort'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    for (const s of [dev.stdout, dev.stderr]) s.on('data', (d: Buffer) => (log += stripVTControlCharacters(d.toString()))); // with CI set, Vite prints the port in bold
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => log.includes(`127.0.0.1:${DEV_PORT}`) && (clearInterval(timer), resolve()), 100);
        dev.once('exit', (code) => (clearInterval(timer), reject(new Error(`the dev server exited (${code}):\n${log}`))));
        setTimeout(() => (clearInterval(timer), reject(new Error(`the dev server printed no 127.0.0.1:${DEV_PORT} in 120 s:\n${log}`))), 120_000).unref();
      });
      const page = await launch(['--enable-unsafe-webgpu']);
      const errors: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && errors.push(`console: ${m.text()}`)));
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await page.goto(`http://127.0.0.1:${DEV_PORT}/`);
      await page.waitForFunction(() => (window as unknown as { webState?: WebState }).webState?.ready, null, { timeout: 120_000 });
      await page.click('#toggle');
      await until(page, 'a first evaluation', (s) => s.evals.length > 0);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      if (dev.exitCode === null) process.kill(-dev.pid!, 'SIGTERM'); // the server and the pnpm above it
    }
  });
});

describe('a browser without a GPU (and without a software renderer)', () => {
  it('says so and trains on the CPU (the CNN)', async () => {
    const page = await launch(['--disable-gpu', '--disable-software-rasterizer']);
    const errors: string[] = [];
    await open(page, errors);
    const s = await web(page);
    expect(s.availability.cpu).toBe(true);
    expect(s.availability.webgl2).toMatch(/no WebGL2/);
    expect(s.availability.webgpu).toMatch(/WebGPU/);
    expect(await page.textContent('#backend-note')).toMatch(/No GPU mode is available.*CPU/);
    expect(await page.isDisabled('input[value=webgl2]')).toBe(true);
    await page.selectOption('#arch', 'cnn');
    await until(page, 'the CNN', (s) => s.arch === 'cnn');
    await page.click('#toggle');
    const s2 = await until(page, 'accuracy ≥ 0.5 on the CPU', (s) => (s.evals.at(-1)?.accuracy ?? 0) >= 0.5);
    console.log(`no GPU: the CNN on the CPU, accuracy ${s2.evals.at(-1)!.accuracy} at step ${s2.evals.at(-1)!.step}, ${Math.round(s2.speed.cpu!)} samples/s`);
    expect(s2.backend).toBe('cpu');
    await shot(page, 'no-gpu');
    expect(errors).toEqual([]);
  });
});
