import { BackendError, BackendMismatchError, NeuroneError, ShapeError, ValueError } from './errors';
import { checkAllocation } from './alloc';
import type { Kernels, KernelTensor, ActivationGrad, BinaryOp, UnaryOp } from './kernels';
import { ACTIVATION_GRADS, BINARY_OPS, UNARY_OPS } from './kernels';
import type { Shape } from './shape';
import { broadcastShapes, checkShape, matmulShape, normAxes, reducedShape, shapesEqual, sizeOf, splitAxis } from './shape';
import { Tensor, isTensor, storageOf } from './tensor';
import { binaryVjp, differentiable, recording, softmaxVjp } from './autograd';
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

/** The op layer's one entry (set in Backend's static block): see `Backend.#op`. */
type RunOp = <K extends Kernels>(b: Backend<K>, op: string, inputs: readonly Tensor[], shape: Shape, kernel: (kernels: K, inputs: KernelTensor[]) => unknown) => Tensor;
/**
 * @internal The op layer for ops defined as functions (windows.ts, ops.ts): checks the inputs
 * (alive, this backend) and the output's size, runs `kernel` and wraps its result. Not exported
 * from the package: every op goes through it, and only core defines ops.
 */
export let runOp: RunOp;
/** @internal runOp for a kernel with `count` outputs of one shape (its result: their data, in order). */
export let runOps: <K extends Kernels>(b: Backend<K>, op: string, inputs: readonly (Tensor | undefined)[], shape: Shape, count: number, kernel: (kernels: K, inputs: KernelTensor[]) => unknown[]) => Tensor[];

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
  readonly #kernels: K;
  #tensors = 0;
  #buffers = 0;
  #bytes = 0;
  readonly #bytesPer: number;
  /**
   * The memory safety net: a tensor that becomes unreachable without `dispose()` (or `tidy`)
   * gives its handle back here when the garbage collector reclaims it, so `memory()` stays true
   * and the storage is freed. `tidy` stays the fast path: it frees at once.
   */
  readonly #finalizer = new FinalizationRegistry<Storage>((s) => this.#release(s));
  /**
   * Debugging leaks: when set, `checkLeaks(backend)` (called once per step by `Optim.step`, and by
   * `fit` after each read of the losses) warns when the live tensors grew on several steps in a row, naming the growth
   * (`true`: console.warn; a function: called with the message).
   */
  debugLeaks: boolean | ((message: string) => void) = false;

  static {
    runOp = (b, op, inputs, shape, kernel) => b.#op(op, inputs, shape, kernel);
    runOps = (b, op, inputs, shape, count, kernel) => {
      b.#check(op, ...inputs);
      b.#size(op, [count, ...shape]);
      return b.#run(op, () => kernel(b.#kernels, inputs.map((t) => (t ? input(t) : (undefined as never))))).map((d) => b.#wrap(d, shape));
    };
  }

  constructor(kernels: K) {
    this.#kernels = kernels;
    this.#bytesPer = kernels.dtype === 'float64' ? 8 : 4;
  }

  /** e.g. 'cpu(float32)', 'gpu(webgl2)'. */
  get name(): string {
    return this.#kernels.name;
  }
  get dtype(): DType {
    return this.#kernels.dtype;
  }
  /** Whether `dataSync()` works on this backend. */
  get canReadSync(): boolean {
    return this.#kernels.canReadSync;
  }
  /** The most elements one tensor may hold here. */
  get maxElements(): number {
    return this.#kernels.maxElements;
  }
  /** The most bytes its live tensors may hold together (the kernels' `maxBytes`, e.g. `cpu({ maxBytes })`; default Infinity). */
  get maxBytes(): number {
    return this.#kernels.maxBytes ?? Infinity;
  }

  /** Resolves with this backend once its device answers (immediately on the CPU); rejects with a BackendError. */
  async ready(): Promise<this> {
    await this.#kernels.ready();
    return this;
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Checks that each input is alive and lives here. */
  #check(op: string, ...xs: (Tensor | undefined)[]): void {
    for (const t of xs) {
      if (t === undefined) continue;
      if (!isTensor(t)) throw new ValueError(`${op}: expected a Tensor, got ${describe(t)}`);
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

  /** A new handle on storage `s` (registered with the safety net, counted by memory()). */
  #handle(s: Storage, shape: Shape): Tensor {
    const t = new Tensor(this as Backend, s, shape, this.dtype);
    this.#tensors++;
    this.#finalizer.register(t, s, t);
    return t;
  }

  /** Wraps a kernel's result as the single handle on a new storage. */
  #wrap(data: unknown, shape: Shape): Tensor {
    const bytes = sizeOf(shape) * this.#bytesPer;
    this.#buffers++;
    this.#bytes += bytes;
    return this.#handle({ data, refs: 1, bytes }, shape);
  }

  /**
   * Every op ends here: checks its inputs (alive, this backend) and the size of its output
   * `shape`, runs `kernel` on the kernels (an untyped failure becomes a BackendError naming the
   * op) and wraps the result as a new tensor.
   */
  #op(op: string, inputs: readonly (Tensor | undefined)[], shape: Shape, kernel: (kernels: K, inputs: KernelTensor[]) => unknown): Tensor {
    this.#check(op, ...inputs);
    this.#size(op, shape);
    return this.#wrap(this.#run(op, () => kernel(this.#kernels, inputs.map((t) => (t ? input(t) : (undefined as never))))), shape);
  }

  // ---- creation and reading ---------------------------------------------------------------

  tensor(values: ArrayLike<number>, shape: Shape): Tensor {
    const n = this.#size('tensor', shape);
    if (values == null || typeof values.length !== 'number') throw new ValueError(`tensor: values must be array-like, got ${describe(values)}`);
    if (values.length !== n) throw new ShapeError('tensor', `${values.length} values do not fill the shape (${n} needed)`, { shape });
    return this.#op('tensor', [], shape, (k) => k.upload(values, n));
  }

  zeros(shape: Shape): Tensor {
    checkShape('zeros', shape);
    return this.#op('zeros', [], shape, (k) => k.fill(sizeOf(shape), 0));
  }

  full(shape: Shape, value: number): Tensor {
    checkShape('full', shape);
    if (typeof value !== 'number') throw new ValueError(`full: value must be a number, got ${describe(value)}`);
    return this.#op('full', [], shape, (k) => k.fill(sizeOf(shape), value));
  }

  readSync(t: Tensor): TypedArray {
    this.#check('dataSync', t);
    noRead('dataSync');
    if (!this.canReadSync) throw new BackendError(`dataSync: ${this.name} reads only asynchronously; use await t.data()`);
    return this.#run('dataSync', () => this.#kernels.readSync!(input(t)));
  }

  read(t: Tensor): Promise<TypedArray> {
    try {
      this.#check('data', t);
      noRead('data');
      return this.#kernels.read(input(t)).catch((e: unknown) => {
        throw e instanceof NeuroneError ? e : new BackendError(`data: ${this.name} failed: ${e instanceof Error ? e.message : String(e)}`);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** @internal called by Tensor.dispose(): frees the storage when its last handle goes. */
  disposeData(t: Tensor): void {
    this.#finalizer.unregister(t);
    this.#release(storageOf(t));
  }

  /** One handle on `s` goes (disposed, or reclaimed by the garbage collector). */
  #release(s: Storage): void {
    this.#tensors--;
    if (--s.refs > 0) return;
    this.#buffers--;
    this.#bytes -= s.bytes;
    this.#kernels.free(s.data);
  }

  /** What is live now: handles and storages not yet disposed nor reclaimed by the garbage collector. */
  memory(): MemoryInfo {
    return { tensors: this.#tensors, buffers: this.#buffers, bytes: this.#bytes };
  }

  /** Frees every resource the backend holds (GPU contexts, workers). */
  destroy(): void {
    this.#kernels.destroy?.();
  }

  // ---- layout -----------------------------------------------------------------------------

  /** A view with another shape of the same elements (no copy; the storage is shared). */
  reshape(x: Tensor, shape: Shape): Tensor {
    this.#check('reshape', x);
    checkShape('reshape', shape);
    if (sizeOf(shape) !== x.size) throw new ShapeError('reshape', `cannot reshape ${x.size} elements`, { x: x.shape, shape });
    return differentiable([x], () => {
      const s = storageOf(x);
      s.refs++;
      return this.#handle(s, shape);
    }, (g) => [g.reshape(x.shape)]);
  }

  // ---- arithmetic -------------------------------------------------------------------------

  /**
   * op(A)·op(B) for 2-D A, B; op transposes when its flag is set. With `bias` ([n], one value per
   * output column) it returns op(A)·op(B) + bias broadcast over the rows, in one kernel (Linear).
   */
  matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false, bias?: Tensor): Tensor {
    this.#check('matmul', a, b, bias);
    const [m, k, n] = matmulShape(a.shape, b.shape, transposeA, transposeB, bias?.shape);
    const [tA, tB] = [transposeA, transposeB];
    return differentiable([a, b, bias], () => {
      if (k === 0) {
        // an empty sum: zeros, plus the bias on every row
        const z = this.zeros([m, n]);
        if (!bias) return z;
        const out = this.binary('add', z, bias);
        z.dispose();
        return out;
      }
      return this.#op('matmul', [a, b, bias], [m, n], (kn, [ai, bi, ci]) => kn.matmul(ai!, bi!, { m, k, n, transposeA, transposeB }, ci));
    }, (g, _, [na, nb, nc]) => [
      na ? (tA ? this.matmul(b, g, tB, true) : this.matmul(g, b, false, !tB)) : null, // ∂op(A) = g·op(B)ᵀ
      nb ? (tB ? this.matmul(g, a, true, tA) : this.matmul(a, g, !tA, false)) : null, // ∂op(B) = op(A)ᵀ·g
      nc ? this.sum(g, 0) : null,
    ]);
  }

  /** Element-wise map (the activations, losses' logs and squares); `p`: leakyRelu's slope, elu's α. */
  unary(op: UnaryOp, x: Tensor, p = 0): Tensor {
    if (!UNARY_OPS.includes(op)) throw new ValueError(`unary: unknown op '${String(op)}' (one of ${UNARY_OPS.join(', ')})`);
    checkNumbers(op, { p });
    return differentiable([x], () => this.#op(op, [x], x?.shape, (k, [xi]) => k.unary(op, xi!, p)), (g, y) => [unaryVjp(op, x, y, g, p)]);
  }

  /** Element-wise binary op with NumPy broadcasting. */
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
    if (!BINARY_OPS.includes(op)) throw new ValueError(`binary: unknown op '${String(op)}' (one of ${BINARY_OPS.join(', ')})`);
    this.#check(op, a, b);
    const shape = broadcastShapes(op, a.shape, b.shape);
    return differentiable([a, b], () => this.#op(op, [a, b], shape, (k, [ai, bi]) => k.binary(op, ai!, bi!, shape)), (g, y, need) => binaryVjp(op, a, b, y, g, need));
  }

  /** x ⊙ scale + shift (loss scaling, copies, means). */
  affine(x: Tensor, scale: number, shift: number): Tensor {
    this.#check('affine', x);
    checkNumbers('affine', { scale, shift });
    return differentiable([x], () => this.#op('affine', [x], x.shape, (k, [xi]) => k.affine(xi!, scale, shift)), (g) => [this.affine(g, scale, 0)]);
  }

  /** α·x + β·y, same shapes (gradient accumulation, SGD, momentum, Adam moments). */
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor {
    this.#check('axpby', x, y);
    checkNumbers('axpby', { alpha, beta });
    if (!shapesEqual(x.shape, y.shape)) throw new ShapeError('axpby', 'x and y must have the same shape', { x: x.shape, y: y.shape });
    return differentiable([x, y], () => this.#op('axpby', [x, y], x.shape, (k, [xi, yi]) => k.axpby(alpha, xi!, beta, yi!)), (g) => [this.affine(g, alpha, 0), this.affine(g, beta, 0)]);
  }

  /** min(max(x, lo), hi); either bound may be ±Infinity (BCE's clamped logs, Adam's floors). */
  clamp(x: Tensor, lo: number, hi: number): Tensor {
    this.#check('clamp', x);
    if (!(lo <= hi)) throw new ValueError(`clamp: lo (${lo}) must be ≤ hi (${hi})`);
    // ∂/∂x = [lo < x < hi]
    const inside = (g: Tensor): Tensor => {
      const above = lo === -Infinity ? g : this.activationGrad('relu', this.affine(x, 1, -lo), g);
      return hi === Infinity ? above : this.activationGrad('relu', this.affine(x, -1, hi), above);
    };
    return differentiable([x], () => this.#op('clamp', [x], x.shape, (k, [xi]) => k.clamp(xi!, lo, hi)), (g) => [inside(g)]);
  }

  /** Fused activation backward (TanH, Sigmoid, ReLU, LeakyReLU, ELU, GELU); see ActivationGrad. */
  activationGrad(op: ActivationGrad, saved: Tensor, delta: Tensor, p = 0): Tensor {
    if (!ACTIVATION_GRADS.includes(op)) throw new ValueError(`activationGrad: unknown activation '${String(op)}' (one of ${ACTIVATION_GRADS.join(', ')})`);
    this.#check('activationGrad', saved, delta);
    if (!shapesEqual(saved.shape, delta.shape)) {
      throw new ShapeError('activationGrad', `${op}: saved tensor and delta must have the same shape`, { saved: saved.shape, delta: delta.shape });
    }
    checkNumbers('activationGrad', { p });
    return this.#op('activationGrad', [saved, delta], saved.shape, (k, [si, di]) => k.activationGrad(op, si!, di!, p));
  }

  // ---- reductions -------------------------------------------------------------------------

  /** Sum over `axes` (all when omitted): Linear's bias gradient, the losses' reductions. */
  sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
    this.#check('sum', x);
    const ax = normAxes('sum', axes, x.shape);
    const shape = reducedShape(x.shape, ax, keepDims);
    if (ax.length === 0) return this.affine(x, 1, 0);
    return differentiable([x], () => this.#op('sum', [x], shape, (k, [xi]) => k.sum(xi!, ax, shape)), (g) => [g.reshape(reducedShape(x.shape, ax, true)).expand(x.shape)]);
  }

  /** Index of the maximum along `axis` (first one on ties), as numbers: accuracy, predictions. */
  argmax(x: Tensor, axis: number): Tensor {
    this.#check('argmax', x);
    const split = splitAxis('argmax', x.shape, axis);
    return this.#op('argmax', [x], reducedShape(x.shape, [split.axis], false), (k, [xi]) => k.argmax(xi!, split));
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
    const n = x.shape[x.rank - 1]!;
    return differentiable([x], () => this.#op(op, [x], x.shape, (k, [xi]) => k.rowwise(op, xi!, x.size / n, n)), (g, y) => [softmaxVjp(op, y, g, -1)]);
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
    return this.#op('oneHot', [indices], [indices.size, depth], (k, [ii]) => k.oneHot(ii!, depth));
  }
}

/** ∂op(x)/∂x · g, from the input x or the output y (the activations' fused gradients where there is one). */
function unaryVjp(op: UnaryOp, x: Tensor, y: Tensor, g: Tensor, p: number): Tensor {
  const B = x.backend;
  const rule: Partial<Record<UnaryOp, () => Tensor>> = {
    exp: () => g.mul(y),
    log: () => g.div(x),
    sqrt: () => g.div(y.mul(2)),
    square: () => g.mul(x.mul(2)),
    softplus: () => g.mul(x.sigmoid()),
    abs: () => B.activationGrad('relu', x, g).sub(B.activationGrad('relu', x.neg(), g)), // sign(x)·g, 0 at 0
  };
  return rule[op]?.() ?? B.activationGrad(op as ActivationGrad, op === 'tanh' || op === 'sigmoid' ? y : x, g, p);
}

/** Reading while a gradient is recorded is refused: no gradient flows through host values, and a read stalls the device. */
function noRead(op: string): void {
  if (recording()) throw new ValueError(`${op}: a forward whose gradient is recorded must not read the device (no gradient flows through host values); read after the forward, or inside noGrad()`);
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
