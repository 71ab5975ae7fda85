import { ValueError } from '@neurone/core';
import type { Parameter } from '@neurone/core';
import { BaseOptimizer, checkHyper } from './optimizer';
import type { ParamsInput } from './optimizer';

/** Hyper-parameters of `Adam` and `AdamW` (also per parameter group). */
export interface AdamOptions {
  /** Learning rate (default 1e-3; settable later through `optimizer.lr`). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient, g + wd·p (default 0). AdamW: decoupled decay, p −= lr·wd·p (default 0.01). */
  weightDecay?: number;
}

type AdamHyper = { lr: number; betas: number[]; eps: number; weightDecay: number };

/**
 * Adam (Kingma & Ba) with PyTorch's exact semantics: g = grad + wd·p;
 * m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g²;
 * p −= (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
 * `params`: parameters, a Module, or parameter groups `[{ params, lr, … }]`.
 */
export class Adam extends BaseOptimizer<AdamHyper> {
  constructor(params: ParamsInput<AdamOptions>, options?: AdamOptions) {
    super(params, options, ['lr', 'betas', 'eps', 'weightDecay']);
  }

  protected parseHyper(owner: string, h: Record<string, unknown>): AdamHyper {
    const lr = checkHyper(owner, 'lr', (h.lr ?? 1e-3) as number);
    const betas = (h.betas ?? [0.9, 0.999]) as unknown;
    if (!Array.isArray(betas) || betas.length !== 2) throw new ValueError(`${owner}: betas must be a pair [β₁, β₂], got ${String(betas)}`);
    const b1 = checkHyper(owner, 'betas[0]', betas[0] as number, 0, 1);
    const b2 = checkHyper(owner, 'betas[1]', betas[1] as number, 0, 1);
    const eps = checkHyper(owner, 'eps', (h.eps ?? 1e-8) as number);
    // AdamW's default decay (read before the subclass field exists: the class decides)
    const weightDecay = checkHyper(owner, 'weightDecay', (h.weightDecay ?? (this instanceof AdamW ? 0.01 : 0)) as number);
    return { lr, betas: [b1, b2], eps, weightDecay };
  }

  protected stateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected update(i: number, p: Parameter, t: number, h: AdamHyper): void {
    const [b1, b2] = h.betas as [number, number];
    const mode = h.weightDecay === 0 ? 0 : this instanceof AdamW ? 2 : 1;
    // Adam: g = grad + wd·p; AdamW: p −= lr·wd·p; m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g²; p −= lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    this.apply(i, p, 'adam', this.stateKeys(), [h.lr / (1 - b1 ** t), b1, b2, 1 / Math.sqrt(1 - b2 ** t), h.eps, h.weightDecay, mode, h.lr]);
  }
}

/**
 * AdamW (Loshchilov & Hutter) as PyTorch's: Adam with decoupled weight decay, applied to the
 * weights before the Adam step, p −= lr·wd·p (default wd 0.01), never added to the gradient.
 */
export class AdamW extends Adam {}
