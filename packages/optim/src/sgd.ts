import { ValueError, tidy } from '@neurone/core';
import type { Parameter } from '@neurone/core';
import { BaseOptimizer, checkHyper } from './optimizer';
import type { ParamsInput } from './optimizer';

/** Hyper-parameters of `SGD` (also per parameter group). */
export interface SGDOptions {
  /** Learning rate (settable later through `optimizer.lr`); required here or in every group. */
  lr?: number;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient: g + wd·p (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

type SGDHyper = { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean };

/**
 * Stochastic gradient descent with PyTorch's exact semantics:
 * g = grad + wd·p; buf = g on the first step, then buf = μ·buf + (1 − dampening)·g;
 * update = g + μ·buf (Nesterov) or buf; p −= lr·update. With μ = 0 it is the seed's
 * `updateParameters(lr)`: p −= lr·grad. `params`: parameters, a Module, or parameter groups
 * `[{ params, lr, momentum, … }]` whose options override `options` (PyTorch's param groups).
 */
export class SGD extends BaseOptimizer<SGDHyper> {
  constructor(params: ParamsInput<SGDOptions>, options?: SGDOptions) {
    super(params, options, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']);
  }

  protected parseHyper(owner: string, h: Record<string, unknown>): SGDHyper {
    const lr = checkHyper(owner, 'lr', h.lr as number);
    const momentum = checkHyper(owner, 'momentum', (h.momentum ?? 0) as number);
    const dampening = checkHyper(owner, 'dampening', (h.dampening ?? 0) as number, -Infinity);
    const weightDecay = checkHyper(owner, 'weightDecay', (h.weightDecay ?? 0) as number);
    const nesterov = h.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new ValueError(`${owner}: nesterov must be a boolean, got ${String(nesterov)}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ValueError(`${owner}: Nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ${momentum}, dampening ${dampening})`);
    }
    return { lr, momentum, dampening, weightDecay, nesterov };
  }

  protected stateKeys(): readonly string[] {
    return ['momentumBuffer'];
  }

  protected update(i: number, p: Parameter, _t: number, h: SGDHyper): void {
    const b = p.backend;
    const { momentum: mu, dampening, weightDecay: wd } = h;
    tidy(() => {
      let g = p.grad!;
      if (wd !== 0) g = b.axpby(1, g, wd, p.value); // g = grad + wd·p
      if (mu !== 0) {
        const prev = this.getState(i, 'momentumBuffer');
        // buf = g (first step), else buf = μ·buf + (1 − dampening)·g
        const buf = prev ? b.axpby(mu, prev, 1 - dampening, g) : b.affine(g, 1, 0);
        this.setState(i, 'momentumBuffer', buf);
        g = h.nesterov ? b.axpby(1, g, mu, buf) : buf; // update = g + μ·buf, or buf
      }
      p.value = b.axpby(1, p.value, -h.lr, g); // p −= lr·update
    });
  }
}
