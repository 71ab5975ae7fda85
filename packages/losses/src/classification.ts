import { ShapeError, Tensor, ValueError, keep, tidy } from '@neurone/core';
import type { HostTensor, Shape } from '@neurone/core';
import { BaseLoss, checkArgs, checkClassPredictions, checkClassTargets, classTargets } from './common';
import type { LossOptions } from './common';

/**
 * The seed's cross-entropy on log-probabilities: CE(y, ŷ) = −ŷ_y (pair with LogSoftmax).
 * Targets first — `forward(y, ŷ)`; PyTorch's `NLLLoss()(input, target)` is the other order.
 * Targets: class indices [batch] or one-hot [batch, K]; 'mean' (default) over the batch.
 */
export class NLLLoss extends BaseLoss {
  override checkTargets(y: HostTensor, yhatShape: Shape): void {
    checkClassTargets(this.name, y, yhatShape);
  }

  override checkPredictions(yhat: HostTensor): void {
    checkClassPredictions(this.name, yhat);
  }

  forward(y: Tensor, yhat: Tensor): Tensor {
    return tidy(() => {
      const { Y } = classTargets(this.name, y, yhat);
      const picked = yhat.backend.binary('mul', Y, yhat); // seed: CE(y, ŷ) = −ŷ_y = −⟨y, ŷ⟩
      return this.reduceSamples(picked, -1);
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    return tidy(() => {
      const { Y } = classTargets(this.name, y, yhat);
      return yhat.backend.affine(Y, -this.sampleScale(yhat), 0); // ∂CE/∂ŷ = −y
    });
  }
}

/** Options of `CrossEntropyLoss` (PyTorch's, camel-cased). */
export interface CrossEntropyLossOptions extends LossOptions {
  /** A weight per class, [K] (a tensor on the predictions' backend, or numbers). */
  weight?: Tensor | readonly number[];
  /** ε in [0, 1): targets become (1 − ε)·y + ε/K (default 0). */
  labelSmoothing?: number;
  /**
   * Class-index targets equal to this add nothing, and 'mean' does not count them. Off unless
   * given (PyTorch's default is −100: pass `ignoreIndex: -100` for its behaviour); without it
   * `checkTargets` refuses such a label, and a plain step keeps its kernel count.
   */
  ignoreIndex?: number;
}

/** What one step's forward computes and its backward reuses. */
interface Targets {
  y: Tensor;
  yhat: Tensor;
  /** The smoothed, weighted target rows T [batch, K]: loss_i = −Σ_j T_ij log softmax(ŷ)_ij. */
  T: Tensor;
  /** Σ_j T_ij [batch, 1]; null for plain class indices (every row sums to 1). */
  rowSum: Tensor | null;
  /** 'mean''s divisor: Σ_i w_{y_i} over the counted samples (a [1] tensor), or the batch size. */
  den: Tensor | number;
}

/**
 * Cross-entropy on logits (PyTorch's CrossEntropyLoss): log-softmax and NLL fused, stable.
 * Targets first — `forward(y, ŷ)`; PyTorch's `CrossEntropyLoss()(input, target)` is the other
 * order. Targets: class indices [batch], or [batch, K] rows of probabilities (one-hot included).
 * Options as PyTorch's: `weight` per class, `labelSmoothing`, `ignoreIndex` (class indices only);
 * 'mean' (default) divides by Σ w_{y_i} over the samples not ignored (their count without weights)
 * for class indices, by the batch size for probability rows.
 *
 * The target matrix is built once per step: `forward` saves it (one record, held by the loss)
 * and `backward` on the same y and ŷ consumes it, so a step runs one one-hot, one log-softmax
 * (the loss) and one softmax (the gradient); a backward without that forward computes it.
 */
export class CrossEntropyLoss extends BaseLoss {
  readonly labelSmoothing: number;
  readonly ignoreIndex: number | undefined;
  readonly weight: Tensor | readonly number[] | undefined;
  #weights = new Map<object, Tensor>();
  #saved: Targets | null = null;

  constructor(options: CrossEntropyLossOptions = {}) {
    super(options, ['weight', 'labelSmoothing', 'ignoreIndex']);
    const { weight, labelSmoothing = 0, ignoreIndex } = options ?? {};
    if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new ValueError(`CrossEntropyLoss: labelSmoothing must be a number in [0, 1), got ${String(labelSmoothing)}`);
    }
    if (ignoreIndex !== undefined && !Number.isInteger(ignoreIndex)) throw new ValueError(`CrossEntropyLoss: ignoreIndex must be an integer, got ${String(ignoreIndex)}`);
    const ok = weight === undefined || (weight instanceof Tensor ? weight.rank === 1 : Array.isArray(weight) && weight.every((w) => Number.isFinite(w)));
    if (!ok) throw new ValueError(`CrossEntropyLoss: weight must be one number per class, as an array or a 1-D tensor, got ${String(weight)}`);
    this.weight = weight;
    this.labelSmoothing = labelSmoothing;
    this.ignoreIndex = ignoreIndex;
  }

  override checkTargets(y: HostTensor, yhatShape: Shape): void {
    checkClassTargets(this.name, y, yhatShape, this.ignoreIndex);
  }

  override checkPredictions(yhat: HostTensor): void {
    checkClassPredictions(this.name, yhat);
  }

  /** The class weights on ŷ's backend ([1, K]), or undefined. */
  #w(yhat: Tensor): Tensor | undefined {
    const w = this.weight;
    if (w === undefined) return undefined;
    const k = yhat.shape[1]!;
    const n = w instanceof Tensor ? w.size : w.length;
    if (n !== k) throw new ShapeError(this.name, `weight needs one value per class (${k})`, { weight: [n], yhat: yhat.shape });
    if (w instanceof Tensor) return yhat.backend.reshape(w, [1, k]);
    let t = this.#weights.get(yhat.backend);
    if (!t || t.isDisposed) this.#weights.set(yhat.backend, (t = keep(yhat.backend.tensor([...w], [1, k]))));
    return t;
  }

  /** The target rows of y for ŷ, with their row sums and 'mean''s divisor (computed in the caller's scope). */
  #targets(y: Tensor, yhat: Tensor): Targets {
    checkArgs(this.name, y, yhat);
    const be = yhat.backend;
    const [n, k] = yhat.shape as [number, number];
    const eps = this.labelSmoothing;
    const w = this.#w(yhat);
    const indices = y.rank === 1;
    const ii = this.ignoreIndex;
    const ignoreInRange = indices && ii !== undefined && ii >= 0 && ii < k;
    return tidy(() => {
      const { Y, rowsSumToOne } = classTargets(this.name, y, yhat);
      // class indices, no options: one-hot rows, 'mean' over the batch (the main job's step)
      if (rowsSumToOne && !w && eps === 0 && ii === undefined) return { y, yhat, T: Y, rowSum: null, den: n };
      // an ignored label outside [0, K) is already a row of zeros; one inside is masked here
      let M = Y;
      if (ignoreInRange) {
        const hit = be.matmul(Y, be.oneHot(be.tensor([ii], [1]), k), false, true); // [n, 1]: 1 where y = ignoreIndex
        M = be.binary('mul', Y, be.affine(hit, -1, 1));
      }
      const valid = indices ? be.sum(M, -1, true) : be.full([n, 1], 1); // 1 per counted sample
      // 'mean' divides by Σ w_{y_i} (their count without weights) for class indices, by n for rows
      const den = !indices ? n : be.sum(w ? be.binary('mul', M, w) : valid, [0, 1], true);
      // T = w ⊙ ((1 − ε)·y + ε/K) on the counted rows
      let T = eps === 0 ? M : be.axpby(1 - eps, M, eps / k, be.binary('mul', valid, be.full([1, k], 1)));
      if (w) T = be.binary('mul', T, w);
      return { y, yhat, T, rowSum: be.sum(T, -1, true), den };
    });
  }

  /** The tensors of a record that this loss made (not the caller's y). */
  static #owned(r: Targets): Tensor[] {
    return [r.T, r.rowSum, r.den].filter((t): t is Tensor => t instanceof Tensor && t !== r.y);
  }

  /** Forward saves its targets (kept, one record at most); the backward on the same y and ŷ consumes them. */
  #save(r: Targets): Targets {
    if (this.#saved) for (const t of CrossEntropyLoss.#owned(this.#saved)) t.dispose();
    for (const t of CrossEntropyLoss.#owned(r)) keep(t);
    return (this.#saved = r);
  }

  /** The saved record of a forward on exactly y and ŷ, taken (the caller disposes it), or null. */
  #take(y: Tensor, yhat: Tensor): Targets | null {
    const s = this.#saved;
    checkArgs(this.name, y, yhat);
    if (!s || s.y !== y || s.yhat !== yhat || y.isDisposed || yhat.isDisposed) return null;
    this.#saved = null;
    return s;
  }

  forward(y: Tensor, yhat: Tensor): Tensor {
    const { T, den } = this.#save(this.#targets(y, yhat));
    return tidy(() => {
      const be = yhat.backend;
      // seed: CE = −ŷ_y + log Σ_i e^{ŷ_i}; PyTorch: −Σ_j T_j log softmax(ŷ)_j (log-softmax max-shifted)
      const prod = be.binary('mul', T, be.logSoftmax(yhat));
      if (this.reduction === 'none') return be.affine(be.sum(prod, -1), -1, 0);
      const total = be.sum(prod);
      if (this.reduction === 'sum') return be.affine(total, -1, 0);
      return den instanceof Tensor ? be.affine(be.reshape(be.binary('div', be.reshape(total, [1, 1]), den), []), -1, 0) : be.affine(total, -1 / den, 0);
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    const saved = this.#take(y, yhat);
    try {
      return tidy(() => this.#grad(yhat, saved ?? this.#targets(y, yhat)));
    } finally {
      if (saved) for (const t of CrossEntropyLoss.#owned(saved)) t.dispose(); // consumed
    }
  }

  #grad(yhat: Tensor, { T, rowSum, den }: Targets): Tensor {
    return tidy(() => {
      const be = yhat.backend;
      const c = this.reduction === 'mean' && !(den instanceof Tensor) ? 1 / den : 1;
      if (!rowSum) return be.axpby(c, be.softmax(yhat), -c, T); // seed: ∂CE/∂ŷ = softmax(ŷ) − y
      const g = be.binary('sub', be.binary('mul', be.softmax(yhat), rowSum), T); // softmax(ŷ)·Σ_j T_j − T
      if (this.reduction !== 'mean') return g;
      return den instanceof Tensor ? be.binary('div', g, den) : be.affine(g, 1 / den, 0);
    });
  }
}
