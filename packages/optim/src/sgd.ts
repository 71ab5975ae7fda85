import { ValueError, checkOptions, tidy } from '@neurone/core';
import type { Parameter } from '@neurone/core';
import { BaseOptimizer, checkHyper } from './optimizer';
import type { ParamsInput } from './optimizer';

/** Hyper-parameters of `SGD`. */
export interface SGDOptions {
  /** Learning rate (settable later through `optimizer.lr`). */
  lr: number;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient: g + wd·p (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with PyTorch's exact semantics:
 * g = grad + wd·p; buf = g on the first step, then buf = μ·buf + (1 − dampening)·g;
 * update = g + μ·buf (Nesterov) or buf; p −= lr·update. With μ = 0 it is the seed's
 * `updateParameters(lr)`: p −= lr·grad.
 */
export class SGD extends BaseOptimizer {
  momentum = 0;
  dampening = 0;
  weightDecay = 0;
  nesterov = false;

  constructor(params: ParamsInput, options: SGDOptions) {
    if (options == null || typeof options !== 'object') throw new ValueError(`SGD: options { lr } are required, got ${String(options)}`);
    checkOptions('SGD', options, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']);
    super(params, options.lr);
    this.parseHyper({ ...options })();
  }

  protected parseHyper(h: Record<string, unknown>): () => void {
    const lr = checkHyper('SGD', 'lr', h.lr as number);
    const momentum = checkHyper('SGD', 'momentum', (h.momentum ?? 0) as number);
    const dampening = checkHyper('SGD', 'dampening', (h.dampening ?? 0) as number, -Infinity);
    const weightDecay = checkHyper('SGD', 'weightDecay', (h.weightDecay ?? 0) as number);
    const nesterov = h.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new ValueError(`SGD: nesterov must be a boolean, got ${String(nesterov)}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ValueError(`SGD: Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ${momentum}, dampening ${dampening})`);
    }
    return () => {
      this.lr = lr;
      Object.assign(this, { momentum, dampening, weightDecay, nesterov });
    };
  }

  protected hyper(): Record<string, number | boolean> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }

  protected stateKeys(): readonly string[] {
    return ['momentumBuffer'];
  }

  protected update(i: number, p: Parameter): void {
    const b = p.backend;
    const { momentum: mu, dampening, weightDecay: wd } = this;
    tidy(() => {
      let g = p.grad!;
      if (wd !== 0) g = b.axpby(1, g, wd, p.value); // g = grad + wd·p
      if (mu !== 0) {
        const prev = this.getState(i, 'momentumBuffer');
        // buf = g (first step), else buf = μ·buf + (1 − dampening)·g
        const buf = prev ? b.axpby(mu, prev, 1 - dampening, g) : b.affine(g, 1, 0);
        this.setState(i, 'momentumBuffer', buf);
        g = this.nesterov ? b.axpby(1, g, mu, buf) : buf; // update = g + μ·buf, or buf
      }
      p.value = b.axpby(1, p.value, -this.lr, g); // p −= lr·update
    });
  }
}
