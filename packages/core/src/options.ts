import { ValueError } from './errors';
import { isTensor } from './tensor';

const squash = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, '');

/** The type an option must have: a typeof name, 'integer', 'array', or the allowed strings. */
export type OptionType = 'any' | 'boolean' | 'number' | 'integer' | 'string' | 'function' | 'object' | 'array' | readonly string[];

function typeOk(v: unknown, t: OptionType): boolean {
  if (Array.isArray(t)) return t.includes(v as string);
  if (t === 'any') return true;
  if (t === 'integer') return Number.isInteger(v);
  if (t === 'array') return Array.isArray(v);
  if (t === 'object') return v !== null && typeof v === 'object';
  return typeof v === t;
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `'${v}'` : typeof v === 'object' || typeof v === 'function' ? typeof v : `${String(v)} (${typeof v})`;

/**
 * Checks an options object: undefined passes (the caller applies its defaults), anything else must
 * be a plain object whose keys are all valid. `valid` lists the keys, or maps each key to the type
 * its value must have (an undefined value always passes). Throws a ValueError naming `owner`, the
 * unknown keys (with the valid key they probably meant, e.g. weight_decay → weightDecay) and the
 * valid ones, or the option whose value has the wrong type. Returns the options for chaining.
 */
export function checkOptions<T>(owner: string, options: T, valid: readonly string[] | Readonly<Record<string, OptionType>>): T {
  const validKeys: readonly string[] = Array.isArray(valid) ? valid : Object.keys(valid);
  if (options === undefined) return options;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ValueError(`${owner}: options must be an object { ${validKeys.join(', ')} }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const unknown = Object.keys(options).filter((k) => !validKeys.includes(k));
  if (unknown.length) {
    const named = unknown.map((k) => {
      const close = validKeys.find((v) => [squash(v), `${squash(v)}s`].includes(squash(k)) || squash(v) === `${squash(k)}s`);
      return close ? `'${k}' (did you mean '${close}'?)` : `'${k}'`;
    });
    throw new ValueError(`${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${named.join(', ')}; valid options: ${validKeys.join(', ') || '(none)'}`);
  }
  if (!Array.isArray(valid)) {
    for (const [k, t] of Object.entries(valid as Record<string, OptionType>)) {
      const v = (options as Record<string, unknown>)[k];
      if (v !== undefined && !typeOk(v, t)) {
        const want = Array.isArray(t) ? `one of ${t.map((s) => `'${s}'`).join(', ')}` : t === 'integer' ? 'an integer' : t === 'array' ? 'an array' : `a ${t}`;
        throw new ValueError(`${owner}: option '${k}' must be ${want}, got ${describe(v)}`);
      }
    }
  }
  return options;
}

/** Throws a ValueError naming `op` and `name` unless `v` is a tensor (an argument left out, a number...). */
export function checkTensorArg(op: string, name: string, v: unknown): void {
  if (!isTensor(v)) {
    throw new ValueError(`${op}: ${name} must be a Tensor, got ${v === undefined ? 'nothing (a missing argument)' : describe(v)}`);
  }
}
