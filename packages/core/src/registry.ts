import { NeuroneError } from './errors';
import type { Backend } from './backend';

let current: Backend | undefined;

/**
 * Sets the default backend, used by modules created without an explicit `{ backend }`.
 * Passing a backend explicitly is always preferred; this is a convenience for scripts.
 */
export function setBackend(backend: Backend): Backend {
  current = backend;
  return backend;
}

/** The default backend, or a clear error when none was set. */
export function getBackend(): Backend {
  if (!current) {
    throw new NeuroneError(
      'no backend: pass { backend } explicitly or call setBackend(cpu()) from @neurone/backend-cpu first',
    );
  }
  return current;
}

/** The explicit backend when given, else the default one. */
export function resolveBackend(explicit?: Backend): Backend {
  return explicit ?? getBackend();
}
