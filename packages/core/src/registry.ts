import { NeuroneError, ValueError } from './errors';
import type { Backend } from './backend';

let current: Backend | undefined;

/**
 * Sets the default backend, used by modules created without an explicit `{ backend }`.
 * Passing a backend explicitly is always preferred; this is a convenience for scripts.
 */
export function setBackend(backend: Backend): Backend {
  checkBackend('setBackend', backend);
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
  if (explicit === undefined || explicit === null) return getBackend();
  checkBackend('{ backend }', explicit);
  return explicit;
}

/** Throws a ValueError unless `b` looks like a Backend (a name and the creation and read primitives). */
export function checkBackend(owner: string, b: unknown): asserts b is Backend {
  const o = b as Partial<Backend> | null;
  const ok = o !== null && typeof o === 'object' && typeof o.name === 'string' && ['tensor', 'zeros', 'readSync', 'read'].every((k) => typeof (o as Record<string, unknown>)[k] === 'function');
  if (!ok) {
    const got = typeof b === 'string' ? `'${b}'` : b === null ? 'null' : typeof b === 'object' ? `an object without the Backend methods` : String(b);
    throw new ValueError(`${owner}: expected a Backend such as cpu() from @neurone/backend-cpu or gpu() from @neurone/backend-gpu, got ${got}`);
  }
}
