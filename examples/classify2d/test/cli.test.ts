import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectHelp, expectUsageError, pngSize, runAppProcess, tempDir } from '@example/common/testing';

/** The app run as a user runs it: `node --import tsx src/main.ts` in examples/classify2d. */
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('classify2d-cli');
afterAll(tmp.remove);

describe('pnpm classify2d, the command line', () => {
  it('--help prints the usage and every option with its default', async () => {
    await expectHelp(app, ['--help'], 'classify2d', ['--backend KIND', '--dataset NAME', '--hidden N', '--iterations N', '--lr X', '--samples N', '--seed N', '--init-seed N', '--out DIR'], /--dataset NAME +.*\[default: all\]/);
  });

  it('a bad option: exit code 2, one line on stderr, no stack trace', async () => {
    await expectUsageError(app, ['--dataset', 'moons'], 'classify2d: --dataset moons: expected one of gaussians, xor, checkerboard, all (see --help)');
  });

  it('--samples past its bound, and --out naming a file: one line in words, exit code 2, no work', async () => {
    await expectUsageError(app, ['--samples', '1e9'], 'classify2d: --samples 1e9: must be ≤ 1000000 (see --help)');
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    await expectUsageError(app, ['--out', file], `classify2d: --out ${file}: ${file} is a file, not a folder: --out names the folder the outputs are written to (see --help)`);
  });

  it('a short run on XOR writes the frontier picture and results.json to --out', async () => {
    const out = join(tmp.dir, 'run');
    const r = await runAppProcess(app, ['--dataset', 'xor', '--iterations', '400', '--out', out, '--progress']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('xor: step 40/400\nxor: step 80/400\n'); // --progress outside a terminal: a line every tenth
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(res.results).toHaveLength(1);
    expect(res.results[0]).toMatchObject({ dataset: 'xor', hidden: 8, iterations: 400 });
    expect(res.results[0].testAccuracy).toBeGreaterThan(0.9); // a linear model cannot pass 0.75 on XOR
    expect(pngSize(join(out, 'xor.png'))).toEqual([400, 400]);
  });
});
