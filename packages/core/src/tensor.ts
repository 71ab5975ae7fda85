import { DisposedError, ShapeError } from './errors';
import type { Shape } from './shape';
import { sizeOf } from './shape';
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

  // Fluent sugar over the backend's primitives.
  reshape(shape: Shape): Tensor {
    return this.backend.reshape(this, shape);
  }
  add(b: Tensor): Tensor {
    return this.backend.binary('add', this, b);
  }
  sub(b: Tensor): Tensor {
    return this.backend.binary('sub', this, b);
  }
  mul(b: Tensor): Tensor {
    return this.backend.binary('mul', this, b);
  }
  div(b: Tensor): Tensor {
    return this.backend.binary('div', this, b);
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
  argmax(axis = -1): Tensor {
    return this.backend.argmax(this, axis);
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
export function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor || (typeof v === 'object' && v !== null && 'dataId' in v && 'backend' in v && typeof (v as Tensor).data === 'function');
}

/** @internal The storage behind a tensor (the op layer's business). */
export function storageOf(t: Tensor): Storage {
  return t.dataId as Storage;
}
