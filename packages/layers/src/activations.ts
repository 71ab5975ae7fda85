import { Module, ShapeError, ValueError, checkOptions, checkTensorArg, shapesEqual, sizeOf, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';

function checkDelta(name: string, op: string, input: Tensor, delta: Tensor): void {
  checkTensorArg(`${name}.${op}`, 'input', input);
  checkTensorArg(`${name}.${op}`, 'delta', delta);
  if (!shapesEqual(input.shape, delta.shape)) {
    throw new ShapeError(`${name}.${op}`, 'delta must have the shape of the input', { input: input.shape, delta: delta.shape });
  }
}

/**
 * An activation whose backward needs its own output s = f(input): forward saves s, backward
 * reads it back for that input (a function of the input alone: recomputed for any other input).
 */
abstract class OutputActivation extends Module {
  protected abstract apply(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    checkTensorArg(`${this.constructor.name}.forward`, 'x', x);
    const y = this.apply(x);
    this.saveForBackward(x, { y });
    return y;
  }

  /** Runs fn inside `tidy` with s = f(input), as saved by forward, else recomputed (and freed with the scope). */
  protected withOutput(input: Tensor, fn: (s: Tensor) => Tensor): Tensor {
    return tidy(() => fn(this.saved<{ y: Tensor }>(input)?.y ?? this.apply(input)));
  }
}

/** Hyperbolic tangent, element-wise. */
export class TanH extends OutputActivation {
  constructor(...args: never[]) {
    super();
    noArgs('TanH', args);
  }

  protected apply(x: Tensor): Tensor {
    return x.backend.unary('tanh', x); // seed: tanh(a) = (eᵃ − e⁻ᵃ)/(eᵃ + e⁻ᵃ)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('TanH', 'backwardDelta', input, delta);
    return this.withOutput(input, (s) => input.backend.activationGrad('tanh', s, delta)); // seed: δ ⊙ (1 − tanh²(a))
  }
}

/** Logistic sigmoid, element-wise. */
export class Sigmoid extends OutputActivation {
  constructor(...args: never[]) {
    super();
    noArgs('Sigmoid', args);
  }

  protected apply(x: Tensor): Tensor {
    return x.backend.unary('sigmoid', x); // seed: σ(a) = 1/(1 + e⁻ᵃ)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('Sigmoid', 'backwardDelta', input, delta);
    return this.withOutput(input, (s) => input.backend.activationGrad('sigmoid', s, delta)); // seed: δ ⊙ σ(a)(1 − σ(a))
  }
}

/** Refuses constructor arguments of a module that takes none (PyTorch's `inplace` included: storages are immutable). */
function noArgs(name: string, args: unknown[]): void {
  if (args.length && !(args.length === 1 && args[0] === undefined)) {
    throw new ValueError(`${name}: takes no arguments, got ${args.map((a) => (a !== null && typeof a === 'object' ? JSON.stringify(a) : String(a))).join(', ')}${name === 'ReLU' ? " (no 'inplace': tensors are immutable)" : ''}`);
  }
}

/** max(a, 0), element-wise. */
export class ReLU extends Module {
  constructor(...args: never[]) {
    super();
    noArgs('ReLU', args);
  }

  forward(x: Tensor): Tensor {
    checkTensorArg('ReLU.forward', 'x', x);
    return x.backend.unary('relu', x); // max(a, 0)
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('ReLU', 'backwardDelta', input, delta);
    return input.backend.activationGrad('relu', input, delta); // δ ⊙ [a > 0]
  }
}

/** A number, or `{ name: number }` (PyTorch's keyword), or nothing (the default); checked. */
function numberArg(owner: string, name: string, arg: number | Record<string, number | undefined> | undefined, fallback: number): number {
  const v = typeof arg === 'object' && arg !== null ? checkOptions(owner, arg, { [name]: 'number' })[name] : arg;
  if (v !== undefined && !Number.isFinite(v)) throw new ValueError(`${owner}: ${name} must be a finite number, got ${String(v)}`);
  return v ?? fallback;
}

/** An activation whose backward is δ ⊙ f′(input): nothing to save (LeakyReLU, ELU, GELU). */
abstract class InputActivation extends Module {
  protected abstract readonly op: 'leakyRelu' | 'elu' | 'gelu' | 'geluTanh';
  /** The op's parameter (LeakyReLU's slope, ELU's α; 0 for GELU). */
  protected get p(): number {
    return 0;
  }

  forward(x: Tensor): Tensor {
    checkTensorArg(`${this.constructor.name}.forward`, 'x', x);
    return x.backend.unary(this.op, x, this.p);
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta(this.constructor.name, 'backwardDelta', input, delta);
    return input.backend.activationGrad(this.op, input, delta, this.p); // δ ⊙ f′(a)
  }
}

/** x > 0 ? x : negativeSlope·x (PyTorch's LeakyReLU; default slope 0.01). Backward: δ ⊙ (a > 0 ? 1 : slope). */
export class LeakyReLU extends InputActivation {
  protected readonly op = 'leakyRelu';
  readonly negativeSlope: number;
  constructor(negativeSlope?: number | { negativeSlope?: number }) {
    super();
    this.negativeSlope = numberArg('LeakyReLU', 'negativeSlope', negativeSlope, 0.01);
  }
  protected override get p(): number {
    return this.negativeSlope;
  }
  protected override extraRepr(): string {
    return `negative_slope=${this.negativeSlope}`;
  }
}

/** x > 0 ? x : α(eˣ − 1) (PyTorch's ELU; default α 1). Backward: δ ⊙ (a > 0 ? 1 : α·eᵃ). */
export class ELU extends InputActivation {
  protected readonly op = 'elu';
  readonly alpha: number;
  constructor(alpha?: number | { alpha?: number }) {
    super();
    this.alpha = numberArg('ELU', 'alpha', alpha, 1);
  }
  protected override get p(): number {
    return this.alpha;
  }
  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * x·Φ(x), Φ the standard normal CDF by erf (PyTorch's GELU), or its tanh form with
 * `{ approximate: 'tanh' }`: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Backward: δ ⊙ (Φ(a) + a·φ(a)).
 */
export class GELU extends InputActivation {
  protected readonly op: 'gelu' | 'geluTanh';
  readonly approximate: 'none' | 'tanh';
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = checkOptions('GELU', options ?? undefined, { approximate: ['none', 'tanh'] })?.approximate ?? 'none';
    this.op = this.approximate === 'tanh' ? 'geluTanh' : 'gelu';
  }
  protected override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** `dim` of Softmax / LogSoftmax: a number or `{ dim }` (PyTorch's), the last axis only. */
function softmaxDim(name: string, arg: number | { dim?: number } | undefined): number {
  const dim = typeof arg === 'object' && arg !== null ? checkOptions(name, arg, { dim: 'integer' }).dim : arg;
  if (dim !== undefined && (!Number.isInteger(dim))) throw new ValueError(`${name}: dim must be an integer, got ${String(dim)}`);
  return dim ?? -1;
}

/** Throws unless `dim` is the last axis of x (the only axis these kernels normalise over). */
function checkRows(name: string, dim: number, x: Tensor): void {
  checkTensorArg(`${name}.forward`, 'x', x);
  if (x.rank < 1) throw new ShapeError(`${name}.forward`, 'needs at least one axis (it works over the last)', { input: x.shape });
  if (dim !== -1 && dim !== x.rank - 1) {
    throw new ShapeError(`${name}(dim=${dim}).forward`, `normalises over the last axis only (dim -1 or ${x.rank - 1} here); move the axis last first`, { input: x.shape });
  }
}

/** Softmax over the last axis (`dim`: -1, PyTorch's Softmax(dim) with the last axis). */
export class Softmax extends OutputActivation {
  readonly dim: number;
  constructor(dim?: number | { dim?: number }) {
    super();
    this.dim = softmaxDim('Softmax', dim);
  }

  protected apply(x: Tensor): Tensor {
    checkRows('Softmax', this.dim, x);
    return x.backend.softmax(x); // seed: Softmax(x)_j = e^{x_j} / Σ_i e^{x_i}
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('Softmax', 'backwardDelta', input, delta);
    const be = input.backend;
    // seed: ∂L/∂x = s ⊙ (δ − Σ_j δ_j s_j)
    return this.withOutput(input, (s) => be.binary('mul', s, be.binary('sub', delta, be.sum(be.binary('mul', delta, s), -1, true))));
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Log-softmax over the last axis (max-shifted, stable); pair with NLLLoss. */
export class LogSoftmax extends Module {
  readonly dim: number;
  constructor(dim?: number | { dim?: number }) {
    super();
    this.dim = softmaxDim('LogSoftmax', dim);
  }

  forward(x: Tensor): Tensor {
    checkRows('LogSoftmax', this.dim, x);
    return x.backend.logSoftmax(x); // log Softmax(x)_j = x_j − log Σ_i e^{x_i}
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkDelta('LogSoftmax', 'backwardDelta', input, delta);
    const be = input.backend;
    // ∂L/∂x = δ − softmax(x)·Σ_j δ_j
    return tidy(() => be.binary('sub', delta, be.binary('mul', be.softmax(input), be.sum(delta, -1, true))));
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** Options of `Flatten`: the axes merged into one, as PyTorch's (default 1 and -1: all but the batch). */
export interface FlattenOptions {
  startDim?: number;
  endDim?: number;
}

/** Merges axes startDim..endDim into one: [batch, d1, d2, …] → [batch, d1·d2·…] by default (a view: no copy). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  constructor(options: FlattenOptions = {}) {
    super();
    const { startDim = 1, endDim = -1 } = checkOptions('Flatten', options ?? undefined, { startDim: 'integer', endDim: 'integer' }) ?? {};
    this.startDim = startDim;
    this.endDim = endDim;
  }

  forward(x: Tensor): Tensor {
    checkTensorArg('Flatten.forward', 'x', x);
    const r = x.rank;
    if (r === 1 && this.startDim === 1 && this.endDim === -1) return x.reshape([x.shape[0]!, 1]); // [batch] → [batch, 1]
    const [s, e] = [this.startDim < 0 ? this.startDim + r : this.startDim, this.endDim < 0 ? this.endDim + r : this.endDim];
    if (!(s >= 0 && e < r && s <= e)) {
      throw new ShapeError(`Flatten(startDim=${this.startDim}, endDim=${this.endDim}).forward`, `the axes do not fit an input of rank ${r}`, { input: x.shape });
    }
    return x.reshape([...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkTensorArg('Flatten.backwardDelta', 'input', input);
    checkTensorArg('Flatten.backwardDelta', 'delta', delta);
    if (delta.size !== input.size || delta.shape[0] !== input.shape[0]) {
      throw new ShapeError('Flatten.backwardDelta', 'delta must hold one row per input sample', { input: input.shape, delta: delta.shape });
    }
    return delta.reshape(input.shape);
  }

  protected override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
