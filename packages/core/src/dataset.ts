import { sizeOf } from './shape';
import type { Shape } from './shape';

/** Values held in host memory with their shape (a batch is uploaded to a backend when needed). */
export interface HostTensor {
  data: Float32Array | Float64Array | Uint8Array;
  shape: Shape;
  /**
   * The values are data × scale (default 1): pixels kept as bytes with scale 1/255 hold images in
   * a quarter of float32's memory. `gatherRows` applies it (fit, evaluate, predict, batches).
   */
  scale?: number;
}

/**
 * A supervised dataset in host memory; axis 0 of x and y counts the samples.
 * y holds class indices ([n]) or targets ([n, ...]).
 */
export interface Dataset {
  x: HostTensor;
  y: HostTensor;
}

/**
 * Rows of a host tensor along axis 0 — the `indices`, or the range [start, end) — copied into a
 * float array (float64 when asked, by default when the input is float64; float32 otherwise), times
 * the tensor's `scale`: into `into` when it has that type and length (a buffer reused batch after
 * batch), else a fresh one. The one batching copy of `@neurone/data`'s `batches` and
 * `@neurone/optim`'s `fit`.
 */
export function gatherRows(
  t: HostTensor,
  rows: ArrayLike<number> | { start: number; end: number },
  float64 = t.data instanceof Float64Array,
  into?: Float32Array | Float64Array,
): { data: Float32Array | Float64Array; shape: number[] } {
  const row = sizeOf(t.shape.slice(1));
  const range = 'start' in rows;
  const n = range ? rows.end - rows.start : rows.length;
  const Out = float64 ? Float64Array : Float32Array;
  const out = into instanceof Out && into.length === n * row ? into : new Out(n * row);
  const src = t.data;
  const scale = t.scale ?? 1;
  const copy = (from: number, to: number, len: number): void => {
    if (scale === 1) out.set(src.subarray(from, from + len), to);
    else scaled(src, from, out, to, len, scale);
  };
  if (range) copy(rows.start * row, 0, n * row);
  else for (let i = 0; i < n; i++) copy(rows[i]! * row, i * row, row);
  return { data: out, shape: [n, ...t.shape.slice(1)] };
}

/** out[to + j] = src[from + j]·scale (exact for bytes: fround(v·(1/255)) = fround(v/255) for every v in 0..255). */
function scaled(src: HostTensor['data'], from: number, out: Float32Array | Float64Array, to: number, len: number, scale: number): void {
  for (let j = 0; j < len; j++) out[to + j] = src[from + j]! * scale;
}
