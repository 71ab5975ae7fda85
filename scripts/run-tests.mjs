#!/usr/bin/env node
// Runs every package's typecheck, lint and tests through turbo, streams their output, and
// closes with one line that adds up the vitest counts of all packages: "N passed, N failed".
// A suite that fails to load (an import error, a throwing beforeAll) has no test counted in
// vitest's "Tests" line; its "Failed Suites N" header and "Errors N" (unhandled errors) line
// are added to the failures, so the closing line never says 0 failed over a broken suite.
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
    const suites = /:test:.*Failed Suites (\d+)/.exec(line);
    if (suites) totals.failed += Number(suites[1]);
    const errors = /:test:\s+Errors\s+(\d+) errors?/.exec(line);
    if (errors) totals.failed += Number(errors[1]);
    const m = /:test:\s+Tests\s+(.*)$/.exec(line);
    if (!m) continue;
    for (const [, n, kind] of m[1].matchAll(/(\d+) (passed|failed|skipped)/g)) totals[kind] += Number(n);
  }
});
child.on('close', (code) => {
  // a non-zero exit with nothing counted as failed (a typecheck, a lint) still reads as a failure
  if (code !== 0 && totals.failed === 0) totals.failed = 1;
  console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
  process.exit(code ?? 1);
});
