#!/usr/bin/env node
// The library's size, watched (as tinygrad's CI does): source lines per package in
// packages/*/src, test helpers (src/testing) excluded, counting lines of code only (no blank or
// comment lines). Fails when the total passes BUDGET; README.md ("Size budget") says why this
// number.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const BUDGET = 10000;
const root = new URL('../packages/', import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'testing' ? [] : files(p);
    return /\.ts$/.test(f) && !/\.d\.ts$/.test(f) && !/\.wasm\.ts$/.test(f) ? [p] : [];
  });
}

/** Lines that are neither blank nor comments (line comments, and block-comment bodies). */
function codeLines(text) {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    if (line.startsWith('/*')) {
      if (!line.includes('*/')) inBlock = true;
      continue;
    }
    n++;
  }
  return n;
}

const rows = readdirSync(root)
  .filter((p) => statSync(join(root, p, 'src'), { throwIfNoEntry: false })?.isDirectory())
  .map((p) => [p, files(join(root, p, 'src')).reduce((s, f) => s + codeLines(readFileSync(f, 'utf8')), 0)]);
const total = rows.reduce((s, [, n]) => s + n, 0);
for (const [p, n] of rows) console.log(`${p.padEnd(14)} ${String(n).padStart(6)}`);
console.log(`${'total'.padEnd(14)} ${String(total).padStart(6)} lines of code (budget ${BUDGET})`);
if (total > BUDGET) {
  console.error(`line budget: the library is ${total} lines of code, over its budget of ${BUDGET}: remove or share code before adding more (README.md, "Size budget")`);
  process.exit(1);
}
