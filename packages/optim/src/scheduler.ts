import { ValueError, checkOptions } from '@neurone/core';
import { checkHyper, hasLr } from './optimizer';
import type { HasLr } from './optimizer';

type Group = { lr: number } & Record<string, unknown>;

const positiveInt = (owner: string, name: string, v: unknown): number => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new ValueError(`${owner}: ${name} must be a positive integer, got ${String(v)}`);
  return v as number;
};

/** A scheduler's state: the epoch (or step) count, the initial and the last learning rates, and its own counters. */
export type SchedulerStateDict = { lastEpoch: number; baseLrs: number[]; lastLr: number[] } & Record<string, unknown>;

/**
 * A learning-rate schedule over an optimizer's parameter groups (each group from its own initial
 * lr, as PyTorch's `base_lrs`). Call `step()` once per epoch, after the epoch's optimizer steps,
 * as in PyTorch — or once per batch for `interval: 'batch'` schedules (OneCycleLR); `fit` does
 * either. The constructor sets the epoch-0 rate (a warm-up starts low).
 */
export abstract class LRScheduler {
  readonly optimizer: HasLr;
  /** Each group's learning rate when the scheduler was made. */
  readonly baseLrs: number[];
  /** Epochs (steps, for a 'batch' schedule) stepped so far. */
  lastEpoch = 0;
  /** When `fit` steps it: after every epoch (default) or after every optimizer step. */
  readonly interval: 'epoch' | 'batch' = 'epoch';
  #lastLr: number[] = [];

  protected constructor(optimizer: HasLr, options: unknown, keys: readonly string[], required: readonly string[] = []) {
    const name = new.target.name;
    if (!hasLr(optimizer)) throw new ValueError(`${name}: the optimizer has no numeric lr, got ${String(optimizer)}`);
    if (options == null && required.length) throw new ValueError(`${name}: options { ${required.join(', ')} } are required`);
    checkOptions(name, options ?? undefined, keys);
    for (const k of required) if ((options as Record<string, unknown>)[k] === undefined) throw new ValueError(`${name}: ${k} is required`);
    this.optimizer = optimizer;
    this.baseLrs = this.groups.map((g) => g.lr);
  }

  /** The optimizer's parameter groups (an optimizer without groups is one). */
  protected get groups(): Group[] {
    return (this.optimizer.paramGroups ?? [this.optimizer]) as Group[];
  }

  /** The learning rate of group `k` (initial rate `baseLr`) at `epoch`. */
  abstract lrAt(epoch: number, baseLr: number, k: number): number;

  /** Sets every group's lr for `lastEpoch`. */
  protected apply(): void {
    this.#setLrs(this.baseLrs.map((b, k) => this.lrAt(this.lastEpoch, b, k)));
  }

  #setLrs(lrs: number[]): void {
    this.groups.forEach((g, k) => (g.lr = lrs[k]!));
    this.#lastLr = lrs;
  }

  /** One epoch (or step) further; `fit` passes the epoch's loss, which only ReduceLROnPlateau reads. */
  step(_metric?: number): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The learning rates this scheduler set last, one per group (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.#lastLr];
  }

  /** The first group's current learning rate. */
  get lr(): number {
    return this.optimizer.lr;
  }

  /** The counters and rates (plain numbers: JSON and checkpoints hold them). */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: this.getLastLr(), ...this.extraState() };
  }

  /** A subclass's own counters. */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /** Restores a subclass's counters (checked) and returns a function that applies them. */
  protected loadExtra(_d: Record<string, unknown>): () => void {
    return () => {};
  }

  /** Restores the state (checked first: on an error nothing changes) and the groups' learning rates. */
  loadStateDict(d: Partial<SchedulerStateDict>): void {
    const name = this.constructor.name;
    if (d == null || !Number.isInteger(d.lastEpoch) || d.lastEpoch! < 0) {
      throw new ValueError(`${name}.loadStateDict: lastEpoch must be a non-negative integer, got ${String(d?.lastEpoch)}`);
    }
    const n = this.baseLrs.length;
    for (const k of ['baseLrs', 'lastLr'] as const) {
      const v = d[k];
      if (v !== undefined && (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isFinite(x)))) {
        throw new ValueError(`${name}.loadStateDict: ${k} must hold ${n} finite numbers (one per parameter group), got ${String(v)}`);
      }
    }
    const applyExtra = this.loadExtra(d);
    this.lastEpoch = d.lastEpoch!;
    if (d.baseLrs) this.baseLrs.splice(0, n, ...d.baseLrs);
    applyExtra();
    if (d.lastLr) this.#setLrs([...d.lastLr]);
    else this.apply();
  }
}

/** lr = baseLr · γ^⌊epoch / stepSize⌋ (PyTorch's StepLR). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: HasLr, options: { stepSize: number; gamma?: number }) {
    super(optimizer, options, ['stepSize', 'gamma'], ['stepSize']);
    this.stepSize = positiveInt('StepLR', 'stepSize', options.stepSize);
    this.gamma = checkHyper('StepLR', 'gamma', options.gamma ?? 0.1);
    this.apply();
  }

  lrAt(epoch: number, baseLr: number): number {
    return baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/** lr = baseLr · γ^(milestones passed) (PyTorch's MultiStepLR: γ once at each milestone epoch). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(optimizer: HasLr, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer, options, ['milestones', 'gamma'], ['milestones']);
    const m = options.milestones;
    if (!Array.isArray(m) || !m.every((e, i) => Number.isInteger(e) && e >= 1 && (i === 0 || e > m[i - 1]!))) {
      throw new ValueError(`MultiStepLR: milestones must be increasing positive integers, got ${String(m)}`);
    }
    this.milestones = [...m];
    this.gamma = checkHyper('MultiStepLR', 'gamma', options.gamma ?? 0.1);
    this.apply();
  }

  lrAt(epoch: number, baseLr: number): number {
    return baseLr * this.gamma ** this.milestones.filter((e) => e <= epoch).length;
  }
}

/**
 * Linear warm-up (PyTorch's LinearLR): lr = baseLr · (s + (e − s)·min(epoch, totalIters)/totalIters),
 * from startFactor s (default 1/3) to endFactor e (default 1) over totalIters epochs (default 5).
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: HasLr, options: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer, options, ['startFactor', 'endFactor', 'totalIters']);
    const o = options ?? {};
    this.startFactor = checkHyper('LinearLR', 'startFactor', o.startFactor ?? 1 / 3);
    this.endFactor = checkHyper('LinearLR', 'endFactor', o.endFactor ?? 1);
    if (this.startFactor === 0 || this.startFactor > 1 || this.endFactor > 1) throw new ValueError(`LinearLR: startFactor must be in (0, 1] and endFactor in [0, 1], got ${this.startFactor}, ${this.endFactor}`);
    this.totalIters = positiveInt('LinearLR', 'totalIters', o.totalIters ?? 5);
    this.apply();
  }

  lrAt(epoch: number, baseLr: number): number {
    return baseLr * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(epoch, this.totalIters)) / this.totalIters);
  }
}

/** lr = ηmin + (baseLr − ηmin)·(1 + cos(π·epoch / tMax)) / 2 (PyTorch's CosineAnnealingLR, closed form). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: HasLr, options: { tMax: number; etaMin?: number }) {
    super(optimizer, options, ['tMax', 'etaMin'], ['tMax']);
    this.tMax = positiveInt('CosineAnnealingLR', 'tMax', options.tMax);
    this.etaMin = checkHyper('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.apply();
  }

  lrAt(epoch: number, baseLr: number): number {
    return this.etaMin + ((baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

/** Options of `OneCycleLR` (PyTorch's names and defaults). */
export interface OneCycleLROptions {
  /** The peak learning rate (one for every group, or one per group). */
  maxLr: number | readonly number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Share of the cycle spent rising (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's momentum, Adam's β₁) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** Initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, annihilation) instead of two (default false). */
  threePhase?: boolean;
}

/**
 * The 1cycle policy (PyTorch's OneCycleLR), stepped after every batch (`interval: 'batch'`):
 * lr rises from maxLr/divFactor to maxLr over pctStart of the steps, then anneals to
 * initial/finalDivFactor; the momentum moves the other way. Stepping past totalSteps is an error.
 */
export class OneCycleLR extends LRScheduler {
  override readonly interval = 'batch' as const;
  readonly totalSteps: number;
  readonly #phases: { end: number; lr: [number, number]; m: [number, number] }[];
  readonly #maxLrs: number[];
  readonly #o: Required<Pick<OneCycleLROptions, 'annealStrategy' | 'cycleMomentum' | 'baseMomentum' | 'maxMomentum' | 'divFactor' | 'finalDivFactor'>>;

  constructor(optimizer: HasLr, options: OneCycleLROptions) {
    super(optimizer, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase'], ['maxLr']);
    const n = 'OneCycleLR';
    const o = options;
    this.totalSteps =
      o.totalSteps !== undefined ? positiveInt(n, 'totalSteps', o.totalSteps) : o.epochs !== undefined || o.stepsPerEpoch !== undefined ? positiveInt(n, 'epochs', o.epochs) * positiveInt(n, 'stepsPerEpoch', o.stepsPerEpoch) : (() => {
        throw new ValueError(`${n}: give totalSteps, or epochs and stepsPerEpoch`);
      })();
    const maxLrs = Array.isArray(o.maxLr) ? [...(o.maxLr as number[])] : this.baseLrs.map(() => o.maxLr as number);
    if (maxLrs.length !== this.baseLrs.length) throw new ValueError(`${n}: maxLr has ${maxLrs.length} values for ${this.baseLrs.length} parameter groups`);
    maxLrs.forEach((v, k) => checkHyper(n, `maxLr[${k}]`, v));
    this.#maxLrs = maxLrs;
    const pct = checkHyper(n, 'pctStart', o.pctStart ?? 0.3, 0, 1);
    const anneal = o.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') throw new ValueError(`${n}: annealStrategy must be 'cos' or 'linear', got ${String(anneal)}`);
    for (const k of ['cycleMomentum', 'threePhase'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ValueError(`${n}: ${k} must be a boolean, got ${String(o[k])}`);
    this.#o = {
      annealStrategy: anneal,
      cycleMomentum: o.cycleMomentum ?? true,
      baseMomentum: checkHyper(n, 'baseMomentum', o.baseMomentum ?? 0.85),
      maxMomentum: checkHyper(n, 'maxMomentum', o.maxMomentum ?? 0.95),
      divFactor: checkHyper(n, 'divFactor', o.divFactor ?? 25),
      finalDivFactor: checkHyper(n, 'finalDivFactor', o.finalDivFactor ?? 1e4),
    };
    if (this.#o.cycleMomentum && !this.groups.every((g) => 'momentum' in g || 'betas' in g)) {
      throw new ValueError(`${n}: cycleMomentum needs an optimizer with momentum or betas; pass cycleMomentum: false`);
    }
    // phases in fractions of the initial/max/min rates: 0 = initial, 1 = max, 2 = min
    const T = this.totalSteps;
    const { baseMomentum: bm, maxMomentum: mm } = this.#o;
    this.#phases = o.threePhase
      ? [
          { end: pct * T - 1, lr: [0, 1], m: [mm, bm] },
          { end: 2 * pct * T - 2, lr: [1, 0], m: [bm, mm] },
          { end: T - 1, lr: [0, 2], m: [mm, mm] },
        ]
      : [
          { end: pct * T - 1, lr: [0, 1], m: [mm, bm] },
          { end: T - 1, lr: [1, 2], m: [bm, mm] },
        ];
    this.apply();
  }

  #anneal(a: number, b: number, pct: number): number {
    return this.#o.annealStrategy === 'cos' ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
  }

  /** The phase and its progress at `step` (PyTorch's walk over the phases). */
  #at(step: number): [{ lr: [number, number]; m: [number, number] }, number] {
    let start = 0;
    for (let i = 0; i < this.#phases.length; i++) {
      const p = this.#phases[i]!;
      if (step <= p.end || i === this.#phases.length - 1) return [p, (step - start) / (p.end - start)];
      start = p.end;
    }
    throw new Error('unreachable');
  }

  lrAt(step: number, _baseLr: number, k: number): number {
    const initial = this.#maxLrs[k]! / this.#o.divFactor;
    const rates = [initial, this.#maxLrs[k]!, initial / this.#o.finalDivFactor];
    const [p, pct] = this.#at(step);
    return this.#anneal(rates[p.lr[0]]!, rates[p.lr[1]]!, pct);
  }

  protected override apply(): void {
    super.apply();
    if (!this.#o.cycleMomentum) return;
    const [p, pct] = this.#at(this.lastEpoch);
    const m = this.#anneal(p.m[0], p.m[1], pct);
    for (const g of this.groups) {
      if (Array.isArray(g.betas)) g.betas = [m, g.betas[1]];
      else g.momentum = m;
    }
  }

  override step(): void {
    if (this.lastEpoch >= this.totalSteps) throw new ValueError(`OneCycleLR: tried to step ${this.lastEpoch + 2} times; the cycle has totalSteps = ${this.totalSteps}`);
    super.step();
  }
}

/** Options of `ReduceLROnPlateau` (PyTorch's names and defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default: a loss) or 'max' (an accuracy). */
  mode?: 'min' | 'max';
  /** lr ← lr·factor on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated (default 10). */
  patience?: number;
  /** Least improvement that counts (default 1e-4), relative or absolute per thresholdMode ('rel' default). */
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Floor of the lr, one for every group or one per group (default 0). */
  minLr?: number | readonly number[];
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/**
 * Lowers the lr when a metric stops improving (PyTorch's ReduceLROnPlateau): call `step(metric)`
 * once per epoch; `fit` passes the validation loss (the training loss without validation).
 */
export class ReduceLROnPlateau extends LRScheduler {
  readonly #o: Required<Omit<ReduceLROnPlateauOptions, 'minLr'>> & { minLrs: number[] };
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;

  constructor(optimizer: HasLr, options: ReduceLROnPlateauOptions = {}) {
    super(optimizer, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    const n = 'ReduceLROnPlateau';
    const o = options ?? {};
    const mode = o.mode ?? 'min';
    const thresholdMode = o.thresholdMode ?? 'rel';
    if (mode !== 'min' && mode !== 'max') throw new ValueError(`${n}: mode must be 'min' or 'max', got ${String(mode)}`);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw new ValueError(`${n}: thresholdMode must be 'rel' or 'abs', got ${String(thresholdMode)}`);
    const intOf = (k: 'patience' | 'cooldown', v: unknown): number => {
      if (!Number.isInteger(v) || (v as number) < 0) throw new ValueError(`${n}: ${k} must be a non-negative integer, got ${String(v)}`);
      return v as number;
    };
    const minLrs = Array.isArray(o.minLr) ? [...(o.minLr as number[])] : this.baseLrs.map(() => (o.minLr ?? 0) as number);
    if (minLrs.length !== this.baseLrs.length) throw new ValueError(`${n}: minLr has ${minLrs.length} values for ${this.baseLrs.length} parameter groups`);
    minLrs.forEach((v, k) => checkHyper(n, `minLr[${k}]`, v));
    this.#o = {
      mode,
      thresholdMode,
      factor: checkHyper(n, 'factor', o.factor ?? 0.1, 0, 1),
      patience: intOf('patience', o.patience ?? 10),
      threshold: checkHyper(n, 'threshold', o.threshold ?? 1e-4),
      cooldown: intOf('cooldown', o.cooldown ?? 0),
      eps: checkHyper(n, 'eps', o.eps ?? 1e-8),
      minLrs,
    };
    this.best = mode === 'min' ? Infinity : -Infinity;
    this.apply();
  }

  /** The groups keep their rates until a plateau. */
  lrAt(_epoch: number, _baseLr: number, k: number): number {
    return this.groups[k]!.lr;
  }

  #better(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: t } = this.#o;
    if (mode === 'min') return tm === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return tm === 'rel' ? a > this.best * (t + 1) : a > this.best + t;
  }

  /** One epoch with its metric (a loss in 'min' mode). */
  override step(metric?: number): void {
    if (typeof metric !== 'number' || Number.isNaN(metric)) throw new ValueError(`ReduceLROnPlateau.step: the metric must be a number, got ${String(metric)}`);
    this.lastEpoch++;
    if (this.#better(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.#o.patience) {
      this.groups.forEach((g, k) => {
        const lr = Math.max(g.lr * this.#o.factor, this.#o.minLrs[k]!);
        if (g.lr - lr > this.#o.eps) g.lr = lr;
      });
      this.cooldownCounter = this.#o.cooldown;
      this.numBadEpochs = 0;
    }
    this.apply();
  }

  protected override extraState(): Record<string, unknown> {
    return { best: Number.isFinite(this.best) ? this.best : null, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter };
  }

  protected override loadExtra(d: Record<string, unknown>): () => void {
    const { best = null, numBadEpochs = 0, cooldownCounter = 0 } = d;
    if ((best !== null && typeof best !== 'number') || !Number.isInteger(numBadEpochs) || !Number.isInteger(cooldownCounter)) {
      throw new ValueError(`ReduceLROnPlateau.loadStateDict: best must be a number or null, numBadEpochs and cooldownCounter integers`);
    }
    return () => {
      this.best = best ?? (this.#o.mode === 'min' ? Infinity : -Infinity);
      this.numBadEpochs = numBadEpochs as number;
      this.cooldownCounter = cooldownCounter as number;
    };
  }
}
