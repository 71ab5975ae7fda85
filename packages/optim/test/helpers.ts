/**
 * Small modules and losses defined here so optim's tests do not depend on the layers/losses
 * packages (those have their own tests; integration.test.ts uses the real ones).
 */
import { Module, Parameter, RNG, tidy } from '@neurone/core';
import type { Backend, Loss, Tensor } from '@neurone/core';
import type { OptimizerStateDict, StateTensor } from '../src/index';

/** z = x·Wᵀ + b, W [out, in]. */
export class TLinear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(backend: Backend, inF: number, outF: number, seed = 1) {
    super();
    const rng = new RNG(seed);
    const bound = 1 / Math.sqrt(inF);
    this.weight = this.registerParameter('weight', new Parameter(backend.tensor(rng.uniformArray(inF * outF, -bound, bound), [outF, inF])));
    this.bias = this.registerParameter('bias', new Parameter(backend.tensor(rng.uniformArray(outF, -bound, bound), [outF])));
  }
  forward(x: Tensor): Tensor {
    const b = x.backend;
    const xw = b.matmul(x, this.weight.value, false, true);
    const out = b.binary('add', xw, this.bias.value);
    xw.dispose();
    return out;
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    const b = x.backend;
    // the memory idiom: compute inside tidy, dispose nothing by hand
    tidy(() => {
      this.weight.accumulateGrad(b.matmul(delta, x, true, false)); // δᵀ·x
      this.bias.accumulateGrad(b.sum(delta, 0));
    });
  }
  backwardDelta(_x: Tensor, delta: Tensor): Tensor {
    return delta.backend.matmul(delta, this.weight.value); // δ·W
  }
}

export class TTanh extends Module {
  forward(x: Tensor): Tensor {
    return x.backend.unary('tanh', x);
  }
  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    const t = x.backend.unary('tanh', x);
    const d = x.backend.activationGrad('tanh', t, delta);
    t.dispose();
    return d;
  }
}

/** A chain with a whole-network backward(delta, { inputGrad }) like layers' Sequential. */
export class TSeq extends Module {
  readonly layers: Module[];
  #inputs: Tensor[] = [];
  calls = { backward: 0, backwardUpdateGradient: 0, inputGradRequested: [] as boolean[] };
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  forward(x: Tensor): Tensor {
    this.#inputs = [];
    let h = x;
    for (const l of this.layers) {
      this.#inputs.push(h);
      h = l.forward(h);
    }
    return h;
  }
  backward(delta: Tensor, { inputGrad = true }: { inputGrad?: boolean } = {}): Tensor | null {
    this.calls.backward++;
    this.calls.inputGradRequested.push(inputGrad);
    let d = delta;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      const x = this.#inputs[i]!;
      l.backwardUpdateGradient(x, d);
      if (i > 0 || inputGrad) d = l.backwardDelta(x, d);
    }
    return inputGrad ? d : null;
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    this.calls.backwardUpdateGradient++;
    this.forward(x);
    this.backward(delta, { inputGrad: false });
  }
  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    this.forward(x);
    return this.backward(delta)!;
  }
}

/** The same chain without a whole-network backward: only the seed's API (recomputes activations). */
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

/** Mean over all elements of (ŷ − y)². */
export class TMSE implements Loss {
  forward(y: Tensor, yhat: Tensor): Tensor {
    const b = y.backend;
    const d = b.binary('sub', yhat, y);
    const sq = b.unary('square', d);
    const s = b.sum(sq);
    const out = b.affine(s, 1 / yhat.size, 0);
    [d, sq, s].forEach((t) => t.dispose());
    return out;
  }
  backward(y: Tensor, yhat: Tensor): Tensor {
    const b = y.backend;
    const d = b.binary('sub', yhat, y);
    const out = b.affine(d, 2 / yhat.size, 0);
    d.dispose();
    return out;
  }
}

/** Cross-entropy on logits with class-index targets [n], mean over the batch. */
export class TCE implements Loss {
  forward(y: Tensor, yhat: Tensor): Tensor {
    const b = y.backend;
    const ls = b.logSoftmax(yhat);
    const oh = b.oneHot(y, yhat.shape[1]!);
    const p = b.binary('mul', ls, oh);
    const s = b.sum(p);
    const out = b.affine(s, -1 / yhat.shape[0]!, 0);
    [ls, oh, p, s].forEach((t) => t.dispose());
    return out;
  }
  backward(y: Tensor, yhat: Tensor): Tensor {
    const b = y.backend;
    const sm = b.softmax(yhat);
    const oh = b.oneHot(y, yhat.shape[1]!);
    const d = b.binary('sub', sm, oh);
    const out = b.affine(d, 1 / yhat.shape[0]!, 0);
    [sm, oh, d].forEach((t) => t.dispose());
    return out;
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
