import { ShapeError, Tensor, ValueError, checkClassIndices, checkOptions, shapesEqual } from '@neurone/core';
import type { HostTensor, Loss, Shape } from '@neurone/core';

/** How a loss reduces its per-sample (or per-element) values. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options shared by every loss. */
export interface LossOptions {
  /** 'mean' (default), 'sum', or 'none' (no reduction). */
  reduction?: Reduction;
}

/**
 * Shared plumbing: the reduction option, argument and shape checks, the host checks of the
 * arguments' values (`checkTargets`, `checkPredictions`, `check`), and the reductions.
 *
 * The order is the seed's, **targets first**: `forward(y, ŷ)` — PyTorch's is `loss(input, target)`.
 * forward/backward never read the device, so a swapped call is caught there only when the shapes
 * tell (class indices where predictions belong); the values are checked on the host: `fit` and
 * `evaluate` run `checkTargets` on every target and `checkPredictions` on the first batch's
 * predictions, and `await loss.check(y, ŷ)` (which reads both) checks a call of your own.
 */
export abstract class BaseLoss implements Loss {
  readonly reduction: Reduction;

  constructor(options: LossOptions = {}, extraKeys: readonly string[] = []) {
    checkOptions(new.target.name, options ?? undefined, ['reduction', ...extraKeys]);
    const { reduction = 'mean' } = options ?? {};
    if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
      throw new ValueError(`${new.target.name}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
    }
    this.reduction = reduction;
  }

  /** The loss, reduced as `reduction` says. */
  abstract forward(y: Tensor, yhat: Tensor): Tensor;
  /** d(reduced loss)/dŷ; for 'none', of the sum of the per-sample losses. */
  abstract backward(y: Tensor, yhat: Tensor): Tensor;

  protected get name(): string {
    return this.constructor.name;
  }

  /**
   * Host check of the targets, where they enter (`fit`, `evaluate`): throws a ValueError naming
   * the first bad value — one saying the arguments look swapped where the values tell.
   */
  checkTargets(_y: HostTensor, _yhatShape: Shape): void {}

  /** Host check of the predictions (`fit` and `evaluate` read the first batch's to run it; a loss without one costs no read). */
  checkPredictions?(yhat: HostTensor): void;

  /** Reads y and ŷ and runs both host checks: for a call of your own (forward and backward never read). */
  async check(y: Tensor, yhat: Tensor): Promise<void> {
    checkArgs(`${this.name}.check`, y, yhat);
    const [yd, pd] = await Promise.all([y.data(), yhat.data()]);
    this.checkTargets({ data: yd, shape: y.shape }, yhat.shape);
    this.checkPredictions?.({ data: pd, shape: yhat.shape });
  }

  protected checkSameShape(y: Tensor, yhat: Tensor): void {
    checkArgs(this.name, y, yhat);
    if (!shapesEqual(y.shape, yhat.shape)) {
      throw new ShapeError(this.name, 'targets y and predictions yhat must have the same shape', { y: y.shape, yhat: yhat.shape });
    }
  }

  /**
   * Reduces per-element terms E [batch, …] whose per-sample loss is sign·Σ_features E:
   * 'none' → [batch], 'sum' → total, 'mean' → total / batch. Call inside the loss's `tidy`.
   */
  protected reduceSamples(e: Tensor, sign: number): Tensor {
    const be = e.backend;
    if (this.reduction === 'none') return be.affine(e.rank <= 1 ? e : be.sum(e, e.shape.map((_, i) => i).slice(1)), sign, 0);
    return be.affine(be.sum(e), this.reduction === 'mean' ? sign / batchOf(e) : sign, 0);
  }

  /** Reduces per-element terms E whose per-element loss is sign·E: 'mean' over every element. Call inside `tidy`. */
  protected reduceElements(e: Tensor, sign: number): Tensor {
    const be = e.backend;
    if (this.reduction === 'none') return be.affine(e, sign, 0);
    return be.affine(be.sum(e), this.reduction === 'mean' ? sign / e.size : sign, 0);
  }

  /** Scale of the gradient: 1/batch for 'mean' over samples, 1 otherwise. */
  protected sampleScale(yhat: Tensor): number {
    return this.reduction === 'mean' ? 1 / batchOf(yhat) : 1;
  }

  toString(): string {
    return `${this.name}(reduction=${this.reduction})`;
  }
}

/** Both arguments tensors (a method called without them is a ValueError, not a TypeError). */
export function checkArgs(owner: string, y: unknown, yhat: unknown): void {
  if (!(y instanceof Tensor) || !(yhat instanceof Tensor)) {
    const what = (v: unknown): string => (v instanceof Tensor ? 'a tensor' : v === undefined ? 'missing' : `${typeof v} ${String(v)}`);
    throw new ValueError(`${owner}(y, yhat): targets y and predictions yhat must be tensors (y ${what(y)}, yhat ${what(yhat)})`);
  }
}

/** The ValueError for arguments that look swapped: says why and names both orders. */
export function swapped(owner: string, why: string): ValueError {
  return new ValueError(`${owner}: the arguments look swapped (${why}): neurone's losses take the targets first, forward(y, yhat) as in the course; PyTorch's order is loss(input, target)`);
}

/** Index of the first value outside [lo, hi], or −1. */
export function outside(data: ArrayLike<number>, lo: number, hi: number): number {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i]!; // read once: twice as fast over a dataset's 47M targets
    if (!(v >= lo && v <= hi)) return i;
  }
  return -1;
}

/** Whether every row of a [n, K] host matrix is exactly one-hot (all 0 but a single 1). */
export function allOneHot(h: HostTensor): boolean {
  const k = h.shape[h.shape.length - 1]!;
  for (let r = 0; r < h.data.length; r += k) {
    let ones = 0;
    for (let j = r; j < r + k; j++) {
      if (h.data[j] === 1) ones++;
      else if (h.data[j] !== 0) return false;
    }
    if (ones !== 1) return false;
  }
  return h.data.length > 0;
}

export function batchOf(t: Tensor): number {
  return t.rank === 0 ? 1 : t.shape[0]!;
}

/** Class targets as a [batch, K] matrix, and whether each of its rows is known to sum to 1. */
export interface ClassTargets {
  /** The user's y, or a one-hot tensor built here from indices (free it, e.g. inside tidy). */
  Y: Tensor;
  /** True when every row of Y sums to 1 (one-hot built from indices). */
  rowsSumToOne: boolean;
}

/**
 * Accepts class targets as indices [batch] (integer values) or as a [batch, K] matrix (one-hot
 * or probabilities), for predictions [batch, K]. Nothing is read from the device: index labels
 * are checked on the host by `checkClassTargets` (fit and evaluate call it); an index outside
 * [0, K) that reaches the device gives a row of zeros in the one-hot matrix.
 */
export function classTargets(name: string, y: Tensor, yhat: Tensor): ClassTargets {
  checkArgs(name, y, yhat);
  checkClassShapes(name, y.shape, yhat.shape);
  if (y.rank === 2) return { Y: y, rowsSumToOne: false };
  return { Y: yhat.backend.oneHot(y, yhat.shape[1]!), rowsSumToOne: true };
}

function checkClassShapes(name: string, y: Shape, yhat: Shape): void {
  if (yhat.length !== 2) throw new ShapeError(name, 'predictions yhat must be [batch, classes]', { y, yhat });
  const [batch, k] = yhat as [number, number];
  if (y.length === 2) {
    if (!shapesEqual(y, yhat)) throw new ShapeError(name, 'one-hot targets y must have the shape of the predictions yhat', { y, yhat });
  } else if (y.length !== 1 || y[0] !== batch) {
    throw new ShapeError(name, `targets y must be class indices [${batch}] or one-hot [${batch}, ${k}]`, { y, yhat });
  }
}

/**
 * Host check of class targets: shapes; index labels integers in [0, K) (`ignoreIndex` allowed);
 * matrix targets probabilities in [0, 1], else the arguments look swapped (logits as targets).
 */
export function checkClassTargets(name: string, y: HostTensor, yhatShape: Shape, ignoreIndex?: number): void {
  checkClassShapes(name, y.shape, yhatShape);
  if (y.shape.length === 1) checkClassIndices(name, y.data, yhatShape[1]!, ignoreIndex);
  else {
    const bad = outside(y.data, 0, 1);
    if (bad >= 0) throw swapped(name, `target value ${y.data[bad]} at position ${bad} is not a probability or a one-hot entry`);
  }
}

/** Host check of class predictions: rows that are all exactly one-hot are targets, not scores. */
export function checkClassPredictions(name: string, yhat: HostTensor): void {
  if (yhat.shape.length === 2 && yhat.shape[1]! > 1 && allOneHot(yhat)) throw swapped(name, 'every prediction row is exactly one-hot');
}
