import type { Backend } from './backend';
import { BackendError, ShapeError, StateError, ValueError } from './errors';
import { checkOptions } from './options';
import { keep } from './scope';
import { shapesEqual } from './shape';
import type { Shape } from './shape';
import { valueProblem } from './values';
import type { HostTensor } from './dataset';
import type { Tensor } from './tensor';
import { isTensor } from './tensor';

/** A trainable tensor and its accumulated gradient. Owns both: replacing one disposes the old. */
export class Parameter {
  /** false freezes the parameter: backward accumulates no gradient into it, so optimizers skip it. */
  requiresGrad = true;
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
    if (!this.requiresGrad) return;
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

/** What a forward saved for its backward: the input it saw, the record, and the parameter values then. */
interface Saved {
  input: Tensor;
  record: object;
  tensors: Tensor[];
  owned: Tensor[];
  params: Tensor[];
}

const isTensorValue = isTensor;

/** One entry of a module's state (a parameter or a buffer) as stateDict and loadStateDict see it. */
interface StateSlot {
  readonly kind: 'parameter' | 'buffer';
  readonly value: Tensor;
  set(t: Tensor): void;
}

/**
 * The seed's module: an explicit forward, and a backward split in two (gradient of the
 * parameters, delta to the previous module).
 *
 * **State.** A module's parameters, buffers (state that is saved and moved but not trained, e.g.
 * BatchNorm's `running_mean`) and children form one registry. Parameters and modules assigned as
 * fields (`this.fc = new Linear(...)`, arrays of modules as `fc.0`, `fc.1`) are found without
 * registration, as PyTorch's `__setattr__` finds them; `registerParameter`, `registerModule` and
 * `registerBuffer` name them explicitly. `namedParameters`, `namedBuffers`, `stateDict`,
 * `loadStateDict`, `to`, `toAsync`, `train`/`eval` and `dispose` all walk it.
 *
 * **Forward saves, backward consumes.** A forward that computes something its backward needs
 * (an activation's output, im2col patches, a random mask, batch statistics) hands it to
 * `saveForBackward(x, record)`; `backwardUpdateGradient(x, δ)` and `backwardDelta(x, δ)` read it
 * back with `saved(x)` (or `savedOrThrow`), in either order. Nothing is kept: the saved tensors
 * belong to the scope that ran the forward (`Optim.step`, `fit`, the caller's `tidy`) and are freed
 * with it. A module whose backward is a function of its input alone recomputes on a miss; one
 * whose forward draws or accumulates something (`statefulForward`) refuses with a `StateError`.
 */
export abstract class Module {
  /** Training mode (`train()`), or evaluation mode (`eval()`): read by forward. */
  training = true;
  readonly #params = new Map<string, Parameter>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();
  #saved: Saved | null = null;

  /** Computes the output; saves what backward needs with `saveForBackward`. */
  abstract forward(x: Tensor): Tensor;

  /** Accumulates dL/dparams into each parameter's grad (no-op for modules without parameters). */
  backwardUpdateGradient(_input: Tensor, _delta: Tensor): void {}

  /** dL/dinput, given dL/doutput. */
  abstract backwardDelta(input: Tensor, delta: Tensor): Tensor;

  /**
   * Whether backward can only follow this module's own forward on the same input (in the current
   * mode): true for a module that draws (Dropout) or accumulates (BatchNorm) in forward, and for a
   * container holding one. Such a backward never re-runs a forward; it throws a StateError instead.
   */
  get statefulForward(): boolean {
    return this.children().some((m) => m.statefulForward);
  }

  /**
   * Records what backward needs from this forward on `input`: a record of tensors (and numbers).
   * The record replaces the previous one. `owned` lists the tensors of the record that only this
   * module holds (im2col patches, a mask, intermediates; never the input or the returned output):
   * they are freed when the record is replaced or cleared (`eval()`, `to()`, `dispose()`), or
   * earlier by the scope that ran the forward (`Optim.step`, `fit`, the caller's `tidy`), whichever
   * comes first — so a loop without `tidy` holds at most one step of them. Return them from an
   * inner `tidy` together with the output so that they reach the caller's scope.
   */
  protected saveForBackward(input: Tensor, record: object = {}, owned: readonly Tensor[] = []): void {
    this.#dropSaved();
    const tensors: Tensor[] = [];
    for (const v of Object.values(record)) {
      if (isTensorValue(v)) tensors.push(v);
      else if (Array.isArray(v)) tensors.push(...v.filter(isTensorValue));
    }
    this.#saved = { input, record, tensors, owned: [...owned], params: this.parameters().map((p) => p.value) };
  }

  #dropSaved(): void {
    for (const t of this.#saved?.owned ?? []) t.dispose();
    this.#saved = null;
  }

  /**
   * The record the last forward saved, when it ran on exactly this `input` tensor, nothing in it was
   * freed since and no parameter changed; else undefined.
   */
  protected saved<R extends object>(input: Tensor): R | undefined {
    return this.#whyNotSaved(input) ? undefined : (this.#saved!.record as R);
  }

  /** `saved(input)`, or a StateError naming the module, `op` and why there is no record. */
  protected savedOrThrow<R extends object>(input: Tensor, op: string): R {
    const why = this.#whyNotSaved(input);
    if (why) throw new StateError(`${this.constructor.name}.${op}: ${why}; run forward(x) and then backward with that same x, within the same tidy scope`);
    return this.#saved!.record as R;
  }

  #whyNotSaved(input: Tensor): string | null {
    const s = this.#saved;
    if (!s) return 'no forward was run (or its state was cleared)';
    if (s.input !== input) return 'this input is not the one the last forward saw';
    if (input.isDisposed || s.tensors.some((t) => t.isDisposed)) return "the last forward's saved state was freed (its tidy scope ended)";
    const params = this.parameters();
    if (params.length !== s.params.length || params.some((p, i) => p.value !== s.params[i])) return 'a parameter changed since the last forward';
    return null;
  }

  /** Forgets what the forwards of this module and its descendants saved. */
  clearSaved(): void {
    for (const m of this.modules()) m.#dropSaved();
  }

  /** params −= step · grads. */
  updateParameters(step: number): void {
    for (const p of this.parameters()) if (p.grad) p.value = p.backend.axpby(1, p.value, -step, p.grad);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  #checkName(op: string, name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) throw new ValueError(`${this.constructor.name}.${op}: a name must be a non-empty string without '.', got ${String(name)}`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) throw new ValueError(`${this.constructor.name}.${op}: '${name}' is already registered`);
  }

  /** Names a parameter (parameters assigned as fields are found without it). */
  protected registerParameter(name: string, p: Parameter): Parameter {
    this.#checkName('registerParameter', name);
    if (!(p instanceof Parameter)) throw new ValueError(`${this.constructor.name}.registerParameter: '${name}' must be a Parameter, got ${String(p)}`);
    this.#params.set(name, p);
    return p;
  }

  /** Names a child module (modules assigned as fields are found without it). */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.#checkName('registerModule', name);
    if (!(m instanceof Module)) throw new ValueError(`${this.constructor.name}.registerModule: '${name}' must be a Module, got ${String(m)}`);
    this.#children.set(name, m);
    return m;
  }

  /**
   * Adds a buffer: state that `stateDict`, checkpoints, `to` and `dispose` handle like a parameter
   * but that is not trained (PyTorch's `register_buffer`: BatchNorm's `running_mean`). The module
   * keeps the tensor (no tidy scope frees it); replace it with `setBuffer`.
   */
  registerBuffer(name: string, t: Tensor): Tensor {
    this.#checkName('registerBuffer', name);
    if (!isTensorValue(t)) throw new ValueError(`${this.constructor.name}.registerBuffer: '${name}' must be a Tensor, got ${String(t)}`);
    this.#buffers.set(name, keep(t));
    return t;
  }

  /** The buffer registered as `name`. */
  buffer(name: string): Tensor {
    const t = this.#buffers.get(name);
    if (!t) throw new ValueError(`${this.constructor.name}.buffer: no buffer named '${name}' (buffers: ${[...this.#buffers.keys()].join(', ') || 'none'})`);
    return t;
  }

  /** Replaces buffer `name` by `t` (same shape), keeping `t` and freeing the old value. */
  setBuffer(name: string, t: Tensor): void {
    const old = this.buffer(name);
    if (t === old) return;
    if (!isTensorValue(t)) throw new ValueError(`${this.constructor.name}.setBuffer: '${name}' must be a Tensor, got ${String(t)}`);
    if (!shapesEqual(t.shape, old.shape)) throw new ShapeError(`${this.constructor.name}.setBuffer`, `buffer '${name}' keeps its shape`, { old: old.shape, new: t.shape });
    this.#buffers.set(name, keep(t));
    old.dispose();
  }

  /** Own parameters and children: the registered ones, then those found in fields (by identity, once). */
  #own(): { params: [string, Parameter][]; children: [string, Module][] } {
    const params = [...this.#params];
    const children = [...this.#children];
    const known = new Set<unknown>([...this.#params.values(), ...this.#children.values(), this]);
    const add = (k: string, v: unknown): void => {
      if (known.has(v)) return;
      if (v instanceof Parameter) params.push([k, v]);
      else if (v instanceof Module) children.push([k, v]);
      else return;
      known.add(v);
    };
    for (const [k, v] of Object.entries(this)) {
      if (Array.isArray(v)) v.forEach((x, i) => add(`${k}.${i}`, x));
      else add(k, v);
    }
    return { params, children };
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return this.#own().children;
  }

  /** Direct sub-modules. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant with its dotted name (this one is ''), each once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n, seen));
    return out;
  }

  /** This module and every descendant. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name, each shared parameter once (PyTorch's order). */
  namedParameters(prefix = ''): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [n, p] of m.#own().params) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix + (path ? `${path}.` : '') + n, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    return this.#slots()
      .filter(([, s]) => s.kind === 'buffer')
      .map(([n, s]) => [n, s.value]);
  }

  /** Parameters and buffers in PyTorch's state_dict order: each module's own parameters, then its buffers. */
  #slots(): [string, StateSlot][] {
    const seen = new Set<Parameter>();
    const out: [string, StateSlot][] = [];
    for (const [path, m] of this.namedModules()) {
      const at = (n: string): string => (path ? `${path}.${n}` : n);
      for (const [n, p] of m.#own().params) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([at(n), { kind: 'parameter', get value() { return p.value; }, set: (t) => (p.value = t) }]);
      }
      for (const n of m.#buffers.keys()) out.push([at(n), { kind: 'buffer', get value() { return m.buffer(n); }, set: (t) => m.setBuffer(n, t) }]);
    }
    return out;
  }

  /** Dotted names → the live parameter and buffer tensors (not copies: do not dispose them). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.#slots().map(([n, s]) => [n, s.value]));
  }

  /**
   * Copies values into the parameters and buffers. Shapes must match; with `strict` (default) the
   * keys must match exactly. Every entry is checked before anything changes: a value that is not a
   * live tensor or `{ shape, data }` (null included), a shape or length that differs from the
   * parameter's, a non-number, a non-finite value (NaN, ±Infinity) or one beyond a float32
   * entry's range (a float64 value that would become ±Infinity) makes it throw a ValueError
   * listing every problem, and then nothing was changed.
   */
  loadStateDict(dict: Record<string, StateValue>, options: { strict?: boolean } = {}): LoadStateDictResult {
    const owner = `${this.constructor.name}.loadStateDict`;
    const { strict = true } = checkOptions(owner, options ?? undefined, { strict: 'boolean' }) ?? {};
    if (dict == null || typeof dict !== 'object' || Array.isArray(dict)) {
      throw new ValueError(`${owner}: expected a { name: tensor or { shape, data } } record, got ${dict === null ? 'null' : Array.isArray(dict) ? 'an array' : typeof dict}`);
    }
    const own = new Map(this.#slots().map(([n, s]) => [n, s]));
    const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(dict, k);
    const missingKeys = [...own.keys()].filter((k) => !has(k));
    const unexpectedKeys = Object.keys(dict).filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    // host values are checked element by element; a tensor of the slot's backend is copied on
    // the device (no read: its values are not inspected); a tensor of another backend is read, which
    // needs a backend that reads synchronously (else move it first, e.g. with `await t.data()`)
    const values = new Map<StateSlot, Tensor | ArrayLike<number>>();
    for (const [k, slot] of own) {
      if (!has(k)) continue;
      const v = dict[k] as unknown;
      const cur = slot.value;
      const want = `[${cur.shape.join(', ')}]`;
      if (v == null || typeof v !== 'object') {
        problems.push(`${k}: ${v === null ? 'null' : typeof v} is not a tensor or { shape, data }`);
        continue;
      }
      const { shape, data } = v as { shape?: unknown; data?: unknown };
      if (!Array.isArray(shape)) {
        problems.push(`${k}: the value has no shape array`);
        continue;
      }
      if (!shapesEqual(shape as Shape, cur.shape)) {
        problems.push(`${k}: shape [${(shape as unknown[]).join(', ')}] does not match the ${slot.kind}'s ${want}`);
        continue;
      }
      let arr: ArrayLike<number>;
      if (isTensorValue(v)) {
        if (v.isDisposed) {
          problems.push(`${k}: the tensor was disposed`);
          continue;
        }
        if (v.backend === cur.backend) {
          values.set(slot, v);
          continue;
        }
        if (!v.backend.canReadSync) {
          problems.push(`${k}: it lives on ${v.backend.name}, which reads only asynchronously; pass await t.data() or move it first`);
          continue;
        }
        arr = v.dataSync();
      } else {
        if (data == null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
          problems.push(`${k}: data must be an array or a typed array of numbers, got ${data === null ? 'null' : typeof data}`);
          continue;
        }
        arr = data as ArrayLike<number>;
        if (arr.length !== cur.size) {
          problems.push(`${k}: ${arr.length} values for shape ${want}`);
          continue;
        }
      }
      const bad = valueProblem(arr, cur.backend.dtype); // non-finite, or beyond a float32 entry's range
      if (bad) {
        problems.push(`${k}: ${bad}`);
        continue;
      }
      values.set(slot, arr);
    }
    if (problems.length) throw new ValueError(`${owner}: ${problems.join('; ')} (nothing was loaded)`);
    for (const [slot, v] of values) slot.set(isTensorValue(v) ? v.clone() : slot.value.backend.tensor(v, slot.value.shape));
    this.clearSaved();
    return { missingKeys, unexpectedKeys };
  }

  /** Training mode (default) or evaluation mode, for this module and every descendant. */
  train(mode = true): this {
    if (this.training !== mode) this.#dropSaved(); // a record of the other mode is not what backward should see
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Moves every parameter and buffer to `backend` (the source must read synchronously). */
  to(backend: Backend): this {
    for (const p of this.parameters()) p.moveTo(backend);
    for (const m of this.modules()) {
      for (const [n, t] of m.#buffers) {
        if (t.backend === backend) continue;
        if (!t.backend.canReadSync) throw new BackendError(`${this.constructor.name}.to: ${t.backend.name} reads asynchronously; use await module.toAsync(backend)`);
        m.#moveBuffer(n, backend.tensor(t.dataSync(), t.shape));
      }
    }
    this.clearSaved();
    this.onMove(backend);
    return this;
  }

  /** Moves every parameter and buffer to `backend`, from any backend. */
  async toAsync(backend: Backend): Promise<this> {
    for (const p of this.parameters()) await p.moveToAsync(backend);
    for (const m of this.modules()) {
      for (const [n, t] of m.#buffers) if (t.backend !== backend) m.#moveBuffer(n, backend.tensor(await t.data(), t.shape));
    }
    this.clearSaved();
    this.onMove(backend);
    return this;
  }

  #moveBuffer(name: string, t: Tensor): void {
    const old = this.#buffers.get(name)!;
    this.#buffers.set(name, keep(t));
    old.dispose();
  }

  /** Hook for modules that hold a backend reference. */
  protected onMove(backend: Backend): void {
    for (const m of this.children()) m.onMove(backend);
  }

  /** Frees every parameter and buffer (of the descendants too). */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const m of this.modules()) for (const t of m.#buffers.values()) t.dispose();
    this.clearSaved();
  }

  /** One line for this module's own settings (used by toString). */
  protected extraRepr(): string {
    return '';
  }

  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    const children = this.namedChildren();
    if (!children.length) return `${head})`;
    const lines = children.map(([n, m]) => `  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
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
