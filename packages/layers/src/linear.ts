import { Module, Parameter, ShapeError, checkAllocation, checkOptions, checkTensorArg, defaultRng, fanInUniform, resolveBackend, tidy } from '@neurone/core';
import type { Backend, Initializer, RNG, Tensor } from '@neurone/core';
import { PARAM_OPTIONS } from './conv';

/** Options of `Linear`: bias, backend and initialisation. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Backend of the parameters (default: the registry's, `getBackend()`). */
  backend?: Backend;
  /** Weight initialiser (default PyTorch's: U(±1/√inFeatures)). */
  init?: Initializer;
  /** Bias initialiser (default PyTorch's: U(±1/√inFeatures)). */
  biasInit?: Initializer;
  /** Generator for the initialisers (default `defaultRng()`, seeded by `manualSeed`). */
  rng?: RNG;
  /**
   * Weight tying: use `tiedTo.weight` transposed instead of an own weight, so this layer maps
   * tiedTo.outFeatures → tiedTo.inFeatures with z = x·W_tied + b. It is ONE Parameter shared by
   * both layers (listed once by `namedParameters()`); the gradients of both uses add up in it.
   * The bias stays this layer's own.
   */
  tiedTo?: Linear;
}

/**
 * Fully connected layer z = x·Wᵀ + b. `weight` is the seed's W^h, one row per output:
 * shape [outFeatures, inFeatures] (PyTorch's layout); `bias` is [outFeatures] or null.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly #init: Initializer;
  readonly #biasInit: Initializer;
  readonly #rng: RNG | undefined;
  /** The weight is another layer's, stored [inFeatures, outFeatures]. */
  readonly #tied: boolean;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions(new.target.name, options ?? undefined, { ...PARAM_OPTIONS, tiedTo: 'object' });
    options ??= {};
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new ShapeError('Linear', `${n} must be a positive integer, got ${String(v)}`);
      }
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.#init = options.init ?? fanInUniform();
    this.#biasInit = options.biasInit ?? fanInUniform();
    this.#rng = options.rng;
    const tied = options.tiedTo;
    this.#tied = tied !== undefined;
    if (tied && (tied.inFeatures !== outFeatures || tied.outFeatures !== inFeatures)) {
      throw new ShapeError(this.#name(), `cannot tie to ${tied.#name()}: a tied layer maps ${tied.outFeatures} → ${tied.inFeatures}`, { 'tied weight': tied.weight.shape });
    }
    const backend = tied ? tied.weight.backend : resolveBackend(options.backend);
    if (!tied) checkAllocation(backend, this.#name(), [outFeatures, inFeatures], undefined, inFeatures * outFeatures * 8); // before the float64 initial values
    const [w, b] = this.#initialValues();
    this.weight = this.registerParameter('weight', tied ? tied.weight : new Parameter(backend.tensor(w!, [outFeatures, inFeatures])));
    this.bias = options.bias === false ? null : this.registerParameter('bias', new Parameter(backend.tensor(b, [outFeatures])));
  }

  /** Fresh values from the initialisers: the weight (unless tied) and the bias. */
  #initialValues(): [Float64Array | undefined, Float64Array] {
    const rng = this.#rng ?? defaultRng();
    const fan = { fanIn: this.inFeatures, fanOut: this.outFeatures };
    const w = this.#tied ? undefined : this.#init([this.outFeatures, this.inFeatures], fan, rng);
    return [w, this.#biasInit([this.outFeatures], fan, rng)];
  }

  /** Draws fresh weights (and bias) from the initialisers, on the parameters' current backend; a tied weight is left to its owner. */
  resetParameters(): void {
    const [w, b] = this.#initialValues();
    if (w) this.weight.value = this.weight.backend.tensor(w, this.weight.shape);
    this.weight.zeroGrad();
    if (this.bias) {
      this.bias.value = this.bias.backend.tensor(b, this.bias.shape);
      this.bias.zeroGrad();
    }
  }

  /** Whether the weight is another layer's (`tiedTo`), stored [inFeatures, outFeatures]. */
  get tied(): boolean {
    return this.#tied;
  }

  #name(): string {
    return `${this.constructor.name}(${this.inFeatures}, ${this.outFeatures})`;
  }

  #checkInput(op: string, x: Tensor): void {
    checkTensorArg(`${this.#name()}.${op}`, 'input', x);
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`${this.#name()}.${op}`, `expects an input of shape [batch, ${this.inFeatures}]`, {
        input: x.shape,
        weight: this.weight.shape,
      });
    }
  }

  #checkDelta(op: string, x: Tensor, delta: Tensor): void {
    this.#checkInput(op, x);
    checkTensorArg(`${this.#name()}.${op}`, 'delta', delta);
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
    // seed: z^h = z^{h-1}·(W^h)ᵀ + b^h (tied: W^h = W_tiedᵀ); the bias is fused into the product
    return be.matmul(x, this.weight.value, false, !this.#tied, this.bias?.value);
  }

  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.#checkDelta('backwardUpdateGradient', input, delta);
    const be = this.weight.backend;
    tidy(() => {
      // seed: ∂L/∂W^h = (δ^h)ᵀ·z^{h-1}; a tied weight W_tied = (W^h)ᵀ gets its transpose (z^{h-1})ᵀ·δ^h
      this.weight.accumulateGrad(this.#tied ? be.matmul(input, delta, true, false) : be.matmul(delta, input, true, false));
      this.bias?.accumulateGrad(be.sum(delta, 0)); // ∂L/∂b = Σ_rows δ^h
    });
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.#checkDelta('backwardDelta', input, delta);
    return this.weight.backend.matmul(delta, this.weight.value, false, this.#tied); // seed: ∂L/∂z^{h-1} = δ^h·W^h
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}${this.#tied ? ', tied' : ''}`;
  }
}
