import {
  Tensor,
  ShapeError,
  ValueError,
  broadcastShapes,
  checkInputs,
  checkShape,
  matmulShape,
  normAxes,
  splitAxis,
  reducedShape,
  shapesEqual,
  sizeOf,
  stridesOf,
} from '@neurone/core';
import type { ActivationGrad, Backend, BinaryOp, DType, MemoryInfo, Shape, TypedArray, UnaryOp } from '@neurone/core';
import { gemm } from './gemm';

/** Options of `cpu()`. */
export interface CpuOptions {
  /** 'float32' (default) or 'float64' (for tight gradient checks). */
  dtype?: DType;
}

/** Storage shared by a tensor and its reshaped views. */
interface Store {
  values: TypedArray;
  refs: number;
}

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  relu: (x) => (x > 0 ? x : 0),
  // log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), stable for any x
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  sign: Math.sign,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
};

/** The CPU backend: every primitive on typed arrays. */
export class CpuBackend implements Backend {
  readonly name: string;
  readonly dtype: DType;
  readonly canReadSync = true;
  #tensors = 0;
  #buffers = 0;
  #bytes = 0;
  readonly #Array: Float32ArrayConstructor | Float64ArrayConstructor;

  constructor({ dtype = 'float32' }: CpuOptions = {}) {
    if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`cpu: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
    this.dtype = dtype;
    this.name = `cpu(${dtype})`;
    this.#Array = dtype === 'float64' ? Float64Array : Float32Array;
  }

  // ---- storage ----------------------------------------------------------------------------

  /**
   * Freed buffers wait here by length and serve the next op of that size (a training step
   * allocates the same sizes every time), so steady-state training allocates nothing.
   */
  readonly #pool = new Map<number, TypedArray[]>();
  #pooledBytes = 0;
  static readonly POOL_BYTES = 64 * 1024 * 1024;
  static readonly POOL_PER_SIZE = 32;

  /** A buffer of n elements; zero-filled only when asked (most ops overwrite every element). */
  #alloc(n: number, zero = false): TypedArray {
    const a = this.#pool.get(n)?.pop();
    if (!a) return new this.#Array(n);
    this.#pooledBytes -= a.byteLength;
    return zero ? a.fill(0) : a;
  }

  #release(values: TypedArray): void {
    if (values.length === 0 || this.#pooledBytes + values.byteLength > CpuBackend.POOL_BYTES) return;
    const list = this.#pool.get(values.length);
    if (list && list.length >= CpuBackend.POOL_PER_SIZE) return;
    if (list) list.push(values);
    else this.#pool.set(values.length, [values]);
    this.#pooledBytes += values.byteLength;
  }

  #wrap(values: TypedArray, shape: Shape): Tensor {
    this.#buffers++;
    this.#bytes += values.byteLength;
    this.#tensors++;
    return new Tensor(this, { values, refs: 1 } satisfies Store, shape, this.dtype);
  }

  #view(x: Tensor, shape: Shape): Tensor {
    const s = x.dataId as Store;
    s.refs++;
    this.#tensors++;
    return new Tensor(this, s, shape, this.dtype);
  }

  /** The values of a live tensor of this backend (no copy). */
  #v(x: Tensor): TypedArray {
    return (x.dataId as Store).values;
  }

  tensor(values: ArrayLike<number>, shape: Shape): Tensor {
    checkShape('tensor', shape);
    const n = sizeOf(shape);
    if (values == null || typeof values.length !== 'number') throw new ValueError(`tensor: values must be array-like, got ${String(values)}`);
    if (values.length !== n) throw new ShapeError('tensor', `${values.length} values do not fill the shape (${n} needed)`, { shape });
    const out = this.#alloc(n);
    out.set(values as ArrayLike<number>);
    return this.#wrap(out, shape);
  }

  zeros(shape: Shape): Tensor {
    checkShape('zeros', shape);
    return this.#wrap(this.#alloc(sizeOf(shape), true), shape);
  }

  full(shape: Shape, value: number): Tensor {
    checkShape('full', shape);
    return this.#wrap(this.#alloc(sizeOf(shape)).fill(value), shape);
  }

  readSync(t: Tensor): TypedArray {
    checkInputs('dataSync', this, t);
    return this.#v(t).slice();
  }

  read(t: Tensor): Promise<TypedArray> {
    try {
      checkInputs('data', this, t);
      return Promise.resolve(this.#v(t).slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  disposeData(t: Tensor): void {
    const s = t.dataId as Store;
    this.#tensors--;
    if (--s.refs === 0) {
      this.#buffers--;
      this.#bytes -= s.values.byteLength;
      this.#release(s.values);
    }
  }

  memory(): MemoryInfo {
    return { tensors: this.#tensors, buffers: this.#buffers, bytes: this.#bytes };
  }

  // ---- layout -----------------------------------------------------------------------------

  reshape(x: Tensor, shape: Shape): Tensor {
    checkInputs('reshape', this, x);
    checkShape('reshape', shape);
    if (sizeOf(shape) !== x.size) throw new ShapeError('reshape', `cannot reshape ${x.size} elements`, { x: x.shape, shape });
    return this.#view(x, shape);
  }

  transpose(x: Tensor): Tensor {
    checkInputs('transpose', this, x);
    if (x.rank !== 2) throw new ShapeError('transpose', 'expects a 2-D tensor', { x: x.shape });
    const [r, c] = x.shape as [number, number];
    const a = this.#v(x);
    const out = this.#alloc(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
    return this.#wrap(out, [c, r]);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false, bias?: Tensor): Tensor {
    if (bias) checkInputs('matmul', this, a, b, bias);
    else checkInputs('matmul', this, a, b);
    const [m, k, n] = matmulShape(a.shape, b.shape, transposeA, transposeB, bias?.shape);
    const out = this.#alloc(m * n);
    gemm(this.#v(a), this.#v(b), out, m, n, k, transposeA, transposeB);
    if (bias) {
      // + bias on each row, in place: the same rounding as a separate add, without its buffer
      const bv = this.#v(bias);
      for (let i = 0, o = 0; i < m; i++) for (let j = 0; j < n; j++, o++) out[o] = out[o]! + bv[j]!;
    }
    return this.#wrap(out, [m, n]);
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    checkInputs(op, this, x);
    const f = UNARY[op];
    if (!f) throw new ValueError(`unary: unknown op '${String(op)}'`);
    const a = this.#v(x);
    const n = a.length;
    const out = this.#alloc(n);
    // one loop per op: a call through `f` would not inline, and costs several times the math
    switch (op) {
      case 'neg':
        for (let i = 0; i < n; i++) out[i] = -a[i]!;
        break;
      case 'abs':
        for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]!);
        break;
      case 'exp':
        for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]!);
        break;
      case 'log':
        for (let i = 0; i < n; i++) out[i] = Math.log(a[i]!);
        break;
      case 'sqrt':
        for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]!);
        break;
      case 'square':
        for (let i = 0; i < n; i++) out[i] = a[i]! * a[i]!;
        break;
      case 'tanh':
        for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i]!);
        break;
      case 'sigmoid':
        for (let i = 0; i < n; i++) {
          const v = a[i]!;
          if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
          else {
            const e = Math.exp(v);
            out[i] = e / (1 + e);
          }
        }
        break;
      case 'relu':
        for (let i = 0; i < n; i++) out[i] = a[i]! > 0 ? a[i]! : 0;
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = f(a[i]!);
    }
    return this.#wrap(out, x.shape);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    checkInputs(op, this, a, b);
    const f = BINARY[op];
    if (!f) throw new ValueError(`binary: unknown op '${String(op)}'`);
    const shape = broadcastShapes(op, a.shape, b.shape);
    const n = sizeOf(shape);
    const av = this.#v(a);
    const bv = this.#v(b);
    const out = this.#alloc(n);
    if (av.length === n && bv.length === n) {
      // one loop per op (a call through `f` does not inline)
      if (op === 'add') for (let i = 0; i < n; i++) out[i] = av[i]! + bv[i]!;
      else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = av[i]! * bv[i]!;
      else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = av[i]! - bv[i]!;
      else if (op === 'div') for (let i = 0; i < n; i++) out[i] = av[i]! / bv[i]!;
      else for (let i = 0; i < n; i++) out[i] = f(av[i]!, bv[i]!);
    } else if (av.length === n && isSuffix(b.shape, shape)) {
      // b repeats along the leading axes (bias rows, scalars)
      const m = bv.length;
      if (op === 'add') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! + bv[j]!;
      else if (op === 'mul') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! * bv[j]!;
      else if (op === 'sub') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! - bv[j]!;
      else if (op === 'div') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! / bv[j]!;
      else for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = f(av[i]!, bv[j]!);
    } else if (bv.length === n && isSuffix(a.shape, shape)) {
      const m = av.length;
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = f(av[j]!, bv[i]!);
    } else {
      const sa = bstrides(a.shape, shape);
      const sb = bstrides(b.shape, shape);
      const idx = new Array<number>(shape.length).fill(0);
      let ia = 0;
      let ib = 0;
      for (let i = 0; i < n; i++) {
        out[i] = f(av[ia]!, bv[ib]!);
        for (let d = shape.length - 1; d >= 0; d--) {
          idx[d]!++;
          ia += sa[d]!;
          ib += sb[d]!;
          if (idx[d]! < shape[d]!) break;
          ia -= sa[d]! * shape[d]!;
          ib -= sb[d]! * shape[d]!;
          idx[d] = 0;
        }
      }
    }
    return this.#wrap(out, shape);
  }

  affine(x: Tensor, scale: number, shift: number): Tensor {
    checkInputs('affine', this, x);
    const a = this.#v(x);
    const out = this.#alloc(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! * scale + shift;
    return this.#wrap(out, x.shape);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
    checkInputs('axpby', this, x, y);
    if (!shapesEqual(x.shape, y.shape)) throw new ShapeError('axpby', 'x and y must have the same shape', { x: x.shape, y: y.shape });
    const a = this.#v(x);
    const b = this.#v(y);
    const out = this.#alloc(a.length);
    for (let i = 0; i < a.length; i++) out[i] = alpha * a[i]! + beta * b[i]!;
    return this.#wrap(out, x.shape);
  }

  clamp(x: Tensor, lo: number, hi: number): Tensor {
    checkInputs('clamp', this, x);
    if (!(lo <= hi)) throw new ValueError(`clamp: lo (${lo}) must be ≤ hi (${hi})`);
    const a = this.#v(x);
    const out = this.#alloc(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
    return this.#wrap(out, x.shape);
  }

  activationGrad(op: ActivationGrad, saved: Tensor, delta: Tensor): Tensor {
    checkInputs('activationGrad', this, saved, delta);
    if (!shapesEqual(saved.shape, delta.shape)) {
      throw new ShapeError('activationGrad', `${op}: saved tensor and delta must have the same shape`, { saved: saved.shape, delta: delta.shape });
    }
    const s = this.#v(saved);
    const d = this.#v(delta);
    const out = this.#alloc(s.length);
    if (op === 'tanh') for (let i = 0; i < s.length; i++) out[i] = d[i]! * (1 - s[i]! * s[i]!);
    else if (op === 'sigmoid') for (let i = 0; i < s.length; i++) out[i] = d[i]! * s[i]! * (1 - s[i]!);
    else if (op === 'relu') for (let i = 0; i < s.length; i++) out[i] = s[i]! > 0 ? d[i]! : 0;
    else throw new ValueError(`activationGrad: unknown activation '${String(op)}'`);
    return this.#wrap(out, saved.shape);
  }

  // ---- reductions -------------------------------------------------------------------------

  sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    checkInputs('sum', this, x);
    const ax = normAxes('sum', axes, x.shape);
    const shape = reducedShape(x.shape, ax, keepDims);
    const a = this.#v(x);
    // accumulate in float64 whatever the dtype, then store into a pooled buffer
    const out = new Float64Array(sizeOf(shape));
    if (ax.length === x.rank) {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i]!;
      out[0] = s;
    } else {
      // (outer, reduced, inner) when the reduced axes are contiguous; general path otherwise
      const contiguous = ax.every((v, i) => i === 0 || v === ax[i - 1]! + 1);
      if (contiguous) {
        const outer = sizeOf(x.shape.slice(0, ax[0]));
        const red = sizeOf(ax.map((i) => x.shape[i]!));
        const inner = sizeOf(x.shape.slice(ax[ax.length - 1]! + 1));
        for (let o = 0; o < outer; o++)
          for (let r = 0; r < red; r++) {
            const base = (o * red + r) * inner;
            const ob = o * inner;
            for (let i = 0; i < inner; i++) out[ob + i]! += a[base + i]!;
          }
      } else {
        const keep = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
        const os = stridesOf(keep).map((s, i) => (ax.includes(i) ? 0 : s));
        forEachIndex(x.shape, os, (flat, o) => {
          out[o]! += a[flat]!;
        });
      }
    }
    const result = this.#alloc(out.length);
    result.set(out);
    return this.#wrap(result, shape);
  }

  max(x: Tensor, axis: number, keepDims = false): Tensor {
    return this.#reduceAlong('max', x, axis, keepDims, false);
  }

  argmax(x: Tensor, axis: number): Tensor {
    return this.#reduceAlong('argmax', x, axis, false, true);
  }

  #reduceAlong(op: string, x: Tensor, axis: number, keepDims: boolean, arg: boolean): Tensor {
    checkInputs(op, this, x);
    const { axis: ax, outer, len, inner } = splitAxis(op, x.shape, axis);
    const a = this.#v(x);
    const out = this.#alloc(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = a[o * len * inner + i]!;
        let at = 0;
        for (let r = 1; r < len; r++) {
          const v = a[(o * len + r) * inner + i]!;
          if (v > best) {
            best = v;
            at = r;
          }
        }
        out[o * inner + i] = arg ? at : best;
      }
    return this.#wrap(out, reducedShape(x.shape, [ax], keepDims));
  }

  // ---- rows -------------------------------------------------------------------------------

  softmax(x: Tensor): Tensor {
    return this.#rowwise('softmax', x, false);
  }

  logSoftmax(x: Tensor): Tensor {
    return this.#rowwise('logSoftmax', x, true);
  }

  #rowwise(op: string, x: Tensor, log: boolean): Tensor {
    checkInputs(op, this, x);
    if (x.rank < 1) throw new ShapeError(op, 'needs at least one axis (it works over the last)', { x: x.shape });
    const k = x.shape[x.rank - 1]!;
    const a = this.#v(x);
    const out = this.#alloc(a.length);
    for (let o = 0; o < a.length; o += k) {
      let m = -Infinity;
      for (let j = 0; j < k; j++) if (a[o + j]! > m) m = a[o + j]!;
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(a[o + j]! - m);
      if (log) {
        const lse = m + Math.log(s); // log Σ eˣ, max-shifted
        for (let j = 0; j < k; j++) out[o + j] = a[o + j]! - lse;
      } else {
        for (let j = 0; j < k; j++) out[o + j] = Math.exp(a[o + j]! - m) / s;
      }
    }
    return this.#wrap(out, x.shape);
  }

  oneHot(indices: Tensor, depth: number): Tensor {
    checkInputs('oneHot', this, indices);
    if (indices.rank !== 1) throw new ShapeError('oneHot', 'indices must be 1-D', { indices: indices.shape });
    if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`oneHot: depth must be a positive integer, got ${depth}`);
    const idx = this.#v(indices);
    const n = idx.length;
    const out = this.#alloc(n * depth, true);
    for (let i = 0; i < n; i++) {
      const c = idx[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= depth) {
        throw new ValueError(`oneHot: index ${c} at position ${i} is not a class in [0, ${depth})`);
      }
      out[i * depth + c] = 1;
    }
    return this.#wrap(out, [n, depth]);
  }
}

function isSuffix(small: Shape, full: Shape): boolean {
  // small broadcasts by repetition along leading axes: its shape (minus leading 1s) is a suffix of full
  let s = 0;
  while (s < small.length && small[s] === 1 && small.length - s > 0) s++;
  const tail = small.slice(s);
  const off = full.length - tail.length;
  return off >= 0 && tail.every((d, i) => d === full[off + i]);
}

/** Strides of `shape` read as broadcast to `out` (0 along broadcast axes). */
function bstrides(shape: Shape, out: Shape): number[] {
  const pad = out.length - shape.length;
  const own = stridesOf(shape);
  return out.map((_, i) => (i < pad || shape[i - pad] === 1 ? 0 : own[i - pad]!));
}

function forEachIndex(shape: Shape, outStrides: number[], f: (flat: number, out: number) => void): void {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let flat = 0; flat < n; flat++) {
    f(flat, o);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      o += outStrides[d]!;
      if (idx[d]! < shape[d]!) break;
      o -= outStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** A CPU backend: `cpu()` for float32, `cpu({ dtype: 'float64' })` for exact gradient checks. */
export function cpu(options: CpuOptions = {}): CpuBackend {
  return new CpuBackend(options);
}
