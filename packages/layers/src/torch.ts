import { ShapeError, ValueError, resolveBackend, tidy } from '@neurone/core';
import type { Backend, Module, StateValue } from '@neurone/core';
import { Conv1D, Conv2D } from './conv';
import { Flatten } from './activations';
import { Linear } from './linear';
import { Sequential } from './sequential';
import { BatchNorm1d, LayerNorm } from './norm';

/** Host values with their shape (e.g. read from safetensors or ONNX). */
export interface HostValue {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** `value` with its axes permuted: out.shape[i] = shape[perm[i]] (NumPy's transpose), values copied into a Float64Array. */
export function permuteAxes(value: HostValue, perm: readonly number[], name = 'value', owner = 'permuteAxes'): { shape: number[]; data: Float64Array } {
  const s = value.shape;
  const n = s.reduce((a, b) => a * b, 1);
  if (value.data.length !== n) throw new ShapeError(owner, `${name} holds ${value.data.length} values, its shape needs ${n}`, { [name]: s });
  if (perm.length !== s.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new ValueError(`${owner}: [${perm.join(', ')}] is not a permutation of the ${s.length} axes of ${name}`);
  const shape = perm.map((p) => s[p]!);
  const inStrides = s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  const strides = perm.map((p) => inStrides[p]!);
  const data = new Float64Array(n);
  const idx = new Array<number>(s.length).fill(0);
  for (let o = 0, src = 0; o < n; o++) {
    data[o] = value.data[src]!;
    for (let a = s.length - 1; a >= 0; a--) {
      src += strides[a]!;
      if (++idx[a]! < shape[a]!) break;
      src -= strides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return { shape, data };
}

/**
 * PyTorch's convolution weight layout to neurone's: Conv2d [out, in, kh, kw] → Conv2D
 * [kh, kw, in, out], and Conv1d [out, in, k] → Conv1D [k, in, out]. One permutation; the
 * values are copied into a new Float64Array.
 */
export function torchConvWeight(w: HostValue, name = 'weight'): { shape: number[]; data: Float64Array } {
  if (w == null || !Array.isArray(w.shape) || w.data == null) throw new ValueError(`torchConvWeight: ${name} must be { shape, data }`);
  if (w.shape.length !== 3 && w.shape.length !== 4) throw new ShapeError('torchConvWeight', `${name} must be a Conv1d [out, in, k] or Conv2d [out, in, kh, kw] weight`, { [name]: w.shape });
  return permuteAxes(w, w.shape.length === 4 ? [2, 3, 1, 0] : [2, 1, 0], name, 'torchConvWeight');
}

/** The reverse of `torchConvWeight`: Conv2D [kh, kw, in, out] → PyTorch's [out, in, kh, kw], Conv1D [k, in, out] → [out, in, k]. */
export function toTorchConvWeight(w: HostValue, name = 'weight'): { shape: number[]; data: Float64Array } {
  if (w == null || !Array.isArray(w.shape) || w.data == null) throw new ValueError(`toTorchConvWeight: ${name} must be { shape, data }`);
  if (w.shape.length !== 3 && w.shape.length !== 4) throw new ShapeError('toTorchConvWeight', `${name} must be a Conv1D [k, in, out] or Conv2D [kh, kw, in, out] weight`, { [name]: w.shape });
  return permuteAxes(w, w.shape.length === 4 ? [3, 2, 0, 1] : [2, 1, 0], name, 'toTorchConvWeight');
}

/**
 * The weight [out, features] of a Linear that takes a Flatten of a tensor of shape `flattened`
 * (one sample's, channels-last: [...spatial, C]) with its columns re-ordered between PyTorch's
 * channels-first flattening (c, ...spatial) and neurone's (...spatial, c), `to` one or the other.
 */
export function flattenedWeight(w: HostValue, flattened: readonly number[], to: 'neurone' | 'torch', name = 'weight'): { shape: number[]; data: Float64Array } {
  const r = flattened.length;
  const spatial = flattened.slice(0, -1);
  const out = w.shape[0] ?? 0;
  if (w.shape.length !== 2 || w.shape[1] !== flattened.reduce((a, b) => a * b, 1)) throw new ShapeError('flattenedWeight', `${name} must be [out, ${flattened.join('·')}]`, { [name]: w.shape });
  const p = to === 'neurone'
    ? permuteAxes({ shape: [out, flattened[r - 1]!, ...spatial], data: w.data }, [0, ...spatial.map((_, i) => i + 2), 1], name, 'flattenedWeight')
    : permuteAxes({ shape: [out, ...flattened], data: w.data }, [0, r, ...spatial.map((_, i) => i + 1)], name, 'flattenedWeight');
  return { shape: [...w.shape], data: p.data };
}

/**
 * A PyTorch state dict (values as { shape, data }, e.g. read from safetensors) made loadable by
 * `loadStateDict`: every `…weight` of rank 3 or 4 (the Conv1d / Conv2d weights) is permuted by
 * `torchConvWeight`; everything else (biases, Linear weights, which share PyTorch's [out, in]
 * layout) is passed through. A Linear after a Flatten of a conv output sees the features in
 * channels-last order, PyTorch's in channels-first order: `fromTorch(model, dict, …)` permutes those too.
 */
export function fromTorchConv(dict: Record<string, HostValue>): Record<string, StateValue> {
  const out: Record<string, StateValue> = {};
  for (const [k, v] of Object.entries(dict)) {
    const conv = /(^|\.)weight$/.test(k) && (v.shape.length === 3 || v.shape.length === 4);
    out[k] = conv ? torchConvWeight(v, k) : { shape: [...v.shape], data: v.data };
  }
  return out;
}

/** A leaf module of a model, by its dotted name, with the shapes it takes and gives (batch axis left out). */
export interface TracedModule {
  name: string;
  module: Module;
  input: number[];
  output: number[];
}

/** Whether m is a Sequential that runs its children in order (a subclass that keeps Sequential's forward). */
export function isChain(m: Module): m is Sequential {
  return m instanceof Sequential && m.forward === Sequential.prototype.forward;
}

/**
 * The leaf modules of `model` in the order forward runs them (Sequentials, the Autoencoder
 * included, are walked into), each with the shapes it sees for inputs of shape [batch,
 * ...inputShape]: found by one forward of a batch of one in eval mode (no state changes; a
 * wrong `inputShape` throws the layer's ShapeError).
 */
export function traceModules(model: Module, inputShape: readonly number[], backend?: Backend): TracedModule[] {
  if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`traceModules: inputShape must be the input's shape without the batch axis (positive integers), got ${JSON.stringify(inputShape)}`);
  }
  const be = backend ?? model.parameters()[0]?.backend ?? resolveBackend();
  const out: TracedModule[] = [];
  const walk = (m: Module, name: string, shape: number[]): number[] => {
    if (isChain(m)) {
      for (const [n, c] of m.namedChildren()) shape = walk(c, name ? `${name}.${n}` : n, shape);
      return shape;
    }
    const training = m.training;
    m.training = false;
    try {
      const output = tidy(() => m.forward(be.zeros([1, ...shape])).shape.slice(1));
      out.push({ name, module: m, input: shape, output });
      return output;
    } finally {
      m.training = training;
    }
  };
  walk(model, '', [...inputShape]);
  return out;
}

/**
 * The state-dict entries whose order follows a Flatten of a channels-last tensor: the weight of
 * the Linear that takes it (only shape-keeping modules between) and the per-feature vectors of
 * the normalisations before that Linear; entry → that tensor's shape [...spatial, C].
 */
function flattenedEntries(traced: TracedModule[]): Map<string, number[]> {
  const found = new Map<string, number[]>();
  const key = (n: string, k: string): string => (n ? `${n}.${k}` : k);
  let pending: number[] | null = null;
  for (const t of traced) {
    if (t.module instanceof Flatten && t.input.length >= 2) pending = t.input;
    else if (pending && t.module instanceof Linear) {
      found.set(key(t.name, 'weight'), pending);
      pending = null;
    } else if (pending && (t.module instanceof BatchNorm1d || t.module instanceof LayerNorm)) {
      for (const k of ['weight', 'bias', 'running_mean', 'running_var']) found.set(key(t.name, k), pending);
    } else if (t.input.join() !== t.output.join()) pending = null;
  }
  return found;
}

/** The one mapping between a PyTorch state dict and a channels-last model, either way. */
function mapTorch(model: Module, dict: Record<string, HostValue>, inputShape: readonly number[], toTorch: boolean): Record<string, { shape: number[]; data: ArrayLike<number> }> {
  const traced = traceModules(model, inputShape);
  const weight = (n: string): string => (n ? `${n}.weight` : 'weight');
  const convs = new Set(traced.filter((t) => t.module instanceof Conv1D || t.module instanceof Conv2D).map((t) => weight(t.name)));
  const flattened = flattenedEntries(traced);
  const out: Record<string, { shape: number[]; data: ArrayLike<number> }> = {};
  for (const [k, v] of Object.entries(dict)) {
    const flat = flattened.get(k);
    const to = toTorch ? 'torch' : 'neurone';
    if (convs.has(k)) out[k] = toTorch ? toTorchConvWeight(v, k) : torchConvWeight(v, k);
    else if (flat && v.shape.length === 1) out[k] = { shape: [...v.shape], data: flattenedWeight({ shape: [1, v.shape[0]!], data: v.data }, flat, to, k).data };
    else if (flat) out[k] = flattenedWeight(v, flat, to, k);
    else out[k] = { shape: [...v.shape], data: v.data };
  }
  return out;
}

/**
 * A PyTorch CNN's `state_dict` (host values, e.g. `decodeSafetensors(bytes)`) mapped onto the
 * channels-last `model` for `model.loadStateDict(...)`: the Conv1d/Conv2d weights permuted to
 * neurone's layout, and the columns of a Linear that follows a Flatten of a conv output permuted
 * from PyTorch's (c, h, w) flattening to ours (h, w, c), with the per-feature vectors of a
 * BatchNorm1d / LayerNorm between them. BatchNorm's buffers (`running_mean`, `running_var`,
 * `num_batches_tracked`) travel with the weights. `inputShape` is one sample's shape,
 * channels-last ([28, 28, 1] for MNIST).
 */
export function fromTorch(model: Module, dict: Record<string, HostValue>, { inputShape }: { inputShape: readonly number[] }): Record<string, StateValue> {
  return mapTorch(model, dict, inputShape, false);
}

/**
 * The reverse of `fromTorch`: `model`'s state dict as host values (e.g. `decodeSafetensors(await
 * toSafetensors(model.stateDict()))`) in PyTorch's layout, for the same network written with
 * channels-first Conv2d/Conv1d and Flatten (`encodeSafetensors(toTorch(...))`, then PyTorch's
 * `load_state_dict`).
 */
export function toTorch(model: Module, dict: Record<string, HostValue>, { inputShape }: { inputShape: readonly number[] }): Record<string, { shape: number[]; data: ArrayLike<number> }> {
  return mapTorch(model, dict, inputShape, true);
}
