import { Module, Parameter, ShapeError, ValueError, checkAllocation, checkOptions, checkTensorArg, col2im, convOutputLength, defaultRng, fanInUniform, im2col, pair, resolveBackend, sizeOf, tidy } from '@neurone/core';
import type { Backend, Initializer, RNG, Shape, Tensor, Window2D } from '@neurone/core';

/** Options of `Conv1D` and `Conv2D`: bias, backend and initialisation, as `Linear`'s. */
export interface ConvOptions {
  /** Learn an additive bias, one per output channel (default true). */
  bias?: boolean;
  /** Backend of the parameters (default: the registry's, `getBackend()`). */
  backend?: Backend;
  /** Weight initialiser (default PyTorch's: U(±1/√fanIn), fanIn = kernel size · chanIn). */
  init?: Initializer;
  /** Bias initialiser (default PyTorch's: U(±1/√fanIn)). */
  biasInit?: Initializer;
  /** Generator for the initialisers (default `defaultRng()`, seeded by `manualSeed`). */
  rng?: RNG;
}

/** Options of `Conv2D`: stride and padding (a number or [h, w]) besides `ConvOptions`. */
export interface Conv2DOptions extends ConvOptions {
  /** Step of the window, a number or [rows, columns] (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on both sides, a number or [rows, columns] (default 0). */
  padding?: number | readonly [number, number];
}

/** The types of the options every layer with parameters takes (`checkOptions`). */
export const PARAM_OPTIONS = { bias: 'boolean', backend: 'any', init: 'function', biasInit: 'function', rng: 'object' } as const;

/** Checks a layer's integer arguments; a ValueError naming the layer otherwise. */
export function checkInts(layer: string, args: Record<string, number | readonly number[]>, min: number): void {
  for (const [k, v] of Object.entries(args)) {
    const vs = typeof v === 'number' ? [v] : Array.isArray(v) && v.length === 2 ? v : null;
    if (!vs || !vs.every((d) => Number.isInteger(d) && d >= min)) {
      const what = min === 0 ? 'a non-negative integer' : 'a positive integer';
      throw new ValueError(`${layer}: ${k} must be ${what}${typeof v === 'number' ? '' : ' or a pair of them'}, got ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
    }
  }
}

/**
 * What Conv1D and Conv2D share: a channels-last convolution as im2col + GEMM on 4-D tensors
 * [batch, H, W, C] (Conv1D runs with H = 1). The weight [kh, kw, chanIn, chanOut] is read as the
 * matrix [kh·kw·chanIn, chanOut] (a view), so a window's patch times it is one output position.
 */
abstract class Conv extends Module {
  readonly chanIn: number;
  readonly chanOut: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  protected readonly window: Required<Window2D>;
  readonly #init: Initializer;
  readonly #biasInit: Initializer;
  readonly #rng: RNG | undefined;
  protected constructor(weightShape: Shape, chanIn: number, chanOut: number, window: Required<Window2D>, options: ConvOptions) {
    super();
    checkOptions(new.target.name, options ?? undefined, { ...PARAM_OPTIONS, ...(new.target.name === 'Conv2D' ? { stride: 'any', padding: 'any' } : {}) });
    options ??= {};
    this.chanIn = chanIn;
    this.chanOut = chanOut;
    this.window = window;
    this.#init = options.init ?? fanInUniform();
    this.#biasInit = options.biasInit ?? fanInUniform();
    this.#rng = options.rng;
    const backend = resolveBackend(options.backend);
    checkAllocation(backend, this.constructor.name, weightShape, undefined, sizeOf(weightShape) * 8); // before the float64 initial values
    const [w, b] = this.#initialValues(weightShape);
    this.weight = this.registerParameter('weight', new Parameter(backend.tensor(w, weightShape)));
    this.bias = options.bias === false ? null : this.registerParameter('bias', new Parameter(backend.tensor(b, [chanOut])));
  }

  /** Values from the initialisers with PyTorch's fans: fanIn = kh·kw·chanIn, fanOut = kh·kw·chanOut. */
  #initialValues(weightShape: Shape): [Float64Array, Float64Array] {
    const rng = this.#rng ?? defaultRng();
    const k = this.window.kernel[0] * this.window.kernel[1];
    const fan = { fanIn: k * this.chanIn, fanOut: k * this.chanOut };
    return [this.#init(weightShape, fan, rng), this.#biasInit([this.chanOut], fan, rng)];
  }

  /** Draws fresh weights (and bias) from the initialisers, on the parameters' current backend. */
  resetParameters(): void {
    const [w, b] = this.#initialValues(this.weight.shape);
    this.weight.value = this.weight.backend.tensor(w, this.weight.shape);
    this.weight.zeroGrad();
    if (this.bias) {
      this.bias.value = this.bias.backend.tensor(b, this.bias.shape);
      this.bias.zeroGrad();
    }
  }

  protected abstract layerName(): string;
  /** Throws a ShapeError naming the layer and `op` unless x fits the layer. */
  protected abstract checkInput(op: string, x: Tensor): void;
  /** The (checked) input seen as [batch, H, W, chanIn]. */
  protected abstract shape4d(x: Tensor): [number, number, number, number];
  /** The output shape for the (checked) input x. */
  protected abstract outShape(x: Tensor): number[];

  #checkDelta(op: string, x: Tensor, delta: Tensor): void {
    checkTensorArg(`${this.layerName()}.${op}`, 'delta', delta);
    const out = this.outShape(x);
    if (delta.rank !== out.length || !delta.shape.every((d, i) => d === out[i])) {
      throw new ShapeError(`${this.layerName()}.${op}`, `expects a delta of the output's shape [${out.join(', ')}]`, { input: x.shape, delta: delta.shape });
    }
  }

  #kernelMatrix(): Tensor {
    const [kh, kw] = this.window.kernel;
    return this.weight.value.reshape([kh * kw * this.chanIn, this.chanOut]);
  }

  /** The patches of `input`: saved by the forward that saw it (training mode), else computed (and freed by the caller's tidy). */
  #patches(input: Tensor): Tensor {
    return this.saved<{ cols: Tensor }>(input)?.cols ?? im2col(input.reshape(this.shape4d(input)), this.window);
  }

  forward(x: Tensor): Tensor {
    this.checkInput('forward', x);
    const out = this.outShape(x);
    const { y, cols } = tidy(() => {
      const cols = im2col(x.reshape(this.shape4d(x)), this.window);
      // seed: z[b, o, :] = Σ_k x[b, o·s + k, :]·W[k] + b: each patch (a row of im2col) times W, bias fused
      return { cols, y: x.backend.matmul(cols, this.#kernelMatrix(), false, false, this.bias?.value).reshape(out) };
    });
    if (this.training) this.saveForBackward(x, { cols }, [cols]); // backwardUpdateGradient reuses the patches
    else cols.dispose();
    return y;
  }

  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.checkInput('backwardUpdateGradient', input);
    this.#checkDelta('backwardUpdateGradient', input, delta);
    tidy(() => {
      const be = input.backend;
      const d2 = delta.reshape([delta.size / this.chanOut, this.chanOut]);
      // seed: ∂L/∂W[k] = Σ_{b,o} x[b, o·s + k]ᵀ·δ[b, o]: colsᵀ·δ
      this.weight.accumulateGrad(be.matmul(this.#patches(input), d2, true, false).reshape(this.weight.shape));
      this.bias?.accumulateGrad(be.sum(d2, 0)); // ∂L/∂b = Σ_{b,o} δ[b, o]
    });
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.checkInput('backwardDelta', input);
    this.#checkDelta('backwardDelta', input, delta);
    return tidy(() => {
      const be = input.backend;
      const d2 = delta.reshape([delta.size / this.chanOut, this.chanOut]);
      // seed: ∂L/∂x[b, i] = Σ_{o,k: o·s + k = i} δ[b, o]·W[k]ᵀ: δ·Wᵀ as patches, summed back in place (col2im)
      const dcols = be.matmul(d2, this.#kernelMatrix(), false, true);
      return col2im(dcols, this.window, this.shape4d(input)).reshape(input.shape);
    });
  }
}

/**
 * 1-D convolution over channels-last sequences (the course's Conv1D): input [batch, length,
 * chanIn] → [batch, ⌊(length − kSize)/stride⌋ + 1, chanOut], no padding. `weight` is
 * [kSize, chanIn, chanOut], `bias` [chanOut]. PyTorch's Conv1d weight [out, in, k] loads after
 * `fromTorchConv` (see the README).
 */
export class Conv1D extends Conv {
  readonly kSize: number;
  readonly stride: number;

  constructor(kSize: number, chanIn: number, chanOut: number, stride = 1, options: ConvOptions = {}) {
    checkInts('Conv1D', { kSize, chanIn, chanOut, stride }, 1);
    super([kSize, chanIn, chanOut], chanIn, chanOut, { kernel: [1, kSize], stride: [1, stride], padding: [0, 0] }, options);
    this.kSize = kSize;
    this.stride = stride;
  }

  protected layerName(): string {
    return `Conv1D(${this.kSize}, ${this.chanIn}, ${this.chanOut}, stride ${this.stride})`;
  }

  protected checkInput(op: string, x: Tensor): void {
    const name = `${this.layerName()}.${op}`;
    checkTensorArg(name, 'input', x);
    if (x.rank !== 3 || x.shape[2] !== this.chanIn) {
      throw new ShapeError(name, `expects an input of shape [batch, length, ${this.chanIn}]`, { input: x.shape, weight: this.weight.shape });
    }
    if (x.shape[1]! < this.kSize) throw new ShapeError(name, `the kernel (${this.kSize}) is longer than the input (${x.shape[1]})`, { input: x.shape, weight: this.weight.shape });
    if (x.shape[0]! < 1) throw new ShapeError(name, 'the batch is empty', { input: x.shape });
  }

  protected shape4d(x: Tensor): [number, number, number, number] {
    return [x.shape[0]!, 1, x.shape[1]!, this.chanIn];
  }

  protected outShape(x: Tensor): number[] {
    return [x.shape[0]!, convOutputLength(x.shape[1]!, this.kSize, this.stride), this.chanOut];
  }

  protected override extraRepr(): string {
    return `${this.chanIn}, ${this.chanOut}, kernel_size=${this.kSize}, stride=${this.stride}, bias=${this.bias !== null}`;
  }
}

/**
 * 2-D convolution over channels-last images: input [batch, H, W, chanIn] → [batch, H', W',
 * chanOut], H' = ⌊(H + 2·padding − kh)/stride⌋ + 1 (likewise W'). `kernel`, `stride` and
 * `padding` take a number or [rows, columns]; padding is zeros on both sides. `weight` is
 * [kh, kw, chanIn, chanOut], `bias` [chanOut]. PyTorch's Conv2d weight [out, in, kh, kw] loads
 * after `fromTorchConv` (see the README).
 */
export class Conv2D extends Conv {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernel: number | readonly [number, number], chanIn: number, chanOut: number, options: Conv2DOptions = {}) {
    const { stride = 1, padding = 0 } = options ?? {};
    checkInts('Conv2D', { kernel, chanIn, chanOut, stride }, 1);
    checkInts('Conv2D', { padding }, 0);
    const k = pair(kernel);
    super([k[0], k[1], chanIn, chanOut], chanIn, chanOut, { kernel: k, stride: pair(stride), padding: pair(padding) }, options);
    this.kernel = k;
    this.stride = pair(stride);
    this.padding = pair(padding);
  }

  protected layerName(): string {
    return `Conv2D(${this.kernel.join('×')}, ${this.chanIn}, ${this.chanOut})`;
  }

  protected checkInput(op: string, x: Tensor): void {
    const name = `${this.layerName()}.${op}`;
    checkTensorArg(name, 'input', x);
    if (x.rank !== 4 || x.shape[3] !== this.chanIn) {
      throw new ShapeError(name, `expects an input of shape [batch, height, width, ${this.chanIn}]`, { input: x.shape, weight: this.weight.shape });
    }
    const [kh, kw] = this.kernel;
    const [ph, pw] = this.padding;
    if (x.shape[1]! + 2 * ph < kh || x.shape[2]! + 2 * pw < kw) {
      throw new ShapeError(name, `the kernel ${kh}×${kw} is larger than the input ${x.shape[1]}×${x.shape[2]} with padding ${ph}×${pw}`, { input: x.shape, weight: this.weight.shape });
    }
    if (x.shape[0]! < 1) throw new ShapeError(name, 'the batch is empty', { input: x.shape });
  }

  protected shape4d(x: Tensor): [number, number, number, number] {
    return [x.shape[0]!, x.shape[1]!, x.shape[2]!, this.chanIn];
  }

  protected outShape(x: Tensor): number[] {
    const [kh, kw] = this.kernel;
    const [sh, sw] = this.stride;
    const [ph, pw] = this.padding;
    return [x.shape[0]!, convOutputLength(x.shape[1]!, kh, sh, ph), convOutputLength(x.shape[2]!, kw, sw, pw), this.chanOut];
  }

  protected override extraRepr(): string {
    return `${this.chanIn}, ${this.chanOut}, kernel_size=(${this.kernel.join(', ')}), stride=(${this.stride.join(', ')}), padding=(${this.padding.join(', ')}), bias=${this.bias !== null}`;
  }
}
