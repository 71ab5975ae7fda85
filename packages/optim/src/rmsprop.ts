import { ValueError } from '@neurone/core';
import type { Parameter } from '@neurone/core';
import { BaseOptimizer, checkHyper } from './optimizer';
import type { ParamsInput } from './optimizer';

/** Hyper-parameters of `RMSprop` (also per parameter group); PyTorch's defaults. */
export interface RMSpropOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** L2 penalty added to the gradient: g + wd·p (default 0). */
  weightDecay?: number;
  /** Normalise by the gradient's estimated variance instead of its second moment (default false). */
  centered?: boolean;
}

type RMSpropHyper = { lr: number; alpha: number; eps: number; momentum: number; weightDecay: number; centered: boolean };

/**
 * RMSprop with PyTorch's exact semantics: g = grad + wd·p; s = α·s + (1 − α)·g²;
 * (centered: ḡ = α·ḡ + (1 − α)·g, s̃ = s − ḡ²); d = √s̃ + ε;
 * with momentum buf = μ·buf + g/d, p −= lr·buf; else p −= lr·g/d (state starts at zero).
 */
export class RMSprop extends BaseOptimizer<RMSpropHyper> {
  constructor(params: ParamsInput<RMSpropOptions>, options?: RMSpropOptions) {
    super(params, options, ['lr', 'alpha', 'eps', 'momentum', 'weightDecay', 'centered']);
  }

  protected parseHyper(owner: string, h: Record<string, unknown>): RMSpropHyper {
    const centered = h.centered ?? false;
    if (typeof centered !== 'boolean') throw new ValueError(`${owner}: centered must be a boolean, got ${String(centered)}`);
    return {
      lr: checkHyper(owner, 'lr', (h.lr ?? 0.01) as number),
      alpha: checkHyper(owner, 'alpha', (h.alpha ?? 0.99) as number),
      eps: checkHyper(owner, 'eps', (h.eps ?? 1e-8) as number),
      momentum: checkHyper(owner, 'momentum', (h.momentum ?? 0) as number),
      weightDecay: checkHyper(owner, 'weightDecay', (h.weightDecay ?? 0) as number),
      centered,
    };
  }

  protected stateKeys(): readonly string[] {
    return ['squareAvg', 'gradAvg', 'momentumBuffer'];
  }

  protected update(i: number, p: Parameter, _t: number, h: RMSpropHyper): void {
    const keys = ['squareAvg', ...(h.centered ? ['gradAvg'] : []), ...(h.momentum > 0 ? ['momentumBuffer'] : [])];
    // g = grad + wd·p; s = α·s + (1 − α)·g²; ḡ = α·ḡ + (1 − α)·g; step = g / (√(s − ḡ²) + ε); buf = μ·buf + step; p −= lr·(buf or step)
    this.apply(i, p, 'rmsprop', keys, [h.lr, h.alpha, h.eps, h.momentum, h.weightDecay, h.centered ? 1 : 0]);
  }
}
