import { ValueError, checkOptions } from '@neurone/core';
import { checkHyper } from './optimizer';

/** An optimizer whose learning rate can be set (SGD, Adam). */
export interface HasLr {
  lr: number;
}

/**
 * A learning-rate schedule: call `step()` once per epoch (after the epoch's optimizer steps,
 * as in PyTorch); it sets `optimizer.lr` from the initial rate and the epoch count.
 */
export abstract class LRScheduler {
  readonly optimizer: HasLr;
  readonly baseLr: number;
  /** Epochs stepped so far. */
  lastEpoch = 0;

  protected constructor(optimizer: HasLr) {
    if (optimizer == null || typeof optimizer.lr !== 'number') {
      throw new ValueError(`${new.target.name}: the optimizer has no numeric lr`);
    }
    this.optimizer = optimizer;
    this.baseLr = optimizer.lr;
  }

  /** The learning rate at `epoch` (closed form). */
  abstract lrAt(epoch: number): number;

  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }

  get lr(): number {
    return this.optimizer.lr;
  }

  stateDict(): { lastEpoch: number; baseLr: number } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  loadStateDict(d: { lastEpoch: number }): void {
    if (!Number.isInteger(d?.lastEpoch) || d.lastEpoch < 0) {
      throw new ValueError(`${this.constructor.name}.loadStateDict: lastEpoch must be a non-negative integer, got ${String(d?.lastEpoch)}`);
    }
    this.lastEpoch = d.lastEpoch;
    this.optimizer.lr = this.lrAt(this.lastEpoch);
  }
}

/** lr = baseLr · γ^⌊epoch / stepSize⌋ (PyTorch's StepLR). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: HasLr, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    checkOptions('StepLR', options, ['stepSize', 'gamma']);
    const { stepSize, gamma = 0.1 } = options ?? ({} as { stepSize: number });
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new ValueError(`StepLR: stepSize must be a positive integer, got ${String(stepSize)}`);
    this.stepSize = stepSize;
    this.gamma = checkHyper('StepLR', 'gamma', gamma);
  }

  lrAt(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = ηmin + (baseLr − ηmin)·(1 + cos(π·epoch / tMax)) / 2 (PyTorch's CosineAnnealingLR, closed form). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: HasLr, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    const { tMax, etaMin = 0 } = options ?? ({} as { tMax: number });
    if (!Number.isInteger(tMax) || tMax < 1) throw new ValueError(`CosineAnnealingLR: tMax must be a positive integer, got ${String(tMax)}`);
    this.tMax = tMax;
    this.etaMin = checkHyper('CosineAnnealingLR', 'etaMin', etaMin);
  }

  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}
