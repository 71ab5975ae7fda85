#!/usr/bin/env node
// Runs every package's typecheck, lint and tests through turbo, streams their output, and
// closes with one line that adds up the vitest counts of all packages: "N passed, N failed".
import { spawn } from 'node:child_process';

const child = spawn('pnpm', ['exec', 'turbo', 'run', 'typecheck', 'lint', 'test', '--output-logs=new-only', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const totals = { passed: 0, failed: 0, skipped: 0 };
let rest = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (rest + chunk.toString()).split('\n');
  rest = lines.pop() ?? '';
  for (const raw of lines) {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    const m = /:test:\s+Tests\s+(.*)$/.exec(line);
    if (!m) continue;
    for (const [, n, kind] of m[1].matchAll(/(\d+) (passed|failed|skipped)/g)) totals[kind] += Number(n);
  }
});
child.on('close', (code) => {
  console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
