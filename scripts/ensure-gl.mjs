#!/usr/bin/env node
/**
 * Builds headless-gl (npm `gl`, an optional dependency of gpu.js) when it is not built yet.
 *
 * `pnpm install` never builds it (pnpm-workspace.yaml: `allowBuilds: gl: false`), so the README's
 * command 1 needs no X headers and prints no node-gyp errors. The GPU backend's headlessgl tests
 * need it: `pnpm test` runs this first, after `pnpm system-deps` installed the X headers. The
 * build (node-gyp, ~4 minutes on 2 cores) happens once; later runs find the binary and return.
 * Exits 1 with the build log's tail when the build fails (e.g. the X headers are missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const fromBackend = createRequire(join(root, 'packages/backend-gpu/package.json'));
const fromGpuJs = createRequire(fromBackend.resolve('gpu.js/package.json'));
let glDir;
try {
  glDir = dirname(fromGpuJs.resolve('gl/package.json'));
} catch {
  console.log('headless-gl: npm `gl` is not installed (optional dependency of gpu.js skipped); nothing to build');
  process.exit(0);
}
const binary = join(glDir, 'build', 'Release', 'webgl.node');

function loads() {
  if (!existsSync(binary)) return false;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(glDir)})`], { encoding: 'utf8' });
  return r.status === 0;
}

if (loads()) {
  console.log(`headless-gl: built (${binary})`);
  process.exit(0);
}
const glRequire = createRequire(join(glDir, 'package.json'));
const nodeGyp = glRequire.resolve('node-gyp/bin/node-gyp.js');
console.log(`headless-gl: not built; building it with node-gyp in ${glDir} (a few minutes)`);
// build against the headers this Node ships with (no download of Node's headers)
const nodeDir = resolve(dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild', '--jobs=max'];
if (existsSync(join(nodeDir, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${nodeDir}`);
const r = spawnSync(process.execPath, args, { cwd: glDir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const log = join(glDir, 'build-neurone.log');
writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
if (r.status !== 0 || !loads()) {
  const tail = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n');
  console.error(`${tail}\n\nheadless-gl: the build failed (full log: ${log}). It needs the X headers and pkg-config: run \`pnpm system-deps\` first.`);
  process.exit(1);
}
console.log('headless-gl: built');
