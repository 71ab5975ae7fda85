import { Module, ShapeError, ValueError, gain, init as inits, keep, resolveBackend } from '@neurone/core';
import type { Backend, Initializer, Nonlinearity, Parameter, RNG, Tensor } from '@neurone/core';
import { Linear, ReLU, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { inputWidth, outputWidth } from './sizes';
import { TiedLinear } from './tied';

/** Hidden activations of `Autoencoder.dense`. */
export type DenseActivation = 'tanh' | 'relu' | 'sigmoid';

export interface DenseOptions {
  /** Activation after every hidden Linear (default 'tanh'). */
  activation?: DenseActivation;
  /**
   * Activation on the code (the encoder's last layer): true (default, as in BENCH.md's W3) for
   * `activation`, false for none (a linear code), or another one by name (e.g. ReLU layers
   * with a bounded 'tanh' code).
   */
  codeActivation?: boolean | DenseActivation;
  /** The decoder's last activation: 'sigmoid' for images in [0, 1] (default), 'none' for logits. */
  output?: 'sigmoid' | 'none';
  /** Decoder weights = encoder weights transposed, one shared Parameter per pair (default false). */
  tied?: boolean;
  /** Backend of the parameters (default: the registry's, `getBackend()`). */
  backend?: Backend;
  /**
   * Weight initialiser: 'pytorch' (default, U(±1/√fanIn) for weights and biases), 'xavier'
   * (Glorot uniform with the gain of the activation that follows, zero biases), 'kaiming'
   * (He uniform for that activation, zero biases), or any core Initializer.
   */
  init?: Initializer | 'pytorch' | 'xavier' | 'kaiming';
  /** Bias initialiser (overrides the one `init` implies). */
  biasInit?: Initializer;
  /** Generator for the initialisers (default `defaultRng()`, seeded by `manualSeed`). */
  rng?: RNG;
}

/** A module with a whole backward from its last forward (Sequential, Autoencoder). */
interface WholeBackward {
  backward(delta: Tensor, options: { inputGrad?: boolean }): Tensor | null;
}

function hasWholeBackward(m: Module): m is Module & WholeBackward {
  return typeof (m as Partial<WholeBackward>).backward === 'function';
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * An autoencoder: forward(x) = decode(encode(x)), itself a Module with the seed's explicit
 * backward through both halves. Its parameters are named "encoder.…" and "decoder.…" (a weight
 * tied to the encoder appears once, under the encoder's name).
 *
 * In training mode forward keeps the code z = encode(x) (freed at the next forward, on `to()`,
 * `clearCache()` or `dispose()`), so backward does not run the encoder twice. `backward(δ)`
 * goes back through the last forward in one sweep per half; `backwardUpdateGradient(input, δ)`
 * and `backwardDelta(input, δ)` work for any input (recomputing what is not cached).
 */
export class Autoencoder<E extends Module = Module, D extends Module = Module> extends Module {
  readonly encoder: E;
  readonly decoder: D;
  /** Width of the images (the encoder's input) when its structure tells; else undefined. */
  readonly inputSize: number | undefined;
  /** Width of the code when the encoder's or the decoder's structure tells; else undefined. */
  readonly latentSize: number | undefined;
  #lastInput: Tensor | null = null;
  #latent: Tensor | null = null;
  #paramValues: Tensor[] = [];
  /** Whether the children's last forward was this module's forward (their caches are ours). */
  #fresh = false;

  constructor(encoder: E, decoder: D) {
    super();
    if (!(encoder instanceof Module) || !(decoder instanceof Module)) {
      throw new ValueError(`Autoencoder: encoder and decoder must be Modules, got ${String(encoder)} and ${String(decoder)}`);
    }
    const out = outputWidth(encoder);
    const inp = inputWidth(decoder);
    if (out !== undefined && inp !== undefined && out !== inp) {
      throw new ShapeError('Autoencoder', `the encoder outputs codes of size ${out} but the decoder expects inputs of size ${inp}`, {
        'encoder output': [out],
        'decoder input': [inp],
      });
    }
    this.encoder = this.registerModule('encoder', encoder);
    this.decoder = this.registerModule('decoder', decoder);
    this.inputSize = inputWidth(encoder);
    this.latentSize = out ?? inp;
  }

  /**
   * A dense autoencoder whose decoder mirrors the encoder: sizes [784, 128, 32] builds
   * 784→128→act→32→act (encoder) and 32→128→act→784→sigmoid (decoder).
   */
  static dense(sizes: readonly number[], options: DenseOptions = {}): Autoencoder<Sequential, Sequential> {
    if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ValueError(`Autoencoder.dense: sizes must be at least two positive integers (input, …, code), got [${String(sizes)}]`);
    }
    const activation = options.activation ?? 'tanh';
    const acts: readonly string[] = ['tanh', 'relu', 'sigmoid'];
    if (!acts.includes(activation)) {
      throw new ValueError(`Autoencoder.dense: activation must be 'tanh', 'relu' or 'sigmoid', got '${String(activation)}'`);
    }
    const code = options.codeActivation ?? true;
    if (typeof code !== 'boolean' && !acts.includes(code)) {
      throw new ValueError(`Autoencoder.dense: codeActivation must be a boolean, 'tanh', 'relu' or 'sigmoid', got '${String(code)}'`);
    }
    const codeAct: DenseActivation | null = code === true ? activation : code === false ? null : code;
    const output = options.output ?? 'sigmoid';
    if (output !== 'sigmoid' && output !== 'none') {
      throw new ValueError(`Autoencoder.dense: output must be 'sigmoid' or 'none', got '${String(output)}'`);
    }
    const backend = resolveBackend(options.backend);
    const act = (a: DenseActivation = activation): Module => (a === 'tanh' ? new TanH() : a === 'relu' ? new ReLU() : new Sigmoid());
    const inits_ = (follows: Nonlinearity) => initsFor(options, follows);
    const k = sizes.length - 1;
    const encLinears: Linear[] = [];
    const encoder = new Sequential();
    for (let i = 0; i < k; i++) {
      const a = i < k - 1 ? activation : codeAct;
      const lin = new Linear(sizes[i]!, sizes[i + 1]!, { backend, rng: options.rng, ...inits_(a ?? 'linear') });
      encLinears.push(lin);
      encoder.append(lin);
      if (a) encoder.append(act(a));
    }
    const decoder = new Sequential();
    for (let j = k - 1; j >= 0; j--) {
      const follows: Nonlinearity = j > 0 ? activation : output === 'sigmoid' ? 'sigmoid' : 'linear';
      const { init, biasInit } = inits_(follows);
      decoder.append(
        options.tied
          ? new TiedLinear(encLinears[j]!, { biasInit, rng: options.rng })
          : new Linear(sizes[j + 1]!, sizes[j]!, { backend, rng: options.rng, init, biasInit }),
      );
      if (j > 0) decoder.append(act());
      else if (output === 'sigmoid') decoder.append(new Sigmoid());
    }
    return new Autoencoder(encoder, decoder);
  }

  #checkImages(op: string, x: Tensor): void {
    const n = this.inputSize;
    if (n !== undefined && (x.rank !== 2 || x.shape[1] !== n)) {
      const got = x.rank === 2 ? `${x.shape[1]} features` : `a tensor of shape ${fmt(x.shape)}`;
      throw new ShapeError(`Autoencoder.${op}`, `expects images of ${n} features ([batch, ${n}]), got ${got}`, { input: x.shape });
    }
  }

  #checkCode(op: string, z: Tensor, from: 'encoder' | 'caller'): void {
    const k = inputWidth(this.decoder);
    if (k !== undefined && (z.rank !== 2 || z.shape[1] !== k)) {
      const who = from === 'encoder' ? 'the encoder outputs codes' : 'got codes';
      throw new ShapeError(`Autoencoder.${op}`, `${who} of size ${z.shape[z.rank - 1] ?? 0} but the decoder expects inputs of size ${k}`, {
        code: z.shape,
      });
    }
  }

  /** decoder.forward(z), with a clear error when z does not fit the decoder. */
  #decode(op: string, z: Tensor, from: 'encoder' | 'caller'): Tensor {
    this.#checkCode(op, z, from);
    try {
      return this.decoder.forward(z);
    } catch (e) {
      if (e instanceof ShapeError && inputWidth(this.decoder) === undefined) {
        throw new ShapeError(`Autoencoder.${op}`, `the code of shape ${fmt(z.shape)} does not fit the decoder: ${e.message}`, { code: z.shape });
      }
      throw e;
    }
  }

  /** The code z = encoder(x), [batch, latentSize]. */
  encode(x: Tensor): Tensor {
    this.#checkImages('encode', x);
    this.#fresh = false;
    return this.encoder.forward(x);
  }

  /** The reconstruction decoder(z). */
  decode(z: Tensor): Tensor {
    this.#fresh = false;
    return this.#decode('decode', z, 'caller');
  }

  /** decode(encode(x)), keeping nothing for backward (the code is freed). */
  reconstruct(x: Tensor): Tensor {
    this.#checkImages('reconstruct', x);
    this.#fresh = false;
    const z = this.encoder.forward(x);
    let out: Tensor | undefined;
    try {
      out = this.#decode('reconstruct', z, 'encoder');
      return out;
    } finally {
      if (z !== x && z !== out) z.dispose();
    }
  }

  /** Frees the code kept from the last forward. */
  clearCache(): void {
    this.#latent?.dispose();
    this.#latent = null;
    this.#lastInput = null;
    this.#paramValues = [];
    this.#fresh = false;
  }

  forward(x: Tensor): Tensor {
    this.clearCache();
    this.#checkImages('forward', x);
    const z = this.encoder.forward(x); // encode
    let out: Tensor;
    try {
      out = this.#decode('forward', z, 'encoder'); // decode
    } catch (e) {
      if (z !== x) z.dispose();
      throw e;
    }
    this.#lastInput = x;
    if (this.training && z !== x && z !== out) {
      this.#latent = keep(z);
      this.#paramValues = this.parameters().map((p: Parameter) => p.value);
      this.#fresh = true;
    } else if (z !== x && z !== out) {
      z.dispose();
    }
    return out;
  }

  /** Whether the kept code is the one of `input` with the current parameters. */
  #cacheValid(input: Tensor): boolean {
    const z = this.#latent;
    if (!z || z.isDisposed || this.#lastInput !== input || input.isDisposed) return false;
    const params = this.parameters();
    return params.length === this.#paramValues.length && params.every((p, i) => p.value === this.#paramValues[i]);
  }

  /** The code for `input`: the cached one when valid, else recomputed (then `temp` is true). */
  #codeFor(input: Tensor): { z: Tensor; temp: boolean } {
    if (this.#cacheValid(input)) return { z: this.#latent!, temp: false };
    this.#fresh = false; // the encoder's last forward is no longer ours
    const z = this.encoder.forward(input);
    return { z, temp: z !== input };
  }

  /**
   * One pass back through decoder then encoder: accumulates the gradients when `grads`,
   * returns dL/dinput when `inputGrad`.
   */
  #sweep(input: Tensor, delta: Tensor, grads: boolean, inputGrad: boolean): Tensor | null {
    const whole = grads && this.#fresh && this.#cacheValid(input) && hasWholeBackward(this.encoder) && hasWholeBackward(this.decoder);
    if (whole) {
      // both halves from their last forward, one sweep each
      const dz = (this.decoder as unknown as WholeBackward).backward(delta, { inputGrad: true })!; // seed: δ at the code
      try {
        return (this.encoder as unknown as WholeBackward).backward(dz, { inputGrad });
      } finally {
        dz.dispose();
      }
    }
    const { z, temp } = this.#codeFor(input);
    try {
      if (grads) this.decoder.backwardUpdateGradient(z, delta); // decoder's ∂L/∂W from δ and z
      const dz = this.decoder.backwardDelta(z, delta); // seed: δ at the code = ∂L/∂z
      try {
        if (grads) this.encoder.backwardUpdateGradient(input, dz); // encoder's ∂L/∂W (adds to tied weights)
        return inputGrad ? this.encoder.backwardDelta(input, dz) : null; // ∂L/∂x
      } finally {
        dz.dispose();
      }
    } finally {
      if (temp) z.dispose();
    }
  }

  /** Accumulates the gradients of both halves for (input, delta). */
  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.#checkImages('backwardUpdateGradient', input);
    this.#sweep(input, delta, true, false);
  }

  /** dL/dinput through decoder then encoder. */
  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.#checkImages('backwardDelta', input);
    return this.#sweep(input, delta, false, true)!;
  }

  /**
   * Both passes from the last forward: accumulates every gradient and returns dL/dinput
   * (null with `{ inputGrad: false }`). `delta` is dL/doutput; it is not disposed.
   */
  backward(delta: Tensor, options?: { inputGrad?: true }): Tensor;
  backward(delta: Tensor, options: { inputGrad: false }): null;
  backward(delta: Tensor, options?: { inputGrad?: boolean }): Tensor | null;
  backward(delta: Tensor, { inputGrad = true }: { inputGrad?: boolean } = {}): Tensor | null {
    const x = this.#lastInput;
    if (!x) throw new ValueError('Autoencoder.backward: no forward to go back through (call forward(x) first)');
    if (x.isDisposed) {
      throw new ValueError('Autoencoder.backward: the input of the last forward was disposed; call backwardUpdateGradient(input, delta) with a live input');
    }
    return this.#sweep(x, delta, true, inputGrad);
  }

  protected override onMove(backend: Backend): void {
    this.clearCache();
    super.onMove(backend);
  }

  override dispose(): void {
    this.clearCache();
    this.encoder.dispose();
    this.decoder.dispose();
  }

  protected override extraRepr(): string {
    return `input=${this.inputSize ?? '?'}, code=${this.latentSize ?? '?'}`;
  }
}

/** Weight and bias initialisers for a Linear followed by `follows`. */
function initsFor(options: DenseOptions, follows: Nonlinearity): { init?: Initializer; biasInit?: Initializer } {
  const i = options.init ?? 'pytorch';
  let init: Initializer | undefined;
  let biasInit: Initializer | undefined = options.biasInit;
  if (typeof i === 'function') init = i;
  else if (i === 'xavier') init = inits.xavierUniform(gain(follows));
  else if (i === 'kaiming') init = inits.kaimingUniform(follows);
  else if (i !== 'pytorch') throw new ValueError(`Autoencoder.dense: init must be 'pytorch', 'xavier', 'kaiming' or an Initializer, got '${String(i)}'`);
  if (!biasInit && (i === 'xavier' || i === 'kaiming')) biasInit = inits.zeros();
  return { init, biasInit };
}
