import type { Backend } from './backend';
import { BackendError, ShapeError, ValueError } from './errors';
import { keep } from './scope';
import { shapesEqual } from './shape';
import type { Shape } from './shape';
import type { HostTensor } from './dataset';
import type { Tensor } from './tensor';

/** A trainable tensor and its accumulated gradient. Owns both: replacing one disposes the old. */
export class Parameter {
  #value: Tensor;
  #grad: Tensor | null = null;

  constructor(value: Tensor) {
    this.#value = keep(value);
  }

  get value(): Tensor {
    return this.#value;
  }
  set value(t: Tensor) {
    if (t === this.#value) return;
    if (!shapesEqual(t.shape, this.#value.shape)) {
      throw new ShapeError('Parameter.value', 'a new value must keep the shape', { old: this.#value.shape, new: t.shape });
    }
    const old = this.#value;
    this.#value = keep(t);
    old.dispose();
  }

  /** dL/dvalue accumulated since the last zeroGrad(); null before any backward (PyTorch's `grad is None`). */
  get grad(): Tensor | null {
    return this.#grad;
  }
  set grad(t: Tensor | null) {
    if (t === null) {
      this.zeroGrad();
      return;
    }
    if (!shapesEqual(t.shape, this.#value.shape)) {
      throw new ShapeError('Parameter.grad', 'a gradient must have the shape of its parameter', { value: this.#value.shape, grad: t.shape });
    }
    if (this.#grad && this.#grad !== t) this.#grad.dispose();
    this.#grad = keep(t);
  }

  /**
   * Whether a gradient was accumulated (or assigned) since the last zeroGrad(). Optimizers skip
   * the parameters without one, as PyTorch skips `grad is None`.
   */
  get hasGrad(): boolean {
    return this.#grad !== null;
  }

  get shape(): Shape {
    return this.#value.shape;
  }
  get backend(): Backend {
    return this.#value.backend;
  }

  /**
   * grad += g. The first gradient since zeroGrad() is taken as a view of g's storage (no copy:
   * storages are immutable, and the caller may still dispose g, or let its tidy scope do it).
   */
  accumulateGrad(g: Tensor): void {
    if (!shapesEqual(g.shape, this.#value.shape)) {
      throw new ShapeError('Parameter.accumulateGrad', 'gradient shape differs from the parameter', { value: this.#value.shape, grad: g.shape });
    }
    const b = this.#value.backend;
    if (!this.#grad) this.grad = b.reshape(g, g.shape);
    else this.grad = b.axpby(1, this.#grad, 1, g);
  }

  zeroGrad(): void {
    this.#grad?.dispose();
    this.#grad = null;
  }

  /** Moves value to another backend (gradients are dropped). Reads synchronously. */
  moveTo(backend: Backend): void {
    if (backend === this.backend) return;
    if (!this.backend.canReadSync) {
      throw new BackendError(`Parameter.to: ${this.backend.name} reads asynchronously; use await module.toAsync(backend)`);
    }
    const moved = keep(backend.tensor(this.#value.dataSync(), this.#value.shape));
    this.zeroGrad();
    this.#value.dispose();
    this.#value = moved;
  }

  async moveToAsync(backend: Backend): Promise<void> {
    if (backend === this.backend) return;
    const moved = keep(backend.tensor(await this.#value.data(), this.#value.shape));
    this.zeroGrad();
    this.#value.dispose();
    this.#value = moved;
  }

  dispose(): void {
    this.zeroGrad();
    this.#value.dispose();
  }
}

/** What `loadStateDict` did not match: keys the module has but the dict lacks, and the reverse. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** A state dict value: a tensor, or raw values with their shape (as read from a file). */
export type StateValue = Tensor | { shape: Shape; data: ArrayLike<number> };

/**
 * The seed's module: an explicit forward, and a backward split in two
 * (gradient of the parameters, delta to the previous module).
 */
export abstract class Module {
  training = true;
  readonly #params = new Map<string, Parameter>();
  readonly #children = new Map<string, Module>();

  /** Computes the output; keeps nothing that backward cannot recompute from `input`. */
  abstract forward(x: Tensor): Tensor;

  /** Accumulates dL/dparams into each parameter's grad (no-op for modules without parameters). */
  backwardUpdateGradient(_input: Tensor, _delta: Tensor): void {}

  /** dL/dinput, given dL/doutput. */
  abstract backwardDelta(input: Tensor, delta: Tensor): Tensor;

  /** params −= step · grads. */
  updateParameters(step: number): void {
    for (const p of this.parameters()) if (p.grad) p.value = p.backend.axpby(1, p.value, -step, p.grad);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  protected registerParameter(name: string, p: Parameter): Parameter {
    this.#params.set(name, p);
    return p;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** Every parameter with its dotted name, each shared parameter once (PyTorch's order). */
  namedParameters(prefix = '', seen = new Set<Parameter>()): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.#params) {
      if (seen.has(p)) continue;
      seen.add(p);
      out.push([prefix + n, p]);
    }
    for (const [n, m] of this.#children) out.push(...m.namedParameters(`${prefix}${n}.`, seen));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Dotted names → the live parameter tensors (not copies: do not dispose them). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedParameters().map(([n, p]) => [n, p.value]));
  }

  /**
   * Copies values into the parameters. Shapes must match; with `strict` (default) the keys
   * must match exactly. Every entry is checked before anything changes: a value that is not a
   * live tensor or `{ shape, data }` (null included), a shape or length that differs from the
   * parameter's, a non-number or a non-finite value (NaN, ±Infinity) makes it throw a ValueError
   * listing every problem, and then no parameter was changed.
   */
  loadStateDict(dict: Record<string, StateValue>, { strict = true }: { strict?: boolean } = {}): LoadStateDictResult {
    const owner = `${this.constructor.name}.loadStateDict`;
    if (dict == null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new ValueError(`${owner}: expected a { name: tensor or { shape, data } } record, got ${dict === null ? 'null' : Array.isArray(dict) ? 'an array' : typeof dict}`);
    }
    const own = new Map(this.namedParameters());
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(dict, k);
    const missingKeys = [...own.keys()].filter((k) => !has(k));
    const unexpectedKeys = Object.keys(dict).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    // host values are checked element by element; a tensor of the parameter's backend is copied on
    // the device (no read: its values are not inspected); a tensor of another backend is read, which
    // needs a backend that reads synchronously (else move it first, e.g. with `await t.data()`)
    const values = new Map<Parameter, Tensor | ArrayLike<number>>();
    for (const [k, p] of own) {
      if (!has(k)) continue;
      const v = dict[k] as unknown;
      const want = `[${p.shape.join(', ')}]`;
      if (v == null || typeof v !== 'object') {
        problems.push(`${k}: ${v === null ? 'null' : typeof v} is not a tensor or { shape, data }`);
        continue;
      }
      const isTensor = 'dataId' in v && typeof (v as Tensor).dataSync === 'function';
      const { shape, data } = v as { shape?: unknown; data?: unknown };
      if (!Array.isArray(shape)) {
        problems.push(`${k}: the value has no shape array`);
        continue;
      }
      if (!shapesEqual(shape as Shape, p.shape)) {
        problems.push(`${k}: shape [${(shape as unknown[]).join(', ')}] does not match the parameter's ${want}`);
        continue;
      }
      let arr: ArrayLike<number>;
      if (isTensor) {
        const t = v as Tensor;
        if (t.isDisposed) {
          problems.push(`${k}: the tensor was disposed`);
          continue;
        }
        if (t.backend === p.backend) {
          values.set(p, t);
          continue;
        }
        if (!t.backend.canReadSync) {
          problems.push(`${k}: it lives on ${t.backend.name}, which reads only asynchronously; pass await t.data() or move it first`);
          continue;
        }
        arr = t.dataSync();
      } else {
        if (data == null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
          problems.push(`${k}: data must be an array or a typed array of numbers, got ${data === null ? 'null' : typeof data}`);
          continue;
        }
        arr = data as ArrayLike<number>;
        if (arr.length !== p.value.size) {
          problems.push(`${k}: ${arr.length} values for shape ${want}`);
          continue;
        }
      }
      let bad = -1;
      for (let i = 0; i < arr.length; i++) {
        const x = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          bad = i;
          break;
        }
      }
      if (bad >= 0) {
        const x = arr[bad] as unknown;
        problems.push(`${k}: value ${bad} is ${typeof x === 'number' ? x : `${JSON.stringify(x) ?? String(x)} (${typeof x})`}, not a finite number`);
        continue;
      }
      values.set(p, arr);
    }
    if (problems.length) throw new ValueError(`${owner}: ${problems.join('; ')} (nothing was loaded)`);
    for (const [p, v] of values) p.value = 'dataId' in v ? (v as Tensor).clone() : p.backend.tensor(v, p.shape);
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.#children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter to `backend` (the source must read synchronously). */
  to(backend: Backend): this {
    for (const p of this.parameters()) p.moveTo(backend);
    this.onMove(backend);
    return this;
  }

  /** Moves every parameter to `backend`, from any backend. */
  async toAsync(backend: Backend): Promise<this> {
    for (const p of this.parameters()) await p.moveToAsync(backend);
    this.onMove(backend);
    return this;
  }

  /** Hook for modules that hold a backend reference. */
  protected onMove(backend: Backend): void {
    for (const m of this.#children.values()) m.onMove(backend);
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }

  /** One line for this module's own settings (used by toString). */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!this.#children.size) return `${head})`;
    const lines = [...this.#children].map(([n, m]) => `  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

/** The seed's loss: forward gives the loss, backward dLoss/dŷ (of the reduced loss). */
export interface Loss {
  forward(y: Tensor, yhat: Tensor): Tensor;
  backward(y: Tensor, yhat: Tensor): Tensor;
  /**
   * Checks targets on the host, where they enter (`fit` and `evaluate` call it once per dataset,
   * with the predictions' shape for that many samples): throws a ValueError or ShapeError naming
   * the first bad value. forward/backward never read the device to check.
   */
  checkTargets?(y: HostTensor, yhatShape: Shape): void;
  /** Checks predictions on the host (`fit` and `evaluate` call it on the first batch's); same contract. */
  checkPredictions?(yhat: HostTensor): void;
}

/** An optimizer over a list of parameters. */
export interface Optimizer {
  readonly params: readonly Parameter[];
  zeroGrad(): void;
  step(): void;
  stateDict(): Record<string, unknown>;
  loadStateDict?(dict: Record<string, unknown>): void;
  /** The learning rate, settable between steps (schedules). */
  lr?: number;
}
