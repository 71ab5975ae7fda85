import { ShapeError, ValueError, isTensor, keep, shapesEqual } from '@neurone/core';
import type { Optimizer, Parameter, Shape, StateValue, Tensor } from '@neurone/core';

/** Something that holds parameters: a list, or a Module (anything with `parameters()`). */
export type ParamsInput = readonly Parameter[] | { parameters(): Parameter[] };

/** One state tensor's values as host data (as read from a file). */
export interface StateTensor {
  shape: Shape;
  data: ArrayLike<number>;
}

/**
 * An optimizer's state: its kind, hyper-parameters, step count, and per parameter index
 * (position in `params`) the named state tensors (`momentumBuffer`, `expAvg`, `expAvgSq`) —
 * the live tensors, as `Module.stateDict()` gives its parameters (do not dispose them; they
 * change at the next step). Serialising reads them (`toBytes`, `save`).
 */
export type OptimizerStateDict = {
  type: string;
  hyper: Record<string, number | boolean | number[]>;
  step: number;
  /** Per parameter index, the steps that updated it (fewer than `step` where it had no gradient). */
  paramSteps?: Record<string, number>;
  state: Record<string, Record<string, Tensor>>;
};

/** The same, as `loadStateDict()` accepts it: state values may also be tensors. */
export type OptimizerStateDictInput = {
  type: string;
  hyper: Record<string, number | boolean | number[]>;
  step: number;
  paramSteps?: Record<string, number>;
  state: Record<string, Record<string, StateValue>>;
};

function resolveParams(owner: string, input: ParamsInput): Parameter[] {
  const list = Array.isArray(input)
    ? (input as readonly Parameter[])
    : typeof (input as { parameters?: unknown }).parameters === 'function'
      ? (input as { parameters(): Parameter[] }).parameters()
      : null;
  if (!list) throw new ValueError(`${owner}: params must be a Parameter[] or a Module, got ${String(input)}`);
  const unique = [...new Set(list)];
  if (unique.length === 0) throw new ValueError(`${owner}: got an empty parameter list`);
  return unique;
}

/** Checks a hyper-parameter: finite and ≥ min (and < max when given). */
export function checkHyper(owner: string, name: string, v: number, min = 0, maxExclusive?: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (maxExclusive !== undefined && v >= maxExclusive)) {
    const range = maxExclusive === undefined ? `≥ ${min}` : `in [${min}, ${maxExclusive})`;
    throw new ValueError(`${owner}: ${name} must be a finite number ${range}, got ${String(v)}`);
  }
  return v;
}

/**
 * What SGD and Adam share: the parameter list, a settable learning rate, the step count,
 * the state tensors (kept out of `tidy` scopes with `keep()`, disposed when replaced) and
 * their (de)serialisation.
 */
export abstract class BaseOptimizer implements Optimizer {
  readonly params: readonly Parameter[];
  #lr: number;
  #steps = 0;
  /** Per parameter index, how many steps updated it (Adam's bias correction counts these). */
  #paramSteps: number[];
  /** Per parameter index, the named state tensors. */
  readonly #state = new Map<number, Map<string, Tensor>>();

  protected constructor(params: ParamsInput, lr: number) {
    this.params = resolveParams(this.constructor.name, params);
    this.#lr = checkHyper(this.constructor.name, 'lr', lr);
    this.#paramSteps = this.params.map(() => 0);
  }

  /** The learning rate; settable between steps (schedules). */
  get lr(): number {
    return this.#lr;
  }
  set lr(v: number) {
    this.#lr = checkHyper(this.constructor.name, 'lr', v);
  }

  /** Number of `step()` calls so far. */
  get steps(): number {
    return this.#steps;
  }

  /** Forgets every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /**
   * One update of every parameter from its gradient. A parameter with no gradient since the
   * last `zeroGrad()` (frozen, or outside this step's graph) is left alone, state included, as
   * PyTorch skips `grad is None`.
   */
  step(): void {
    this.#steps++;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      if (!p.hasGrad) continue;
      this.update(i, p, ++this.#paramSteps[i]!);
    }
  }

  /** Updates parameter `p` (index `i`); `t` counts the steps that updated it, this one included. */
  protected abstract update(i: number, p: Parameter, t: number): void;

  /** The hyper-parameters, as stored in the state dict (lr included). */
  protected abstract hyper(): Record<string, number | boolean | number[]>;

  /**
   * Validates hyper-parameters (as given to the constructor or found in a state dict) and
   * returns a function that applies them; throws a ValueError before anything changes.
   */
  protected abstract parseHyper(h: Record<string, unknown>): () => void;

  /** The names of the state tensors a parameter may have. */
  protected abstract stateKeys(): readonly string[];

  protected getState(i: number, key: string): Tensor | undefined {
    return this.#state.get(i)?.get(key);
  }

  /** Stores `t` as parameter i's `key` state (kept), disposing the tensor it replaces. */
  protected setState(i: number, key: string, t: Tensor): void {
    let m = this.#state.get(i);
    if (!m) this.#state.set(i, (m = new Map()));
    const old = m.get(key);
    m.set(key, keep(t));
    if (old && old !== t) old.dispose();
  }

  #clearState(): void {
    for (const m of this.#state.values()) for (const t of m.values()) t.dispose();
    this.#state.clear();
  }

  /** Hyper-parameters, step count and the state tensors (live, not copies) by parameter index; no device read. */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    for (const [i, m] of [...this.#state].sort((a, b) => a[0] - b[0])) state[String(i)] = Object.fromEntries(m);
    const paramSteps: Record<string, number> = {};
    this.#paramSteps.forEach((n, i) => {
      if (n !== this.#steps) paramSteps[String(i)] = n;
    });
    return { type: this.constructor.name, hyper: this.hyper(), step: this.#steps, ...(Object.keys(paramSteps).length ? { paramSteps } : {}), state };
  }

  /**
   * Restores hyper-parameters (lr included, as PyTorch does), the step count and the state
   * tensors. Everything is checked first: on an error nothing changes. State values may be
   * tensors (copied on the device when they live on the parameter's backend, read otherwise) or
   * `{ shape, data }`; they are copied onto each parameter's backend.
   */
  loadStateDict(dict: OptimizerStateDictInput): void {
    const name = this.constructor.name;
    const fail = (why: string): never => {
      throw new ValueError(`${name}.loadStateDict: ${why} (nothing was loaded)`);
    };
    if (dict == null || typeof dict !== 'object') fail(`expected a state dict object, got ${String(dict)}`);
    if (dict.type !== name) fail(`the dict is for ${String(dict.type)}, not ${name}`);
    if (!Number.isInteger(dict.step) || dict.step < 0) fail(`step must be a non-negative integer, got ${String(dict.step)}`);
    if (dict.hyper == null || typeof dict.hyper !== 'object') fail('hyper is missing');
    let applyHyper: () => void = () => {};
    try {
      applyHyper = this.parseHyper(dict.hyper);
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    }
    const paramSteps = this.params.map(() => dict.step);
    for (const [key, n] of Object.entries(dict.paramSteps ?? {})) {
      const i = Number(key);
      if (!Number.isInteger(i) || i < 0 || i >= this.params.length) fail(`paramSteps index ${key} is outside the ${this.params.length} parameters`);
      if (!Number.isInteger(n) || n < 0 || n > dict.step) fail(`paramSteps[${key}] must be an integer in [0, ${dict.step}], got ${String(n)}`);
      paramSteps[i] = n;
    }
    const loads: [number, string, StateValue][] = [];
    const stateDict = (dict.state ?? {}) as unknown;
    if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) fail(`state must be a { index: { name: values } } object, got ${stateDict === null ? 'null' : typeof stateDict}`);
    for (const [key, entry] of Object.entries(stateDict as Record<string, unknown>)) {
      const i = Number(key);
      if (!/^\d+$/.test(key) || i >= this.params.length) {
        fail(`state index ${key} is outside the ${this.params.length} parameters`);
      }
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(`state ${key} must be a { name: values } object, got ${entry === null ? 'null' : typeof entry}`);
      const p = this.params[i]!;
      for (const [k, v0] of Object.entries(entry as Record<string, unknown>)) {
        if (!this.stateKeys().includes(k)) fail(`unknown state '${k}' for parameter ${i} (expected ${this.stateKeys().join(', ')})`);
        if (v0 === null || typeof v0 !== 'object') fail(`state ${i}.${k} must be a tensor or { shape, data }, got ${v0 === null ? 'null' : typeof v0}`);
        const v = v0 as StateValue;
        if (!Array.isArray(v.shape)) fail(`state ${i}.${k} has no shape`);
        if (!shapesEqual(v.shape, p.shape)) {
          const e = new ShapeError(`${name}.loadStateDict`, `state ${i}.${k} does not match its parameter`, { state: v.shape, parameter: p.shape });
          fail(e.message);
        }
        if (isTensor(v)) {
          if ((v as Tensor).isDisposed) fail(`state ${i}.${k}: the tensor was disposed`);
          if (!(v as Tensor).backend.canReadSync && (v as Tensor).backend !== p.backend) {
            fail(`state ${i}.${k} lives on ${(v as Tensor).backend.name}, which reads only asynchronously; pass await t.data() instead`);
          }
        } else {
          const data = (v as { data?: unknown }).data as ArrayLike<unknown> | null | undefined;
          if (data == null || typeof data !== 'object' || typeof data.length !== 'number') fail(`state ${i}.${k}: data must be an array or a typed array of numbers`);
          if (data!.length !== p.value.size) fail(`state ${i}.${k}: ${data!.length} values for shape [${p.shape.join(', ')}]`);
          for (let j = 0; j < data!.length; j++) {
            const x = data![j];
            if (typeof x !== 'number' || !Number.isFinite(x)) fail(`state ${i}.${k}: value ${j} is ${typeof x === 'number' ? x : JSON.stringify(x) ?? String(x)}, not a finite number`);
          }
        }
        loads.push([i, k, v]);
      }
    }
    // every check passed: build the new state tensors first (a failure here changes nothing) …
    const built: [number, string, Tensor][] = [];
    try {
      for (const [i, k, v] of loads) {
        const p = this.params[i]!;
        const t = isTensor(v) ? (v.backend === p.backend ? v.clone() : p.backend.tensor(v.dataSync(), p.shape)) : p.backend.tensor(v.data, p.shape);
        built.push([i, k, keep(t)]);
      }
    } catch (e) {
      for (const [, , t] of built) t.dispose();
      fail(e instanceof Error ? e.message : String(e));
    }
    // … then swap them in
    applyHyper();
    this.#clearState();
    for (const [i, k, t] of built) this.setState(i, k, t);
    this.#steps = dict.step;
    this.#paramSteps = paramSteps;
  }

  /** Frees the state tensors (the parameters are not touched). */
  dispose(): void {
    this.#clearState();
  }
}
