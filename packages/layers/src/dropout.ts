import { Module, ValueError, checkOptions, checkTensorArg, defaultRng } from '@neurone/core';
import type { RNG, Tensor } from '@neurone/core';

/** Options of `Dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
  /** Generator of the masks (default `defaultRng()`, seeded by `manualSeed`). */
  rng?: RNG;
}

/**
 * Inverted dropout (PyTorch's Dropout): in training, each element is zeroed with probability p and
 * the others scaled by 1/(1 − p), so eval() is the identity. The mask is drawn from the seeded RNG,
 * saved by forward and used by backward (δ ⊙ mask): a backward needs that forward's input.
 */
export class Dropout extends Module {
  readonly p: number;
  readonly #rng: RNG | undefined;

  constructor(p?: number | DropoutOptions) {
    super();
    const o = typeof p === 'object' && p !== null ? checkOptions('Dropout', p, { p: 'number', rng: 'object' }) : { p };
    const prob = o.p ?? 0.5;
    if (typeof prob !== 'number' || !(prob >= 0 && prob <= 1)) throw new ValueError(`Dropout: p must be a probability in [0, 1], got ${String(prob)}`);
    this.p = prob;
    this.#rng = o.rng;
  }

  override get statefulForward(): boolean {
    return this.training && this.p > 0;
  }

  /** The mask's values on the host: 0 with probability p, else 1/(1 − p). */
  protected drawMask(size: number): Float64Array {
    const keep = 1 / (1 - this.p);
    return (this.#rng ?? defaultRng()).uniformArray(size).map((u) => (u < this.p ? 0 : keep));
  }

  forward(x: Tensor): Tensor {
    checkTensorArg('Dropout.forward', 'x', x);
    if (!this.statefulForward) return x.clone();
    const mask = x.backend.tensor(this.p === 1 ? new Float64Array(x.size) : this.drawMask(x.size), x.shape);
    this.saveForBackward(x, { mask }, [mask]);
    return x.mul(mask); // y = x ⊙ m / (1 − p), m ~ Bernoulli(1 − p)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkTensorArg('Dropout.backwardDelta', 'input', input);
    checkTensorArg('Dropout.backwardDelta', 'delta', delta);
    if (!this.statefulForward) return delta.clone();
    return delta.mul(this.savedOrThrow<{ mask: Tensor }>(input, 'backwardDelta').mask); // ∂L/∂x = δ ⊙ m / (1 − p)
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
