import { ValueError } from './errors';

const squash = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, '');

/**
 * Checks an options object: undefined passes (the caller applies its defaults), anything else must
 * be a plain object whose keys are all in `validKeys`. Throws a ValueError naming `owner`, the
 * unknown keys (with the valid key they probably meant, e.g. weight_decay → weightDecay) and the
 * valid ones. Returns the options for chaining.
 */
export function checkOptions<T>(owner: string, options: T, validKeys: readonly string[]): T {
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
  return options;
}
