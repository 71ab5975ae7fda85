import { tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { BaseLoss } from './common';

/**
 * The seed's squared error, per sample: MSE(y, ŷ) = ‖ŷ − y‖², summed over the features.
 * 'none' gives one value per sample [batch]; 'sum' the total; 'mean' (default) the mean over
 * the batch of the per-sample squared norms. Note: 'mean' averages over samples, not over
 * elements as PyTorch's MSELoss does (PyTorch's value = this one / features).
 */
export class MSELoss extends BaseLoss {
  forward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    return tidy(() => {
      const be = yhat.backend;
      const sq = be.unary('square', be.binary('sub', yhat, y)); // seed: MSE = ‖ŷ − y‖²
      return this.reduceSamples(sq, 1);
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    this.checkSameShape(y, yhat);
    const c = this.sampleScale(yhat);
    return yhat.backend.axpby(2 * c, yhat, -2 * c, y); // seed: ∂MSE/∂ŷ = −2(y − ŷ)
  }
}
