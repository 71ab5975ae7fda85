import { RNG, ShapeError, ValueError, checkOptions, gatherRows as coreGatherRows, sizeOf } from '@neurone/core';
import type { Dataset, HostTensor } from '@neurone/core';

/** The float arrays this package produces: float64 input stays float64, anything else becomes float32. */
export type FloatArray = Float32Array | Float64Array;

/** A HostTensor whose values are floats (what every transform here returns). */
export interface FloatTensor extends HostTensor {
  data: FloatArray;
  shape: number[];
}

/** A Dataset whose x and y hold floats. */
export interface FloatDataset extends Dataset {
  x: FloatTensor;
  y: FloatTensor;
}

const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Checks one HostTensor: a shape of non-negative integers with at least one axis, and data of that size. */
function checkTensor(fn: string, name: string, t: HostTensor): void {
  if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || !ArrayBuffer.isView(t.data)) {
    throw new ValueError(`${fn}: ${name} must be { data: TypedArray, shape: number[] }`);
  }
  if (t.shape.length === 0) throw new ShapeError(fn, `${name} needs a sample axis (axis 0), got a scalar shape`, { [name]: t.shape });
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(fn, `${name} has a dimension ${String(d)} that is not a non-negative integer`, { [name]: t.shape });
  }
  if (t.data.length !== sizeOf(t.shape)) {
    throw new ShapeError(fn, `${name} holds ${t.data.length} values but its shape ${fmtShape(t.shape)} needs ${sizeOf(t.shape)}`, { [name]: t.shape });
  }
}

/** Checks a dataset (x and y well formed, same sample count on axis 0) and returns the sample count. */
export function checkDataset(fn: string, dataset: Dataset): number {
  if (dataset === null || typeof dataset !== 'object') throw new ValueError(`${fn}: expected a dataset { x, y }, got ${String(dataset)}`);
  checkTensor(fn, 'x', dataset.x);
  checkTensor(fn, 'y', dataset.y);
  const n = dataset.x.shape[0]!;
  if (dataset.y.shape[0] !== n) {
    throw new ShapeError(fn, `x has ${n} samples but y has ${dataset.y.shape[0]!} (axis 0 must match)`, {
      x: dataset.x.shape,
      y: dataset.y.shape,
    });
  }
  return n;
}

function floatLike(a: HostTensor['data'], n: number): FloatArray {
  return a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Gathers rows `indices` (along axis 0) of a HostTensor into a fresh float array (core's, shared with `fit`). */
const gatherRows = (t: HostTensor, indices: ArrayLike<number>): FloatTensor => coreGatherRows(t, indices);

function checkIndices(fn: string, indices: ArrayLike<number>, n: number): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= n) {
      throw new ValueError(`${fn}: index ${String(k)} at position ${i} is not an integer in [0, ${n}) (the dataset has ${n} samples)`);
    }
  }
}

/** The samples at `indices` (in that order, repeats allowed), copied into fresh arrays. */
export function subset(dataset: Dataset, indices: ArrayLike<number>): FloatDataset {
  const n = checkDataset('subset', dataset);
  checkIndices('subset', indices, n);
  return { x: gatherRows(dataset.x, indices), y: gatherRows(dataset.y, indices) };
}

/** The first `n` samples (all of them when the dataset is smaller), copied into fresh arrays. */
export function take(dataset: Dataset, n: number): FloatDataset {
  const total = checkDataset('take', dataset);
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`take: n must be a non-negative integer, got ${String(n)}`);
  const m = Math.min(n, total);
  const idx = new Uint32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  return { x: gatherRows(dataset.x, idx), y: gatherRows(dataset.y, idx) };
}

/**
 * One-hot encodes class indices: row i of the [n, numClasses] result (flattened, row-major) is 1
 * at column labels[i] and 0 elsewhere. Throws a ValueError naming the first bad label and its index.
 */
export function oneHot(labels: ArrayLike<number>, numClasses: number): Float32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ValueError(`oneHot: numClasses must be a positive integer, got ${String(numClasses)}`);
  }
  const n = labels.length;
  const out = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new ValueError(`oneHot: label ${String(c)} at index ${i} is not an integer class in [0, ${numClasses})`);
    }
    out[i * numClasses + c] = 1;
  }
  return out;
}

/** One mini-batch: the gathered rows and the dataset indices they came from. */
export interface Batch {
  x: FloatTensor;
  y: FloatTensor;
  indices: Uint32Array;
}

/** Options of `batches`: batch size, shuffling and what to do with a last partial batch. */
export interface BatchOptions {
  batchSize: number;
  /** Visit the samples in a random order, a new one each epoch (default false). */
  shuffle?: boolean;
  /** Seed of the shuffling RNG (default 0); ignored when `rng` is given. */
  seed?: number;
  /** The generator to shuffle with, instead of a fresh `new RNG(seed)`. */
  rng?: RNG;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
}

/**
 * Mini-batches of a dataset. Each iteration of the returned iterable is one epoch: every sample
 * appears exactly once (except the tail that `dropLast` leaves out). With `shuffle`, epoch k uses
 * the k-th permutation drawn from the seeded RNG, so the whole sequence of epochs is reproducible
 * from the seed, and two epochs differ.
 */
export class Batches implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly numSamples: number;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly #rng: RNG | undefined;

  constructor(dataset: Dataset, options: BatchOptions) {
    this.numSamples = checkDataset('batches', dataset);
    checkOptions('batches', options ?? undefined, ['batchSize', 'shuffle', 'seed', 'rng', 'dropLast']);
    const { batchSize, shuffle = false, seed = 0, rng, dropLast = false } = options ?? ({} as BatchOptions);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(`batches: batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.#rng = shuffle ? (rng ?? new RNG(seed)) : undefined;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.numSamples / this.batchSize) : Math.ceil(this.numSamples / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const n = this.numSamples;
    let order: Uint32Array;
    if (this.#rng) order = this.#rng.permutation(n);
    else {
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    const count = this.length;
    for (let b = 0; b < count; b++) {
      const indices = order.slice(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      yield { x: gatherRows(this.dataset.x, indices), y: gatherRows(this.dataset.y, indices), indices };
    }
  }
}

/** Mini-batches of `dataset`; iterate once per epoch (see {@link Batches}). */
export function batches(dataset: Dataset, options: BatchOptions): Batches {
  return new Batches(dataset, options);
}

/** Options of `trainValidationSplit`. */
export interface SplitOptions {
  /** A fraction in (0, 1) of the samples, or a whole number of samples, for validation. */
  validation: number;
  /** Pick the validation samples at random (default true); otherwise take the last ones. */
  shuffle?: boolean;
  seed?: number;
}

/**
 * Splits a dataset in two disjoint parts that cover it. `validation` is a fraction in (0, 1)
 * (rounded to a whole count) or a count; both parts keep the samples in their original order.
 */
export function trainValidationSplit(dataset: Dataset, options: SplitOptions): { train: FloatDataset; validation: FloatDataset } {
  const n = checkDataset('trainValidationSplit', dataset);
  checkOptions('trainValidationSplit', options ?? undefined, ['validation', 'shuffle', 'seed']);
  const { validation, shuffle = true, seed = 0 } = options ?? ({} as SplitOptions);
  let count: number;
  if (typeof validation !== 'number' || !Number.isFinite(validation) || validation <= 0) {
    throw new ValueError(`trainValidationSplit: validation must be a fraction in (0, 1) or a positive count, got ${String(validation)}`);
  } else if (validation < 1) {
    count = Math.round(validation * n);
  } else if (Number.isInteger(validation)) {
    count = validation;
  } else {
    throw new ValueError(`trainValidationSplit: validation ${validation} is neither a fraction in (0, 1) nor a whole count`);
  }
  if (count < 1 || count >= n) {
    throw new ValueError(
      `trainValidationSplit: validation ${validation} of ${n} samples gives ${count} validation and ${n - count} training samples; both must be at least 1`,
    );
  }
  const inVal = new Uint8Array(n);
  if (shuffle) {
    const perm = new RNG(seed).permutation(n);
    for (let i = 0; i < count; i++) inVal[perm[i]!] = 1;
  } else {
    for (let i = n - count; i < n; i++) inVal[i] = 1;
  }
  const train = new Uint32Array(n - count);
  const val = new Uint32Array(count);
  for (let i = 0, t = 0, v = 0; i < n; i++) {
    if (inVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train: subset(dataset, train), validation: subset(dataset, val) };
}

// ---------------------------------------------------------------- normalisation

/** Mean and standard deviation: one number (over all values) or one per feature (per column of x). */
export interface Stats {
  mean: number | Float64Array;
  std: number | Float64Array;
}

/** Options of `standardize`: given statistics instead of computed ones. */
export interface StandardizeOptions {
  /** Use this mean instead of computing it (e.g. the training set's, for the test set). */
  mean?: number | ArrayLike<number>;
  /** Use this standard deviation (every value > 0) instead of computing it. */
  std?: number | ArrayLike<number>;
  /**
   * 'global' (default): one mean and std over all values of x; 'feature': one per feature, x seen
   * as [n, features]. Given statistics that are arrays imply 'feature'.
   */
  per?: 'global' | 'feature';
}

type Transformable = HostTensor | Dataset;
/** standardize's result: the standardised values and the statistics used. */
export type Standardized<T> = Stats & { values: Transformed<T> };
/** What a transform returns for its input: a FloatDataset for a Dataset, a FloatTensor for a HostTensor. */
export type Transformed<T> = T extends Dataset ? FloatDataset : FloatTensor;

function isDataset(v: Transformable): v is Dataset {
  return typeof v === 'object' && v !== null && 'x' in v && 'y' in v;
}

/** Applies `f` to the HostTensor itself or to the x of a Dataset (y passes through untouched). */
function mapX<T extends Transformable>(fn: string, input: T, f: (x: HostTensor) => FloatTensor): Transformed<T>;
function mapX(fn: string, input: Transformable, f: (x: HostTensor) => FloatTensor): FloatDataset | FloatTensor {
  // a scaled x (bytes with scale 1/255) is read as its values
  const values = (x: HostTensor): HostTensor => ((x.scale ?? 1) === 1 ? x : coreGatherRows(x, { start: 0, end: x.shape[0]! }));
  if (isDataset(input)) {
    checkDataset(fn, input);
    return { ...input, x: f(values(input.x)) } as FloatDataset;
  }
  checkTensor(fn, 'x', input);
  return f(values(input));
}

/** A given statistic as one value per feature, checked (finite; positive for std). */
function givenStat(fn: string, name: 'mean' | 'std', v: number | ArrayLike<number>, features: number): Float64Array {
  let out: Float64Array;
  if (typeof v === 'number') out = new Float64Array(features).fill(v);
  else {
    if (v.length !== features) throw new ValueError(`${fn}: ${name} has ${v.length} values but x has ${features} features per sample`);
    out = Float64Array.from(v);
  }
  const bad = typeof v === 'number' ? [v] : Array.from(out);
  for (let j = 0; j < bad.length; j++) {
    const s = bad[j]!;
    if (!Number.isFinite(s) || (name === 'std' && s <= 0)) {
      const where = typeof v === 'number' ? name : `${name}[${j}]`;
      throw new ValueError(`${fn}: ${where} must be ${name === 'std' ? 'a positive finite number' : 'finite'}, got ${s}`);
    }
  }
  return out;
}

/**
 * Standardises x to (x − mean) / std. Statistics not given are computed from x (population
 * std; a std of 0, a constant feature, is replaced by 1), globally or per feature; the ones used
 * are returned with the values, so the test set reuses the training set's:
 * `const tr = standardize(train); const te = standardize(test, tr)`.
 * Accepts a HostTensor or a Dataset (x is standardised, y kept).
 */
export function standardize<T extends Transformable>(
  input: T,
  options: StandardizeOptions = {},
): Standardized<T> {
  // 'values': a previous standardize result may be passed back as the options (its stats are reused)
  checkOptions('standardize', options ?? undefined, ['mean', 'std', 'per', 'values']);
  return standardizeAs('standardize', input, options ?? {});
}

function standardizeAs<T extends Transformable>(
  fn: string,
  input: T,
  options: StandardizeOptions,
): Standardized<T> {
  const arrays = (options.mean !== undefined && typeof options.mean !== 'number') || (options.std !== undefined && typeof options.std !== 'number');
  const per = options.per ?? (arrays ? 'feature' : 'global');
  if (per !== 'global' && per !== 'feature') throw new ValueError(`${fn}: per must be 'global' or 'feature', got ${String(per)}`);
  if (per === 'global' && arrays) throw new ValueError(`${fn}: per 'global' takes numbers for mean and std, got an array (use per: 'feature')`);
  let mean: number | Float64Array = 0;
  let std: number | Float64Array = 1;
  const values = mapX(fn, input, (x) => {
    const src = x.data;
    const n = x.shape[0]!;
    // global statistics are per-feature ones over a single feature: x seen as [n·features, 1]
    const rows = per === 'global' ? src.length : n;
    const features = per === 'global' ? 1 : sizeOf(x.shape.slice(1));
    if (rows === 0 && (options.mean === undefined || options.std === undefined)) {
      throw new ValueError(`${fn}: cannot compute statistics of an empty x (shape [${x.shape.join(', ')}])`);
    }
    let m: Float64Array;
    if (options.mean !== undefined) m = givenStat(fn, 'mean', options.mean, features);
    else {
      m = new Float64Array(features);
      if (features === 1) {
        let sum = 0;
        for (let i = 0; i < rows; i++) sum += src[i]!;
        m[0] = sum;
      } else for (let i = 0; i < rows; i++) for (let j = 0; j < features; j++) m[j]! += src[i * features + j]!;
      for (let j = 0; j < features; j++) m[j]! /= rows;
    }
    let sd: Float64Array;
    if (options.std !== undefined) sd = givenStat(fn, 'std', options.std, features);
    else {
      sd = new Float64Array(features);
      if (features === 1) {
        const m0 = m[0]!;
        let sum = 0;
        for (let i = 0; i < rows; i++) sum += (src[i]! - m0) ** 2;
        sd[0] = sum;
      } else for (let i = 0; i < rows; i++) for (let j = 0; j < features; j++) sd[j]! += (src[i * features + j]! - m[j]!) ** 2;
      for (let j = 0; j < features; j++) sd[j] = Math.sqrt(sd[j]! / rows) || 1;
    }
    mean = per === 'global' ? m[0]! : m;
    std = per === 'global' ? sd[0]! : sd;
    const out = floatLike(src, src.length);
    if (features === 1) {
      // z = (x − μ) / σ
      const m0 = m[0]!;
      const s0 = sd[0]!;
      for (let i = 0; i < rows; i++) out[i] = (src[i]! - m0) / s0;
    } else {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < features; j++) out[i * features + j] = (src[i * features + j]! - m[j]!) / sd[j]!;
      }
    }
    return { data: out, shape: [...x.shape] };
  });
  return { values, mean, std };
}

/** x multiplied by `factor` (e.g. `scale(images, 1 / 255)`), in a fresh float array. */
export function scale<T extends Transformable>(input: T, factor: number): Transformed<T> {
  if (typeof factor !== 'number' || !Number.isFinite(factor)) throw new ValueError(`scale: factor must be a finite number, got ${String(factor)}`);
  return mapX('scale', input, (x) => {
    const src = x.data;
    const out = floatLike(src, src.length);
    for (let i = 0; i < src.length; i++) out[i] = src[i]! * factor;
    return { data: out, shape: [...x.shape] };
  });
}

/**
 * Normalises x: with `{ mean, std }` to (x − mean) / std (see {@link standardize}, which also
 * returns the statistics), with 'minmax' linearly onto [0, 1] from the minimum and maximum of x
 * (a constant x becomes all zeros).
 */
export function normalize<T extends Transformable>(
  input: T,
  how: { mean: number | ArrayLike<number>; std: number | ArrayLike<number> } | 'minmax',
): Transformed<T> {
  if (how === 'minmax') {
    return mapX('normalize', input, (x) => {
      const src = x.data;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const out = floatLike(src, src.length);
      const inv = hi > lo ? 1 / (hi - lo) : 0;
      for (let i = 0; i < src.length; i++) out[i] = (src[i]! - lo) * inv;
      return { data: out, shape: [...x.shape] };
    });
  }
  if (how === null || typeof how !== 'object' || how.mean === undefined || how.std === undefined) {
    throw new ValueError(`normalize: expected { mean, std } or 'minmax', got ${String(how)}`);
  }
  return standardizeAs('normalize', input, { mean: how.mean, std: how.std }).values;
}

