import { Module, ValueError, keep, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';

/** Options of `Sequential.backward`. */
export interface SequentialBackwardOptions {
  /**
   * Also compute dL/dinput through the first module (default true). With false the first
   * module's backwardDelta is skipped (for a first Linear, the δ·W product) and null is returned.
   */
  inputGrad?: boolean;
}

/** Children by name, applied in the object's key order: `new Sequential({ encoder, decoder })`. */
export type NamedModules = Readonly<Record<string, Module>>;

function isNamedModules(v: unknown): v is NamedModules {
  if (v === null || typeof v !== 'object' || v instanceof Module || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Modules applied in order; children are named "0", "1", … so stateDict keys read
 * "0.weight", "2.bias" as in PyTorch. `new Sequential({ encoder, decoder })` names them by the
 * object's keys instead (in their order, which JavaScript gives integer-like keys first):
 * stateDict keys then read "encoder.0.weight".
 *
 * In training mode, forward keeps the inputs of modules 1..n-1 (the Sequential owns them and
 * frees them at the next forward, on `to()`, `clearCache()` or `dispose()`); backward reuses them
 * when it is given the input of the last forward, and recomputes them otherwise. In eval mode
 * nothing is kept: each intermediate is freed as soon as the next module has used it.
 * The caller's input and the returned output are never disposed by the Sequential.
 * A child Sequential goes back in one sweep of its own (from its cache when valid).
 *
 * Subclasses may check inputs in `checkInput` and what passes between children in `forwardChild`.
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

  constructor(children: NamedModules);
  constructor(...modules: (Module | readonly Module[])[]);
  constructor(...modules: (Module | readonly Module[] | NamedModules)[]) {
    super();
    const [first] = modules;
    if (modules.length === 1 && isNamedModules(first)) {
      for (const [name, m] of Object.entries(first)) this.#add(name, m, 'Sequential');
    } else {
      for (const m of modules.flat()) this.#add(String(this.#modules.length), m, 'Sequential.append');
    }
  }

  #add(name: string, m: unknown, op: string): void {
    if (!(m instanceof Module)) {
      throw new ValueError(`${op}: expected a Module${op === 'Sequential' ? ` for '${name}'` : ''}, got ${String(m)}`);
    }
    if (name === '' || name.includes('.')) throw new ValueError(`${op}: a child name must be non-empty and contain no '.', got '${name}'`);
    if (this.namedChildren().some(([n]) => n === name)) throw new ValueError(`${op}: a child named '${name}' already exists`);
    this.clearCache();
    this.registerModule(name, m);
    this.#modules.push(m);
  }

  /** Adds a module at the end (named by its index). */
  append(m: Module): this {
    this.#add(String(this.#modules.length), m, 'Sequential.append');
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

  /** Hook: checks the input of forward, backwardUpdateGradient or backwardDelta (`op`). None here. */
  protected checkInput(_op: string, _x: Tensor): void {}

  /**
   * Hook: child `index` applied to x (the input, or the previous child's output) for the public
   * method `op`; a subclass may check x or reword the child's errors here.
   */
  protected forwardChild(index: number, x: Tensor, _op: string): Tensor {
    return this.#modules[index]!.forward(x);
  }

  forward(x: Tensor): Tensor {
    this.clearCache();
    this.checkInput('forward', x);
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
        out = this.forwardChild(i, h, 'forward');
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
   * else recomputed (inside the caller's tidy scope, which frees them).
   */
  #stageInputs(input: Tensor, op: string): Tensor[] {
    if (this.#cacheValid(input)) return this.#inputs!;
    const inputs: Tensor[] = [input];
    for (let i = 0; i < this.#modules.length - 1; i++) inputs.push(this.forwardChild(i, inputs[i]!, op));
    return inputs;
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
  #sweep(input: Tensor, delta: Tensor, grads: boolean, inputGrad: boolean, op: string): Tensor | null {
    const n = this.#modules.length;
    if (n === 0) return inputGrad ? delta.clone() : null;
    return tidy(() => {
      const inputs = this.#stageInputs(input, op);
      let d = delta;
      for (let i = n - 1; i >= 0; i--) {
        const m = this.#modules[i]!;
        const z = inputs[i]!;
        const wantDelta = i > 0 || inputGrad;
        let next: Tensor | null;
        if (sweepsAsOne(m)) {
          next = m.#sweep(z, d, grads, wantDelta, op); // a child Sequential: both passes in its own sweep
        } else {
          if (grads) m.backwardUpdateGradient(z, d); // seed: ∂L/∂W^h from δ^h and z^{h-1}
          next = wantDelta ? m.backwardDelta(z, d) : null; // seed: δ^{h-1} = ∂L/∂z^{h-1}
        }
        if (next === null) return null;
        d = next;
      }
      return d === delta ? delta.clone() : d;
    });
  }

  /** Accumulates every module's parameter gradients for (input, delta). */
  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.checkInput('backwardUpdateGradient', input);
    this.#sweep(input, delta, true, false, 'backwardUpdateGradient');
  }

  /** dL/dinput, through every module. */
  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    this.checkInput('backwardDelta', input);
    return this.#sweep(input, delta, false, true, 'backwardDelta')!;
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
    const op = `${this.constructor.name}.backward`;
    if (!x) throw new ValueError(`${op}: no forward to go back through (call forward(x) first)`);
    if (x.isDisposed) {
      throw new ValueError(`${op}: the input of the last forward was disposed; call backwardUpdateGradient(input, delta) with a live input`);
    }
    return this.#sweep(x, delta, true, inputGrad, 'backward');
  }

  protected override onMove(backend: Backend): void {
    this.clearCache();
    super.onMove(backend);
  }

  /** Frees the kept intermediates, every child (their caches too) and the parameters. */
  override dispose(): void {
    this.clearCache();
    for (const m of this.#modules) m.dispose();
    super.dispose();
  }
}

/**
 * Whether a child can go back as one sweep of its own: a Sequential (or subclass) that keeps
 * the inherited backwardUpdateGradient and backwardDelta.
 */
function sweepsAsOne(m: Module): m is Sequential {
  return (
    m instanceof Sequential &&
    m.backwardUpdateGradient === Sequential.prototype.backwardUpdateGradient &&
    m.backwardDelta === Sequential.prototype.backwardDelta
  );
}
