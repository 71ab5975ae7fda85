import { DisposedError, ShapeError } from './errors';
import type { Shape } from './shape';
import { normAxis, sizeOf } from './shape';
import { extremum, expand, gather, indexSelect, logsumexp, narrow, permute, softmaxAlong, transpose, where } from './ops';
import { track } from './scope';
import type { Backend } from './backend';

/** Element type of a tensor. */
export type DType = 'float32' | 'float64';
/** The typed array that holds a tensor's values, by dtype. */
export type TypedArray = Float32Array | Float64Array;

/**
 * One storage, shared by a tensor and its reshaped views: the backend's opaque data, the number
 * of live handles on it, and its size in bytes. Kept by the op layer; kernels see only `data`.
 */
export interface Storage {
  data: unknown;
  refs: number;
  bytes: number;
}

/**
 * A handle on data that a backend owns: shape, dtype, the owning backend and an opaque
 * storage. Ops are synchronous and return new handles; reading may be asynchronous
 * (`await t.data()`) and is synchronous where the backend can (`t.dataSync()`).
 */
export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly backend: Backend;
  readonly size: number;
  /** The storage (opaque: only the owning backend looks inside). */
  readonly dataId: object;
  #disposed = false;

  /** @internal tensors are made by a Backend's ops, never directly. */
  constructor(backend: Backend, dataId: Storage, shape: Shape, dtype: DType) {
    this.backend = backend;
    this.dataId = dataId;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    track(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Throws a DisposedError (naming `op`) if this tensor was disposed. */
  assertAlive(op: string): void {
    if (this.#disposed) throw new DisposedError(op, this.shape);
  }

  /** A copy of the values, synchronously (throws on backends that read only asynchronously). */
  dataSync(): TypedArray {
    this.assertAlive('dataSync');
    return this.backend.readSync(this);
  }

  /** A copy of the values; works on every backend. */
  data(): Promise<TypedArray> {
    this.assertAlive('data');
    return this.backend.read(this);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    const d = this.dataSync();
    if (d.length !== 1) throw new ShapeError('item', 'only a one-element tensor has an item', { x: this.shape });
    return d[0]!;
  }

  /** Nested arrays (a number for rank 0). */
  arraySync(): unknown {
    const d = this.dataSync();
    const build = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return d[off];
      const n = this.shape[dim]!;
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: n }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** Frees the storage. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.backend.disposeData(this);
  }

  // The tensor API (PyTorch's names and broadcasting): sugar over the op layer's ops.
  reshape(shape: Shape): Tensor {
    return this.backend.reshape(this, shape);
  }
  /** this + b (a tensor, broadcast, or a number). */
  add(b: Tensor | number): Tensor {
    return typeof b === 'number' ? this.backend.affine(this, 1, b) : this.backend.binary('add', this, b);
  }
  sub(b: Tensor | number): Tensor {
    return typeof b === 'number' ? this.backend.affine(this, 1, -b) : this.backend.binary('sub', this, b);
  }
  mul(b: Tensor | number): Tensor {
    return typeof b === 'number' ? this.backend.affine(this, b, 0) : this.backend.binary('mul', this, b);
  }
  div(b: Tensor | number): Tensor {
    return typeof b === 'number' ? this.backend.affine(this, 1 / b, 0) : this.backend.binary('div', this, b);
  }
  /** this ** e, element-wise (an integer exponent keeps a negative base real). */
  pow(e: Tensor | number): Tensor {
    if (e === 2) return this.square();
    return this.#scalarOp('pow', e);
  }
  /** Element-wise maximum with b (torch.maximum; NaN propagates). */
  maximum(b: Tensor | number): Tensor {
    return this.#scalarOp('maximum', b);
  }
  minimum(b: Tensor | number): Tensor {
    return this.#scalarOp('minimum', b);
  }
  #scalarOp(op: 'pow' | 'maximum' | 'minimum', b: Tensor | number): Tensor {
    if (typeof b !== 'number') return this.backend.binary(op, this, b);
    const s = this.backend.full([], b);
    const out = this.backend.binary(op, this, s);
    s.dispose();
    return out;
  }
  neg(): Tensor {
    return this.backend.affine(this, -1, 0);
  }
  abs(): Tensor {
    return this.backend.unary('abs', this);
  }
  exp(): Tensor {
    return this.backend.unary('exp', this);
  }
  log(): Tensor {
    return this.backend.unary('log', this);
  }
  sqrt(): Tensor {
    return this.backend.unary('sqrt', this);
  }
  square(): Tensor {
    return this.backend.unary('square', this);
  }
  tanh(): Tensor {
    return this.backend.unary('tanh', this);
  }
  sigmoid(): Tensor {
    return this.backend.unary('sigmoid', this);
  }
  relu(): Tensor {
    return this.backend.unary('relu', this);
  }
  softplus(): Tensor {
    return this.backend.unary('softplus', this);
  }
  /** min(max(x, lo), hi) (torch.clamp; either bound may be omitted). */
  clamp(lo = -Infinity, hi = Infinity): Tensor {
    return this.backend.clamp(this, lo, hi);
  }
  /** this where cond ≠ 0, else b (torch.Tensor.where). */
  where(cond: Tensor, b: Tensor): Tensor {
    return where(cond, this, b);
  }
  matmul(b: Tensor, opts: { transposeA?: boolean; transposeB?: boolean; bias?: Tensor } = {}): Tensor {
    return this.backend.matmul(this, b, opts.transposeA ?? false, opts.transposeB ?? false, opts.bias);
  }
  sum(axes?: number | readonly number[], keepDims = false): Tensor {
    return this.backend.sum(this, axes, keepDims);
  }
  mean(axes?: number | readonly number[], keepDims = false): Tensor {
    const s = this.backend.sum(this, axes, keepDims);
    const n = this.size / Math.max(1, s.size);
    const m = this.backend.affine(s, 1 / n, 0);
    s.dispose();
    return m;
  }
  /** Maximum over axes (all when omitted; torch.amax). */
  max(axes?: number | readonly number[], keepDims = false): Tensor {
    return extremum('max', this, axes, keepDims);
  }
  min(axes?: number | readonly number[], keepDims = false): Tensor {
    return extremum('min', this, axes, keepDims);
  }
  /** log Σ exp over axes, stable (torch.logsumexp). */
  logsumexp(axes?: number | readonly number[], keepDims = false): Tensor {
    return logsumexp(this, axes, keepDims);
  }
  argmax(axis = -1): Tensor {
    return this.backend.argmax(this, axis);
  }
  softmax(dim = -1): Tensor {
    return softmaxAlong('softmax', this, dim);
  }
  logSoftmax(dim = -1): Tensor {
    return softmaxAlong('logSoftmax', this, dim);
  }
  /** Swaps two axes (default: the last two), as a copy. */
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return transpose(this, dim0, dim1);
  }
  permute(...dims: number[]): Tensor {
    return permute(this, dims);
  }
  /** `length` entries of axis `dim` from `start` (torch.narrow). */
  narrow(dim: number, start: number, length: number): Tensor {
    return narrow(this, dim, start, length);
  }
  /** Read as broadcast to `shape` (torch.expand; −1 keeps a dimension). */
  expand(shape: Shape): Tensor {
    return expand(this, shape);
  }
  /** A view with a new axis of size 1 at `dim`. */
  unsqueeze(dim: number): Tensor {
    const d = dim < 0 ? dim + this.rank + 1 : dim;
    if (!Number.isInteger(d) || d < 0 || d > this.rank) throw new ShapeError('unsqueeze', `dim ${dim} is out of range for rank ${this.rank}`, { x: this.shape });
    return this.reshape([...this.shape.slice(0, d), 1, ...this.shape.slice(d)]);
  }
  /** A view without the size-1 axes (or only `dim`, when it has size 1). */
  squeeze(dim?: number): Tensor {
    if (dim === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const d = normAxis('squeeze', dim, this.rank, this.shape);
    return this.reshape(this.shape[d] === 1 ? this.shape.filter((_, i) => i !== d) : this.shape);
  }
  /** out[i] = this[i with axis `dim` replaced by index[i]] (torch.gather). */
  gather(dim: number, index: Tensor): Tensor {
    return gather(this, dim, index);
  }
  /** The entries `index` (1-D) along `dim` (torch.index_select). */
  indexSelect(dim: number, index: Tensor): Tensor {
    return indexSelect(this, dim, index);
  }
  clone(): Tensor {
    return this.backend.affine(this, 1, 0);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, backend=${this.backend.name}${
      this.#disposed ? ', disposed' : ''
    })`;
  }
}

/**
 * Whether `v` is a Tensor: an instance of this class, or of another loaded copy of
 * `@neurone/core` (its ES-module and CommonJS builds side by side), recognised by its handle's fields.
 */
export { isTensor } from './is-tensor';

/** @internal The storage behind a tensor (the op layer's business). */
export function storageOf(t: Tensor): Storage {
  return t.dataId as Storage;
}
