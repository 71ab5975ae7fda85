import { ShapeError } from './errors';

/** A tensor shape: the size of each dimension. */
export type Shape = readonly number[];

/** The most elements one tensor may hold (2³¹ − 1: what typed arrays and GPU buffers index safely). */
export const MAX_TENSOR_SIZE = 2 ** 31 - 1;

/** Throws unless every dimension is a non-negative integer and the size is at most MAX_TENSOR_SIZE. */
export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new ShapeError(op, `shape must be an array of dimensions, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(op, `dimension ${String(d)} is not a non-negative integer`, { shape });
    }
  }
  const n = sizeOf(shape);
  if (n > MAX_TENSOR_SIZE) throw new ShapeError(op, `${n} elements are more than a tensor can hold (${MAX_TENSOR_SIZE})`, { shape });
}

/** Number of elements of a tensor of this shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether two shapes are identical, dimension by dimension. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming the op when they do not broadcast. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(op, `shapes do not broadcast (dimension ${i}: ${da} vs ${db})`, { a, b });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Row-major strides. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Strides of `shape` read as broadcast to `out` (0 along broadcast axes): for binary kernels. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const pad = out.length - shape.length;
  const own = stridesOf(shape);
  return out.map((_, i) => (i < pad || shape[i - pad] === 1 ? 0 : own[i - pad]!));
}

/** Normalises a possibly negative axis; throws naming the op when out of range. */
export function normAxis(op: string, axis: number, rank: number, shape: Shape): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(op, `axis ${axis} is out of range for rank ${rank}`, { x: shape });
  }
  return a;
}

/** Shape after reducing `axes` (sorted, normalised). */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** Output shape of a 2-D matmul with transpose flags, or a ShapeError. */
export function matmulShape(a: Shape, b: Shape, transposeA: boolean, transposeB: boolean, bias?: Shape): [number, number, number] {
  const shapes: Record<string, Shape> = bias ? { a, b, bias } : { a, b };
  if (a.length !== 2 || b.length !== 2) throw new ShapeError('matmul', 'both operands must be 2-D', shapes);
  const [m, ka] = transposeA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kb, n] = transposeB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (ka !== kb) {
    throw new ShapeError(
      'matmul',
      `inner dimensions differ: ${ka} vs ${kb} (transposeA=${transposeA}, transposeB=${transposeB})`,
      shapes,
    );
  }
  if (bias && (bias.length !== 1 || bias[0] !== n)) {
    throw new ShapeError('matmul', `the bias must be 1-D with one value per output column: [${n}]`, shapes);
  }
  return [m, ka, n];
}

/** Normalised, unique, ascending axes of a reduction (all axes when `axes` is undefined). */
export function normAxes(op: string, axes: number | readonly number[] | undefined, shape: Shape): number[] {
  const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  return [...new Set(list.map((a) => normAxis(op, a, shape.length, shape)))].sort((p, q) => p - q);
}

/** A tensor seen as (outer, len, inner) around one axis, for reductions along it; rejects an empty axis. */
export function splitAxis(op: string, shape: Shape, axis: number): { axis: number; outer: number; len: number; inner: number } {
  const ax = normAxis(op, axis, shape.length, shape);
  const len = shape[ax]!;
  if (len === 0) throw new ShapeError(op, `axis ${axis} is empty`, { x: shape });
  return { axis: ax, outer: sizeOf(shape.slice(0, ax)), len, inner: sizeOf(shape.slice(ax + 1)) };
}
