import { ValueError, emaSquare, rootStep, tidy } from '@neurone/core';
import type { Parameter, Tensor } from '@neurone/core';
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
    const b = p.backend;
    const { alpha: a, momentum: mu } = h;
    tidy(() => {
      let g = p.grad!;
      if (h.weightDecay !== 0) g = b.axpby(1, g, h.weightDecay, p.value); // g = grad + wd·p
      const ema = (key: string, x: Tensor): Tensor => {
        const prev = this.getState(i, key);
        const next = prev ? b.axpby(a, prev, 1 - a, x) : b.affine(x, 1 - a, 0); // α·prev + (1 − α)·x, prev = 0 at first
        this.setState(i, key, next);
        return next;
      };
      let s = emaSquare(this.getState(i, 'squareAvg') ?? null, g, a); // s = α·s + (1 − α)·g²
      this.setState(i, 'squareAvg', s);
      if (h.centered) s = b.binary('sub', s, b.unary('square', ema('gradAvg', g))); // s − ḡ²
      if (mu > 0) {
        const step = b.binary('div', g, b.affine(b.unary('sqrt', s), 1, h.eps)); // g / (√s + ε)
        const prev = this.getState(i, 'momentumBuffer');
        const buf = prev ? b.axpby(mu, prev, 1, step) : step; // buf = μ·buf + g/d
        this.setState(i, 'momentumBuffer', buf);
        p.value = b.axpby(1, p.value, -h.lr, buf);
      } else p.value = rootStep(p.value, g, s, h.lr, 1, h.eps); // p −= lr·g/(√s + ε), one pass
    });
  }
}
