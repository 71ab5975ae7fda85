import { ShapeError, ValueError } from './errors';
import { runOp } from './backend';
import type { Shape } from './shape';
import { broadcastShapes, normAxes, normAxis, reducedShape, sizeOf, stridesOf } from './shape';
import type { Tensor } from './tensor';
import { isTensor } from './is-tensor';

/**
 * The ops a user composes with (issue 17's tensor API), PyTorch's names and semantics; each
 * checks its arguments and ends in the op layer (`runOp`). `Tensor`'s methods call them; the
 * multi-tensor ones (`where`, `concat`, `stack`) are exported as functions too.
 */
function arg(op: string, x: unknown, what = 'input'): Tensor {
  if (!isTensor(x)) throw new ValueError(`${op}: ${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

function int(op: string, name: string, v: unknown): number {
  if (!Number.isInteger(v)) throw new ValueError(`${op}: ${name} must be an integer, got ${String(v)}`);
  return v as number;
}

/** max or min over `axes` (all when omitted), one kernel per run of adjacent axes. */
export function extremum(op: 'max' | 'min', x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  arg(op, x);
  const ax = normAxes(op, axes, x.shape);
  for (const a of ax) if (x.shape[a] === 0) throw new ShapeError(op, `axis ${a} is empty`, { x: x.shape });
  if (ax.length === 0) return x.reshape(x.shape);
  const runs: number[][] = [];
  for (const a of ax) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === a - 1) last.push(a);
    else runs.push([a]);
  }
  let cur = x;
  for (const run of runs.reverse()) {
    const s = cur.shape;
    const split = { axis: run[0]!, outer: sizeOf(s.slice(0, run[0])), len: sizeOf(run.map((i) => s[i]!)), inner: sizeOf(s.slice(run[run.length - 1]! + 1)) };
    const next = runOp(x.backend, op, [cur], s.map((d, i) => (run.includes(i) ? 1 : d)), (k, [c]) => k.extremum(op, c!, split));
    if (cur !== x) cur.dispose();
    cur = next;
  }
  if (keepDims) return cur;
  const out = cur.reshape(reducedShape(x.shape, ax, false));
  cur.dispose();
  return out;
}

/** log Σ exp(x) over `axes`, shifted by the (clamped) maximum: stable, −∞ rows give −∞. */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const B = arg('logsumexp', x).backend;
  const m0 = extremum('max', x, axes, true);
  const m = B.clamp(m0, -1e38, 1e38);
  const d = B.binary('sub', x, m);
  const e = B.unary('exp', d);
  const s = B.sum(e, axes, true);
  const l = B.unary('log', s);
  const out = B.binary('add', l, m0); // m0, not m: a −∞ row stays −∞ even where a GPU's log(0) is finite
  for (const t of [m0, m, d, e, s, l]) t.dispose();
  if (keepDims) return out;
  const r = out.reshape(reducedShape(x.shape, normAxes('logsumexp', axes, x.shape), false));
  out.dispose();
  return r;
}

/** cond ≠ 0 ? a : b, broadcasting the three (torch.where). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  arg('where', cond, 'cond');
  arg('where', a, 'a');
  arg('where', b, 'b');
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  return runOp(cond.backend, 'where', [cond, a, b], shape, (k, [c, x, y]) => k.where(c!, x!, y!, shape));
}

function strided(op: string, x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return runOp(x.backend, op, [x], shape, (k, [xi]) => k.strided(xi!, shape, strides, offset));
}

/** The axes of x in the order `dims` (torch.permute); a copy, the identity order a view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  arg('permute', x);
  const r = x.rank;
  const d = Array.isArray(dims) ? dims.map((a: number) => normAxis('permute', a, r, x.shape)) : [];
  if (d.length !== r || new Set(d).size !== r) throw new ShapeError('permute', `dims [${String(dims)}] are not a permutation of the ${r} axes`, { x: x.shape });
  if (d.every((a, i) => a === i)) return x.reshape(x.shape);
  const st = stridesOf(x.shape);
  return strided('permute', x, d.map((a) => x.shape[a]!), d.map((a) => st[a]!), 0);
}

/** Swaps two axes (torch.transpose; default: the last two). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  arg('transpose', x);
  const [a, b] = [normAxis('transpose', dim0, x.rank, x.shape), normAxis('transpose', dim1, x.rank, x.shape)];
  const d = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, d);
}

/** `length` elements of axis `dim` from `start` (torch.narrow; a negative start counts from the end). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  arg('narrow', x);
  const ax = normAxis('narrow', dim, x.rank, x.shape);
  const n = x.shape[ax]!;
  const s = int('narrow', 'start', start) < 0 ? start + n : start;
  if (int('narrow', 'length', length) < 0 || s < 0 || s + length > n) {
    throw new ShapeError('narrow', `start ${start} and length ${length} do not fit axis ${dim} of size ${n}`, { x: x.shape });
  }
  const st = stridesOf(x.shape);
  return strided('narrow', x, x.shape.map((v, i) => (i === ax ? length : v)), st, s * st[ax]!);
}

/** x read as broadcast to `shape` (torch.expand: −1 keeps a dimension; new leading axes allowed). */
export function expand(x: Tensor, shape: Shape): Tensor {
  arg('expand', x);
  const pad = shape.length - x.rank;
  const own = stridesOf(x.shape);
  const out = Array.isArray(shape) ? shape.map((d: number, i) => (d === -1 && i >= pad ? x.shape[i - pad]! : d)) : [];
  if (pad < 0 || out.some((d, i) => i >= pad && x.shape[i - pad] !== 1 && x.shape[i - pad] !== d)) {
    throw new ShapeError('expand', `cannot expand to [${String(shape)}]`, { x: x.shape });
  }
  return strided('expand', x, out, out.map((_, i) => (i < pad || x.shape[i - pad] === 1 ? 0 : own[i - pad]!)), 0);
}

/** Joins tensors of one shape but along `dim` (torch.cat / torch.concat). */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('concat: expects a non-empty array of tensors');
  xs.forEach((t: unknown, i: number) => arg('concat', t, `tensor ${i}`));
  const first: Tensor = xs[0]!;
  const ax = normAxis('concat', dim, first.rank, first.shape);
  const shapes = Object.fromEntries(xs.map((t, i) => [`x${i}`, t.shape]));
  for (const t of xs as readonly Tensor[]) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError('concat', `every tensor must have the same shape except along axis ${dim}`, shapes);
    }
  }
  const lens = xs.map((t) => t.shape[ax]!);
  const shape = first.shape.map((d, i) => (i === ax ? lens.reduce((p, q) => p + q, 0) : d));
  const outer = sizeOf(first.shape.slice(0, ax));
  const inner = sizeOf(first.shape.slice(ax + 1));
  return runOp(first.backend, 'concat', xs, shape, (k, ins) => k.concat(ins, outer, lens, inner));
}

/** Stacks tensors of one shape along a new axis `dim` (torch.stack). */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new ValueError('stack: expects a non-empty array of tensors');
  const first: Tensor = arg('stack', xs[0]);
  const ax = normAxis('stack', dim, first.rank + 1, first.shape);
  xs.forEach((t: Tensor, i: number) => {
    if (arg('stack', t, `tensor ${i}`).rank !== first.rank || t.shape.some((d: number, j: number) => d !== first.shape[j])) {
      throw new ShapeError('stack', 'every tensor must have the same shape', Object.fromEntries(xs.map((u, j) => [`x${j}`, u.shape])));
    }
  });
  const views = xs.map((t) => t.reshape([...t.shape.slice(0, ax), 1, ...t.shape.slice(ax)]));
  try {
    return concat(views, ax);
  } finally {
    views.forEach((v) => v.dispose());
  }
}

/** out[i] = x[i with axis `dim` replaced by index[i]] (torch.gather; an index outside the axis gives 0). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  arg('gather', x);
  arg('gather', index, 'index');
  const ax = normAxis('gather', dim, x.rank, x.shape);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new ShapeError('gather', `index must have x's rank and no larger dimensions except along axis ${dim}`, { x: x.shape, index: index.shape });
  }
  return runOp(x.backend, 'gather', [x, index], index.shape, (k, [xi, ii]) => k.gather(xi!, ii!, ax));
}

/** The entries `index` (1-D) of axis `dim` (torch.index_select; an index outside the axis gives 0). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  arg('indexSelect', x);
  if (arg('indexSelect', index, 'index').rank !== 1) throw new ShapeError('indexSelect', 'index must be 1-D', { index: index.shape });
  const ax = normAxis('indexSelect', dim, x.rank, x.shape);
  const at = x.shape.map((_, i) => (i === ax ? index.size : 1));
  const col = index.reshape(at);
  const full = expand(col, x.shape.map((d, i) => (i === ax ? index.size : d)));
  col.dispose();
  try {
    return gather(x, ax, full);
  } finally {
    full.dispose();
  }
}

/** softmax or log-softmax over axis `dim` (the op layer's row kernel, through a permutation when dim is not last). */
export function softmaxAlong(op: 'softmax' | 'logSoftmax', x: Tensor, dim = -1): Tensor {
  const B = arg(op, x).backend;
  if (x.rank === 0) return B[op](x); // its ShapeError
  const ax = normAxis(op, dim, x.rank, x.shape);
  if (ax === x.rank - 1) return B[op](x);
  const t = transpose(x, ax, -1);
  const s = B[op](t);
  const out = transpose(s, ax, -1);
  t.dispose();
  s.dispose();
  return out;
}
