#!/usr/bin/env node
/**
 * The GPU workload runner: W1 (GEMM), W2 and W5 of bench/README.md on @neurone/backend-gpu (Node:
 * webgpu through Dawn — Vulkan on a machine with a GPU), on @neurone/backend-cpu, and with PyTorch
 * when `python3 -c "import torch"` works, side by side; prints GFLOP/s and samples/s. W2 and W5 train
 * the library's own Sequential/Linear/TanH with CrossEntropyLoss and SGD through Optim. It bundles
 * the TypeScript sources with esbuild first, so a machine with only Node and the installed
 * node_modules runs it with no build step:
 *
 *   node bench/gpu.mjs                 # full sizes (a machine with a GPU)
 *   node bench/gpu.mjs --quick         # small sizes (a software renderer)
 *   NEURONE_DAWN=backend=vulkan node bench/gpu.mjs   # force a Dawn backend
 *
 * Options: --quick, --mode webgpu|webasm, --no-cpu, --no-torch, --reps N.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (n) => args.includes(`--${n}`);
const opt = (n, d) => {
  const i = args.indexOf(`--${n}`);
  return i >= 0 ? args[i + 1] : d;
};
const quick = flag('quick');
const mode = opt('mode', 'webgpu');
const reps = Number(opt('reps', 5));

// ---- bundle the sources ------------------------------------------------------------------------
const packages = fileURLToPath(new URL('../packages/', import.meta.url));
const gpuPackage = join(packages, 'backend-gpu');
// inside backend-gpu's node_modules, so that gpu.js and webgpu resolve from the bundle
const dir = join(gpuPackage, 'node_modules/.neurone-bench');
mkdirSync(dir, { recursive: true });
const entry = join(dir, 'entry.ts');
const src = (p) => JSON.stringify(join(packages, p, 'src/index.ts'));
writeFileSync(
  entry,
  `export { gpu } from ${src('backend-gpu')};
   export { cpu } from ${src('backend-cpu')};
   export { RNG, tidy, manualSeed } from ${src('core')};
   export { Linear, Sequential, TanH } from ${src('layers')};
   export { CrossEntropyLoss } from ${src('losses')};
   export { Optim, SGD } from ${src('optim')};`,
);
await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: join(dir, 'bundle.mjs'),
  conditions: ['@neurone/source'],
  external: ['gpu.js', 'webgpu'],
  nodePaths: [join(gpuPackage, 'node_modules')],
  absWorkingDir: gpuPackage,
  logLevel: 'error',
});
writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
const bundle = await import(pathToFileURL(join(dir, 'bundle.mjs')).href);
const { gpu, cpu, RNG, manualSeed, Linear, Sequential, TanH, CrossEntropyLoss, Optim, SGD } = bundle;

// ---- helpers ------------------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 1) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));
const out = [];
const report = (line) => {
  out.push(line);
  console.log(line);
};

async function gemm(B, n, ta, tb) {
  const rng = new RNG(1);
  const a = B.tensor(rng.uniformArray(n * n, -1, 1), [n, n]);
  const b = B.tensor(rng.uniformArray(n * n, -1, 1), [n, n]);
  const run = async () => {
    const t0 = performance.now();
    const c = B.matmul(a, b, ta, tb);
    await c.data();
    const ms = performance.now() - t0;
    c.dispose();
    return ms;
  };
  await run(); // warm-up (compiles)
  const times = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  a.dispose();
  b.dispose();
  const ms = median(times);
  return { ms, gflops: (2 * n ** 3) / (ms * 1e6) };
}

/** The library's MLP: Linear layers [in, h1, ..., classes] with TanH between, CE on logits, plain SGD. */
function mlp(B, sizes, batch, lr, seed) {
  manualSeed(seed);
  const layers = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    layers.push(new Linear(sizes[l], sizes[l + 1], { backend: B }));
    if (l + 2 < sizes.length) layers.push(new TanH());
  }
  const net = new Sequential(layers);
  const rng = new RNG(seed);
  const C = sizes[sizes.length - 1];
  const x = B.tensor(rng.uniformArray(batch * sizes[0], 0, 1), [batch, sizes[0]]);
  const y = B.tensor(Array.from({ length: batch }, (_, r) => r % C), [batch]);
  const optim = new Optim(net, new CrossEntropyLoss(), new SGD(net, { lr }));
  return { step: () => optim.step(x, y), dispose: () => [net, x, y].forEach((t) => t.dispose()) };
}

async function train(B, sizes, batch, lr, warm, steps) {
  const m = mlp(B, sizes, batch, lr, 5);
  let loss = NaN;
  for (let i = 0; i < warm; i++) {
    const l = m.step();
    loss = (await l.data())[0];
    l.dispose();
  }
  const d0 = B.dispatches;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const l = m.step();
    if (i === steps - 1) loss = (await l.data())[0];
    l.dispose();
  }
  const ms = performance.now() - t0;
  m.dispose();
  const launches = B.dispatches === undefined ? undefined : B.dispatches - d0;
  return { samplesPerS: (batch * steps) / (ms / 1000), loss, launchesPerStep: launches === undefined ? undefined : launches / steps };
}

// ---- run ----------------------------------------------------------------------------------------
const sizes = quick ? [64, 128, 256] : [256, 512, 1024];
const mid = sizes[1];
const W2 = [784, quick ? 64 : 256, 10];
const W5 = quick ? [784, 256, 256, 10] : [784, 4096, 4096, 10];
const W5batch = quick ? 128 : 1024;
const backends = [];
const G = await gpu({ mode }).ready();
backends.push(G);
if (!flag('no-cpu')) backends.push(cpu());
report(`# neurone bench (${quick ? 'quick, reduced sizes' : 'full sizes'}), ${new Date().toISOString()}, node ${process.version}`);
if (mode === 'webgpu') {
  const ad = await globalThis.navigator.gpu.requestAdapter();
  report(`webgpu adapter: ${JSON.stringify({ vendor: ad?.info?.vendor, architecture: ad?.info?.architecture, device: ad?.info?.device, description: ad?.info?.description })}`);
}
for (const B of backends) {
  for (const n of sizes) {
    const r = await gemm(B, n, false, false);
    report(`W1 ${B.name} A·B ${n}: ${fmt(r.ms, 2)} ms, ${fmt(r.gflops, 2)} GFLOP/s`);
  }
  for (const [ta, tb, label] of [[false, true, 'A·Bᵀ'], [true, false, 'Aᵀ·B']]) {
    const r = await gemm(B, mid, ta, tb);
    report(`W1 ${B.name} ${label} ${mid}: ${fmt(r.ms, 2)} ms, ${fmt(r.gflops, 2)} GFLOP/s`);
  }
  const w2 = await train(B, W2, 64, 0.1, 5, quick ? 20 : 100);
  report(`W2 ${B.name} [${W2}] batch 64: ${fmt(w2.samplesPerS)} samples/s (loss ${w2.loss.toFixed(4)})${w2.launchesPerStep === undefined ? '' : `, ${w2.launchesPerStep} kernel launches per step`}`);
  const isCpu = B.name.startsWith('cpu');
  const w5steps = isCpu && !quick ? 2 : quick ? 5 : 20;
  const w5 = await train(B, W5, W5batch, 0.05, 1, w5steps);
  report(`W5 ${B.name} [${W5}] batch ${W5batch}: ${fmt(w5.samplesPerS)} samples/s over ${w5steps} batches (loss ${w5.loss.toFixed(4)})`);
}

// ---- PyTorch, when present -----------------------------------------------------------------------
if (!flag('no-torch')) {
  const py = `
import time, torch, sys
quick = ${quick ? 'True' : 'False'}
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
def sync():
    if dev == 'cuda': torch.cuda.synchronize()
def gemm(n, ta, tb):
    a = torch.rand(n, n, device=dev) * 2 - 1; b = torch.rand(n, n, device=dev) * 2 - 1
    f = lambda: ((a.t() if ta else a) @ (b.t() if tb else b)).cpu()
    f(); ts = []
    for _ in range(${reps}):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    ms = sorted(ts)[len(ts)//2] * 1e3
    return ms, 2 * n**3 / (ms * 1e6)
sizes = ${JSON.stringify(sizes)}
for n in sizes:
    ms, g = gemm(n, False, False); print(f"W1 torch({dev}) A·B {n}: {ms:.2f} ms, {g:.2f} GFLOP/s")
for ta, tb, lab in [(False, True, 'A·Bᵀ'), (True, False, 'Aᵀ·B')]:
    ms, g = gemm(${mid}, ta, tb); print(f"W1 torch({dev}) {lab} ${mid}: {ms:.2f} ms, {g:.2f} GFLOP/s")
def train(sizes, batch, lr, steps):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i+1]))
        if i + 2 < len(sizes): layers.append(torch.nn.Tanh())
    m = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.SGD(m.parameters(), lr=lr)
    x = torch.rand(batch, sizes[0], device=dev); y = (torch.arange(batch, device=dev) % sizes[-1])
    def step():
        opt.zero_grad(); l = torch.nn.functional.cross_entropy(m(x), y); l.backward(); opt.step(); return l
    step().item()
    t0 = time.perf_counter()
    for _ in range(steps): l = step()
    l.item(); sync()
    return batch * steps / (time.perf_counter() - t0)
w2 = ${JSON.stringify(W2)}; w5 = ${JSON.stringify(W5)}
print(f"W2 torch({dev}) {w2} batch 64: {train(w2, 64, 0.1, ${quick ? 20 : 100}):.0f} samples/s")
print(f"W5 torch({dev}) {w5} batch ${W5batch}: {train(w5, ${W5batch}, 0.05, ${quick ? 5 : 20}):.0f} samples/s")
`;
  try {
    const text = execFileSync(process.env.PYTHON ?? '/usr/bin/python3', ['-c', py], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    for (const line of text.trim().split('\n')) report(line);
  } catch (e) {
    report(`PyTorch: not run (${String(e.stderr ?? e.message).trim().split('\n').pop()})`);
  }
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
