import { Module, Parameter, ShapeError, defaultRng, init as inits } from '@neurone/core';
import type { Initializer, RNG, Tensor } from '@neurone/core';
import type { Linear } from '@neurone/layers';

export interface TiedLinearOptions {
  /** Learn an own additive bias (default true). */
  bias?: boolean;
  /** Bias initialiser (default PyTorch's Linear default, U(±1/√inFeatures)). */
  biasInit?: Initializer;
  /** Generator for the bias initialiser (default `defaultRng()`). */
  rng?: RNG;
}

/**
 * The decoder half of a tied pair: a fully connected layer whose weight is the transpose of
 * `source`'s. With the source's W of shape [n, m] (maps m → n), this layer maps n → m:
 * z = x·(Wᵀ)ᵀ + b = x·W + b. The weight is ONE Parameter shared with the source (registered here
 * too, so `namedParameters()` lists it once, under the source's name); the gradients of both uses
 * add up in it. The bias [m] is this layer's own.
 */
export class TiedLinear extends Module {
  readonly source: Linear;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  /** = source.outFeatures */
  readonly inFeatures: number;
  /** = source.inFeatures */
  readonly outFeatures: number;

  constructor(source: Linear, options: TiedLinearOptions = {}) {
    super();
    this.source = source;
    this.weight = this.registerParameter('weight', source.weight);
    this.inFeatures = source.outFeatures;
    this.outFeatures = source.inFeatures;
    if (options.bias === false) {
      this.bias = null;
    } else {
      const b = (options.biasInit ?? inits.lecunUniform())([this.outFeatures], { fanIn: this.inFeatures, fanOut: this.outFeatures }, options.rng ?? defaultRng());
      this.bias = this.registerParameter('bias', new Parameter(source.weight.backend.tensor(b, [this.outFeatures])));
    }
  }

  #name(): string {
    return `TiedLinear(${this.inFeatures}, ${this.outFeatures})`;
  }

  #checkInput(op: string, x: Tensor): void {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`${this.#name()}.${op}`, `expects an input of shape [batch, ${this.inFeatures}]`, {
        input: x.shape,
        'tied weight (source, [out, in])': this.weight.shape,
      });
    }
  }

  #checkDelta(op: string, x: Tensor, delta: Tensor): void {
    this.#checkInput(op, x);
    if (delta.rank !== 2 || delta.shape[0] !== x.shape[0] || delta.shape[1] !== this.outFeatures) {
      throw new ShapeError(`${this.#name()}.${op}`, `expects a delta of shape [${x.shape[0]}, ${this.outFeatures}]`, {
        input: x.shape,
        delta: delta.shape,
      });
    }
  }

  forward(x: Tensor): Tensor {
    this.#checkInput('forward', x);
    const be = this.weight.backend;
    const z = be.matmul(x, this.weight.value, false, false); // seed: z^h = z^{h-1}·(W^h)ᵀ with W^h = Wᵀ, so z^{h-1}·W
    if (!this.bias) return z;
    const out = be.binary('add', z, this.bias.value); // + b, broadcast over the rows
    z.dispose();
    return out;
  }

  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.#checkDelta('backwardUpdateGradient', input, delta);
    const be = this.weight.backend;
    const gW = be.matmul(input, delta, true, false); // seed: ∂L/∂W^h = (δ^h)ᵀ·z^{h-1}; W = (W^h)ᵀ gets its transpose (z^{h-1})ᵀ·δ^h
    this.weight.accumulateGrad(gW); // adds to the gradient of the source's use
    gW.dispose();
    if (this.bias) {
      const gb = be.sum(delta, 0); // ∂L/∂b = Σ_rows δ^h
      this.bias.accumulateGrad(gb);
      gb.dispose();
    }
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.#checkDelta('backwardDelta', input, delta);
    return this.weight.backend.matmul(delta, this.weight.value, false, true); // seed: ∂L/∂z^{h-1} = δ^h·W^h = δ^h·Wᵀ
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}, tied`;
  }
}
