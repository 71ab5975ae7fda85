import { Module, ShapeError, ValueError, checkTensorArg, convOutputLength, pair, pool, poolGrad, tidy } from '@neurone/core';
import type { PoolKind, Tensor, Window2D } from '@neurone/core';
import { checkInts } from './conv';

/**
 * What the pools share: pool / poolGrad of the backend on [batch, H, W, C] (the 1-D pools run
 * with H = 1). Max sends the gradient to the first arg-max of each window; avg spreads it evenly.
 */
abstract class Pool extends Module {
  readonly #kind: PoolKind;
  protected readonly window: Required<Window2D>;

  protected constructor(kind: PoolKind, window: Required<Window2D>) {
    super();
    this.#kind = kind;
    this.window = window;
  }

  protected abstract layerName(): string;
  /** Throws a ShapeError naming the layer and `op` unless x fits. */
  protected abstract checkInput(op: string, x: Tensor): void;
  /** The (checked) input seen as [batch, H, W, C]. */
  protected abstract shape4d(x: Tensor): [number, number, number, number];
  /** The output shape for the (checked) input x. */
  protected abstract outShape(x: Tensor): number[];

  forward(x: Tensor): Tensor {
    this.checkInput('forward', x);
    const out = this.outShape(x);
    // max: z[b, o, c] = max_k x[b, o·s + k, c]; avg: the mean over k
    return tidy(() => pool(this.#kind, x.reshape(this.shape4d(x)), this.window).reshape(out));
  }

  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.checkInput('backwardDelta', input);
    const out = this.outShape(input);
    checkTensorArg(`${this.layerName()}.backwardDelta`, 'delta', delta);
    if (delta.rank !== out.length || !delta.shape.every((d, i) => d === out[i])) {
      throw new ShapeError(`${this.layerName()}.backwardDelta`, `expects a delta of the output's shape [${out.join(', ')}]`, { input: input.shape, delta: delta.shape });
    }
    const [b, h, w, c] = this.shape4d(input);
    const { kernel, stride, padding } = this.window;
    const out4 = [b, convOutputLength(h, kernel[0], stride[0], padding[0]), convOutputLength(w, kernel[1], stride[1], padding[1]), c];
    // max: ∂L/∂x[b, i, c] = Σ_o δ[b, o, c]·[i is the first arg-max of window o]; avg: Σ_o δ[b, o, c]/k over the windows o holding i
    return tidy(() => poolGrad(this.#kind, input.reshape([b, h, w, c]), delta.reshape(out4), this.window).reshape(input.shape));
  }
}

/** The 1-D pools' checks and shapes: [batch, length, C] → [batch, ⌊(length − kSize)/stride⌋ + 1, C]. */
abstract class Pool1D extends Pool {
  readonly kSize: number;
  readonly stride: number;

  protected constructor(kind: PoolKind, kSize: number, stride: number | undefined) {
    const s = stride ?? kSize;
    checkInts(kind === 'max' ? 'MaxPool1D' : 'AvgPool1D', { kSize, stride: s }, 1);
    super(kind, { kernel: [1, kSize], stride: [1, s], padding: [0, 0] });
    this.kSize = kSize;
    this.stride = s;
  }

  protected layerName(): string {
    return `${this.constructor.name}(${this.kSize}, ${this.stride})`;
  }

  protected checkInput(op: string, x: Tensor): void {
    const name = `${this.layerName()}.${op}`;
    checkTensorArg(name, 'input', x);
    if (x.rank !== 3) throw new ShapeError(name, 'expects an input of shape [batch, length, channels]', { input: x.shape });
    if (x.shape[1]! < this.kSize) throw new ShapeError(name, `the kernel (${this.kSize}) is longer than the input (${x.shape[1]})`, { input: x.shape });
    if (x.shape[0]! < 1 || x.shape[2]! < 1) throw new ShapeError(name, 'the batch and the channels must not be empty', { input: x.shape });
  }

  protected shape4d(x: Tensor): [number, number, number, number] {
    return [x.shape[0]!, 1, x.shape[1]!, x.shape[2]!];
  }

  protected outShape(x: Tensor): number[] {
    return [x.shape[0]!, convOutputLength(x.shape[1]!, this.kSize, this.stride), x.shape[2]!];
  }

  protected override extraRepr(): string {
    return `kernel_size=${this.kSize}, stride=${this.stride}`;
  }
}

/** The 2-D pools' checks and shapes: [batch, H, W, C] → [batch, H', W', C]. */
abstract class Pool2D extends Pool {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  protected constructor(kind: PoolKind, kernel: number | readonly [number, number], stride: number | readonly [number, number] | undefined, padding: number | readonly [number, number]) {
    const layer = kind === 'max' ? 'MaxPool2D' : 'AvgPool2D';
    const s = stride ?? kernel;
    checkInts(layer, { kernel, stride: s }, 1);
    checkInts(layer, { padding }, 0);
    const k = pair(kernel);
    const p = pair(padding);
    if (2 * p[0] > k[0] || 2 * p[1] > k[1]) throw new ValueError(`${layer}: padding ${p.join('×')} must be at most half the kernel ${k.join('×')}`);
    super(kind, { kernel: k, stride: pair(s), padding: p });
    this.kernel = k;
    this.stride = pair(s);
    this.padding = p;
  }

  protected layerName(): string {
    return `${this.constructor.name}(${this.kernel.join('×')}, stride ${this.stride.join('×')})`;
  }

  protected checkInput(op: string, x: Tensor): void {
    const name = `${this.layerName()}.${op}`;
    checkTensorArg(name, 'input', x);
    if (x.rank !== 4) throw new ShapeError(name, 'expects an input of shape [batch, height, width, channels]', { input: x.shape });
    const [kh, kw] = this.kernel;
    const [ph, pw] = this.padding;
    if (x.shape[1]! + 2 * ph < kh || x.shape[2]! + 2 * pw < kw) {
      throw new ShapeError(name, `the kernel ${kh}×${kw} is larger than the input ${x.shape[1]}×${x.shape[2]} with padding ${ph}×${pw}`, { input: x.shape });
    }
    if (x.shape[0]! < 1 || x.shape[3]! < 1) throw new ShapeError(name, 'the batch and the channels must not be empty', { input: x.shape });
  }

  protected shape4d(x: Tensor): [number, number, number, number] {
    return [x.shape[0]!, x.shape[1]!, x.shape[2]!, x.shape[3]!];
  }

  protected outShape(x: Tensor): number[] {
    const [kh, kw] = this.kernel;
    const [sh, sw] = this.stride;
    const [ph, pw] = this.padding;
    return [x.shape[0]!, convOutputLength(x.shape[1]!, kh, sh, ph), convOutputLength(x.shape[2]!, kw, sw, pw), x.shape[3]!];
  }

  protected override extraRepr(): string {
    return `kernel_size=(${this.kernel.join(', ')}), stride=(${this.stride.join(', ')}), padding=(${this.padding.join(', ')})`;
  }
}

/** Max over windows of `kSize` steps by `stride` (default kSize) of [batch, length, C]; the gradient goes to the first arg-max of each window. */
export class MaxPool1D extends Pool1D {
  constructor(kSize: number, stride?: number) {
    super('max', kSize, stride);
  }
}

/** Mean over windows of `kSize` steps by `stride` (default kSize) of [batch, length, C]. */
export class AvgPool1D extends Pool1D {
  constructor(kSize: number, stride?: number) {
    super('avg', kSize, stride);
  }
}

/**
 * Max over kh×kw windows of [batch, H, W, C], moving by `stride` (default: the kernel), with
 * optional `padding` (at most half the kernel, ignored by the max); the gradient goes to the
 * first arg-max of each window (row-major).
 */
export class MaxPool2D extends Pool2D {
  constructor(kernel: number | readonly [number, number], stride?: number | readonly [number, number], padding: number | readonly [number, number] = 0) {
    super('max', kernel, stride, padding);
  }
}

/** Mean over kh×kw windows of [batch, H, W, C] (stride defaults to the kernel; padding counts as zeros, PyTorch's default). */
export class AvgPool2D extends Pool2D {
  constructor(kernel: number | readonly [number, number], stride?: number | readonly [number, number], padding: number | readonly [number, number] = 0) {
    super('avg', kernel, stride, padding);
  }
}
