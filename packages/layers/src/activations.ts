import { Module, ShapeError, shapesEqual, sizeOf, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

function checkDelta(name: string, op: string, input: Tensor, delta: Tensor): void {
  if (!shapesEqual(input.shape, delta.shape)) {
    throw new ShapeError(`${name}.${op}`, 'delta must have the shape of the input', { input: input.shape, delta: delta.shape });
  }
}

/**
 * An activation whose backward needs its own output s = f(input). The output of the last
 * forward is reused when backward gets that same input tensor and neither tensor was disposed
 * since; otherwise s is recomputed from the input, so a stale cache is never read.
 */
abstract class CachedActivation extends Module {
  #input: Tensor | null = null;
  #output: Tensor | null = null;

  protected abstract apply(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    const out = this.apply(x);
    this.#input = x;
    this.#output = out;
    return out;
  }

  /** Runs fn inside `tidy` with s = f(input), from the cache when valid, else recomputed (and freed with the scope). */
  protected withOutput(input: Tensor, fn: (s: Tensor) => Tensor): Tensor {
    return tidy(() => {
      const cached = this.#output;
      const valid = this.#input === input && cached && !cached.isDisposed && !input.isDisposed;
      return fn(valid ? cached : this.apply(input));
    });
  }

  protected override onMove(backend: Backend): void {
    this.#input = null;
    this.#output = null;
    super.onMove(backend);
  }
}

/** Hyperbolic tangent, element-wise. */
export class TanH extends CachedActivation {
  protected apply(x: Tensor): Tensor {
    return x.backend.unary('tanh', x); // seed: tanh(a) = (eᵃ − e⁻ᵃ)/(eᵃ + e⁻ᵃ)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('TanH', 'backwardDelta', input, delta);
    return this.withOutput(input, (s) => input.backend.activationGrad('tanh', s, delta)); // seed: δ ⊙ (1 − tanh²(a))
  }
}

/** Logistic sigmoid, element-wise. */
export class Sigmoid extends CachedActivation {
  protected apply(x: Tensor): Tensor {
    return x.backend.unary('sigmoid', x); // seed: σ(a) = 1/(1 + e⁻ᵃ)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('Sigmoid', 'backwardDelta', input, delta);
    return this.withOutput(input, (s) => input.backend.activationGrad('sigmoid', s, delta)); // seed: δ ⊙ σ(a)(1 − σ(a))
  }
}

/** max(a, 0), element-wise. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.backend.unary('relu', x); // max(a, 0)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('ReLU', 'backwardDelta', input, delta);
    return input.backend.activationGrad('relu', input, delta); // δ ⊙ [a > 0]
  }
}

function checkRows(name: string, x: Tensor): void {
  if (x.rank < 1) throw new ShapeError(`${name}.forward`, 'needs at least one axis (it works over the last)', { input: x.shape });
}

/** Row-wise softmax over the last axis. */
export class Softmax extends CachedActivation {
  protected apply(x: Tensor): Tensor {
    checkRows('Softmax', x);
    return x.backend.softmax(x); // seed: Softmax(x)_j = e^{x_j} / Σ_i e^{x_i}
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('Softmax', 'backwardDelta', input, delta);
    const be = input.backend;
    // seed: ∂L/∂x = s ⊙ (δ − Σ_j δ_j s_j)
    return this.withOutput(input, (s) => be.binary('mul', s, be.binary('sub', delta, be.sum(be.binary('mul', delta, s), -1, true))));
  }
}

/** Row-wise log-softmax over the last axis (max-shifted, stable); pair with NLLLoss. */
export class LogSoftmax extends Module {
  forward(x: Tensor): Tensor {
    checkRows('LogSoftmax', x);
    return x.backend.logSoftmax(x); // log Softmax(x)_j = x_j − log Σ_i e^{x_i}
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('LogSoftmax', 'backwardDelta', input, delta);
    const be = input.backend;
    // ∂L/∂x = δ − softmax(x)·Σ_j δ_j
    return tidy(() => be.binary('sub', delta, be.binary('mul', be.softmax(input), be.sum(delta, -1, true))));
  }
}

/** [batch, d1, d2, …] → [batch, d1·d2·…] (a view: no copy). */
export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    if (x.rank < 1) throw new ShapeError('Flatten.forward', 'needs a batch axis', { input: x.shape });
    return x.reshape([x.shape[0]!, sizeOf(x.shape.slice(1))]);
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    if (delta.size !== input.size || delta.shape[0] !== input.shape[0]) {
      throw new ShapeError('Flatten.backwardDelta', 'delta must hold one row per input sample', { input: input.shape, delta: delta.shape });
    }
    return delta.reshape(input.shape);
  }
}
