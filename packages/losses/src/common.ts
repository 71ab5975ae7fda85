import { ShapeError, ValueError, checkOptions, shapesEqual } from '@neurone/core';
import type { Loss, Tensor } from '@neurone/core';

/** How a loss reduces its per-sample (or per-element) values. */
export type Reduction = 'mean' | 'sum' | 'none';

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
   * 'none' → [batch], 'sum' → total, 'mean' → total / batch.
   */
  protected reduceSamples(e: Tensor, sign: number): Tensor {
    const be = e.backend;
    if (this.reduction === 'none') {
      if (e.rank <= 1) return be.affine(e, sign, 0);
      const axes = e.shape.map((_, i) => i).slice(1);
      const s = be.sum(e, axes);
      const out = be.affine(s, sign, 0);
      s.dispose();
      return out;
    }
    const s = be.sum(e);
    const out = be.affine(s, this.reduction === 'mean' ? sign / batchOf(e) : sign, 0);
    s.dispose();
    return out;
  }

  /** Reduces per-element terms E whose per-element loss is sign·E: 'mean' over every element. */
  protected reduceElements(e: Tensor, sign: number): Tensor {
    const be = e.backend;
    if (this.reduction === 'none') return be.affine(e, sign, 0);
    const s = be.sum(e);
    const out = be.affine(s, this.reduction === 'mean' ? sign / e.size : sign, 0);
    s.dispose();
    return out;
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
 * or probabilities), for predictions [batch, K]. Index labels are validated on backends that
 * read synchronously (else backend.oneHot validates what it can).
 */
export function classTargets(name: string, y: Tensor, yhat: Tensor): ClassTargets {
  if (yhat.rank !== 2) {
    throw new ShapeError(name, 'predictions yhat must be [batch, classes]', { y: y.shape, yhat: yhat.shape });
  }
  const [batch, k] = yhat.shape as [number, number];
  if (y.rank === 2) {
    if (!shapesEqual(y.shape, yhat.shape)) {
      throw new ShapeError(name, 'one-hot targets y must have the shape of the predictions yhat', { y: y.shape, yhat: yhat.shape });
    }
    return { Y: y, rowsSumToOne: false };
  }
  if (y.rank !== 1 || y.shape[0] !== batch) {
    throw new ShapeError(name, `targets y must be class indices [${batch}] or one-hot [${batch}, ${k}]`, { y: y.shape, yhat: yhat.shape });
  }
  if (y.backend.canReadSync) {
    const labels = y.dataSync();
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= k) {
        throw new ValueError(`${name}: label ${c} at position ${i} is not an integer class index in [0, ${k}) (K = ${k} classes)`);
      }
    }
  }
  return { Y: yhat.backend.oneHot(y, k), rowsSumToOne: true };
}
