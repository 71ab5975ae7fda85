import { ShapeError, ValueError, checkClassIndices, checkOptions, shapesEqual } from '@neurone/core';
import type { HostTensor, Loss, Shape, Tensor } from '@neurone/core';

/** How a loss reduces its per-sample (or per-element) values. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options shared by every loss. */
export interface LossOptions {
  /** 'mean' (default), 'sum', or 'none' (no reduction). */
  reduction?: Reduction;
}

/** Shared plumbing: the reduction option, shape checks, and the reductions themselves. */
export abstract class BaseLoss implements Loss {
  readonly reduction: Reduction;

  constructor(options: LossOptions = {}) {
    checkOptions(new.target.name, options ?? undefined, ['reduction']);
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

  protected checkSameShape(y: Tensor, yhat: Tensor): void {
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

/** Host check of class targets: shapes, and index labels integers in [0, K). */
export function checkClassTargets(name: string, y: HostTensor, yhatShape: Shape): void {
  checkClassShapes(name, y.shape, yhatShape);
  if (y.shape.length === 1) checkClassIndices(name, y.data, yhatShape[1]!);
}
