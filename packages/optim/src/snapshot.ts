import { ValueError, isTensor, keep } from '@neurone/core';
import type { Tensor } from '@neurone/core';

/** Deeper than this, a state dict is refused (a cycle). */
const MAX_DEPTH = 64;

interface Stateful {
  stateDict(): unknown;
  loadStateDict(dict: unknown): void;
}

/**
 * A point fit returns to on a non-finite loss, beside the parameters: the state dicts of the
 * optimizer and the scheduler (those with `stateDict` and `loadStateDict`), their tensors held as
 * views (storages are immutable: a view keeps the old numbers at the cost of one handle).
 * `restore()` loads them back and says which were restored; `dispose()` lets the views go.
 */
export function snapshotState(holders: Record<string, unknown>): { restore(): string[]; dispose(): void } {
  const views: Tensor[] = [];
  const copy = (v: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new ValueError(`fit: a state dict nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
    if (v === null || typeof v !== 'object') return v;
    if (isTensor(v)) {
      views.push(keep(v.backend.reshape(v, v.shape)));
      return views[views.length - 1];
    }
    if (ArrayBuffer.isView(v)) return (v as Float64Array).slice();
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x, depth + 1)]));
  };
  const saved: [string, Stateful, unknown][] = [];
  try {
    for (const [name, h] of Object.entries(holders)) {
      const s = h as Partial<Stateful> | undefined;
      if (typeof s?.stateDict === 'function' && typeof s.loadStateDict === 'function') saved.push([name, s as Stateful, copy(s.stateDict(), 0)]);
    }
  } catch (e) {
    views.forEach((t) => t.dispose());
    throw e;
  }
  const dispose = (): void => void views.splice(0).forEach((t) => t.dispose());
  return {
    restore: () => {
      try {
        for (const [, h, dict] of saved) h.loadStateDict(dict); // copies the views' values
        return saved.map(([name]) => name);
      } finally {
        dispose();
      }
    },
    dispose,
  };
}
