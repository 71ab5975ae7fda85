import { Module, ShapeError, ValueError, checkOptions, gain, init as inits, resolveBackend } from '@neurone/core';
import type { Backend, Initializer, Nonlinearity, RNG, Tensor } from '@neurone/core';
import { Linear, ReLU, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { inputWidth, outputWidth } from './sizes';
import { TiedLinear } from './tied';

/** Hidden activations of `Autoencoder.dense`. */
export type DenseActivation = 'tanh' | 'relu' | 'sigmoid';

/** Options of the dense (MLP) autoencoder builder: activations, tied weights, backend and initialisation. */
export interface DenseOptions {
  /** Activation after every hidden Linear (default 'tanh'). */
  activation?: DenseActivation;
  /**
   * Activation on the code (the encoder's last layer): true (default, as in bench/README.md's W3) for
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

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** The two halves as Sequential's named children, once they are Modules whose widths agree. */
function halves(encoder: Module, decoder: Module): { encoder: Module; decoder: Module } {
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
  return { encoder, decoder };
}

/**
 * An autoencoder: forward(x) = decode(encode(x)), a Sequential of two named children, so its
 * parameters are named "encoder.…" and "decoder.…" (a weight tied to the encoder appears once,
 * under the encoder's name) and it has Sequential's explicit backward through both halves.
 *
 * In training mode forward keeps the code z = encode(x) (freed at the next forward, on `to()`,
 * `clearCache()` or `dispose()`), so backward does not run the encoder twice. `backward(δ)`
 * goes back through the last forward in one sweep per half; `backwardUpdateGradient(input, δ)`
 * and `backwardDelta(input, δ)` work for any input (recomputing what is not cached).
 */
export class Autoencoder<E extends Module = Module, D extends Module = Module> extends Sequential {
  readonly encoder: E;
  readonly decoder: D;
  /** Width of the images (the encoder's input) when its structure tells; else undefined. */
  readonly inputSize: number | undefined;
  /** Width of the code when the encoder's or the decoder's structure tells; else undefined. */
  readonly latentSize: number | undefined;

  constructor(encoder: E, decoder: D) {
    super(halves(encoder, decoder));
    this.encoder = encoder;
    this.decoder = decoder;
    this.inputSize = inputWidth(encoder);
    this.latentSize = outputWidth(encoder) ?? inputWidth(decoder);
  }

  /**
   * A dense autoencoder whose decoder mirrors the encoder: sizes [784, 128, 32] builds
   * 784→128→act→32→act (encoder) and 32→128→act→784→sigmoid (decoder).
   */
  static dense(sizes: readonly number[], options: DenseOptions = {}): Autoencoder<Sequential, Sequential> {
    if (!Array.isArray(sizes) || sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ValueError(`Autoencoder.dense: sizes must be at least two positive integers (input, …, code), got [${String(sizes)}]`);
    }
    checkOptions('Autoencoder.dense', options ?? undefined, ['activation', 'codeActivation', 'output', 'tied', 'backend', 'init', 'biasInit', 'rng']);
    options ??= {};
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

  /** An autoencoder has exactly two halves: this throws (append to `encoder` or `decoder` instead). */
  override append(_m: Module): never {
    throw new ValueError('Autoencoder.append: an autoencoder has exactly two children (encoder, decoder); append to one of them instead');
  }

  /** Images of the wrong width: a ShapeError naming the expected and the actual width. */
  protected override checkInput(op: string, x: Tensor): void {
    const n = this.inputSize;
    if (n !== undefined && (x.rank !== 2 || x.shape[1] !== n)) {
      const got = x.rank === 2 ? `${x.shape[1]} features` : `a tensor of shape ${fmt(x.shape)}`;
      throw new ShapeError(`Autoencoder.${op}`, `expects images of ${n} features ([batch, ${n}]), got ${got}`, { input: x.shape });
    }
  }

  /** The encoder (child 0), then the decoder on the code it gave, with #decode's checks. */
  protected override forwardChild(index: number, x: Tensor, op: string): Tensor {
    return index === 0 ? super.forwardChild(0, x, op) : this.#decode(op, x, 'encoder');
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
    this.checkInput('encode', x);
    return this.encoder.forward(x);
  }

  /** The reconstruction decoder(z). */
  decode(z: Tensor): Tensor {
    return this.#decode('decode', z, 'caller');
  }

  /** decode(encode(x)), keeping nothing for backward (the code is freed). */
  reconstruct(x: Tensor): Tensor {
    this.checkInput('reconstruct', x);
    const z = this.encoder.forward(x);
    let out: Tensor | undefined;
    try {
      out = this.#decode('reconstruct', z, 'encoder');
      return out;
    } finally {
      if (z !== x && z !== out) z.dispose();
    }
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
