import { Module, Parameter, ShapeError, ValueError, checkOptions, checkTensorArg, resolveBackend, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

/** What a normalisation's forward saves: x̂ = (x − μ)·s and s = 1/√(σ² + ε) (broadcast over `axes`). */
interface Normalized {
  xhat: Tensor;
  invStd: Tensor;
}

/** x̂ = (x − mean)/√(var + ε) over `axes` (biased variance), with the statistics kept for the caller. */
function normalize(x: Tensor, axes: number[], eps: number): Normalized & { mean: Tensor; variance: Tensor } {
  const mean = x.mean(axes, true);
  const xc = x.sub(mean);
  const variance = xc.square().mean(axes, true);
  const invStd = variance.add(eps).pow(-0.5);
  return { xhat: xc.mul(invStd), invStd, mean, variance };
}

/** ∂L/∂x of x̂ = (x − μ)/σ with μ, σ of the batch over `axes`: s·(g − mean(g) − x̂·mean(g ⊙ x̂)), g = ∂L/∂x̂. */
function normalizeGrad(g: Tensor, { xhat, invStd }: Normalized, axes: number[]): Tensor {
  return g.sub(g.mean(axes, true)).sub(xhat.mul(g.mul(xhat).mean(axes, true))).mul(invStd);
}

const NORM_OPTIONS = { eps: 'number', backend: 'object' } as const;

/** The learnable γ (ones) and β (zeros) of a normalisation over n features, or null. */
function affineParams(n: number, affine: boolean, backend?: Backend): [Parameter | null, Parameter | null] {
  if (!affine) return [null, null];
  const b = resolveBackend(backend);
  return [new Parameter(b.full([n], 1)), new Parameter(b.zeros([n]))];
}

function checkFeatures(owner: string, n: unknown): number {
  if (!Number.isInteger(n) || (n as number) < 1) throw new ValueError(`${owner}: the number of features must be a positive integer, got ${String(n)}`);
  return n as number;
}

/** Options of `BatchNorm1d` / `BatchNorm2d` (PyTorch's, camel-cased). */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Learn γ (`weight`) and β (`bias`) (default true). */
  affine?: boolean;
  /** Keep `running_mean` / `running_var` and use them in eval() (default true). */
  trackRunningStats?: boolean;
  /** Backend of the parameters and buffers (default: the registry's). */
  backend?: Backend;
}

/**
 * Batch normalisation over the last (channel) axis, PyTorch's semantics: in training,
 * y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch mean and biased variance over every other axis,
 * and the buffers `running_mean` ← (1 − m)·running_mean + m·μ_B, `running_var` ← (1 − m)·running_var
 * + m·σ²_B·N/(N − 1) (unbiased), `num_batches_tracked` += 1; in eval(), the running statistics.
 */
abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  /** The input ranks this layer takes (channels last). */
  protected abstract readonly ranks: readonly number[];
  protected abstract readonly layout: string;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const name = new.target.name;
    const o = checkOptions(name, options ?? undefined, { ...NORM_OPTIONS, momentum: 'number', affine: 'boolean', trackRunningStats: 'boolean' }) ?? {};
    this.numFeatures = checkFeatures(name, numFeatures);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    if (!(this.eps > 0)) throw new ValueError(`${name}: eps must be > 0, got ${this.eps}`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${name}: momentum must be in [0, 1], got ${this.momentum}`);
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    [this.weight, this.bias] = affineParams(numFeatures, this.affine, o.backend);
    if (this.weight) this.registerParameter('weight', this.weight);
    if (this.bias) this.registerParameter('bias', this.bias);
    if (this.trackRunningStats) {
      const b = resolveBackend(o.backend);
      this.registerBuffer('running_mean', b.zeros([numFeatures]));
      this.registerBuffer('running_var', b.full([numFeatures], 1));
      this.registerBuffer('num_batches_tracked', b.zeros([]));
    }
  }

  /** Batch statistics (training, or no running statistics): backward needs this forward's. */
  override get statefulForward(): boolean {
    return this.training || !this.trackRunningStats;
  }

  #axes(x: Tensor, op: string): number[] {
    checkTensorArg(`${this.constructor.name}.${op}`, 'x', x);
    if (!this.ranks.includes(x.rank) || x.shape[x.rank - 1] !== this.numFeatures) {
      throw new ShapeError(`${this.constructor.name}(${this.numFeatures}).${op}`, `expects ${this.layout} (channels last)`, { x: x.shape });
    }
    return x.shape.slice(0, -1).map((_, i) => i);
  }

  /** The eval-mode x̂ from the running statistics (a function of x alone). */
  #evalNormalized(x: Tensor): Normalized {
    const invStd = this.buffer('running_var').add(this.eps).pow(-0.5);
    return { xhat: x.sub(this.buffer('running_mean')).mul(invStd), invStd };
  }

  forward(x: Tensor): Tensor {
    const axes = this.#axes(x, 'forward');
    const batch = this.statefulForward;
    const n = x.size / this.numFeatures;
    if (batch && this.training && n <= 1) throw new ValueError(`${this.constructor.name}.forward: expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`);
    const { y, xhat, invStd } = tidy(() => {
      let r: Normalized;
      if (batch) {
        const s = normalize(x, axes, this.eps);
        if (this.training && this.trackRunningStats) {
          const m = this.momentum;
          const f = this.numFeatures;
          this.setBuffer('running_mean', this.buffer('running_mean').mul(1 - m).add(s.mean.reshape([f]).mul(m))); // (1 − m)·μ̂ + m·μ_B
          this.setBuffer('running_var', this.buffer('running_var').mul(1 - m).add(s.variance.reshape([f]).mul((m * n) / (n - 1)))); // (1 − m)·σ̂² + m·σ²_B·N/(N − 1)
          this.setBuffer('num_batches_tracked', this.buffer('num_batches_tracked').add(1));
        }
        r = s;
      } else r = this.#evalNormalized(x);
      const out = this.weight ? r.xhat.mul(this.weight.value).add(this.bias!.value) : r.xhat.clone(); // y = γ·x̂ + β
      return { y: out, xhat: r.xhat, invStd: r.invStd };
    });
    this.saveForBackward(x, { xhat, invStd }, [xhat, invStd]);
    return y;
  }

  /** The forward's record on x (batch statistics: required), or the eval-mode one recomputed. */
  #record(x: Tensor, op: string): Normalized {
    return this.statefulForward ? this.savedOrThrow<Normalized>(x, op) : (this.saved<Normalized>(x) ?? this.#evalNormalized(x));
  }

  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    const axes = this.#axes(x, 'backwardUpdateGradient');
    if (!this.weight) return;
    tidy(() => {
      const { xhat } = this.#record(x, 'backwardUpdateGradient');
      this.weight!.accumulateGrad(delta.mul(xhat).sum(axes)); // ∂L/∂γ = Σ δ ⊙ x̂
      this.bias!.accumulateGrad(delta.sum(axes)); // ∂L/∂β = Σ δ
    });
  }

  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    const axes = this.#axes(x, 'backwardDelta');
    return tidy(() => {
      const rec = this.#record(x, 'backwardDelta');
      const g = this.weight ? delta.mul(this.weight.value) : delta; // ∂L/∂x̂ = δ ⊙ γ
      // batch statistics: s·(g − mean(g) − x̂·mean(g ⊙ x̂)); running statistics: g·s
      return this.statefulForward ? normalizeGrad(g, rec, axes) : g.mul(rec.invStd);
    });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, track_running_stats=${this.trackRunningStats}`;
  }
}

/** BatchNorm1d(n) on [batch, n] (or [batch, L, n], channels last): PyTorch's, see BatchNorm. */
export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3];
  protected readonly layout = '[batch, n] or [batch, length, n]';
}

/** BatchNorm2d(n) on channels-last images [batch, H, W, n]: PyTorch's, statistics over batch, H and W. */
export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4];
  protected readonly layout = '[batch, H, W, n]';
}

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn γ (`weight`) and β (`bias`) (default true). */
  elementwiseAffine?: boolean;
  backend?: Backend;
}

/**
 * Layer normalisation over the last axis (PyTorch's LayerNorm(n)): y = γ·(x − μ)/√(σ² + ε) + β with
 * each sample's mean and biased variance over its n features; the same in train and eval.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number;
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(normalizedShape: number, options: LayerNormOptions = {}) {
    super();
    const o = checkOptions('LayerNorm', options ?? undefined, { ...NORM_OPTIONS, elementwiseAffine: 'boolean' }) ?? {};
    this.normalizedShape = checkFeatures('LayerNorm', normalizedShape);
    this.eps = o.eps ?? 1e-5;
    if (!(this.eps > 0)) throw new ValueError(`LayerNorm: eps must be > 0, got ${this.eps}`);
    [this.weight, this.bias] = affineParams(normalizedShape, o.elementwiseAffine ?? true, o.backend);
    if (this.weight) this.registerParameter('weight', this.weight);
    if (this.bias) this.registerParameter('bias', this.bias);
  }

  #check(x: Tensor, op: string): void {
    checkTensorArg(`LayerNorm.${op}`, 'x', x);
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.normalizedShape) throw new ShapeError(`LayerNorm(${this.normalizedShape}).${op}`, `the last axis must have ${this.normalizedShape} features`, { x: x.shape });
  }

  forward(x: Tensor): Tensor {
    this.#check(x, 'forward');
    const { y, xhat, invStd } = tidy(() => {
      const { xhat: h, invStd: s } = normalize(x, [x.rank - 1], this.eps);
      return { y: this.weight ? h.mul(this.weight.value).add(this.bias!.value) : h.clone(), xhat: h, invStd: s }; // y = γ·x̂ + β
    });
    this.saveForBackward(x, { xhat, invStd }, [xhat, invStd]);
    return y;
  }

  /** The forward's record on x, or recomputed (a function of x alone). */
  #record(x: Tensor): Normalized {
    return this.saved<Normalized>(x) ?? normalize(x, [x.rank - 1], this.eps);
  }

  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    this.#check(x, 'backwardUpdateGradient');
    if (!this.weight) return;
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    tidy(() => {
      this.weight!.accumulateGrad(delta.mul(this.#record(x).xhat).sum(axes)); // ∂L/∂γ = Σ δ ⊙ x̂
      this.bias!.accumulateGrad(delta.sum(axes)); // ∂L/∂β = Σ δ
    });
  }

  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    this.#check(x, 'backwardDelta');
    return tidy(() => normalizeGrad(this.weight ? delta.mul(this.weight.value) : delta, this.#record(x), [x.rank - 1])); // s·(g − mean(g) − x̂·mean(g ⊙ x̂)), g = δ ⊙ γ
  }

  protected override extraRepr(): string {
    return `(${this.normalizedShape},), eps=${this.eps}, elementwise_affine=${this.weight !== null}`;
  }
}
