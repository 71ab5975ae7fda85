/**
 * Test data and helpers for optim's tests, which run the real layers and losses (devDependencies);
 * TChain is a net without a whole-network backward (the seed's API only), built from real layers.
 */
import { Module, RNG } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import type { OptimizerStateDict, StateTensor } from '../src/index';

/** A chain of modules without a whole-network backward: only the seed's API (recomputes activations). */
export class TChain extends Module {
  readonly layers: Module[];
  calls = { backwardUpdateGradient: 0 };
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    this.calls.backwardUpdateGradient++;
    const inputs: Tensor[] = [];
    let h = x;
    for (const l of this.layers) {
      inputs.push(h);
      h = l.forward(h);
    }
    let d = delta;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      this.layers[i]!.backwardUpdateGradient(inputs[i]!, d);
      if (i > 0) d = this.layers[i]!.backwardDelta(inputs[i]!, d);
    }
  }
  backwardDelta(_x: Tensor, _delta: Tensor): Tensor {
    throw new Error('not used');
  }
}

/** A small regression problem: y = x·Aᵀ + c + noise, x [n, inF], y [n, outF]. */
export function regressionData(n: number, inF: number, outF: number, seed = 3): { x: Float64Array; y: Float64Array } {
  const rng = new RNG(seed);
  const A = rng.normalArray(inF * outF);
  const x = rng.normalArray(n * inF);
  const y = new Float64Array(n * outF);
  for (let i = 0; i < n; i++)
    for (let o = 0; o < outF; o++) {
      let s = 0.3 * o;
      for (let k = 0; k < inF; k++) s += x[i * inF + k]! * A[o * inF + k]!;
      y[i * outF + o] = s + 0.01 * rng.normal();
    }
  return { x, y };
}

/** Well-separated Gaussian blobs: x [n, 2], y = class index in [0, classes). */
export function blobs(n: number, classes: number, seed = 4): { x: Float64Array; y: Float64Array } {
  const rng = new RNG(seed);
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    const angle = (2 * Math.PI * c) / classes;
    x[2 * i] = 4 * Math.cos(angle) + 0.5 * rng.normal();
    x[2 * i + 1] = 4 * Math.sin(angle) + 0.5 * rng.normal();
    y[i] = c;
  }
  return { x, y };
}

/** A Float64Array copy of a tensor's values. */
export const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** One Optim step's loss as a number (read, then the loss tensor is disposed). */
export function stepLoss(optim: { step(x: Tensor, y: Tensor): Tensor }, x: Tensor, y: Tensor): number {
  const l = optim.step(x, y);
  try {
    return l.item();
  } finally {
    l.dispose();
  }
}

/** A state dict with its tensors read into host data (as a file holds it). */
export type HostDict = Omit<OptimizerStateDict, 'state'> & { state: Record<string, Record<string, StateTensor>> };
export function hostDict(d: OptimizerStateDict): HostDict {
  const state: HostDict['state'] = {};
  for (const [i, e] of Object.entries(d.state)) {
    state[i] = Object.fromEntries(Object.entries(e).map(([k, t]) => [k, { shape: [...t.shape], data: t.dataSync() }]));
  }
  return { ...d, state };
}
