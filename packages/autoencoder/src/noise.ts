import { RNG, ValueError, checkOptions, defaultRng, gatherRows } from '@neurone/core';
import type { Dataset, HostTensor } from '@neurone/core';

/**
 * Corruption for denoising autoencoders:
 * - `{ kind: 'gaussian', sigma }`: x + σ·N(0, 1), clipped to [0, 1] (images; `clip: false` keeps
 *   the raw sum);
 * - `{ kind: 'mask', p }`: each value is set to 0 with probability p (masking noise).
 */
export type NoiseSpec = { kind: 'gaussian'; sigma: number; clip?: boolean } | { kind: 'mask'; p: number };

/** Throws a ValueError naming the value when a noise level is outside its valid range. */
export function checkNoise(fn: string, noise: NoiseSpec): void {
  if (noise == null || typeof noise !== 'object') throw new ValueError(`${fn}: expected a noise spec { kind, … }, got ${String(noise)}`);
  if (noise.kind === 'gaussian') {
    if (typeof noise.sigma !== 'number' || !(noise.sigma >= 0) || !Number.isFinite(noise.sigma)) {
      throw new ValueError(`${fn}: gaussian noise needs a finite sigma ≥ 0, got sigma = ${String(noise.sigma)}`);
    }
  } else if (noise.kind === 'mask') {
    if (typeof noise.p !== 'number' || !(noise.p >= 0 && noise.p <= 1)) {
      throw new ValueError(`${fn}: masking noise needs a probability p in [0, 1], got p = ${String(noise.p)}`);
    }
  } else {
    throw new ValueError(`${fn}: noise kind must be 'gaussian' or 'mask', got '${String((noise as { kind?: unknown }).kind)}'`);
  }
}

/** Writes noisy(src) into dst (same length; dst may be src). */
function corrupt(src: ArrayLike<number>, dst: Float32Array, noise: NoiseSpec, rng: RNG): void {
  const n = src.length;
  if (noise.kind === 'gaussian') {
    const { sigma } = noise;
    const clip = noise.clip ?? true;
    for (let i = 0; i < n; i++) {
      const v = src[i]! + sigma * rng.normal(); // x̃ = x + σ·ε, ε ~ N(0, 1)
      dst[i] = clip ? (v < 0 ? 0 : v > 1 ? 1 : v) : v;
    }
  } else {
    const { p } = noise;
    for (let i = 0; i < n; i++) dst[i] = rng.random() < p ? 0 : src[i]!; // x̃ = x ⊙ m, m ~ Bernoulli(1 − p)
  }
}

/**
 * A corrupted copy of `x` (the input is not modified): a Float32Array for a Float32Array, a
 * HostTensor (Float32Array data, same shape) for a HostTensor. `rng` defaults to `defaultRng()`.
 */
export function addNoise(x: Float32Array, noise: NoiseSpec, rng?: RNG): Float32Array;
export function addNoise(x: HostTensor, noise: NoiseSpec, rng?: RNG): HostTensor;
export function addNoise(x: HostTensor | Float32Array, noise: NoiseSpec, rng?: RNG): HostTensor | Float32Array;
export function addNoise(x: HostTensor | Float32Array, noise: NoiseSpec, rng: RNG = defaultRng()): HostTensor | Float32Array {
  checkNoise('addNoise', noise);
  if (x instanceof Float32Array) {
    const out = new Float32Array(x.length);
    corrupt(x, out, noise, rng);
    return out;
  }
  if (x == null || typeof x !== 'object' || !('data' in x) || !('shape' in x)) {
    throw new ValueError(`addNoise: expected a Float32Array or a HostTensor { data, shape }, got ${String(x)}`);
  }
  const out = new Float32Array(x.data.length);
  corrupt(valuesOf(x), out, noise, rng);
  return { data: out, shape: [...x.shape] };
}

/** Options of `denoising`: where the noise comes from. */
export interface DenoisingOptions {
  /** Generator of the noise (default: a new RNG(seed)). */
  rng?: RNG;
  /** Seed of the noise generator when no `rng` is given (default 0). */
  seed?: number;
}

/**
 * A denoising training set: `dataset` is `{ x: noisy, y: clean }` for `fit` (the clean
 * images are the targets, shared with `clean`, not copied). `resample()` draws fresh noise
 * into `dataset.x.data` in place (the same array), so calling it from fit's `onEpoch` gives
 * every epoch new corruptions; without it the noisy copy stays fixed.
 */
export interface DenoisingDataset {
  dataset: Dataset & { x: HostTensor & { data: Float32Array } };
  resample(): void;
}

/** A denoising dataset: `x` holds `clean` images corrupted by `noise` and `y` the clean images; `resample()` draws new noise (e.g. once per epoch). */
export function denoising(clean: Dataset | HostTensor, noise: NoiseSpec, options: DenoisingOptions = {}): DenoisingDataset {
  checkNoise('denoising', noise);
  const images: HostTensor | undefined = clean && typeof clean === 'object' ? ('x' in clean ? clean.x : clean) : undefined;
  if (!images || !('data' in images) || !('shape' in images)) {
    throw new ValueError(`denoising: expected a Dataset { x, y } or a HostTensor { data, shape } of clean images, got ${String(clean)}`);
  }
  checkOptions('denoising', options ?? undefined, ['rng', 'seed']);
  options ??= {};
  const rng = options.rng ?? new RNG(options.seed ?? 0);
  const x = { data: new Float32Array(images.data.length), shape: [...images.shape] };
  const y = (images.scale ?? 1) === 1 ? images : { data: valuesOf(images), shape: [...images.shape] }; // the targets as values (losses check them)
  corrupt(y.data, x.data, noise, rng);
  return {
    dataset: { x, y },
    resample: () => corrupt(y.data, x.data, noise, rng),
  };
}

/** `{ x: images, y: images }`: the images as their own targets, for fit/evaluate (nothing is copied). */
export function reconstructionDataset(data: Dataset | HostTensor): Dataset {
  const images: HostTensor | undefined = data && typeof data === 'object' ? ('x' in data ? data.x : data) : undefined;
  if (!images || !('data' in images) || !('shape' in images)) {
    throw new ValueError(`reconstructionDataset: expected a Dataset { x, y } or a HostTensor { data, shape }, got ${String(data)}`);
  }
  return { x: images, y: images };
}

/** A host tensor's values: its data, or with a `scale` (bytes of pixels) a float copy with the scale applied. */
function valuesOf(t: HostTensor): HostTensor['data'] {
  return (t.scale ?? 1) === 1 ? t.data : gatherRows(t, { start: 0, end: t.shape[0] ?? 1 }).data;
}
