import { Linear } from '@neurone/layers';
import { checkOptions } from '@neurone/core';
import type { Initializer, RNG } from '@neurone/core';

/** Options of `TiedLinear`: its own bias and how it is initialised. */
export interface TiedLinearOptions {
  /** Learn an own additive bias (default true). */
  bias?: boolean;
  /** Bias initialiser (default PyTorch's Linear default, U(±1/√inFeatures)). */
  biasInit?: Initializer;
  /** Generator for the bias initialiser (default `defaultRng()`). */
  rng?: RNG;
}

/**
 * The decoder half of a tied pair: a Linear whose weight is the transpose of `source`'s
 * (`new Linear(n, m, { tiedTo: source })`). With the source's W of shape [n, m] (maps m → n),
 * this layer maps n → m: z = x·W + b. The weight is ONE Parameter shared with the source; the
 * gradients of both uses add up in it. The bias [m] is this layer's own.
 */
export class TiedLinear extends Linear {
  // private, so that the module registry does not list the source as a child of its decoder
  readonly #source: Linear;

  constructor(source: Linear, options: TiedLinearOptions = {}) {
    super(source.outFeatures, source.inFeatures, { ...checkOptions('TiedLinear', options ?? undefined, ['bias', 'biasInit', 'rng']), tiedTo: source });
    this.#source = source;
  }

  /** The layer whose weight this one uses, transposed. */
  get source(): Linear {
    return this.#source;
  }
}
