import { Module, ValueError, checkTensorArg, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';

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
 * In training mode, forward saves the input of every module (`saveForBackward`): backward given
 * the input of that forward goes back through them, each child reading what its own forward
 * saved. The intermediates belong to the scope that ran the forward (`Optim.step`, `fit`, the
 * caller's `tidy`). For another input, backward recomputes them, unless a child's forward was
 * stateful (Dropout, BatchNorm in training mode): then it is a StateError, never a second forward.
 * In eval mode nothing is saved: each intermediate is freed as soon as the next module has used it.
 * The caller's input and the returned output are never disposed by the Sequential.
 * A child Sequential goes back in one sweep of its own.
 *
 * Subclasses may check inputs in `checkInput` and what passes between children in `forwardChild`.
 */
export class Sequential extends Module implements Iterable<Module> {
  readonly #modules: Module[] = [];
  /** Input of the last forward (the caller's tensor, not owned): what `backward(delta)` goes back from. */
  #lastInput: Tensor | null = null;

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
    this.clearSaved();
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

  /** Forgets what the last forward saved (`clearSaved`, kept under its former name). */
  clearCache(): void {
    this.clearSaved();
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
    checkTensorArg(`${this.constructor.name}.forward`, 'x', x);
    this.clearSaved();
    this.checkInput('forward', x);
    this.#lastInput = x;
    const n = this.#modules.length;
    if (n === 0) return x.clone();
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
    if (train) this.saveForBackward(x, { inputs }, inputs.filter((t) => t !== x && t !== h));
    return h;
  }

  /**
   * The inputs of every module for `input`: those the forward on `input` saved, else recomputed
   * (inside the caller's tidy scope, which frees them) — unless a child's forward was stateful.
   */
  #stageInputs(input: Tensor, op: string): Tensor[] {
    const saved = this.saved<{ inputs: Tensor[] }>(input);
    if (saved) return saved.inputs;
    if (this.statefulForward) this.savedOrThrow(input, op);
    const inputs: Tensor[] = [input];
    for (let i = 0; i < this.#modules.length - 1; i++) inputs.push(this.forwardChild(i, inputs[i]!, op));
    return inputs;
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
    checkTensorArg(`${this.constructor.name}.backwardUpdateGradient`, 'input', input);
    checkTensorArg(`${this.constructor.name}.backwardUpdateGradient`, 'delta', delta);
    this.checkInput('backwardUpdateGradient', input);
    this.#sweep(input, delta, true, false, 'backwardUpdateGradient');
  }

  /** dL/dinput, through every module. */
  backwardDelta(input: Tensor, delta: Tensor): Tensor {
    checkTensorArg(`${this.constructor.name}.backwardDelta`, 'input', input);
    checkTensorArg(`${this.constructor.name}.backwardDelta`, 'delta', delta);
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
    checkTensorArg(op, 'delta', delta);
    if (!x) throw new ValueError(`${op}: no forward to go back through (call forward(x) first)`);
    if (x.isDisposed) {
      throw new ValueError(`${op}: the input of the last forward was disposed; call backwardUpdateGradient(input, delta) with a live input`);
    }
    return this.#sweep(x, delta, true, inputGrad, 'backward');
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
