import { tidy } from '@neurone/core';
import type { HostTensor, Shape, Tensor } from '@neurone/core';
import { BaseLoss, checkClassTargets, classTargets } from './common';

/**
 * The seed's cross-entropy on log-probabilities: CE(y, ŷ) = −ŷ_y (pair with LogSoftmax).
 * Targets: class indices [batch] or one-hot [batch, K]; 'mean' (default) over the batch.
 */
export class NLLLoss extends BaseLoss {
  checkTargets(y: HostTensor, yhatShape: Shape): void {
    checkClassTargets(this.name, y, yhatShape);
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

/**
 * Cross-entropy on logits (PyTorch's CrossEntropyLoss): log-softmax and NLL fused, stable.
 * Targets: class indices [batch], or a [batch, K] matrix of one-hot rows (or probabilities,
 * giving −Σ_j y_j log softmax(ŷ)_j). 'mean' (default) over the batch.
 */
export class CrossEntropyLoss extends BaseLoss {
  checkTargets(y: HostTensor, yhatShape: Shape): void {
    checkClassTargets(this.name, y, yhatShape);
  }

  forward(y: Tensor, yhat: Tensor): Tensor {
    return tidy(() => {
      const be = yhat.backend;
      const { Y } = classTargets(this.name, y, yhat);
      const logp = be.logSoftmax(yhat); // max-shifted: ŷ_j − log Σ_i e^{ŷ_i}
      return this.reduceSamples(be.binary('mul', Y, logp), -1); // seed: CE = −ŷ_y + log Σ_i e^{ŷ_i}
    });
  }

  backward(y: Tensor, yhat: Tensor): Tensor {
    return tidy(() => {
      const be = yhat.backend;
      const { Y, rowsSumToOne } = classTargets(this.name, y, yhat);
      const c = this.sampleScale(yhat);
      let s = be.softmax(yhat);
      if (!rowsSumToOne) s = be.binary('mul', s, be.sum(Y, -1, true)); // general rows: softmax(ŷ)·Σ_j y_j
      return be.axpby(c, s, -c, Y); // seed: ∂CE/∂ŷ = softmax(ŷ) − y
    });
  }
}
