import { ShapeError, ValueError } from './errors';
import { runOp } from './backend';
import type { Shape } from './shape';
import { broadcastShapes, normAxes, normAxis, reducedShape, sizeOf, stridesOf } from './shape';
import type { Tensor } from './tensor';
import { isTensor } from './is-tensor';
import { differentiable, softmaxVjp, unbroadcast } from './autograd';

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
  const keep = reducedShape(x.shape, ax, true);
  // ∂/∂x: g shared evenly by the elements equal to the extremum (PyTorch's amax/amin)
  return differentiable([x], () => extremumRuns(op, x, ax, keepDims), (g, y) => {
    const m = y.reshape(keep);
    const ones = x.backend.full(x.shape, 1);
    const mask = x.backend.activationGrad('relu', op === 'max' ? m.sub(x) : x.sub(m), ones).neg().add(1); // [x = m]
    return [mask.mul(g.reshape(keep).div(mask.sum(ax, true)))];
  });
}

function extremumRuns(op: 'max' | 'min', x: Tensor, ax: number[], keepDims: boolean): Tensor {
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
  arg('logsumexp', x);
  const keep = reducedShape(x.shape, normAxes('logsumexp', axes, x.shape), true);
  return differentiable([x], () => logsumexpRaw(x, axes, keepDims), (g, y) => [x.sub(y.reshape(keep)).exp().mul(g.reshape(keep))]); // softmax(x)·g
}

function logsumexpRaw(x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const B = x.backend;
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
  return differentiable([cond, a, b], () => runOp(cond.backend, 'where', [cond, a, b], shape, (k, [c, x, y]) => k.where(c!, x!, y!, shape)), (g, _, need) => {
    const zero = g.backend.full([], 0);
    return [null, need[1] ? unbroadcast(where(cond, g, zero), a.shape) : null, need[2] ? unbroadcast(where(cond, zero, g), b.shape) : null];
  });
}

function strided(op: string, x: Tensor, shape: Shape, strides: readonly number[], offset: number, vjp: (g: Tensor) => Tensor): Tensor {
  return differentiable([x], () => runOp(x.backend, op, [x], shape, (k, [xi]) => k.strided(xi!, shape, strides, offset)), (g) => [vjp(g)]);
}

/** x with `before` and `after` zeros around it along `axis` (the adjoint of narrow). */
function pad(x: Tensor, axis: number, before: number, after: number): Tensor {
  const zeros = (n: number): Tensor[] => (n > 0 ? [x.backend.zeros(x.shape.map((d, i) => (i === axis ? n : d)))] : []);
  return before || after ? concat([...zeros(before), x, ...zeros(after)], axis) : x;
}

/** The axes of x in the order `dims` (torch.permute); a copy, the identity order a view. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  arg('permute', x);
  const r = x.rank;
  const d = Array.isArray(dims) ? dims.map((a: number) => normAxis('permute', a, r, x.shape)) : [];
  if (d.length !== r || new Set(d).size !== r) throw new ShapeError('permute', `dims [${String(dims)}] are not a permutation of the ${r} axes`, { x: x.shape });
  if (d.every((a, i) => a === i)) return x.reshape(x.shape);
  const st = stridesOf(x.shape);
  const inv = d.map((_, i) => d.indexOf(i));
  return strided('permute', x, d.map((a) => x.shape[a]!), d.map((a) => st[a]!), 0, (g) => permute(g, inv));
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
  return strided('narrow', x, x.shape.map((v, i) => (i === ax ? length : v)), st, s * st[ax]!, (g) => pad(g, ax, s, n - s - length));
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
  return strided('expand', x, out, out.map((_, i) => (i < pad || x.shape[i - pad] === 1 ? 0 : own[i - pad]!)), 0, (g) => unbroadcast(g, x.shape));
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
  const starts = lens.map((_, i) => lens.slice(0, i).reduce((p, q) => p + q, 0));
  return differentiable(xs, () => runOp(first.backend, 'concat', xs, shape, (k, ins) => k.concat(ins, outer, lens, inner)), (g, _, need) =>
    lens.map((l, i) => (need[i] ? narrow(g, ax, starts[i]!, l) : null)),
  );
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
  const views = (): Tensor[] => xs.map((t) => t.reshape([...t.shape.slice(0, ax), 1, ...t.shape.slice(ax)]));
  return differentiable(xs, () => {
    const vs = views();
    try {
      return concat(vs, ax);
    } finally {
      vs.forEach((v) => v.dispose());
    }
  }, (g, _, need) => xs.map((t, i) => (need[i] ? narrow(g, ax, i, 1).reshape(t.shape) : null)));
}

/** out[i] = x[i with axis `dim` replaced by index[i]] (torch.gather; an index outside the axis gives 0). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  arg('gather', x);
  arg('gather', index, 'index');
  const ax = normAxis('gather', dim, x.rank, x.shape);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new ShapeError('gather', `index must have x's rank and no larger dimensions except along axis ${dim}`, { x: x.shape, index: index.shape });
  }
  return differentiable([x, index], () => runOp(x.backend, 'gather', [x, index], index.shape, (k, [xi, ii]) => k.gather(xi!, ii!, ax)), (g) => [scatterAdd(g, index, ax, x.shape)]);
}

/**
 * The adjoint of gather: out[i with axis `ax` replaced by index[i]] += g[i], shaped `shape`, as
 * one-hot rows (index → [N, n]) weighted by g, summed over the axis, the new axis moved into place
 * and padded with zeros where index is shorter than x.
 */
function scatterAdd(g: Tensor, index: Tensor, ax: number, shape: Shape): Tensor {
  const r = index.rank;
  const n = shape[ax]!;
  const rows = g.backend.oneHot(index.reshape([index.size]), n).mul(g.reshape([index.size, 1]));
  const s = rows.reshape([...index.shape, n]).sum(ax);
  let out = permute(s, [...Array(r).keys()].map((i) => (i < ax ? i : i === ax ? r - 1 : i - 1)));
  for (let i = 0; i < r; i++) if (i !== ax) out = pad(out, i, 0, shape[i]! - out.shape[i]!);
  return out;
}

/** The entries `index` (1-D) of axis `dim` (torch.index_select; an index outside the axis gives 0). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  arg('indexSelect', x);
  if (arg('indexSelect', index, 'index').rank !== 1) throw new ShapeError('indexSelect', 'index must be 1-D', { index: index.shape });
  const ax = normAxis('indexSelect', dim, x.rank, x.shape);
  const at = x.shape.map((_, i) => (i === ax ? index.size : 1));
  // ∂/∂x along ax = oneHot(index)ᵀ · g, the other axes flattened
  const others = x.shape.map((_, i) => i).filter((i) => i !== ax);
  return differentiable([x, index], () => {
    const col = index.reshape(at);
    const full = expand(col, x.shape.map((d, i) => (i === ax ? index.size : d)));
    col.dispose();
    try {
      return gather(x, ax, full);
    } finally {
      full.dispose();
    }
  }, (g) => {
    const gt = permute(g, [ax, ...others]);
    const sum = x.backend.matmul(x.backend.oneHot(index, x.shape[ax]!), gt.reshape([index.size, gt.size / Math.max(1, index.size)]), true);
    const back = sum.reshape([x.shape[ax]!, ...others.map((i) => x.shape[i]!)]);
    const rest = others.map((_, i) => i + 1);
    return [permute(back, [...rest.slice(0, ax), 0, ...rest.slice(ax)])];
  });
}

/** softmax or log-softmax over axis `dim` (the op layer's row kernel, through a permutation when dim is not last). */
export function softmaxAlong(op: 'softmax' | 'logSoftmax', x: Tensor, dim = -1): Tensor {
  const B = arg(op, x).backend;
  if (x.rank === 0) return B[op](x); // its ShapeError
  const ax = normAxis(op, dim, x.rank, x.shape);
  if (ax === x.rank - 1) return B[op](x);
  return differentiable([x], () => {
    const t = transpose(x, ax, -1);
    const s = B[op](t);
    const out = transpose(s, ax, -1);
    t.dispose();
    s.dispose();
    return out;
  }, (g, y) => [softmaxVjp(op, y, g, ax)]);
}
