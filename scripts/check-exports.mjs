#!/usr/bin/env node
// Checks every built package as a user would get it: publint --strict on the exports map,
// every export target present, each ESM entry importable from dist by Node without the
// source condition, and sibling packages left external (one copy of core at run time).
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(import.meta.dirname, '..');
const problems = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const { messages } = await publint({ pkgDir, strict: true, level: 'warning' });
  for (const m of messages) problems.push(`${pkg.name}: ${formatMessage(m, pkg)}`);
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    for (const cond of ['types', 'import']) {
      const file = join(pkgDir, target[cond]);
      if (!existsSync(file)) {
        problems.push(`${pkg.name}: export "${sub}" (${cond}) → ${target[cond]} is missing after build`);
        continue;
      }
      if (cond === 'import') {
        const text = readFileSync(file, 'utf8');
        if (dir !== 'core' && /class Tensor\b/.test(text)) problems.push(`${pkg.name}: ${target[cond]} bundles a copy of @neurone/core`);
        try {
          await import(pathToFileURL(file).href);
        } catch (e) {
          problems.push(`${pkg.name}: import of ${target[cond]} failed: ${e.message}`);
        }
      }
    }
  }
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
      if (dep.startsWith('@neurone/') && !String(range).startsWith('workspace:')) problems.push(`${pkg.name}: ${field}.${dep} should use the workspace protocol`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`exports check: ${readdirSync(join(root, 'packages')).length} packages OK`);
