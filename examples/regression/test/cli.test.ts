import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectHelp, expectUsageError, runAppProcess, tempDir } from '@example/common/testing';

/** The app run as a user runs it: `node --import tsx src/main.ts` in examples/regression. */
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('regression-cli');
afterAll(tmp.remove);

describe('pnpm regression, the command line', () => {
  it('--help prints the usage and every option with its default', async () => {
    await expectHelp(app, ['--help'], 'regression', ['--backend KIND', '--samples N', '--noise X', '--iterations N', '--lr X', '--seed N', '--tolerance X', '--out DIR'], /--backend KIND +.*\[default: cpu:float64\]/);
  });

  it('a bad option: exit code 2, one line on stderr, no stack trace', async () => {
    await expectUsageError(app, ['--lr', '-1'], 'regression: --lr -1: must be > 0 (see --help)');
  });

  it('sizes and rates past sane bounds are usage errors; a diverging --lr within them fails in words, never exit 0', async () => {
    await expectUsageError(app, ['--lr', '1e9'], 'regression: --lr 1e9: must be ≤ 10 (see --help)');
    await expectUsageError(app, ['--noise', '1e308'], 'regression: --noise 1e308: must be ≤ 1000 (see --help)');
    const r = await runAppProcess(app, ['--lr', '5', '--out', join(tmp.dir, 'diverged')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^regression: the loss became (Infinity|NaN) at step \d+: --lr 5 is too large \(the steps diverge; try 0\.1\)\n$/);
  });

  it('the full run recovers the true weights and writes loss.svg and result.json', async () => {
    const out = join(tmp.dir, 'run');
    const r = await runAppProcess(app, ['--out', out, '--progress']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('regression: step 30/300\n'); // --progress outside a terminal: a line every tenth
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(res.maxError).toBeLessThan(0.05);
    expect(res.losses).toHaveLength(300);
    expect(res.finalLoss).toBeLessThan(0.01);
    expect(readFileSync(join(out, 'loss.svg'), 'utf8').match(/<polyline/g)).toHaveLength(2); // the loss and the noise floor
  });

  it('a failed run (too few steps to recover W): exit code 1 and one line, the stack only with --verbose', async () => {
    const r = await runAppProcess(app, ['--iterations', '3', '--out', join(tmp.dir, 'short')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^regression: the learned weights are off by up to [\d.]+, more than --tolerance 0.05/);
    const v = await runAppProcess(app, ['--iterations', '3', '--verbose', '--out', join(tmp.dir, 'short')]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/\n\s+at /);
  });
});
