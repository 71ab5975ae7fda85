import { BackendError, BackendMismatchError, NeuroneError, ShapeError, ValueError } from './errors';
import { checkAllocation } from './alloc';
import type { Kernels, KernelTensor, ActivationGrad, BinaryOp, UnaryOp } from './kernels';
import { ACTIVATION_GRADS, BINARY_OPS, UNARY_OPS } from './kernels';
import type { Shape } from './shape';
import { broadcastShapes, checkShape, matmulShape, normAxes, reducedShape, shapesEqual, sizeOf, splitAxis } from './shape';
import { Tensor, storageOf } from './tensor';
import type { DType, Storage, TypedArray } from './tensor';

/** What a backend holds now (`backend.memory()`). */
export interface MemoryInfo {
  /** Live tensor handles. */
  tensors: number;
  /** Live storage buffers (several handles may share one after reshape). */
  buffers: number;
  /** Bytes held by live buffers. */
  bytes: number;
}

/**
 * The op layer: what every backend shares. Each op checks its inputs once, here (alive, same
 * backend, shapes, arguments), infers the output shape, calls the backend's kernel with valid
 * inputs only, and wraps the result in a Tensor; errors are typed and name the op. A backend is
 * its `Kernels` (see kernels.ts): `new Backend(kernels)`, or a subclass that adds device extras.
 *
 * Ops are synchronous and return new handles; inputs are never modified. Reading may be
 * asynchronous: `await t.data()` works everywhere, `t.dataSync()` where `canReadSync`.
 */
export class Backend<K extends Kernels = Kernels> {
  readonly kernels: K;
  #tensors = 0;
  #buffers = 0;
  #bytes = 0;
  readonly #bytesPer: number;

  constructor(kernels: K) {
    this.kernels = kernels;
    this.#bytesPer = kernels.dtype === 'float64' ? 8 : 4;
  }

  /** e.g. 'cpu(float32)', 'gpu(webgl2)'. */
  get name(): string {
    return this.kernels.name;
  }
  get dtype(): DType {
    return this.kernels.dtype;
  }
  /** Whether `dataSync()` works on this backend. */
  get canReadSync(): boolean {
    return this.kernels.canReadSync;
  }
  /** The most elements one tensor may hold here. */
  get maxElements(): number {
    return this.kernels.maxElements;
  }

  /** Resolves with this backend once its device answers (immediately on the CPU); rejects with a BackendError. */
  async ready(): Promise<this> {
    await this.kernels.ready();
    return this;
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Checks that each input is alive and lives here. */
  #check(op: string, ...xs: (Tensor | undefined)[]): void {
    for (const t of xs) {
      if (t === undefined) continue;
      if (!(t instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor, got ${describe(t)}`);
      t.assertAlive(op);
      if (t.backend !== (this as Backend)) throw new BackendMismatchError(op, this.name, t.backend.name);
    }
  }

  #size(op: string, shape: Shape): number {
    return checkAllocation(this as Backend, op, shape, this.#bytes);
  }

  /** Runs a kernel, turning anything it throws that is not already typed into a BackendError naming the op. */
  #run<T>(op: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof NeuroneError) throw e;
      throw new BackendError(`${op}: ${this.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #wrap(data: unknown, shape: Shape): Tensor {
    const bytes = sizeOf(shape) * this.#bytesPer;
    this.#buffers++;
    this.#bytes += bytes;
    this.#tensors++;
    return new Tensor(this as Backend, { data, refs: 1, bytes }, shape, this.dtype);
  }

  /** Runs kernel `f` for `op` and wraps its result as a new tensor of `shape`. */
  #op(op: string, shape: Shape, f: () => unknown): Tensor {
    checkAllocation(this as Backend, op, shape, this.#bytes);
    return this.#wrap(this.#run(op, f), shape);
  }

  // ---- creation and reading ---------------------------------------------------------------

  tensor(values: ArrayLike<number>, shape: Shape): Tensor {
    const n = this.#size('tensor', shape);
    if (values == null || typeof values.length !== 'number') throw new ValueError(`tensor: values must be array-like, got ${describe(values)}`);
    if (values.length !== n) throw new ShapeError('tensor', `${values.length} values do not fill the shape (${n} needed)`, { shape });
    return this.#op('tensor', shape, () => this.kernels.upload(values, n));
  }

  zeros(shape: Shape): Tensor {
    const n = this.#size('zeros', shape);
    return this.#op('zeros', shape, () => this.kernels.fill(n, 0));
  }

  full(shape: Shape, value: number): Tensor {
    const n = this.#size('full', shape);
    if (typeof value !== 'number') throw new ValueError(`full: value must be a number, got ${describe(value)}`);
    return this.#op('full', shape, () => this.kernels.fill(n, value));
  }

  readSync(t: Tensor): TypedArray {
    this.#check('dataSync', t);
    if (!this.canReadSync) throw new BackendError(`dataSync: ${this.name} reads only asynchronously; use await t.data()`);
    return this.#run('dataSync', () => this.kernels.readSync!(input(t)));
  }

  read(t: Tensor): Promise<TypedArray> {
    try {
      this.#check('data', t);
      return this.kernels.read(input(t)).catch((e: unknown) => {
        throw e instanceof NeuroneError ? e : new BackendError(`data: ${this.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** @internal called by Tensor.dispose(): frees the storage when its last handle goes. */
  disposeData(t: Tensor): void {
    const s = storageOf(t);
    this.#tensors--;
    if (--s.refs > 0) return;
    this.#buffers--;
    this.#bytes -= s.bytes;
    this.kernels.free(s.data);
  }

  memory(): MemoryInfo {
    return { tensors: this.#tensors, buffers: this.#buffers, bytes: this.#bytes };
  }

  /** Frees every resource the backend holds (GPU contexts, workers). */
  destroy(): void {
    this.kernels.destroy?.();
  }

  // ---- layout -----------------------------------------------------------------------------

  /** A view with another shape of the same elements (no copy; the storage is shared). */
  reshape(x: Tensor, shape: Shape): Tensor {
    this.#check('reshape', x);
    checkShape('reshape', shape);
    if (sizeOf(shape) !== x.size) throw new ShapeError('reshape', `cannot reshape ${x.size} elements`, { x: x.shape, shape });
    const s = storageOf(x);
    s.refs++;
    this.#tensors++;
    return new Tensor(this as Backend, s, shape, this.dtype);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  /**
   * op(A)·op(B) for 2-D A, B; op transposes when its flag is set. With `bias` ([n], one value per
   * output column) it returns op(A)·op(B) + bias broadcast over the rows, in one kernel (Linear).
   */
  matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false, bias?: Tensor): Tensor {
    this.#check('matmul', a, b, bias);
    const [m, k, n] = matmulShape(a.shape, b.shape, transposeA, transposeB, bias?.shape);
    if (k === 0) {
      // an empty sum: zeros, plus the bias on every row
      const z = this.zeros([m, n]);
      if (!bias) return z;
      const out = this.binary('add', z, bias);
      z.dispose();
      return out;
    }
    return this.#op('matmul', [m, n], () =>
      this.kernels.matmul(input(a), input(b), { m, k, n, transposeA, transposeB }, bias ? input(bias) : undefined),
    );
  }

  /** Element-wise map (Linear's activations, losses' logs and squares). */
  unary(op: UnaryOp, x: Tensor): Tensor {
    if (!UNARY_OPS.includes(op)) throw new ValueError(`unary: unknown op '${String(op)}' (one of ${UNARY_OPS.join(', ')})`);
    this.#check(op, x);
    return this.#op(op, x.shape, () => this.kernels.unary(op, input(x)));
  }

  /** Element-wise binary op with NumPy broadcasting. */
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    if (!BINARY_OPS.includes(op)) throw new ValueError(`binary: unknown op '${String(op)}' (one of ${BINARY_OPS.join(', ')})`);
    this.#check(op, a, b);
    const shape = broadcastShapes(op, a.shape, b.shape);
    return this.#op(op, shape, () => this.kernels.binary(op, input(a), input(b), shape));
  }

  /** x ⊙ scale + shift (loss scaling, copies, means). */
  affine(x: Tensor, scale: number, shift: number): Tensor {
    this.#check('affine', x);
    checkNumbers('affine', { scale, shift });
    return this.#op('affine', x.shape, () => this.kernels.affine(input(x), scale, shift));
  }

  /** α·x + β·y, same shapes (gradient accumulation, SGD, momentum, Adam moments). */
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
    this.#check('axpby', x, y);
    checkNumbers('axpby', { alpha, beta });
    if (!shapesEqual(x.shape, y.shape)) throw new ShapeError('axpby', 'x and y must have the same shape', { x: x.shape, y: y.shape });
    return this.#op('axpby', x.shape, () => this.kernels.axpby(alpha, input(x), beta, input(y)));
  }

  /** min(max(x, lo), hi); either bound may be ±Infinity (BCE's clamped logs, Adam's floors). */
  clamp(x: Tensor, lo: number, hi: number): Tensor {
    this.#check('clamp', x);
    if (!(lo <= hi)) throw new ValueError(`clamp: lo (${lo}) must be ≤ hi (${hi})`);
    return this.#op('clamp', x.shape, () => this.kernels.clamp(input(x), lo, hi));
  }

  /** Fused activation backward (TanH, Sigmoid, ReLU); see ActivationGrad. */
  activationGrad(op: ActivationGrad, saved: Tensor, delta: Tensor): Tensor {
    if (!ACTIVATION_GRADS.includes(op)) throw new ValueError(`activationGrad: unknown activation '${String(op)}' (one of ${ACTIVATION_GRADS.join(', ')})`);
    this.#check('activationGrad', saved, delta);
    if (!shapesEqual(saved.shape, delta.shape)) {
      throw new ShapeError('activationGrad', `${op}: saved tensor and delta must have the same shape`, { saved: saved.shape, delta: delta.shape });
    }
    return this.#op('activationGrad', saved.shape, () => this.kernels.activationGrad(op, input(saved), input(delta)));
  }

  // ---- reductions -------------------------------------------------------------------------

  /** Sum over `axes` (all when omitted): Linear's bias gradient, the losses' reductions. */
  sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    this.#check('sum', x);
    const ax = normAxes('sum', axes, x.shape);
    const shape = reducedShape(x.shape, ax, keepDims);
    if (ax.length === 0) return this.affine(x, 1, 0);
    return this.#op('sum', shape, () => this.kernels.sum(input(x), ax, shape));
  }

  /** Index of the maximum along `axis` (first one on ties), as numbers: accuracy, predictions. */
  argmax(x: Tensor, axis: number): Tensor {
    this.#check('argmax', x);
    const split = splitAxis('argmax', x.shape, axis);
    return this.#op('argmax', reducedShape(x.shape, [split.axis], false), () => this.kernels.argmax(input(x), split));
  }

  // ---- rows -------------------------------------------------------------------------------

  /** Row-wise softmax over the last axis (Softmax, the fused cross-entropy's gradient). */
  softmax(x: Tensor): Tensor {
    return this.#rowwise('softmax', x);
  }

  /** Row-wise log-softmax over the last axis, max-shifted (LogSoftmax, CrossEntropyLoss). */
  logSoftmax(x: Tensor): Tensor {
    return this.#rowwise('logSoftmax', x);
  }

  #rowwise(op: 'softmax' | 'logSoftmax', x: Tensor): Tensor {
    this.#check(op, x);
    if (x.rank < 1) throw new ShapeError(op, 'needs at least one axis (it works over the last)', { x: x.shape });
    if (x.size === 0) return this.zeros(x.shape);
    const k = x.shape[x.rank - 1]!;
    return this.#op(op, x.shape, () => this.kernels.rowwise(op, input(x), x.size / k, k));
  }

  /**
   * Class indices [n] → one-hot rows [n, depth] (the losses' index targets). An index that is not
   * an integer in [0, depth) gives a row of zeros: the op never reads the device to check;
   * labels are checked where they enter (`checkClassIndices`, `fit`, `@neurone/data`).
   */
  oneHot(indices: Tensor, depth: number): Tensor {
    this.#check('oneHot', indices);
    if (indices.rank !== 1) throw new ShapeError('oneHot', 'indices must be 1-D', { indices: indices.shape });
    if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`oneHot: depth must be a positive integer, got ${String(depth)}`);
    const n = indices.size;
    this.#size('oneHot', [n, depth]);
    return this.#op('oneHot', [n, depth], () => this.kernels.oneHot(input(indices), depth));
  }

  // ---- ops defined outside this class -------------------------------------------------------

  /**
   * @internal The op layer for ops written as functions elsewhere in core (the window ops in
   * windows.ts, kept out of this class so that a bundle without convolutions carries none of
   * them): checks the inputs, the output size, runs `kernel` and wraps its result.
   */
  run(op: string, inputs: readonly Tensor[], shape: Shape, kernel: (kernels: K, inputs: KernelTensor[]) => unknown): Tensor {
    this.#check(op, ...inputs);
    this.#size(op, shape);
    return this.#op(op, shape, () => kernel(this.kernels, inputs.map(input)));
  }
}

/** What a kernel sees of a tensor. */
function input(t: Tensor): KernelTensor {
  return { data: storageOf(t).data, shape: t.shape, size: t.size };
}

function checkNumbers(op: string, args: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'number') throw new ValueError(`${op}: ${k} must be a number, got ${describe(v)}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return `${typeof v} ${String(v)}`;
}

export type { Storage };
