import { ValueError, binaryCrossEntropy, tidy } from '@neurone/core';
import type { HostTensor, Shape, Tensor } from '@neurone/core';
import { BaseLoss, outside, swapped } from './common';

/** Targets must be in [0, 1]; a value outside is a logit or a score: the arguments look swapped. */
function checkBinaryTargets(name: string, y: HostTensor): void {
  const bad = outside(y.data, 0, 1);
  if (bad >= 0) throw swapped(name, `target value ${y.data[bad]} at position ${bad} is outside [0, 1]`);
}

/** Predictions that are all exactly 0 or 1 are labels, not probabilities or logits. */
function checkNotLabels(name: string, yhat: HostTensor): void {
  if (yhat.data.length > 1 && Array.prototype.every.call(yhat.data, (v: number) => v === 0 || v === 1)) {
    throw swapped(name, 'every prediction is exactly 0 or 1');
  }
}


/**
 * Binary cross-entropy on probabilities ŷ ∈ [0, 1] (after a Sigmoid), per element:
 * −(y log ŷ + (1 − y) log(1 − ŷ)), each log clamped at −100 as PyTorch does. Targets first —
 * `forward(y, ŷ)`; PyTorch's `BCELoss()(input, target)` is the other order. forward never reads
 * ŷ back: `fit`/`evaluate` check the first batch's predictions on the host (outside [0, 1]: a
 * ValueError pointing at BCEWithLogitsLoss; all exactly 0 or 1: the arguments look swapped);
 * a direct call with ŷ outside [0, 1] gives NaN. Use BCEWithLogitsLoss on logits.
 * 'none' gives one value per element; 'mean' (default) averages over every element.
 */
export class BCELoss extends BaseLoss {
  override checkTargets(y: HostTensor, _yhatShape: Shape): void {
    checkBinaryTargets(this.name, y);
  }

  override checkPredictions(yhat: HostTensor): void {
    const bad = outside(yhat.data, 0, 1);
    if (bad >= 0) throw new ValueError(`${this.name}: prediction ${yhat.data[bad]} at position ${bad} is outside [0, 1]: apply a Sigmoid, or use BCEWithLogitsLoss on logits (or the arguments are swapped: the targets come first, forward(y, yhat); PyTorch's order is loss(input, target))`);
    checkNotLabels(this.name, yhat);
  }

  forward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    // BCE = −(y log ŷ + (1 − y) log(1 − ŷ)), each log floored at −100 (one fused op)
    return tidy(() => this.reduceElements(binaryCrossEntropy(y, yhat, false), -1));
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    // seed: −(y/ŷ + (y−1)/(1−ŷ)) = (ŷ − y)/(ŷ(1 − ŷ)), the denominator floored at 1e-12 (one fused op)
    return binaryCrossEntropy(y, yhat, true, this.reduction === 'mean' ? 1 / yhat.size : 1);
  }
}

/**
 * Binary cross-entropy on logits x (sigmoid fused, stable for any x), per element:
 * max(x, 0) − x·y + log(1 + e^{−|x|}). 'mean' (default) averages over every element.
 * Targets first — `forward(y, x)`; PyTorch's `BCEWithLogitsLoss()(input, target)` is the other
 * order. Targets outside [0, 1] (logits given as targets) are refused by `checkTargets`.
 */
export class BCEWithLogitsLoss extends BaseLoss {
  override checkTargets(y: HostTensor, _yhatShape: Shape): void {
    checkBinaryTargets(this.name, y);
  }

  override checkPredictions(yhat: HostTensor): void {
    checkNotLabels(this.name, yhat);
  }

  forward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    return tidy(() => {
      const be = yhat.backend;
      // softplus(x) = max(x, 0) + log(1 + e^{−|x|}), so the loss is softplus(x) − x·y
      const terms = be.binary('sub', be.unary('softplus', yhat), be.binary('mul', yhat, y));
      return this.reduceElements(terms, 1);
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    const c = this.reduction === 'mean' ? 1 / yhat.size : 1;
    return tidy(() => yhat.backend.axpby(c, yhat.backend.unary('sigmoid', yhat), -c, y)); // ∂/∂x = σ(x) − y
  }
}
