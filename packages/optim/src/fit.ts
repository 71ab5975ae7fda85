import { RNG, ShapeError, ValueError, checkLeaks, checkOptions, gatherRows, getBackend, isTensor, keep, shapesEqual, sizeOf, tidy } from '@neurone/core';
import type { Backend, Dataset, HostTensor, Loss, Module, Optimizer, Tensor } from '@neurone/core';
import { accuracy as metricsAccuracy, resolveMetrics } from './metrics';
import type { Metric, MetricSpec } from './metrics';
import { trainStep } from './optim';
import { snapshotState } from './snapshot';
import { createProgress } from './progress';
import { clipGradNorm, clipGradValue } from './clip';
import { checkHyper, hasLr } from './optimizer';
import type { ProgressOption } from './progress';

/** Data already on a backend; fit reads it to the host once to shuffle and batch it. */
export interface TensorData {
  x: Tensor;
  y: Tensor;
}

/** What fit, evaluate accept: a core Dataset (host typed arrays) or tensors. */
export type FitData = Dataset | TensorData;

/** One epoch's record. Epochs and batches count from 1. */
export interface EpochLog {
  epoch: number;
  epochs: number;
  /** Mean training loss over the epoch's samples (each batch's mean loss weighted by its size). */
  loss: number;
  /** Training metrics (mean over the epoch's samples), by name. */
  metrics: Record<string, number>;
  /** Loss on `validation` at the end of the epoch. */
  valLoss?: number;
  /** Accuracy on `validation` (classification with class-index targets). */
  valAccuracy?: number;
  /** Validation metrics, by name. */
  valMetrics?: Record<string, number>;
  /** The learning rate used during the epoch, when the optimizer has one. */
  lr?: number;
  /** Training time of the epoch (validation excluded). */
  seconds: number;
  samplesPerSecond: number;
  samples: number;
  batches: number;
}

/** One batch's record, given to `onBatch`. */
export interface BatchLog {
  epoch: number;
  batch: number;
  batches: number;
  /** The batch's mean loss. */
  loss: number;
  /** Mean loss over the epoch's samples so far. */
  runningLoss: number;
  /** Samples in this batch. */
  size: number;
}

/** Why fit returned. */
export type StopReason = 'completed' | 'onEpoch' | 'onBatch' | 'aborted';

/** What `fit` resolves to: one record per completed epoch, the per-epoch series, and why it stopped. */
export interface History {
  /** One record per completed epoch. */
  epochs: EpochLog[];
  /** Per-epoch training loss (same as epochs.map(e => e.loss)). */
  loss: number[];
  /** Per-epoch validation loss (empty without validation). */
  valLoss: number[];
  /** Per-epoch validation accuracy (empty unless the validation targets are class indices). */
  valAccuracy: number[];
  stopped: StopReason;
}

/** Options of `fit`: `epochs` and `batchSize` are required; unknown names are a ValueError. */
export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** Reshuffle the samples every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0): the same seed gives the same batches. */
  seed?: number;
  /** Evaluated at the end of every epoch: loss, and accuracy for class-index targets. */
  validation?: FitData;
  /** Batch size for the validation pass (default: batchSize). */
  validationBatchSize?: number;
  /** Called after every epoch; returning false stops training (the epoch is kept in the history). */
  onEpoch?: (log: EpochLog) => boolean | void | Promise<boolean | void>;
  /** Called for every batch once its loss was read; returning false stops training. */
  onBatch?: (log: BatchLog) => boolean | void | Promise<boolean | void>;
  /** Stops cleanly between batches; fit then resolves with the completed epochs. */
  signal?: AbortSignal;
  /** Progress bar (cli-progress) on a TTY; default: on when stdout is a TTY. Never printed elsewhere. */
  progress?: ProgressOption;
  /** 'accuracy' and/or custom { name, fn } metrics, computed on training batches and on validation. */
  metrics?: readonly MetricSpec[];
  /** Backend to upload batches to (default: the net's first parameter's, else getBackend()). */
  backend?: Backend;
  /** Read the loss every this many batches (default 1 on backends that read synchronously, else 10). */
  readEvery?: number;
  /**
   * A learning-rate schedule, stepped at the end of every epoch (StepLR, CosineAnnealingLR …;
   * ReduceLROnPlateau gets the validation loss, or the training loss without validation), or after
   * every batch when its `interval` is 'batch' (OneCycleLR).
   */
  scheduler?: { step(metric?: number): void; readonly interval?: 'epoch' | 'batch' };
  /** Clip the gradients' total 2-norm to this before every optimizer step (`clipGradNorm`). */
  clipGradNorm?: number;
  /** Clamp every gradient element into [−v, v] before every optimizer step (`clipGradValue`). */
  clipGradValue?: number;
  /**
   * Epochs already completed, when resuming (default 0): fit runs epochs initialEpoch + 1 …
   * epochs. Without `rng`, the seeded shuffle skips the first initialEpoch permutations, so a
   * resumed run shuffles like an uninterrupted one.
   */
  initialEpoch?: number;
  /**
   * The shuffle generator (instead of `new RNG(seed)`); fit draws one permutation per epoch from
   * it, so its state after fit (rng.getState(), saved in a checkpoint) is where a resumed run
   * continues. Give `seed` or `rng`, not both.
   */
  rng?: RNG;
}

const FIT_KEYS = [
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'validation',
  'validationBatchSize',
  'onEpoch',
  'onBatch',
  'signal',
  'progress',
  'metrics',
  'backend',
  'readEvery',
  'scheduler',
  'initialEpoch',
  'rng',
  'clipGradNorm',
  'clipGradValue',
] as const;

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
  metrics?: readonly MetricSpec[];
  backend?: Backend;
}

/** What `evaluate` resolves to: the mean loss, accuracy for class-index targets, the metrics. */
export interface EvaluateResult {
  /** Mean loss over the samples. */
  loss: number;
  /** Share of correct arg-max predictions, for class-index targets ([n]) and outputs [n, classes ≥ 2]. */
  accuracy?: number;
  metrics: Record<string, number>;
}

// ---- host data -------------------------------------------------------------------------------

async function hostOf(t: Tensor | HostTensor): Promise<HostTensor> {
  return isTensor(t) ? { data: await t.data(), shape: t.shape } : t;
}

/** Checks a dataset and brings it to the host. */
async function toHost(owner: string, data: FitData): Promise<Dataset> {
  if (data == null || typeof data !== 'object' || data.x == null || data.y == null) {
    throw new ValueError(`${owner}: data must be { x, y } (a Dataset of host arrays, or tensors), got ${String(data)}`);
  }
  const x = await hostOf(data.x);
  const y = await hostOf(data.y);
  for (const [k, h] of [['x', x], ['y', y]] as const) {
    if (!h.shape || h.shape.length < 1 || !h.data || h.data.length !== sizeOf(h.shape)) {
      throw new ShapeError(owner, `${k} holds ${h.data?.length} values, which do not fill its shape`, { [k]: h.shape ?? [] });
    }
  }
  if (x.shape[0] !== y.shape[0]) throw new ShapeError(owner, 'x and y must have the same number of samples (axis 0)', { x: x.shape, y: y.shape });
  if (x.shape[0] === 0) throw new ValueError(`${owner}: the dataset is empty`);
  return { x, y };
}

/** Host buffers that batches are gathered into before upload (the upload copies), one per host tensor and batch length: no allocation per step. */
const scratch = new WeakMap<HostTensor, Float32Array | Float64Array>();

/** Rows `order[start..end)` (or start..end) of a host tensor, uploaded to `backend` as one batch (core's `gatherRows`, as `@neurone/data`'s batches). */
function gather(backend: Backend, h: HostTensor, order: Uint32Array | null, start: number, end: number): Tensor {
  const { data, shape } = gatherRows(h, order ? order.subarray(start, end) : { start, end }, backend.dtype === 'float64', scratch.get(h));
  scratch.set(h, data);
  return backend.tensor(data, shape);
}

function positiveInt(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${owner}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function backendOf(net: Module, explicit?: Backend): Backend {
  return explicit ?? net.parameters()[0]?.value.backend ?? getBackend();
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Lets timers and I/O run (an AbortSignal fired by a timer, a progress redraw). */
function yieldToEventLoop(): Promise<void> {
  const si = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (si ? si(resolve) : setTimeout(resolve, 0)));
}

/** Reads one-element tensors together (one round trip per tensor, issued at once), then disposes them. */
async function readScalars(ts: readonly Tensor[]): Promise<number[]> {
  try {
    const vals = await Promise.all(ts.map((t) => t.data()));
    return vals.map((v) => v[0]!);
  } finally {
    for (const t of ts) t.dispose();
  }
}

/** The loss's host check of a dataset's targets, given one batch's predictions (shapes only: no read). */
function checkTargets(loss: Loss, y: HostTensor, yhat: Tensor): void {
  if (typeof loss.checkTargets !== 'function') return;
  const values = (y.scale ?? 1) === 1 ? y : gatherRows(y, { start: 0, end: y.shape[0]! }); // scaled targets (bytes) as their values
  loss.checkTargets(values, [y.shape[0]!, ...yhat.shape.slice(1)]);
}

/**
 * The loss's host check of predictions, on the first `rows` samples (eval mode, nothing changes):
 * one forward and one read per call of fit / evaluate, so BCE on logits or swapped arguments fail
 * before any training, naming the loss. It checks the targets first: true when it ran (the loss
 * has the check), so the first batch need not check them again.
 */
async function checkPredictions(owner: string, net: Module, loss: Loss, data: Dataset, rows: number, backend: Backend): Promise<boolean> {
  if (typeof loss.checkPredictions !== 'function') return false;
  const wasTraining = net.training;
  net.eval();
  let yhat: Tensor | undefined;
  try {
    yhat = tidy(() => net.forward(gather(backend, data.x, null, 0, rows)));
    checkTargets(loss, data.y, yhat); // the targets first, on the host: a bad label costs no read
    const host = { data: await yhat.data(), shape: yhat.shape };
    try {
      loss.checkPredictions(host);
    } catch (e) {
      if (e instanceof Error) e.message = `${owner} (the first batch's predictions): ${e.message}`;
      throw e;
    }
  } finally {
    yhat?.dispose();
    net.train(wasTraining);
  }
  return true;
}

const isClassIndices = (y: readonly number[], yhat: readonly number[]): boolean =>
  y.length === 1 && yhat.length === 2 && yhat[1]! >= 2;

// ---- evaluate / predict ------------------------------------------------------------------------

/**
 * Mean loss (and accuracy for class-index targets, and the requested metrics) of `net` over
 * `data`, in eval mode, by batches. Sums stay on the device and are read once at the end.
 */
export async function evaluate(net: Module, loss: Loss, data: FitData, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  checkOptions('evaluate', options ?? undefined, ['batchSize', 'metrics', 'backend']);
  options ??= {};
  const batchSize = positiveInt('evaluate', 'batchSize', options.batchSize ?? 256);
  const metrics = resolveMetrics('evaluate', options.metrics);
  const host = await toHost('evaluate', data);
  const checked = await checkPredictions('evaluate', net, loss, host, Math.min(batchSize, host.x.shape[0]!), backendOf(net, options.backend));
  return evaluateHost(net, loss, host, batchSize, metrics, backendOf(net, options.backend), !checked);
}

/** `checkTargetsFirst`: whether the first batch checks the targets (false where they were checked already). */
async function evaluateHost(net: Module, loss: Loss, data: Dataset, batchSize: number, metrics: Metric[], backend: Backend, checkTargetsFirst: boolean): Promise<EvaluateResult> {
  const n = data.x.shape[0]!;
  const wasTraining = net.training;
  net.eval();
  // running sums on the device: [loss, accuracy?, ...metrics], each Σ batchMean·batchSize
  let sums: Tensor[] | null = null;
  let withAccuracy = false;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const next: Tensor[] = tidy(() => {
        const x = gather(backend, data.x, null, start, end);
        const y = gather(backend, data.y, null, start, end);
        const yhat = net.forward(x);
        if (start === 0 && checkTargetsFirst) checkTargets(loss, data.y, yhat);
        const l = loss.forward(y, yhat);
        if (l.size !== 1) throw new ShapeError('evaluate', 'the loss must reduce to one value', { loss: l.shape, y: y.shape, yhat: yhat.shape });
        if (start === 0) withAccuracy = isClassIndices(data.y.shape, yhat.shape) && !metrics.some((m) => m.name === 'accuracy');
        const fns = [...(withAccuracy ? [{ name: 'accuracy', fn: metricsAccuracy }] : []), ...metrics];
        const vals = [l, ...fns.map((m) => m.fn(y, yhat))].map((v) => backend.reshape(v, [1]));
        return sums ? vals.map((v, i) => backend.axpby(1, sums![i]!, end - start, v)) : vals.map((v) => backend.affine(v, end - start, 0));
      });
      sums?.forEach((t) => t.dispose());
      sums = next;
    }
    const [l, ...rest] = (await readScalars(sums!)).map((v) => v / n);
    sums = null;
    const out: EvaluateResult = { loss: l!, metrics: {} };
    if (withAccuracy) out.accuracy = rest.shift()!;
    metrics.forEach((m, i) => (out.metrics[m.name] = rest[i]!));
    if (out.accuracy === undefined && 'accuracy' in out.metrics) out.accuracy = out.metrics.accuracy;
    return out;
  } finally {
    sums?.forEach((t) => t.dispose());
    net.train(wasTraining);
  }
}

/**
 * `net.forward` over `x` by batches in eval mode; resolves to one tensor [n, ...] on the
 * net's backend (the caller disposes it). A tensor input that fits one batch is forwarded as is.
 */
export async function predict(net: Module, x: Tensor | HostTensor, options: { batchSize?: number; backend?: Backend } = {}): Promise<Tensor> {
  checkOptions('predict', options ?? undefined, ['batchSize', 'backend']);
  options ??= {};
  const batchSize = positiveInt('predict', 'batchSize', options.batchSize ?? 256);
  const wasTraining = net.training;
  net.eval();
  try {
    if (isTensor(x) && x.shape[0]! <= batchSize) return tidy(() => net.forward(x));
    const h = await hostOf(x);
    if (!h.shape?.length || h.data.length !== sizeOf(h.shape)) throw new ShapeError('predict', 'x does not fill its shape', { x: h.shape ?? [] });
    const backend = backendOf(net, options.backend);
    const n = h.shape[0]!;
    let out: Float32Array | Float64Array | null = null;
    let outShape: number[] = [];
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const yhat = tidy(() => net.forward(gather(backend, h, null, start, end)));
      try {
        if (!out) {
          const row = yhat.size / (end - start);
          outShape = [n, ...yhat.shape.slice(1)];
          out = backend.dtype === 'float64' ? new Float64Array(n * row) : new Float32Array(n * row);
        }
        out.set(await yhat.data(), (start * out.length) / n);
      } finally {
        yhat.dispose();
      }
    }
    return backend.tensor(out!, outShape);
  } finally {
    net.train(wasTraining);
  }
}

// ---- fit -----------------------------------------------------------------------------------------

/**
 * Checks the validation set against the training set before any training: the same sample shape
 * for x and y, integer labels where the training labels are class indices, and one forward and
 * loss pass on its first batch (eval mode, nothing changes) with the loss's host check of every
 * validation target, so a wrong width or a label out of range fails now, not after an epoch.
 */
function checkValidation(net: Module, loss: Loss, train: Dataset, val: Dataset, rows: number, backend: Backend): void {
  for (const k of ['x', 'y'] as const) {
    if (!shapesEqual(train[k].shape.slice(1), val[k].shape.slice(1))) {
      throw new ShapeError('fit (validation)', `validation ${k} samples must have the training samples' shape [${train[k].shape.slice(1).join(', ')}]`, {
        [`train ${k}`]: train[k].shape,
        [`validation ${k}`]: val[k].shape,
      });
    }
  }
  if (train.y.shape.length === 1 && Array.prototype.every.call(train.y.data, (v: number) => Number.isInteger(v) && v >= 0)) {
    const bad = Array.prototype.findIndex.call(val.y.data, (v: number) => !Number.isInteger(v) || v < 0);
    if (bad >= 0) throw new ValueError(`fit (validation): label ${bad} is ${val.y.data[bad]}, not a class index (a non-negative integer) like the training labels`);
  }
  const wasTraining = net.training;
  net.eval();
  try {
    tidy(() => {
      const yhat = net.forward(gather(backend, val.x, null, 0, rows));
      checkTargets(loss, val.y, yhat); // every validation target, on the host
      loss.forward(gather(backend, val.y, null, 0, rows), yhat);
    });
  } catch (e) {
    if (e instanceof Error) e.message = `fit (validation, checked before training): ${e.message}`;
    throw e;
  } finally {
    net.train(wasTraining);
  }
}

/**
 * Trains `net` on `data` for `options.epochs` epochs of shuffled mini-batches: each batch is
 * gathered on the host (seeded shuffle), uploaded to the net's backend and run through
 * `Optim`'s step. Resolves to the per-epoch History. Throws a ValueError naming the epoch and
 * the batch when the loss turns NaN or infinite, after restoring the parameters, buffers and the
 * optimizer's and scheduler's state to a point before the bad step.
 */
export async function fit(net: Module, loss: Loss, optimizer: Optimizer, data: FitData, options: FitOptions): Promise<History> {
  if (options == null || typeof options !== 'object') throw new ValueError('fit: options { epochs, batchSize } are required');
  checkOptions('fit', options, FIT_KEYS);
  const epochs = options.epochs === 0 ? 0 : positiveInt('fit', 'epochs', options.epochs);
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs) {
    throw new ValueError(`fit: initialEpoch must be an integer in [0, epochs = ${epochs}], got ${String(initialEpoch)}`);
  }
  if (options.rng !== undefined && !(options.rng instanceof RNG)) throw new ValueError(`fit: rng must be an RNG from @neurone/core, got ${String(options.rng)}`);
  if (options.rng !== undefined && options.seed !== undefined) throw new ValueError('fit: give seed or rng, not both');
  const batchSize = positiveInt('fit', 'batchSize', options.batchSize);
  const backend = backendOf(net, options.backend);
  const readEvery = positiveInt('fit', 'readEvery', options.readEvery ?? (backend.canReadSync ? 1 : 10));
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) throw new ValueError(`fit: seed must be a finite number, got ${String(seed)}`);
  const metrics = resolveMetrics('fit', options.metrics);
  const train = await toHost('fit', data);
  const val = options.validation ? await toHost('fit (validation)', options.validation) : undefined;
  const valBatch = positiveInt('fit', 'validationBatchSize', options.validationBatchSize ?? batchSize);
  if (val) checkValidation(net, loss, train, val, Math.min(valBatch, val.x.shape[0]!), backend);
  const targetsChecked = await checkPredictions('fit', net, loss, train, Math.min(batchSize, train.x.shape[0]!), backend);
  const { signal, onEpoch, onBatch, scheduler } = options;
  const shuffle = options.shuffle ?? true;
  const rng = options.rng ?? new RNG(seed);
  const n = train.x.shape[0]!;
  // resuming with the seeded generator: skip the permutations of the epochs already done
  if (!options.rng && shuffle) for (let e = 0; e < initialEpoch; e++) rng.permutation(n);
  const batches = Math.ceil(n / batchSize);
  const metricFns = metrics.map((m) => m.fn);
  const lrOf = (): number | undefined => (hasLr(optimizer) ? optimizer.lr : undefined);
  const { clipGradNorm: maxNorm, clipGradValue: clipValue } = options;
  if (maxNorm !== undefined) checkHyper('fit', 'clipGradNorm', maxNorm);
  if (clipValue !== undefined) checkHyper('fit', 'clipGradValue', clipValue);
  const clip =
    maxNorm === undefined && clipValue === undefined
      ? undefined
      : () => {
          if (clipValue !== undefined) clipGradValue(optimizer.params, clipValue);
          if (maxNorm !== undefined) clipGradNorm(optimizer.params, maxNorm); // the returned norm goes with the step's tidy
        };
  if (scheduler !== undefined && typeof scheduler?.step !== 'function') throw new ValueError(`fit: scheduler must have a step() method, got ${String(scheduler)}`);

  const history: History = { epochs: [], loss: [], valLoss: [], valAccuracy: [], stopped: 'completed' };
  const progress = await createProgress(options.progress);
  const wasTraining = net.training;
  type Pending = { batch: number; size: number; tensors: Tensor[] };
  let pending: Pending[] = [];
  // the parameters and buffers before the first batch whose loss is not yet read: restored on a non-finite loss
  let snapshot: { batch: number; values: Record<string, Tensor>; state: ReturnType<typeof snapshotState> } | null = null;
  const dropSnapshot = (): void => {
    Object.values(snapshot?.values ?? {}).forEach((t) => t.dispose());
    snapshot?.state.dispose();
    snapshot = null;
  };
  const takeSnapshot = (batch: number): void => {
    dropSnapshot();
    // views, not copies: storages are immutable (an update makes a new value), so a view of each
    // value keeps the old numbers alive at the cost of one handle
    const values = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, keep(t.backend.reshape(t, t.shape))]));
    snapshot = { batch, values, state: snapshotState({ "the optimizer's": optimizer, "the scheduler's": options.scheduler }) };
  };
  const restoreSnapshot = (): [number, string] => {
    const s = snapshot!;
    snapshot = null;
    net.loadStateDict(s.values);
    Object.values(s.values).forEach((t) => t.dispose());
    net.zeroGrad();
    const state = s.state.restore(); // with the parameters: the optimizer's moments and step, the scheduler's epoch
    return [s.batch, state.length ? `; ${state.join(' and ')} state too` : ", the optimizer's state was not (it has no loadStateDict)"];
  };
  let lastYield = now();

  try {
    for (let epoch = initialEpoch + 1; epoch <= epochs && history.stopped === 'completed'; epoch++) {
      net.train();
      const lr = lrOf();
      const order = shuffle ? rng.permutation(n) : null;
      const t0 = now();
      let lossSum = 0;
      const metricSums = metrics.map(() => 0);
      let seen = 0;
      progress?.startEpoch(epoch, epochs, batches);

      // reads the pending batches' scalars, checks them, accumulates, reports
      const flush = async (): Promise<void> => {
        const group = pending;
        pending = [];
        const values = await readScalars(group.flatMap((p) => p.tensors));
        const width = 1 + metrics.length;
        for (let g = 0; g < group.length; g++) {
          const { batch, size } = group[g]!;
          const l = values[g * width]!;
          if (!Number.isFinite(l)) {
            const lrText = lr === undefined ? '' : ` (lr = ${lr})`;
            const [restored, state] = restoreSnapshot();
            throw new ValueError(
              `fit: loss became ${l} at epoch ${epoch}, batch ${batch} (of ${batches}); ` +
                `the parameters were restored to their values before batch ${restored} of epoch ${epoch}` +
                `${restored === batch ? ' (the bad step is undone)' : ` (the last point whose loss was read; batches ${restored}–${batch - 1} were finite)`}${state} — ` +
                `lower the learning rate${lrText}, or check the data and the loss`,
            );
          }
          lossSum += l * size;
          metrics.forEach((_, k) => (metricSums[k]! += values[g * width + 1 + k]! * size));
          seen += size;
          progress?.update(batch, lossSum / seen, seen / Math.max(1e-9, (now() - t0) / 1000));
          if (onBatch && (await onBatch({ epoch, batch, batches, loss: l, runningLoss: lossSum / seen, size })) === false) {
            history.stopped = 'onBatch';
          }
        }
      };

      for (let b = 0; b < batches && history.stopped === 'completed'; b++) {
        if (signal?.aborted) {
          history.stopped = 'aborted';
          break;
        }
        const start = b * batchSize;
        const end = Math.min(n, start + batchSize);
        if (pending.length === 0) takeSnapshot(b + 1);
        const tensors = tidy(() => {
          const x = gather(backend, train.x, order, start, end);
          const y = gather(backend, train.y, order, start, end);
          // targets are checked once, on the host, when the first batch shows the output shape
          const check = epoch === 1 && b === 0 && !targetsChecked ? (yhat: Tensor) => checkTargets(loss, train.y, yhat) : undefined;
          return trainStep(net, loss, optimizer, x, y, metricFns, check, clip);
        });
        if (scheduler?.interval === 'batch') scheduler.step();
        pending.push({ batch: b + 1, size: end - start, tensors });
        if (pending.length >= readEvery || b === batches - 1) {
          await flush();
          checkLeaks(backend); // once per read: between reads the pending losses are meant to pile up
        }
        if (now() - lastYield > 20) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      if (pending.length) await flush();
      if (signal?.aborted && history.stopped === 'completed') history.stopped = 'aborted';
      progress?.stopEpoch();
      if (history.stopped !== 'completed') break;

      const seconds = (now() - t0) / 1000;
      const log: EpochLog = {
        epoch,
        epochs,
        loss: lossSum / seen,
        metrics: Object.fromEntries(metrics.map((m, k) => [m.name, metricSums[k]! / seen])),
        seconds,
        samplesPerSecond: seen / Math.max(seconds, 1e-9),
        samples: seen,
        batches,
      };
      if (lr !== undefined) log.lr = lr;
      if (val) {
        const r = await evaluateHost(net, loss, val, valBatch, metrics, backend, false); // checkValidation checked its targets
        log.valLoss = r.loss;
        if (r.accuracy !== undefined) log.valAccuracy = r.accuracy;
        if (metrics.length) log.valMetrics = r.metrics;
        history.valLoss.push(r.loss);
        if (r.accuracy !== undefined) history.valAccuracy.push(r.accuracy);
      }
      history.epochs.push(log);
      history.loss.push(log.loss);
      if (scheduler?.interval !== 'batch') scheduler?.step(log.valLoss ?? log.loss);
      if (onEpoch && (await onEpoch(log)) === false) history.stopped = 'onEpoch';
    }
    return history;
  } finally {
    dropSnapshot();
    for (const p of pending) for (const t of p.tensors) t.dispose();
    progress?.stopEpoch();
    net.train(wasTraining);
  }
}
