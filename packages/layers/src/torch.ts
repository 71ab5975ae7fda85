import { ShapeError, ValueError } from '@neurone/core';
import type { StateValue } from '@neurone/core';

interface HostValue {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * PyTorch's convolution weight layout to neurone's: Conv2d [out, in, kh, kw] → Conv2D
 * [kh, kw, in, out], and Conv1d [out, in, k] → Conv1D [k, in, out]. One permutation; the
 * values are copied into a new Float64Array.
 */
export function torchConvWeight(w: HostValue, name = 'weight'): { shape: number[]; data: Float64Array } {
  if (w == null || !Array.isArray(w.shape) || w.data == null) throw new ValueError(`torchConvWeight: ${name} must be { shape, data }`);
  const s = w.shape;
  if (s.length !== 3 && s.length !== 4) throw new ShapeError('torchConvWeight', `${name} must be a Conv1d [out, in, k] or Conv2d [out, in, kh, kw] weight`, { [name]: s });
  const [out, cin, kh, kw] = s.length === 4 ? (s as [number, number, number, number]) : [s[0]!, s[1]!, 1, s[2]!];
  const n = out * cin * kh * kw;
  if (w.data.length !== n) throw new ShapeError('torchConvWeight', `${name} holds ${w.data.length} values, its shape needs ${n}`, { [name]: s });
  const data = new Float64Array(n);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < cin; c++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) data[((y * kw + x) * cin + c) * out + o] = w.data[((o * cin + c) * kh + y) * kw + x]!;
  return { shape: s.length === 4 ? [kh, kw, cin, out] : [kw, cin, out], data };
}

/**
 * A PyTorch state dict (values as { shape, data }, e.g. read from safetensors) made loadable by
 * `loadStateDict`: every `…weight` of rank 3 or 4 (the Conv1d / Conv2d weights) is permuted by
 * `torchConvWeight`; everything else (biases, Linear weights, which share PyTorch's [out, in]
 * layout) is passed through. Note that a Linear after a Flatten of a conv output sees the
 * features in channels-last order, PyTorch's in channels-first order.
 */
export function fromTorchConv(dict: Record<string, HostValue>): Record<string, StateValue> {
  const out: Record<string, StateValue> = {};
  for (const [k, v] of Object.entries(dict)) {
    const conv = /(^|\.)weight$/.test(k) && (v.shape.length === 3 || v.shape.length === 4);
    out[k] = conv ? torchConvWeight(v, k) : { shape: [...v.shape], data: v.data };
  }
  return out;
}
