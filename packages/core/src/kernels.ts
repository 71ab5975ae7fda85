import type { Shape } from './shape';
import type { DType, TypedArray } from './tensor';

/**
 * Element-wise maps, each kept for the module that needs it: tanh, sigmoid, relu (the
 * activations), log (BCELoss), softplus (BCEWithLogitsLoss), square (MSELoss, Adam), sqrt (Adam),
 * abs (fit's mean-absolute-error metric), exp (`Tensor.exp`, logsumexp); leakyRelu (x > 0 ? x : p·x),
 * elu (x > 0 ? x : p·(eˣ − 1)), gelu (x·Φ(x), Φ by erf), geluTanh (GELU's tanh form) for LeakyReLU,
 * ELU and GELU, where p is the op's parameter (0 for the others).
 */
export type UnaryOp = 'abs' | 'exp' | 'log' | 'sqrt' | 'square' | 'tanh' | 'sigmoid' | 'relu' | 'softplus' | 'leakyRelu' | 'elu' | 'gelu' | 'geluTanh';
/** Every unary op, for validation and iteration. */
export const UNARY_OPS: readonly UnaryOp[] = ['abs', 'exp', 'log', 'sqrt', 'square', 'tanh', 'sigmoid', 'relu', 'softplus', 'leakyRelu', 'elu', 'gelu', 'geluTanh'];
/** The unary ops that take a parameter p (LeakyReLU's negative slope, ELU's α). */
export const PARAM_UNARY_OPS: readonly UnaryOp[] = ['leakyRelu', 'elu'];

/**
 * Element-wise binary ops with NumPy broadcasting: add, sub, mul, div (losses, Softmax's
 * backward, Adam); maximum, minimum, pow (`Tensor.maximum`, `minimum`, `pow`: PyTorch's, NaN
 * propagates; pow of a negative base is real for an integer exponent, NaN otherwise).
 */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow';
/** Every binary op, for validation and iteration. */
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'];

/**
 * Fused backward forms of the activations: given the saved tensor s and the incoming delta δ,
 * - 'tanh':    s = tanh(a),   δ ⊙ (1 − s²)
 * - 'sigmoid': s = σ(a),      δ ⊙ s ⊙ (1 − s)
 * - 'relu':    s = a,         δ ⊙ [a > 0]
 * - 'leakyRelu': s = a,       δ ⊙ (a > 0 ? 1 : p)
 * - 'elu':     s = a,         δ ⊙ (a > 0 ? 1 : p·eᵃ)
 * - 'gelu':    s = a,         δ ⊙ (Φ(a) + a·φ(a))
 * - 'geluTanh': s = a,        δ ⊙ (½(1 + t) + ½a(1 − t²)·c(1 + 3k·a²)), t = tanh(c(a + k·a³)), c = √(2/π), k = 0.044715
 */
export type ActivationGrad = 'tanh' | 'sigmoid' | 'relu' | 'leakyRelu' | 'elu' | 'gelu' | 'geluTanh';
/** Every fused activation gradient, for validation and iteration. */
export const ACTIVATION_GRADS: readonly ActivationGrad[] = ['tanh', 'sigmoid', 'relu', 'leakyRelu', 'elu', 'gelu', 'geluTanh'];

/** The optimizer rules with a one-pass update (`optimizerUpdate` in fused.ts): SGD, Adam (and AdamW), RMSprop. */
export type UpdateRule = 'sgd' | 'adam' | 'rmsprop';

/** A kernel's view of one input tensor: the backend's own storage, its shape and size. */
export interface KernelTensor<D = unknown> {
  readonly data: D;
  readonly shape: Shape;
  readonly size: number;
}

/** Dimensions of a matmul, as the op layer checked them: op(A) is [m, k], op(B) is [k, n], k > 0. */
export interface MatmulDims {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** A tensor seen as (outer, len, inner) around one axis (len > 0). */
export interface AxisSplit {
  axis: number;
  outer: number;
  len: number;
  inner: number;
}

/** Which pooling `pool` and `poolGrad` compute (MaxPool1D/2D, AvgPool1D/2D). */
export type PoolKind = 'max' | 'avg';
/** Every pooling kind, for validation and iteration. */
export const POOL_KINDS: readonly PoolKind[] = ['max', 'avg'];

/**
 * A sliding window over the two spatial axes of a channels-last tensor [batch, H, W, C]
 * (Conv2D, the pools; Conv1D and the 1-D pools use H = 1): `kernel` [kh, kw], `stride`
 * [sh, sw] (default [1, 1]), `padding` [ph, pw] zeros on both sides (default [0, 0]).
 */
export interface Window2D {
  kernel: readonly [number, number];
  stride?: readonly [number, number];
  padding?: readonly [number, number];
}

/**
 * A window placed on an input, as the op layer checked it (see `windowGeometry` in conv.ts):
 * input [batch, inH, inW, chan] → output [batch, outH, outW, …], outH = ⌊(inH + 2·ph − kh)/sh⌋ + 1
 * (≥ 1), likewise outW; every dimension ≥ 1.
 */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  chan: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/**
 * What a backend implements: storage and kernels, nothing else. The op layer (`Backend` in
 * backend.ts) has already checked every input (alive, this backend, shapes, arguments) and
 * computed the output shape; a kernel computes and returns its result's storage (`D`, opaque to
 * everyone else). A kernel may throw; the op layer turns an untyped error into a BackendError
 * naming the op. Adding a backend = these methods + the conformance suite passing.
 */
export interface Kernels<D = unknown> {
  /** e.g. 'cpu(float32)'. */
  readonly name: string;
  readonly dtype: DType;
  /** Whether readSync is implemented (false where the device only answers asynchronously). */
  readonly canReadSync: boolean;
  /** The most elements one tensor may hold (typed-array or texture limits). */
  readonly maxElements: number;
  /** The most bytes the backend's live tensors may hold together (default: no limit but the host's memory); past it an op throws a MemoryError before allocating. */
  readonly maxBytes?: number;
  /** Resolves when the device answers; rejects with a BackendError otherwise. */
  ready(): Promise<void>;

  // storage
  /** A new storage holding a copy of `values` (exactly `size` of them, converted to dtype): the caller reuses `values` (fit gathers every batch into one buffer). */
  upload(values: ArrayLike<number>, size: number): D;
  /** A new storage of `size` elements, all `value`. */
  fill(size: number, value: number): D;
  /** A copy of the values; only called when canReadSync. */
  readSync?(x: KernelTensor<D>): TypedArray;
  /** A copy of the values. */
  read(x: KernelTensor<D>): Promise<TypedArray>;
  /** Frees a storage (called once, when its last tensor handle is disposed). */
  free(data: D): void;
  /** Frees everything (GPU contexts, workers). */
  destroy?(): void;

  // kernels
  matmul(a: KernelTensor<D>, b: KernelTensor<D>, dims: MatmulDims, bias?: KernelTensor<D>): D;
  unary(op: UnaryOp, x: KernelTensor<D>, p: number): D;
  /** `out` is the broadcast shape of a and b. */
  binary(op: BinaryOp, a: KernelTensor<D>, b: KernelTensor<D>, out: Shape): D;
  affine(x: KernelTensor<D>, scale: number, shift: number): D;
  axpby(alpha: number, x: KernelTensor<D>, beta: number, y: KernelTensor<D>): D;
  clamp(x: KernelTensor<D>, lo: number, hi: number): D;
  activationGrad(op: ActivationGrad, saved: KernelTensor<D>, delta: KernelTensor<D>, p: number): D;
  /** Σ over `axes` (normalised, ascending, at least one); `out` is the reduced shape. */
  sum(x: KernelTensor<D>, axes: readonly number[], out: Shape): D;
  /** Index of the maximum along split.axis, first on ties. */
  argmax(x: KernelTensor<D>, split: AxisSplit): D;
  /** Row-wise softmax or log-softmax of `rows` rows of `k` (> 0) values. */
  rowwise(op: 'softmax' | 'logSoftmax', x: KernelTensor<D>, rows: number, k: number): D;
  /** One-hot rows; an index outside [0, depth) or not an integer gives a row of zeros. */
  oneHot(indices: KernelTensor<D>, depth: number): D;
  /**
   * Optional, fused BCELoss (same shapes; see `binaryCrossEntropy` in fused.ts for the formulas): one pass
   * where the op layer would otherwise chain the primitives. A backend without it gets them.
   */
  bce?(y: KernelTensor<D>, p: KernelTensor<D>, grad: boolean, c: number): D;
  /**
   * Optional, one optimizer step in one pass (`optimizerUpdate` in fused.ts, where `h` and the
   * state are described): the new [p, ...state], every one of p's shape.
   */
  optimizerUpdate?(rule: UpdateRule, p: KernelTensor<D>, g: KernelTensor<D>, state: readonly (KernelTensor<D> | null)[], h: readonly number[]): D[];

  // layout and selection (the tensor methods of core/src/ops.ts)
  /** max (or min) along split.axis (len > 0): `Tensor.max`/`min`, logsumexp; NaN propagates. */
  extremum(op: 'max' | 'min', x: KernelTensor<D>, split: AxisSplit): D;
  /** cond ≠ 0 ? a : b, the three broadcast to `out` (`where`). */
  where(cond: KernelTensor<D>, a: KernelTensor<D>, b: KernelTensor<D>, out: Shape): D;
  /**
   * A strided read of x into a new tensor of shape `out`: element (i₀…) = x[offset + Σ i_d·strides[d]]
   * (transpose/permute, narrow, expand: every index stays inside x).
   */
  strided(x: KernelTensor<D>, out: Shape, strides: readonly number[], offset: number): D;
  /** The inputs, each seen as (outer, lens[j], inner), joined along the middle axis (`concat`, `stack`). */
  concat(xs: readonly KernelTensor<D>[], outer: number, lens: readonly number[], inner: number): D;
  /**
   * Gather along `axis`: out (index's shape) at i = x at i with its `axis` coordinate replaced by
   * index[i]; an index that is not an integer in [0, x.shape[axis]) gives 0 (no device read to check).
   */
  gather(x: KernelTensor<D>, index: KernelTensor<D>, axis: number): D;

  // windows (Conv1D, Conv2D, the pools)
  /**
   * Conv1D/Conv2D: the patches of x [batch, inH, inW, chan] as rows [batch·outH·outW, kh·kw·chan],
   * row (b, oy, ox), column (ky, kx, c) = x[b, oy·sh − ph + ky, ox·sw − pw + kx, c], 0 in the padding.
   */
  im2col(x: KernelTensor<D>, g: ConvGeometry): D;
  /** Conv1D/Conv2D backward: the adjoint of im2col, [batch, inH, inW, chan] summing every patch element that reads a position. */
  col2im(cols: KernelTensor<D>, g: ConvGeometry): D;
  /**
   * MaxPool/AvgPool: [batch, outH, outW, chan], per channel the max (padding ignored) or the mean
   * of the window (padding counted as zeros: PyTorch's count_include_pad). The op layer ensures
   * every window holds at least one input position (padding ≤ kernel/2).
   */
  pool(kind: PoolKind, x: KernelTensor<D>, g: ConvGeometry): D;
  /**
   * The pools' backward, [batch, inH, inW, chan]: each delta element goes to the first arg-max of
   * its window in row-major order (max), or 1/(kh·kw) of it to each input position of the window (avg);
   * overlapping windows add up.
   */
  poolGrad(kind: PoolKind, x: KernelTensor<D>, delta: KernelTensor<D>, g: ConvGeometry): D;
}
