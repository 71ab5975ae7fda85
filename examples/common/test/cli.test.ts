import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { UsageError, errorLine, helpText, normalizeArgv, outOption, parseOptions, stepProgress } from '../src/cli';
import type { AppSpec, OptionDef } from '../src/cli';
import { backendOption } from '../src/backend';

const spec = {
  name: 'demo',
  command: 'pnpm demo',
  summary: 'A demo app.',
  options: {
    backend: backendOption('cpu'),
    epochs: { type: 'int', min: 1, default: 3, description: 'passes' },
    lr: { type: 'number', min: 0, exclusiveMin: true, defaultText: 'from --preset', description: 'learning rate' },
    preset: { type: 'string', choices: ['a', 'b'], default: 'a', description: 'which preset' },
    quick: { type: 'boolean', description: 'a short run' },
    progress: { type: 'boolean', default: true, description: 'bars' },
  },
} satisfies AppSpec<Record<string, OptionDef>>;

const parse = (...argv: string[]) => parseOptions(spec, argv);
const usage = async (argv: string[]) => {
  const e = await parse(...argv).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(UsageError);
  return (e as Error).message;
};

describe('parseOptions', () => {
  it('gives the defaults, converts and validates values', async () => {
    expect(await parse()).toEqual({ backend: 'cpu', epochs: 3, lr: undefined, preset: 'a', quick: false, progress: true });
    expect(await parse('--epochs', '7', '--lr=0.5', '--preset', 'b', '--quick', '--no-progress', '--backend', 'cpu:float64')).toEqual({
      backend: 'cpu:float64',
      epochs: 7,
      lr: 0.5,
      preset: 'b',
      quick: true,
      progress: false,
    });
  });

  it('drops the `--` that pnpm passes through, and answers --help before checking anything else', async () => {
    expect(normalizeArgv(['--', '--epochs', '2'])).toEqual(['--epochs', '2']);
    expect(await parse('--', '--epochs', '2')).toMatchObject({ epochs: 2 });
    expect(await parse('--', '--help')).toBe('help');
    expect(await parse('--epochs', 'zero', '-h')).toBe('help');
  });

  it('names the option and what is wrong with it', async () => {
    expect(await usage(['--epochs', 'abc'])).toBe('--epochs "abc": expected an integer');
    expect(await usage(['--epochs', '1.5'])).toBe('--epochs 1.5: expected an integer');
    expect(await usage(['--epochs', '0'])).toBe('--epochs 0: must be ≥ 1');
    expect(await usage(['--lr', '0'])).toBe('--lr 0: must be > 0');
    expect(await usage(['--lr', '-1', '--epochs', '-2'])).toBe('--epochs -2: must be ≥ 1');
    expect(await usage(['--lr', '-.5e-3'])).toBe('--lr -.5e-3: must be > 0');
    expect(await usage(['--lr', ''])).toBe('--lr "": expected a number');
    expect(await usage(['--preset', 'c'])).toBe('--preset c: expected one of a, b');
    expect(await usage(['--bogus'])).toBe('unknown option --bogus');
    expect(await usage(['--epochs'])).toBe('option --epochs needs a value');
    expect(await usage(['--preset', '-x'])).toBe("option --preset needs a value (one that starts with '-' is written --preset=-…)");
    expect(await usage(['--quick=yes'])).toBe('option --quick takes no value');
    expect(await usage(['stray'])).toBe("unexpected argument 'stray' (this app takes only options)");
    expect(await usage(['--epochs', '2', '--epochs', '3'])).toBe('--epochs is given more than once');
    expect(await usage(['--backend', 'tpu'])).toBe('--backend tpu: expected cpu, cpu:float64, gpu or gpu:<mode>');
    expect(await usage(['--backend', 'cpu:int8'])).toBe('--backend cpu:int8: cpu takes float32 or float64');
    expect(await usage(['--backend', 'gpu:cuda'])).toMatch(/^--backend gpu:cuda: unknown gpu mode 'cuda' \(one of webgpu, /);
  });
});

describe('helpText and errorLine', () => {
  it('lists every option with its default, and --help / --verbose', () => {
    const help = helpText(spec);
    expect(help.startsWith('Usage: pnpm demo [options]\n')).toBe(true);
    for (const flag of ['--backend KIND', '--epochs N', '--lr X', '--preset S', '--quick', '-h, --help', '--verbose']) expect(help).toContain(flag);
    expect(help).toMatch(/--epochs N +passes \[default: 3\]/);
    expect(help).toMatch(/--lr X +learning rate \[default: from --preset\]/);
    expect(help).toMatch(/which preset \(a \| b\) \[default: a\]/);
  });

  it('prints an error as one line, with the error type for failures and a pointer to --help for usage', () => {
    expect(errorLine('demo', new UsageError('--epochs 0: must be ≥ 1'))).toBe('demo: --epochs 0: must be ≥ 1 (see --help)');
    class DataError extends Error {
      override name = 'DataError';
    }
    expect(errorLine('demo', new DataError('readIdx: file.idx\n  is truncated'))).toBe('demo: DataError: readIdx: file.idx is truncated');
    expect(errorLine('demo', 'thrown string')).toBe('demo: thrown string');
  });
});

describe('--out and progress', () => {
  const outSpec: AppSpec<{ out: ReturnType<typeof outOption> }> = { name: 'app', command: 'pnpm app', summary: 'x', options: { out: outOption('out/app') } };
  const dir = mkdtempSync(join(tmpdir(), 'cli-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--out naming a file, or a path under a file, is a usage error in words; a folder or a new path is fine', async () => {
    writeFileSync(join(dir, 'taken'), 'x');
    await expect(parseOptions(outSpec, ['--out', join(dir, 'taken')])).rejects.toThrow(UsageError);
    await expect(parseOptions(outSpec, ['--out', join(dir, 'taken')])).rejects.toThrow(`--out ${join(dir, 'taken')}: ${join(dir, 'taken')} is a file, not a folder: --out names the folder the outputs are written to`);
    await expect(parseOptions(outSpec, ['--out', join(dir, 'taken', 'sub')])).rejects.toThrow(/taken is a file, not a folder/);
    expect(await parseOptions(outSpec, ['--out', join(dir, 'new', 'deeper')])).toEqual({ out: join(dir, 'new', 'deeper') });
    expect(await parseOptions(outSpec, ['--out', dir])).toEqual({ out: dir });
  });

  it('stepProgress prints a line at every tenth outside a terminal, nothing when off', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const on = stepProgress(true, 'xor', 50);
    for (let i = 1; i <= 50; i++) on(i);
    expect(log.mock.calls.map((c) => c[0])).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45, 50].map((i) => `xor: step ${i}/50`));
    log.mockClear();
    const off = stepProgress(false, 'xor', 50);
    for (let i = 1; i <= 50; i++) off(i);
    expect(log).not.toHaveBeenCalled();
    log.mockRestore();
  });
});
