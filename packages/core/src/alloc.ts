import type { Backend } from './backend';
import { MemoryError, ShapeError } from './errors';
import { checkShape, sizeOf } from './shape';
import type { Shape } from './shape';

/** Allocations from this size up are also checked against the host's available memory. */
const HOST_CHECK_BYTES = 2 ** 26;

const gib = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

/**
 * The host's available memory in bytes where the runtime tells it (Node: process.availableMemory,
 * which honours cgroup limits, else os.freemem), otherwise undefined (browsers).
 */
export function hostAvailableBytes(): number | undefined {
  const proc = (globalThis as { process?: { availableMemory?: () => number; getBuiltinModule?: (m: string) => unknown } }).process;
  const v = proc?.availableMemory?.() ?? (proc?.getBuiltinModule?.('node:os') as { freemem(): number } | undefined)?.freemem();
  return typeof v === 'number' && v > 0 ? v : undefined;
}

/**
 * The op layer's size checks, made before anything is allocated for a tensor of `shape` on
 * `backend` (every op's output, a layer's parameters): a valid shape (ShapeError), at most the
 * backend's `maxElements` (ShapeError), and a MemoryError saying how much was asked and how much
 * there is when the backend's live tensors (`inUse` bytes) plus this one would pass the kernels'
 * `maxBytes`, or when this one plus `extraBytes` (host temporaries the caller needs beside it, e.g.
 * an initialiser's float64 values) is more than the host has available (checked from 64 MiB up:
 * uploads and reads pass through host memory on every backend). Returns the element count.
 */
export function checkAllocation(backend: Backend, op: string, shape: Shape, inUse = backend.memory().bytes, extraBytes = 0): number {
  checkShape(op, shape);
  const n = sizeOf(shape);
  if (n > backend.maxElements) throw new ShapeError(op, `${n} elements exceed what ${backend.name} holds in one tensor (${backend.maxElements})`, { shape });
  const bytes = n * (backend.dtype === 'float64' ? 8 : 4);
  const max = backend.maxBytes;
  const asked = (): string => `${op}: a tensor of shape [${shape.join(', ')}] needs ${bytes} bytes (${gib(bytes)})`;
  if (inUse + bytes > max) {
    throw new MemoryError(`${asked()}; ${backend.name} may hold ${max} bytes (maxBytes) and holds ${inUse} already: ${Math.max(0, max - inUse)} bytes are left`, bytes, Math.max(0, max - inUse));
  }
  const need = bytes + extraBytes;
  const host = need >= HOST_CHECK_BYTES ? hostAvailableBytes() : undefined;
  if (host !== undefined && need > host) {
    throw new MemoryError(`${asked()}${extraBytes ? ` (${gib(need)} with its ${gib(extraBytes)} of host temporaries)` : ''}; the host has ${host} bytes (${gib(host)}) available`, need, host);
  }
  return n;
}
