/**
 * The command line of the example apps, in one place: option definitions with their help text and
 * defaults, parsing through node's `util.parseArgs` (strict: unknown options and positionals are
 * errors), validation of every value before the app does any work, `--help`, and errors printed as
 * one line on stderr with a non-zero exit code (the stack trace only with `--verbose`).
 *
 *   await runApp({ name: 'mnist', command: 'pnpm mnist', summary: '…', options: { epochs: { type: 'int', min: 1, default: 10, description: '…' } } },
 *     async (opts) => { … opts.epochs … });
 */
import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

export type OptionType = 'string' | 'number' | 'int' | 'boolean';

export interface OptionDef {
  type: OptionType;
  /** One line of help. */
  description: string;
  /** The value when the option is not given (booleans default to false). */
  default?: string | number | boolean;
  /** What the help prints as the default when it is not a constant (e.g. "from --preset"). */
  defaultText?: string;
  /** The value's placeholder in the help (N, X, DIR, …). */
  arg?: string;
  short?: string;
  /** The allowed values of a string option. */
  choices?: readonly string[];
  /** Bounds of a number or int option. */
  min?: number;
  max?: number;
  /** min is exclusive (a value must be > min). */
  exclusiveMin?: boolean;
  /** Further checks: return a message saying what is wrong, or undefined when the value is fine. */
  validate?: (value: never) => string | undefined | Promise<string | undefined>;
}

export interface AppSpec<O extends Record<string, OptionDef>> {
  /** The app's name, the prefix of its error lines. */
  name: string;
  /** How a user runs it from the repository root, for the usage line. */
  command: string;
  /** What the app does, a few lines. */
  summary: string;
  options: O;
  examples?: readonly string[];
}

type ValueOf<D extends OptionDef> = D['type'] extends 'boolean' ? boolean : D['type'] extends 'string' ? string : number;
export type ParsedOptions<O extends Record<string, OptionDef>> = {
  -readonly [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { default: string | number } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

/** A mistake in the command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const BUILTIN: Record<string, OptionDef> = {
  help: { type: 'boolean', short: 'h', description: 'print this help and exit' },
  verbose: { type: 'boolean', description: 'print the stack trace of an error' },
};

/**
 * pnpm passes a `--` through to the script (`pnpm mnist -- --help`); the apps take no positional
 * arguments, so every bare `--` is dropped.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  return argv.filter((a) => a !== '--');
}

function optionLabel(name: string, d: OptionDef): string {
  const flag = d.type === 'boolean' ? `--${name}` : `--${name} ${d.arg ?? (d.type === 'string' ? 'S' : d.type === 'int' ? 'N' : 'X')}`;
  return d.short ? `-${d.short}, ${flag}` : `    ${flag}`;
}

function defaultLabel(d: OptionDef): string {
  if (d.defaultText !== undefined) return d.defaultText;
  if (d.type === 'boolean') return typeof d.default === 'boolean' ? String(d.default) : '';
  return d.default === undefined ? '' : String(d.default);
}

/** The `--help` text: usage, summary, each option with its default, examples. */
export function helpText<O extends Record<string, OptionDef>>(spec: AppSpec<O>): string {
  const all = { ...spec.options, ...BUILTIN } as Record<string, OptionDef>;
  const rows = Object.entries(all).map(([name, d]) => {
    const def = defaultLabel(d);
    const choices = d.choices ? ` (${d.choices.join(' | ')})` : '';
    return [optionLabel(name, d), `${d.description}${choices}${def ? ` [default: ${def}]` : ''}`] as const;
  });
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  const lines = [
    `Usage: ${spec.command} [options]`,
    '',
    ...spec.summary.trim().split('\n'),
    '',
    'Options:',
    ...rows.map(([l, t]) => `  ${l.padEnd(w)}${t}`),
  ];
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

function parseError(e: unknown): UsageError {
  const err = e as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(err.message ?? '')?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${quoted}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument '${quoted}' (this app takes only options)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message ?? '')) return new UsageError(`option ${quoted.split(', ').at(-1)} takes no value`);
      if (/ambiguous/.test(err.message ?? '')) return new UsageError(`option ${quoted.replace(/ <value>$/, '')} needs a value (one that starts with '-' is written ${quoted.replace(/ <value>$/, '')}=-…)`);
      return new UsageError(`option ${quoted.replace(/ <value>$/, '')} needs a value`);
    default:
      return new UsageError(String(err.message ?? e));
  }
}

async function convert(name: string, d: OptionDef, raw: string | boolean): Promise<string | number | boolean> {
  const flag = `--${name}`;
  if (d.type === 'boolean') return raw;
  const s = String(raw);
  let value: string | number = s;
  if (d.type === 'number' || d.type === 'int') {
    const n = s.trim() === '' ? NaN : Number(s);
    const what = d.type === 'int' ? 'an integer' : 'a number';
    if (!Number.isFinite(n)) throw new UsageError(`${flag} ${JSON.stringify(s)}: expected ${what}`);
    if (d.type === 'int' && !Number.isInteger(n)) throw new UsageError(`${flag} ${s}: expected an integer`);
    if (d.min !== undefined && (d.exclusiveMin ? n <= d.min : n < d.min)) throw new UsageError(`${flag} ${s}: must be ${d.exclusiveMin ? '>' : '≥'} ${d.min}`);
    if (d.max !== undefined && n > d.max) throw new UsageError(`${flag} ${s}: must be ≤ ${d.max}`);
    value = n;
  } else {
    if (s === '') throw new UsageError(`${flag}: empty value`);
    if (d.choices && !d.choices.includes(s)) throw new UsageError(`${flag} ${s}: expected one of ${d.choices.join(', ')}`);
  }
  const problem = d.validate ? await d.validate(value as never) : undefined;
  if (problem) throw new UsageError(`${flag} ${s}: ${problem}`);
  return value;
}

/**
 * Parses and validates `argv` against the spec. Returns 'help' when --help is given (nothing else
 * is checked then); throws a UsageError naming the first bad option.
 */
export async function parseOptions<O extends Record<string, OptionDef>>(spec: AppSpec<O>, argv: readonly string[]): Promise<ParsedOptions<O> | 'help'> {
  const all = { ...spec.options, ...BUILTIN } as Record<string, OptionDef>;
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, d] of Object.entries(all)) config[name] = { type: d.type === 'boolean' ? 'boolean' : 'string', ...(d.short ? { short: d.short } : {}) };
  // `--lr -1`: a negative number is the option's value, not an option
  const args = normalizeArgv(argv);
  for (let i = 0; i + 1 < args.length; i++) {
    const d = args[i]!.startsWith('--') ? all[args[i]!.slice(2)] : undefined;
    if (d && d.type !== 'boolean' && /^-(\d|\.\d)/.test(args[i + 1]!)) args.splice(i, 2, `${args[i]}=${args[i + 1]}`);
  }
  let values: Record<string, string | boolean | undefined>;
  let tokens: { kind: string; name?: string }[];
  try {
    ({ values, tokens } = parseArgs({ args, options: config, strict: true, allowPositionals: false, allowNegative: true, tokens: true } as Parameters<typeof parseArgs>[0] & {
      allowNegative: boolean;
      tokens: true;
    }) as unknown as { values: typeof values; tokens: typeof tokens });
  } catch (e) {
    throw parseError(e);
  }
  if (values.help) return 'help';
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || !t.name) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once`);
    seen.add(t.name);
  }
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(spec.options)) {
    const raw = values[name];
    if (raw === undefined) out[name] = d.type === 'boolean' ? (d.default ?? false) : d.default;
    else out[name] = await convert(name, d, raw);
  }
  return out as ParsedOptions<O>;
}

/** One line saying what went wrong: `<app>: <ErrorName>: <message>`, newlines folded. */
export function errorLine(app: string, e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const message = err.message.replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof UsageError) return `${app}: ${message} (see --help)`;
  const name = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${app}: ${name}${message}`;
}

/**
 * Runs an app: parses and validates the options (printing the help for --help), then `main`.
 * Any error ends the process with one line on stderr (and its stack trace with --verbose): exit
 * code 2 for a bad command line, 1 for a failure while running.
 */
export async function runApp<const O extends Record<string, OptionDef>>(spec: AppSpec<O>, main: (opts: ParsedOptions<O>) => Promise<void> | void): Promise<void> {
  // `pnpm mnist | head`: a closed stdout ends the app quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const argv = process.argv.slice(2);
  const verbose = normalizeArgv(argv).includes('--verbose');
  let code = 0;
  try {
    const opts = await parseOptions(spec, argv);
    if (opts === 'help') {
      process.stdout.write(helpText(spec));
      return;
    }
    await main(opts);
    return;
  } catch (e) {
    code = e instanceof UsageError ? 2 : 1;
    process.stderr.write(`${errorLine(spec.name, e)}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  }
  // a failed run may hold handles (a GPU context, a worker): end it here, stderr is written
  process.exit(code);
}

/**
 * The directory a user means by `--out DIR`: relative paths are taken from where the command was
 * typed (pnpm runs the app in its own folder but records the caller's in INIT_CWD).
 */
export function outDir(dir: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), dir);
}

/** A path as the user would type it from where they ran the command. */
export function shownPath(path: string): string {
  const rel = relative(process.env.INIT_CWD ?? process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/**
 * The options of the apps that train on MNIST (mnist, conv): `--batch-size N`, `--seed N` (of the
 * initialisation and the shuffling) and `--limit N` (a quick run on the first N images).
 */
export function mnistTrainingOptions(): {
  'batch-size': OptionDef & { type: 'int'; default: number };
  seed: OptionDef & { type: 'int'; default: number };
  limit: OptionDef & { type: 'int' };
} {
  return {
    'batch-size': { type: 'int', min: 1, max: 65_536, arg: 'N', default: 64, description: 'mini-batch size' },
    seed: { type: 'int', min: 0, default: 1, description: 'seed of the initialisation and the shuffling' },
    limit: { type: 'int', min: 1, arg: 'N', defaultText: 'all', description: 'use only the first N training and the first N test images (a quick run)' },
  };
}

/** The `--progress` / `--no-progress` option: on by default in a terminal. */
export function progressOption(what = 'progress bar'): OptionDef & { type: 'boolean'; default: boolean } {
  return { type: 'boolean', default: process.stdout.isTTY === true, defaultText: 'on in a terminal', description: `${what} (--no-progress: none)` };
}

/** The `--out DIR` option: a folder, or a path where one can be created (not a file, nor under one). */
export function outOption(defaultDir: string): OptionDef & { type: 'string'; default: string } {
  const validate = (dir: string): string | undefined => {
    for (let p = outDir(dir); ; p = dirname(p)) {
      let st;
      try {
        st = statSync(p);
      } catch {
        // missing (created by the app), or under a file (ENOTDIR): look further up
      }
      if (st) return st.isDirectory() ? undefined : `${shownPath(p)} is a file, not a folder: --out names the folder the outputs are written to`;
      if (dirname(p) === p) return undefined;
    }
  };
  return { type: 'string', arg: 'DIR', default: defaultDir, description: 'where to write the outputs (created if missing; relative to where you run the command)', validate: validate as never };
}

/**
 * Progress of a loop of `total` steps on stdout when `on`: one line redrawn in a terminal, a line
 * at every tenth elsewhere (`--progress` in a log). Call it with the steps done.
 */
export function stepProgress(on: boolean, label: string, total: number): (done: number) => void {
  const tty = process.stdout.isTTY === true;
  let shown = tty ? -1 : 0;
  return (done) => {
    const at = Math.floor((done / total) * (tty ? 100 : 10));
    if (!on || at === shown) return;
    shown = at;
    const line = `${label}: step ${done}/${total}`;
    if (tty) process.stdout.write(`\r${line} (${at} %)${done === total ? '\n' : ''}`);
    else console.log(line);
  };
}
