import { ShapeError, ValueError, checkOptions, gatherRows, tidy } from '@neurone/core';
import type { Backend, HostTensor, Tensor } from '@neurone/core';
import type { Autoencoder } from './autoencoder';

/** Options of the functions that feed a model in batches of rows. */
export interface BatchedOptions {
  /** Rows per upload (default 1000). */
  batchSize?: number;
}

function rowsOf(fn: string, x: HostTensor): [number, number] {
  if (!x || !x.data || !Array.isArray(x.shape) || x.shape.length !== 2) {
    throw new ShapeError(fn, 'expects host images of shape [n, features]', { x: x?.shape ?? [] });
  }
  return [x.shape[0]!, x.shape[1]!];
}

function backendOf(fn: string, model: Autoencoder): Backend {
  const p = model.parameters()[0];
  if (!p) throw new ValueError(`${fn}: the autoencoder has no parameters to tell its backend`);
  return p.backend;
}

/** Applies `f` to row batches of x on the model's backend (eval mode) and gathers the rows. */
async function mapRows(fn: string, model: Autoencoder, x: HostTensor, f: (t: Tensor) => Tensor, batchSize: number): Promise<HostTensor> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`${fn}: batchSize must be a positive integer, got ${batchSize}`);
  const [n, d] = rowsOf(fn, x);
  const be = backendOf(fn, model);
  const wasTraining = model.training;
  model.eval();
  let out: Float32Array | null = null;
  let width = 0;
  try {
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const y = tidy(() => f(be.tensor(gatherRows(x, { start: s, end: e }, be.dtype === 'float64').data, [e - s, d]))); // x's values (its scale applied)
      const v = await y.data();
      y.dispose();
      if (!out) {
        width = y.shape[1]!;
        out = new Float32Array(n * width);
      }
      out.set(v, s * width);
    }
  } finally {
    model.train(wasTraining);
  }
  return { data: out ?? new Float32Array(0), shape: [n, width] };
}

/** The codes of host images x [n, d], computed in batches: a HostTensor [n, latentSize]. */
export function encodeAll(model: Autoencoder, x: HostTensor, options: BatchedOptions = {}): Promise<HostTensor> {
  const { batchSize = 1000 } = checkOptions('encodeAll', options ?? undefined, ['batchSize']) ?? {};
  return mapRows('encodeAll', model, x, (t) => model.encode(t), batchSize);
}

/** The reconstructions of host images x [n, d], in batches: a HostTensor [n, d]. */
export function reconstructAll(model: Autoencoder, x: HostTensor, options: BatchedOptions = {}): Promise<HostTensor> {
  const { batchSize = 1000 } = checkOptions('reconstructAll', options ?? undefined, ['batchSize']) ?? {};
  return mapRows('reconstructAll', model, x, (t) => model.reconstruct(t), batchSize);
}

/** Per-pixel reconstruction error measures. */
export type PixelError = 'bce' | 'mse';

/**
 * Mean per-pixel error between `target` and `output` (same length): 'bce' is
 * −(y log ŷ + (1 − y) log(1 − ŷ)) with each log clamped at −100 (as BCELoss and PyTorch),
 * 'mse' is (ŷ − y)². Computed in float64 on the host.
 */
export function pixelError(target: ArrayLike<number>, output: ArrayLike<number>, metric: PixelError = 'bce'): number {
  if (target.length !== output.length) {
    throw new ShapeError('pixelError', 'target and output must have the same number of values', { target: [target.length], output: [output.length] });
  }
  if (metric !== 'bce' && metric !== 'mse') throw new ValueError(`pixelError: metric must be 'bce' or 'mse', got '${String(metric)}'`);
  let s = 0;
  for (let i = 0; i < target.length; i++) {
    const y = target[i]!;
    const p = output[i]!;
    if (metric === 'mse') s += (p - y) * (p - y);
    else s -= y * Math.max(Math.log(p), -100) + (1 - y) * Math.max(Math.log(1 - p), -100);
  }
  return target.length ? s / target.length : NaN;
}

/** Options of the per-image reconstruction error: the input fed to the model and the per-pixel metric. */
export interface ReconstructionErrorOptions extends BatchedOptions {
  /** Images fed to the model (e.g. noisy ones); default: the clean images themselves. */
  input?: HostTensor;
  /** 'bce' (default) or 'mse', per pixel. */
  metric?: PixelError;
}

/** Mean per-pixel error of model(input ?? clean) against the clean images. */
export async function reconstructionError(model: Autoencoder, clean: HostTensor, options: ReconstructionErrorOptions = {}): Promise<number> {
  checkOptions('reconstructionError', options ?? undefined, ['batchSize', 'input', 'metric']);
  options ??= {};
  const input = options.input ?? clean;
  if (input.data.length !== clean.data.length) {
    throw new ShapeError('reconstructionError', 'input and clean images must have the same shape', { input: input.shape, clean: clean.shape });
  }
  const rec = await reconstructAll(model, input, { batchSize: options.batchSize });
  return pixelError(gatherRows(clean, { start: 0, end: clean.shape[0]! }).data, rec.data, options.metric ?? 'bce'); // clean's values (its scale applied)
}
