#!/usr/bin/env node
// Checks every built package as a user would get it: publint --strict on the exports map,
// @arethetypeswrong/cli (every resolution mode: node10, node16 from CJS and ESM, bundler) on its packed tarball, every export
// target present, each ESM entry importable and each CommonJS entry require()-able by Node from
// dist (without the source condition), and sibling packages left external (one copy of core).
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(import.meta.dirname, '..');
const attw = join(root, 'node_modules/.bin/attw');
const problems = [];

/** Every file an exports entry can resolve to, with the conditions that lead to it. */
function leaves(target, path = []) {
  if (typeof target === 'string') return [{ file: target, path }];
  return Object.entries(target).flatMap(([cond, t]) => leaves(t, [...path, cond]));
}

const dirs = readdirSync(join(root, 'packages'));
for (const dir of dirs) {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const { messages } = await publint({ pkgDir, strict: true, level: 'warning' });
  for (const m of messages) problems.push(`${pkg.name}: ${formatMessage(m, pkg)}`);
  if (!existsSync(join(pkgDir, 'LICENSE')) || !pkg.files?.includes('LICENSE')) problems.push(`${pkg.name}: LICENSE missing or not in "files"`);
  for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'engines', 'license']) {
    if (!pkg[field]) problems.push(`${pkg.name}: no "${field}" field`);
  }
  for (const [sub, target] of Object.entries(pkg.exports)) {
    for (const { file: rel, path } of leaves(target)) {
      if (path.includes('@neurone/source')) continue; // the workspace's own condition: sources
      const where = `export "${sub}" (${path.join('.') || 'default'}) → ${rel}`;
      const file = join(pkgDir, rel);
      if (!existsSync(file)) {
        problems.push(`${pkg.name}: ${where} is missing after build`);
        continue;
      }
      try {
        if (rel.endsWith('.cjs')) createRequire(import.meta.url)(file);
        else if (rel.endsWith('.js')) await import(pathToFileURL(file).href);
      } catch (e) {
        problems.push(`${pkg.name}: loading ${where} failed: ${e.message}`);
      }
    }
  }
  if (dir !== 'core') {
    for (const f of readdirSync(join(pkgDir, 'dist'), { recursive: true })) {
      if (!/\.c?js$/.test(f)) continue;
      if (/class Tensor\b/.test(readFileSync(join(pkgDir, 'dist', f), 'utf8'))) problems.push(`${pkg.name}: dist/${f} bundles a copy of @neurone/core`);
    }
  }
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      if (dep.startsWith('@neurone/') && !String(range).startsWith('workspace:')) problems.push(`${pkg.name}: ${field}.${dep} should use the workspace protocol`);
    }
  }
  // are the types wrong? node10, node16 (CJS and ESM importers) and bundler resolution, on the packed tarball
  try {
    execFileSync(attw, ['--pack', '.', '--format', 'table-flipped'], { cwd: pkgDir, stdio: 'pipe', encoding: 'utf8' });
  } catch (e) {
    problems.push(`${pkg.name}: @arethetypeswrong/cli failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`exports check (publint --strict, attw in every resolution mode: node10, node16 CJS and ESM, bundler; import and require of every entry): ${dirs.length} packages OK`);
