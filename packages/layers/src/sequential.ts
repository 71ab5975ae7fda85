import { Module, ValueError, keep } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

export interface SequentialBackwardOptions {
  /**
   * Also compute dL/dinput through the first module (default true). With false the first
   * module's backwardDelta is skipped (for a first Linear, the δ·W product) and null is returned.
   */
  inputGrad?: boolean;
}

/**
 * Modules applied in order; children are named "0", "1", … so stateDict keys read
 * "0.weight", "2.bias" as in PyTorch.
 *
 * In training mode, forward keeps the inputs of modules 1..n-1 (the Sequential owns them and
 * frees them at the next forward, on `to()`, `clearCache()` or `dispose()`); backward reuses them
 * when it is given the input of the last forward, and recomputes them otherwise. In eval mode
 * nothing is kept: each intermediate is freed as soon as the next module has used it.
 * The caller's input and the returned output are never disposed by the Sequential.
 */
export class Sequential extends Module implements Iterable<Module> {
  readonly #modules: Module[] = [];
  /** Input of the last forward (the caller's tensor, not owned). */
  #lastInput: Tensor | null = null;
  /** Inputs of every module for the last forward in training mode: [x, z¹, …, z^{n-1}]. */
  #inputs: Tensor[] | null = null;
  /** The intermediates among #inputs that this Sequential owns and must free. */
  #owned: Tensor[] = [];
  /** The parameter tensors the cached intermediates were computed with. */
  #paramValues: Tensor[] = [];

  constructor(...modules: (Module | readonly Module[])[]) {
    super();
    for (const m of modules.flat()) this.append(m);
  }

  /** Adds a module at the end (named by its index). */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new ValueError(`Sequential.append: expected a Module, got ${String(m)}`);
    this.clearCache();
    this.registerModule(String(this.#modules.length), m);
    this.#modules.push(m);
    return this;
  }

  get length(): number {
    return this.#modules.length;
  }

  /** The module at index i (negative counts from the end). */
  at(i: number): Module {
    const m = this.#modules[i < 0 ? i + this.#modules.length : i];
    if (!Number.isInteger(i) || !m) {
      throw new ValueError(`Sequential.at: index ${i} is out of range for ${this.#modules.length} modules`);
    }
    return m;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#modules[Symbol.iterator]();
  }

  /** Frees the intermediates kept from the last forward. */
  clearCache(): void {
    for (const t of this.#owned) t.dispose();
    this.#owned = [];
    this.#inputs = null;
    this.#paramValues = [];
    this.#lastInput = null;
  }

  forward(x: Tensor): Tensor {
    this.clearCache();
    const n = this.#modules.length;
    if (n === 0) {
      this.#lastInput = x;
      return x.clone();
    }
    const train = this.training;
    const inputs: Tensor[] = [x];
    let h = x;
    for (let i = 0; i < n; i++) {
      let out: Tensor;
      try {
        out = this.#modules[i]!.forward(h);
      } catch (e) {
        for (const t of new Set(train ? inputs : [h])) if (t !== x) t.dispose();
        throw e;
      }
      if (train) {
        if (i < n - 1) inputs.push(out);
      } else if (h !== x && h !== out) {
        h.dispose(); // eval: this intermediate has served its only purpose
      }
      h = out;
    }
    this.#lastInput = x;
    if (train) {
      this.#inputs = inputs;
      this.#owned = [...new Set(inputs)].filter((t) => t !== x && t !== h).map((t) => keep(t));
      this.#paramValues = this.parameters().map((p) => p.value);
    }
    return h;
  }

  /**
   * The inputs of every module for `input`: the cached ones when `input` is the tensor of the
   * last forward, they are alive and no parameter changed since (a new value is a new tensor),
   * else recomputed (returned in `temp`, to free after).
   */
  #stageInputs(input: Tensor): { inputs: Tensor[]; temp: Tensor[] } {
    if (this.#cacheValid(input)) return { inputs: this.#inputs!, temp: [] };
    const inputs: Tensor[] = [input];
    let h = input;
    try {
      for (let i = 0; i < this.#modules.length - 1; i++) {
        h = this.#modules[i]!.forward(h);
        inputs.push(h);
      }
    } catch (e) {
      for (const t of new Set(inputs)) if (t !== input) t.dispose();
      throw e;
    }
    return { inputs, temp: [...new Set(inputs)].filter((t) => t !== input) };
  }

  #cacheValid(input: Tensor): boolean {
    const cached = this.#inputs;
    if (!cached || cached[0] !== input || cached.some((t) => t.isDisposed)) return false;
    const params = this.parameters();
    return params.length === this.#paramValues.length && params.every((p, i) => p.value === this.#paramValues[i]);
  }

  /**
   * One backward sweep, last module first: accumulates parameter gradients when `grads`,
   * and carries δ down (δ^{h-1} from δ^h), through the first module too when `inputGrad`.
   */
  #sweep(input: Tensor, delta: Tensor, grads: boolean, inputGrad: boolean): Tensor | null {
    const n = this.#modules.length;
    if (n === 0) return inputGrad ? delta.clone() : null;
    const { inputs, temp } = this.#stageInputs(input);
    let d = delta;
    try {
      for (let i = n - 1; i >= 0; i--) {
        const m = this.#modules[i]!;
        const z = inputs[i]!;
        if (grads) m.backwardUpdateGradient(z, d); // seed: ∂L/∂W^h from δ^h and z^{h-1}
        const next = i > 0 || inputGrad ? m.backwardDelta(z, d) : null; // seed: δ^{h-1} = ∂L/∂z^{h-1}
        if (d !== delta && d !== next) d.dispose();
        if (next === null) return null;
        d = next;
      }
      return d === delta ? delta.clone() : d;
    } catch (e) {
      if (d !== delta) d.dispose();
      throw e;
    } finally {
      for (const t of temp) t.dispose();
    }
  }

  /** Accumulates every module's parameter gradients for (input, delta). */
  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.#sweep(input, delta, true, false);
  }

  /** dL/dinput, through every module. */
  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    return this.#sweep(input, delta, false, true)!;
  }

  /**
   * Both passes in one sweep from the last forward: accumulates every gradient and returns
   * dL/dinput (null with `{ inputGrad: false }`, which skips the first module's backwardDelta).
   * `delta` is dL/doutput (e.g. `loss.backward(y, yhat)`); it is not disposed.
   */
  backward(delta: Tensor, options?: { inputGrad?: true }): Tensor;
  backward(delta: Tensor, options: { inputGrad: false }): null;
  backward(delta: Tensor, options?: SequentialBackwardOptions): Tensor | null;
  backward(delta: Tensor, { inputGrad = true }: SequentialBackwardOptions = {}): Tensor | null {
    const x = this.#lastInput;
    if (!x) throw new ValueError('Sequential.backward: no forward to go back through (call forward(x) first)');
    if (x.isDisposed) {
      throw new ValueError(
        'Sequential.backward: the input of the last forward was disposed; call backwardUpdateGradient(input, delta) with a live input',
      );
    }
    return this.#sweep(x, delta, true, inputGrad);
  }

  protected override onMove(backend: Backend): void {
    this.clearCache();
    super.onMove(backend);
  }

  override dispose(): void {
    this.clearCache();
    super.dispose();
  }
}
