import type { DType } from './tensor';

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A value for an error message: JSON (cut at 200 characters) where it has one, else its type; never throws (deep or cyclic values). */
export function show(v: unknown): string {
  try {
    const j = JSON.stringify(v);
    if (j !== undefined) return j.length > 200 ? `${j.slice(0, 200)}…` : j;
  } catch {
    /* cyclic or too deep: its type */
  }
  return typeof v === 'object' ? (v === null ? 'null' : 'an object') : String(v);
}

/**
 * The first value of `data` that would not be stored faithfully as `dtype`: one that is not a
 * finite number, or (float32) whose magnitude rounds to Infinity. A description ("value 3 is
 * 1e300, beyond float32's range …") or undefined when every value is fine. Loads of host values
 * (Module and optimizer `loadStateDict`) and checkpoint writes call it.
 */
export function valueProblem(data: ArrayLike<unknown>, dtype?: DType): string | undefined {
  const narrow = dtype === 'float32' && !(data instanceof Float32Array);
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return `value ${i} is ${typeof x === 'number' ? x : `${show(x)} (${typeof x})`}, not a finite number`;
    if (narrow && !Number.isFinite(Math.fround(x))) return `value ${i} is ${x}, beyond float32's range (±${FLOAT32_MAX}); it would become ${x > 0 ? '' : '-'}Infinity`;
  }
  return undefined;
}
