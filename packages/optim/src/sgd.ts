import { ValueError } from '@neurone/core';
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
    // g = grad + wd·p; buf = g at first, then μ·buf + (1 − dampening)·g; p −= lr·(g + μ·buf (Nesterov), buf, or g when μ = 0)
    this.apply(i, p, 'sgd', h.momentum !== 0 ? ['momentumBuffer'] : [], [h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov ? 1 : 0]);
  }
}
