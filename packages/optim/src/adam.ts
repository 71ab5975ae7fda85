import { ValueError, checkOptions, tidy } from '@neurone/core';
import type { Parameter } from '@neurone/core';
import { BaseOptimizer, checkHyper } from './optimizer';
import type { ParamsInput } from './optimizer';

/** Hyper-parameters of `Adam`. */
export interface AdamOptions {
  /** Learning rate (default 1e-3; settable later through `optimizer.lr`). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator after the square root (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient: g + wd·p (default 0; not AdamW's decoupled decay). */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba) with PyTorch's exact semantics: g = grad + wd·p;
 * m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g²;
 * p −= (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
 */
export class Adam extends BaseOptimizer {
  betas: [number, number] = [0.9, 0.999];
  eps = 1e-8;
  weightDecay = 0;

  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super(params, checkOptions('Adam', options ?? undefined, ['lr', 'betas', 'eps', 'weightDecay'])?.lr ?? 1e-3);
    options ??= {};
    this.parseHyper({ ...options, lr: options.lr ?? 1e-3 })();
  }

  protected parseHyper(h: Record<string, unknown>): () => void {
    const lr = checkHyper('Adam', 'lr', h.lr as number);
    const betas = (h.betas ?? [0.9, 0.999]) as unknown;
    if (!Array.isArray(betas) || betas.length !== 2) throw new ValueError(`Adam: betas must be a pair [β₁, β₂], got ${String(betas)}`);
    const b1 = checkHyper('Adam', 'betas[0]', betas[0] as number, 0, 1);
    const b2 = checkHyper('Adam', 'betas[1]', betas[1] as number, 0, 1);
    const eps = checkHyper('Adam', 'eps', (h.eps ?? 1e-8) as number);
    const weightDecay = checkHyper('Adam', 'weightDecay', (h.weightDecay ?? 0) as number);
    return () => {
      this.lr = lr;
      this.betas = [b1, b2];
      this.eps = eps;
      this.weightDecay = weightDecay;
    };
  }

  protected hyper(): Record<string, number | number[]> {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay };
  }

  protected stateKeys(): readonly string[] {
    return ['expAvg', 'expAvgSq'];
  }

  protected update(i: number, p: Parameter, t: number): void {
    const b = p.backend;
    const [b1, b2] = this.betas;
    tidy(() => {
      let g = p.grad!;
      if (this.weightDecay !== 0) g = b.axpby(1, g, this.weightDecay, p.value); // g = grad + wd·p
      const m0 = this.getState(i, 'expAvg');
      const v0 = this.getState(i, 'expAvgSq');
      const g2 = b.unary('square', g);
      // m = β₁·m + (1 − β₁)·g ; v = β₂·v + (1 − β₂)·g²   (m = v = 0 before the first step)
      const m = m0 ? b.axpby(b1, m0, 1 - b1, g) : b.affine(g, 1 - b1, 0);
      const v = v0 ? b.axpby(b2, v0, 1 - b2, g2) : b.affine(g2, 1 - b2, 0);
      this.setState(i, 'expAvg', m);
      this.setState(i, 'expAvgSq', v);
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      const denom = b.affine(b.unary('sqrt', v), 1 / Math.sqrt(bc2), this.eps); // √v / √(1 − β₂ᵗ) + ε
      p.value = b.axpby(1, p.value, -this.lr / bc1, b.binary('div', m, denom)); // p −= lr/(1 − β₁ᵗ) · m / denom
    });
  }
}
