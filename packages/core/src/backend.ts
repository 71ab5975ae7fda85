import type { Shape } from './shape';
import type { DType, Tensor, TypedArray } from './tensor';

/** Element-wise maps. */
export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'square'
  | 'reciprocal'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'softplus'
  | 'sign';

/** Element-wise binary ops, with NumPy broadcasting. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';

/**
 * Fused backward forms of the activations: given the saved tensor s and the incoming delta δ,
 * - 'tanh':    s = tanh(a),   δ ⊙ (1 − s²)
 * - 'sigmoid': s = σ(a),      δ ⊙ s ⊙ (1 − s)
 * - 'relu':    s = a,         δ ⊙ [a > 0]
 */
export type ActivationGrad = 'tanh' | 'sigmoid' | 'relu';

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
 * The primitive set every backend implements. Ops are synchronous and return new handles;
 * inputs are never modified. Each op checks its inputs (alive, same backend, shapes) and
 * throws a typed error naming itself.
 */
export interface Backend {
  /** e.g. 'cpu(float32)', 'gpu(webgl2)'. */
  readonly name: string;
  readonly dtype: DType;
  /** Whether `dataSync()` works on this backend. */
  readonly canReadSync: boolean;

  // creation and reading
  tensor(values: ArrayLike<number>, shape: Shape): Tensor;
  zeros(shape: Shape): Tensor;
  full(shape: Shape, value: number): Tensor;
  readSync(t: Tensor): TypedArray;
  read(t: Tensor): Promise<TypedArray>;
  /** @internal called by Tensor.dispose(). */
  disposeData(t: Tensor): void;
  memory(): MemoryInfo;

  // layout
  reshape(x: Tensor, shape: Shape): Tensor;
  /** 2-D transpose. */
  transpose(x: Tensor): Tensor;

  // arithmetic
  /**
   * op(A)·op(B) for 2-D A, B; op transposes when its flag is set. With `bias` ([n], one value
   * per output column) it returns op(A)·op(B) + bias, broadcast over the rows, in one op (a
   * Linear layer's forward: one kernel on a GPU instead of two).
   */
  matmul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean, bias?: Tensor): Tensor;
  unary(op: UnaryOp, x: Tensor): Tensor;
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;
  /** x ⊙ scale + shift. */
  affine(x: Tensor, scale: number, shift: number): Tensor;
  /** α·x + β·y, same shapes (gradient accumulation, SGD, momentum, Adam moments). */
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): Tensor;
  /** min(max(x, lo), hi); either bound may be ±Infinity. */
  clamp(x: Tensor, lo: number, hi: number): Tensor;
  /** Fused activation backward; see ActivationGrad. */
  activationGrad(op: ActivationGrad, saved: Tensor, delta: Tensor): Tensor;

  // reductions
  /** Sum over `axes` (all when omitted). */
  sum(x: Tensor, axes?: number | readonly number[], keepDims?: boolean): Tensor;
  max(x: Tensor, axis: number, keepDims?: boolean): Tensor;
  /** Index of the maximum along `axis` (first one on ties), as numbers. */
  argmax(x: Tensor, axis: number): Tensor;

  // rows
  /** Row-wise softmax over the last axis. */
  softmax(x: Tensor): Tensor;
  /** Row-wise log-softmax over the last axis (max-shifted, stable). */
  logSoftmax(x: Tensor): Tensor;
  /** Integer class indices [n] → one-hot [n, depth]; throws ValueError on an index outside [0, depth). */
  oneHot(indices: Tensor, depth: number): Tensor;

  /** Frees every resource the backend holds (GPU contexts, workers). */
  destroy?(): void;
}
