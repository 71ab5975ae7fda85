/**
 * Runs bench/README.md's workloads: ours, TF.js's backends and PyTorch (when Debian's
 * python3-torch is installed) one after the other on the same data, each library in a process of
 * its own (so each has its own peak resident memory), and prints ratios. See `--help`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadMnist } from '@neurone/data';
import { W1_CASES, libName, table, w1Label } from './util';
import type { Lib, Result } from './util';

const HELP = `bench — neurone's workloads beside the peers (bench/README.md)

usage: pnpm --filter @neurone/bench bench [w1 w2 w3 w4 w5 | all] [options]   (default: w1)

  --peers LIST     TF.js backends to run beside ours: wasm, cpu, or none (default: wasm,cpu)
  --threads LIST   thread counts of neurone's cpu({ threads }) (default: 1,<cores>)
  --torch LIST     PyTorch thread counts, when /usr/bin/python3 can import torch; none to skip
                   (default: the --threads list)
  --epochs N       epochs of W2 and W4 (default: 1)
  --relaxed-simd   also run ours with node's --experimental-wasm-relaxed-simd (Node 20: fused
                   multiply-adds in the GEMM, the default from Node 22; not in the ratios)
  --json FILE      also write every figure (and each library's peak memory) to FILE as JSON
  --help           this text

Each library runs each workload in a process of its own; every row prints its samples/s (or
GFLOP/s), its accuracy or BCE and the peak resident memory of its process.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    peers: { type: 'string', default: 'wasm,cpu' },
    threads: { type: 'string' },
    torch: { type: 'string' },
    epochs: { type: 'string', default: '1' },
    json: { type: 'string' },
    'relaxed-simd': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const fail = (msg: string): never => {
  console.error(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
};
const counts = (s: string, what: string): number[] => {
  if (s === 'none') return [];
  const xs = s.split(',').filter(Boolean).map(Number);
  if (!xs.every((x) => Number.isInteger(x) && x >= 1)) fail(`${what} must be a comma-separated list of positive integers, got '${s}'`);
  return [...new Set(xs)];
};
const peers = values.peers === 'none' ? [] : values.peers.split(',').filter(Boolean);
for (const p of peers) if (p !== 'wasm' && p !== 'cpu') fail(`--peers takes wasm, cpu or none, got '${p}'`);
const cores = availableParallelism();
const threads = counts(values.threads ?? [...new Set([1, cores])].join(','), '--threads');
const torchThreads = counts(values.torch ?? threads.join(','), '--torch');
const epochs = Number(values.epochs);
if (!Number.isInteger(epochs) || epochs < 1) fail(`--epochs must be a positive integer, got '${values.epochs}'`);
const WORKLOADS = ['w1', 'w2', 'w3', 'w4', 'w5'];
for (const w of positionals) if (w !== 'all' && !WORKLOADS.includes(w)) fail(`unknown workload '${w}'`);
const which = positionals.includes('all') ? WORKLOADS : positionals.length ? WORKLOADS.filter((w) => positionals.includes(w)) : ['w1'];

const PY = '/usr/bin/python3';
let hasTorch = false;
if (torchThreads.length) {
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
    hasTorch = true;
  } catch {
    console.log(`(PyTorch column skipped: ${PY} cannot import torch — apt install python3-torch)`);
  }
}

/** MNIST for PyTorch, written once as raw arrays (torch_bench.py reads them with numpy). */
let dataDir = '';
function torchData(): string {
  if (dataDir) return dataDir;
  dataDir = mkdtempSync(join(tmpdir(), 'neurone-bench-'));
  const { train, test } = loadMnist();
  for (const [name, d] of [['train', train], ['test', test]] as const) {
    writeFileSync(join(dataDir, `${name}-x.f32`), Float32Array.from(d.x.data));
    writeFileSync(join(dataDir, `${name}-y.u8`), Uint8Array.from(d.y.data));
  }
  return dataDir;
}

function runLib(workload: string, lib: Lib): Result {
  try {
    const out =
      lib.kind === 'torch'
        ? execFileSync(PY, [fileURLToPath(new URL('torch_bench.py', import.meta.url)), workload, String(lib.threads), String(epochs), torchData()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
        : execFileSync(process.execPath, [...process.execArgv, ...(lib.kind === 'neurone' && lib.relaxedSimd ? ['--experimental-wasm-relaxed-simd'] : []), fileURLToPath(new URL('run-one.ts', import.meta.url)), workload, JSON.stringify(lib), String(epochs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').pop()!) as Result;
  } catch (e) {
    return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160) };
  }
}

const f0 = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(0));
const TITLES: Record<string, string> = {
  w1: 'W1 — float32 GEMM GFLOP/s, median of 11 (TF.js: 5) after warm-up, readback included',
  w2: `W2 — MNIST MLP 784→256→TanH→10, SGD lr 0.1, batch 64, ${epochs} epoch(s) (TF.js cpu: 1)`,
  w3: 'W3 — MNIST autoencoder 784→128→32→128→784, TanH, Sigmoid output, BCE, Adam lr 1e-3, batch 128, 1 epoch',
  w4: `W4 — MNIST CNN Conv(1→8, 3×3) → ReLU → MaxPool 2×2 → Linear(1352, 10), SGD lr 0.05, batch 64, ${epochs} epoch(s) (TF.js: 30 batches)`,
  w5: 'W5 — MLP 784→4096→4096→10, batch 1024, 3 batches after warm-up',
};

const report: { date: string; node: string; cores: number; loadavgStart: number[]; loadavgEnd?: number[]; epochs: number; runs: ({ workload: string; library: string; lib: Lib } & Result)[] } = {
  date: new Date().toISOString(),
  node: process.version,
  cores,
  loadavgStart: loadavg(),
  epochs,
  runs: [],
};
console.log(`bench ${which.join(' ')} — node ${process.version}, ${cores} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const w of which) {
  const libs: Lib[] = [
    ...threads.map((t): Lib => ({ kind: 'neurone', threads: t })),
    // W2's network as one forward-only module (derived backward), beside the hand-written Sequential
    ...(w === 'w2' ? threads.map((t): Lib => ({ kind: 'neurone', threads: t, forwardOnly: true })) : []),
    ...(values['relaxed-simd'] ? threads.map((t): Lib => ({ kind: 'neurone', threads: t, relaxedSimd: true })) : []),
    ...(w === 'w5' ? [] : peers.map((p): Lib => ({ kind: 'tfjs', backend: p as 'cpu' | 'wasm' }))),
    ...(hasTorch ? torchThreads.map((t): Lib => ({ kind: 'torch', threads: t })) : []),
  ];
  const results = libs.map((lib) => {
    const r = runLib(w, lib);
    report.runs.push({ workload: w, library: libName(lib), lib, ...r });
    return r;
  });
  const ours = results.filter((_, i) => libs[i]!.kind === 'neurone' && !(libs[i] as { forwardOnly?: boolean }).forwardOnly && !(libs[i] as { relaxedSimd?: boolean }).relaxedSimd);
  const name = (lib: Lib, r: Result): string => `${libName(lib)}${r.fma ? ' (FMA)' : ''}`;
  const rows: (string | number)[][] = [];
  if (w === 'w1') {
    const labels = W1_CASES.map(w1Label);
    rows.push(['library', ...labels, 'peak RSS MB']);
    libs.forEach((lib, i) => {
      const r = results[i]!;
      rows.push([name(lib, r), ...labels.map((l) => (r.gflops?.[l] === undefined ? r.error ?? '—' : r.gflops[l]!.toFixed(1))), f0(r.peakRssMB)]);
    });
  } else {
    const best = Math.max(...ours.map((r) => r.samplesPerSecond ?? 0));
    const quality = w === 'w3' ? 'test BCE/pixel' : w === 'w5' ? 'GFLOP/s' : 'test accuracy';
    rows.push(['library', 'samples/s', quality, 'neurone (best) ÷ this', 'peak RSS MB']);
    libs.forEach((lib, i) => {
      const r = results[i]!;
      const q = r.bce !== undefined ? r.bce.toFixed(4) : r.accuracy !== undefined ? `${(r.accuracy * 100).toFixed(2)} %` : r.gflops ? r.gflops['MLP step']!.toFixed(1) : '—';
      const sps = r.error ? `cannot: ${r.error}` : `${f0(r.samplesPerSecond)}${r.batches ? ` (${r.batches} batches)` : ''}`;
      rows.push([name(lib, r), sps, q, r.samplesPerSecond ? `${(best / r.samplesPerSecond).toFixed(2)}×` : '—', f0(r.peakRssMB)]);
    });
  }
  console.log(`\n${TITLES[w]}\n${table(rows)}`);
}
report.loadavgEnd = loadavg();
console.log(`\nload average at the end: ${report.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}`);
if (dataDir) rmSync(dataDir, { recursive: true, force: true });
if (values.json) {
  // written beside the target and renamed over it: an interrupted run never leaves half a file
  const tmp = `${values.json}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  renameSync(tmp, values.json);
  console.log(`wrote ${values.json}`);
}
