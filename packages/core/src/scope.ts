import { ValueError } from './errors';
import type { Backend } from './backend';
import type { Tensor } from './tensor';
import { isTensor } from './is-tensor';

/**
 * Scopes free a step's temporaries: every tensor created inside `tidy(fn)` is disposed when
 * fn returns, except what fn returns and what `keep()` marked. Scopes nest.
 */
const stack: Set<Tensor>[] = [];
const kept = new WeakSet<Tensor>();

/** @internal called by the Tensor constructor. */
export function track(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (top) top.add(t);
}

/** Exempts `t` from disposal by the enclosing scopes (parameters, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  for (const s of stack) s.delete(t);
  return t;
}

function collect(r: unknown, out: Set<Tensor>): void {
  if (r == null || typeof r !== 'object') return;
  if (Array.isArray(r)) r.forEach((x) => collect(x, out));
  else if (isTensor(r)) out.add(r);
  else Object.values(r).forEach((x) => collect(x, out));
}

/** Runs fn, then disposes every tensor it created that it does not return. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of scope) if (!kept.has(t)) t.dispose();
    throw e;
  }
  stack.pop();
  if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
    for (const t of scope) if (!kept.has(t)) t.dispose();
    (result as unknown as Promise<unknown>).then(undefined, () => {}); // its rejection is reported by the error below
    throw new ValueError(
      'tidy: fn returned a Promise; tidy is synchronous and would dispose the tensors before the promise settles — ' +
        'await outside tidy and keep each tidy(...) synchronous',
    );
  }
  const keepSet = new Set<Tensor>();
  collect(result, keepSet);
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (keepSet.has(t) || kept.has(t)) {
      if (parent && !kept.has(t)) parent.add(t);
    } else t.dispose();
  }
  return result;
}

/** Disposes every tensor found in a value (a tensor, an array or a record of tensors). */
export function dispose(x: unknown): void {
  const s = new Set<Tensor>();
  collect(x, s);
  for (const t of s) t.dispose();
}

/** Steps of growth in a row after which `checkLeaks` warns. */
export const LEAK_STEPS = 5;
const streaks = new WeakMap<Backend, number[]>();

/**
 * The leak detector behind `backend.debugLeaks`: call it once per training step (`Optim.step`
 * does). When `debugLeaks` is set and the backend's live tensors grew on LEAK_STEPS steps in a
 * row, it warns, naming the backend and the counts; otherwise it does nothing.
 */
export function checkLeaks(backend: Backend): void {
  const sink = backend.debugLeaks;
  if (!sink) return;
  const n = backend.memory().tensors;
  const s = streaks.get(backend) ?? [];
  if (s.length && n <= s[s.length - 1]!) s.length = 0;
  s.push(n);
  streaks.set(backend, s);
  if (s.length <= LEAK_STEPS) return;
  const msg =
    `neurone: live tensors on ${backend.name} grew on ${LEAK_STEPS} steps in a row: ${s.join(' → ')} ` +
    `(+${(n - s[0]!) / LEAK_STEPS} per step); a tensor made outside tidy() and never disposed leaks on every step: run the step in tidy(), or dispose what you keep`;
  (sink === true ? console.warn : sink)(msg);
  s.splice(0, LEAK_STEPS);
}
