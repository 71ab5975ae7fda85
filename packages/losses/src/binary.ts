import { tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { BaseLoss } from './common';

/** PyTorch clamps each log of BCELoss at −100 so that ŷ ∈ {0, 1} gives a finite loss. */
const LOG_FLOOR = -100;
/** PyTorch's floor of ŷ(1 − ŷ) in BCELoss's gradient. */
const GRAD_EPS = 1e-12;

/**
 * Binary cross-entropy on probabilities ŷ ∈ [0, 1] (after a Sigmoid), per element:
 * −(y log ŷ + (1 − y) log(1 − ŷ)), each log clamped at −100 as PyTorch does. Predictions are
 * not read back to check their range: a ŷ outside [0, 1] gives a NaN loss (which `fit` reports);
 * use BCEWithLogitsLoss on logits.
 * 'none' gives one value per element; 'mean' (default) averages over every element.
 */
export class BCELoss extends BaseLoss {
  forward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    return tidy(() => {
      const be = yhat.backend;
      const logP = be.clamp(be.unary('log', yhat), LOG_FLOOR, Infinity);
      const log1mP = be.clamp(be.unary('log', be.affine(yhat, -1, 1)), LOG_FLOOR, Infinity);
      // seed: BCE = −(y log ŷ + (1 − y) log(1 − ŷ)) = −(y·(log ŷ − log(1 − ŷ)) + log(1 − ŷ))
      const terms = be.binary('add', be.binary('mul', y, be.binary('sub', logP, log1mP)), log1mP);
      return this.reduceElements(terms, -1);
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    return tidy(() => {
      const be = yhat.backend;
      const c = this.reduction === 'mean' ? 1 / yhat.size : 1;
      const den = be.clamp(be.binary('mul', yhat, be.affine(yhat, -1, 1)), GRAD_EPS, Infinity);
      return be.binary('div', be.axpby(c, yhat, -c, y), den); // seed: −(y/ŷ + (y−1)/(1−ŷ)) = (ŷ − y)/(ŷ(1 − ŷ))
    });
  }
}

/**
 * Binary cross-entropy on logits x (sigmoid fused, stable for any x), per element:
 * max(x, 0) − x·y + log(1 + e^{−|x|}). 'mean' (default) averages over every element.
 */
export class BCEWithLogitsLoss extends BaseLoss {
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
