import { Parameter, ShapeError, ValueError, checkOptions, isTensor, keep, optimizerUpdate, shapesEqual, valueProblem } from '@neurone/core';
import type { Module, Optimizer, Shape, StateValue, Tensor, UpdateRule } from '@neurone/core';

/** Something that holds parameters: a list, or a Module (anything with `parameters()`). */
export type ParamsList = readonly Parameter[] | { parameters(): Parameter[] };

/** A parameter group as PyTorch writes it: its parameters and the hyper-parameters it overrides. */
export type ParamGroupInput<O = Record<string, unknown>> = { params: ParamsList } & Partial<O>;

/** What an optimizer takes: parameters, a Module, or PyTorch-style parameter groups `[{ params, lr, … }]`. */
export type ParamsInput<O = Record<string, unknown>> = ParamsList | readonly ParamGroupInput<O>[];

/** One parameter group: its parameters and its hyper-parameters (PyTorch's `param_groups` entry). */
export type ParamGroup<H extends object = Record<string, unknown>> = H & { readonly params: readonly Parameter[] };

/** Hyper-parameter values, as stored in a state dict. */
export type Hyper = Record<string, number | boolean | number[]>;

/** Anything with a settable learning rate (every optimizer here; what schedulers and `fit` use). */
export interface HasLr {
  lr: number;
  /** Per-group hyper-parameters, when the optimizer has groups (schedulers set each group's lr). */
  readonly paramGroups?: readonly { lr: number }[];
}

/** Whether `o` has a numeric learning rate. */
export const hasLr = (o: unknown): o is HasLr => o != null && typeof (o as { lr?: unknown }).lr === 'number';

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v !== 'object' ? `the ${typeof v} ${String(v)}` : `a ${v.constructor?.name ?? 'object'}`;

/** The parameters of a list or a Module, checked (each a Parameter), each once. */
export function paramList(owner: string, input: unknown): Parameter[] {
  const list = Array.isArray(input) ? input : typeof (input as { parameters?: unknown })?.parameters === 'function' ? (input as Module).parameters() : null;
  if (!list) throw new ValueError(`${owner}: params must be a Parameter[], a Module or [{ params, … }] groups, got ${describe(input)}`);
  list.forEach((p: unknown, i) => {
    if (!(p instanceof Parameter)) {
      const hint = typeof (p as { parameters?: unknown })?.parameters === 'function' ? ' (pass module.parameters(), or the module itself)' : '';
      throw new ValueError(`${owner}: params[${i}] is ${describe(p)}, not a Parameter${hint}`);
    }
  });
  return [...new Set(list as Parameter[])];
}

/** Splits the input into groups: a list of `{ params }` objects, or one group of every parameter. */
function groupInputs(owner: string, input: unknown): [Parameter[], Record<string, unknown>][] {
  const isGroup = (g: unknown): g is { params: unknown } => g !== null && typeof g === 'object' && !(g instanceof Parameter) && 'params' in g;
  if (!Array.isArray(input) || !input.some(isGroup)) return [[paramList(owner, input), {}]];
  return input.map((g: unknown, i) => {
    if (!isGroup(g)) throw new ValueError(`${owner}: param group ${i} is ${describe(g)}, not a { params, … } object (mix no Parameters with groups)`);
    const { params, ...rest } = g;
    return [paramList(`${owner}: param group ${i}`, params), rest];
  });
}

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
  /** The defaults (the constructor's options). */
  hyper: Hyper;
  /** Each parameter group's hyper-parameters and parameter indices (PyTorch's `param_groups`). */
  groups: (Hyper & { params: number[] })[];
  step: number;
  /** Per parameter index, the steps that updated it (fewer than `step` where it had no gradient). */
  paramSteps?: Record<string, number>;
  state: Record<string, Record<string, Tensor>>;
};

/** The same, as `loadStateDict()` accepts it: state values may also be tensors. */
export type OptimizerStateDictInput = {
  type: string;
  hyper: Hyper;
  groups?: (Hyper & { params?: number[] })[];
  step: number;
  paramSteps?: Record<string, number>;
  state: Record<string, Record<string, StateValue>>;
};

const copyHyper = <T extends Hyper>(h: T): T => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as T;

/** Checks a hyper-parameter: finite and ≥ min (and < max when given). */
export function checkHyper(owner: string, name: string, v: number, min = 0, maxExclusive?: number): number {
  if (v === undefined) throw new ValueError(`${owner}: ${name} is required`);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (maxExclusive !== undefined && v >= maxExclusive)) {
    const range = maxExclusive === undefined ? `≥ ${min}` : `in [${min}, ${maxExclusive})`;
    throw new ValueError(`${owner}: ${name} must be a finite number ${range}, got ${String(v)}`);
  }
  return v;
}

/**
 * What every optimizer shares: parameter groups with their hyper-parameters (validated by the
 * subclass's `parseHyper`), the step count, the state tensors (kept out of `tidy` scopes with
 * `keep()`, disposed when replaced) and their (de)serialisation. Parameters are indexed in group
 * order, as PyTorch does.
 */
export abstract class BaseOptimizer<H extends object = Record<string, unknown>> implements Optimizer {
  /** Every parameter, in group order. */
  readonly params: readonly Parameter[];
  /** The parameter groups, each with its hyper-parameters (edit them between steps, as in PyTorch). */
  readonly paramGroups: ParamGroup<H>[];
  /** The constructor's options with their defaults: what a group does not set. */
  defaults: H;
  #steps = 0;
  /** Per parameter index, how many steps updated it (Adam's bias correction counts these). */
  #paramSteps: number[];
  /** Per parameter index, the named state tensors. */
  readonly #state = new Map<number, Map<string, Tensor>>();

  /**
   * `keys`: the option names; `options` the user's (checked: unknown names and wrong types are
   * ValueErrors); each group's own options override them. A hyper-parameter without a default
   * (SGD's lr) must be given in the options or in every group.
   */
  protected constructor(params: ParamsInput, options: unknown, keys: readonly string[]) {
    const name = this.constructor.name;
    checkOptions(name, options ?? undefined, keys);
    const defaults = { ...(options as object) } as Record<string, unknown>;
    const groups = groupInputs(name, params);
    const seen = new Set<Parameter>();
    this.paramGroups = groups.map(([ps, own], i) => {
      const owner = groups.length > 1 ? `${name} (param group ${i})` : name;
      checkOptions(owner, own, keys);
      if (ps.length === 0) throw new ValueError(`${owner}: got an empty parameter list`);
      for (const p of ps) {
        if (seen.has(p)) throw new ValueError(`${name}: a parameter appears in more than one parameter group`);
        seen.add(p);
      }
      return { ...this.parseHyper(owner, { ...defaults, ...own }), params: ps };
    });
    this.defaults = this.parseHyper(name, { lr: (this.paramGroups[0] as Hyper).lr, ...defaults }); // SGD's lr may come from the groups alone
    this.params = this.paramGroups.flatMap((g) => g.params);
    this.#paramSteps = this.params.map(() => 0);
  }

  /** The learning rate of the first group; setting it sets every group's (schedules set each group's). */
  get lr(): number {
    return (this.paramGroups[0] as Hyper).lr as number;
  }
  set lr(v: number) {
    checkHyper(this.constructor.name, 'lr', v);
    for (const g of this.paramGroups) (g as Hyper).lr = v;
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
   * One update of every parameter from its gradient, with its group's hyper-parameters. A
   * parameter with no gradient since the last `zeroGrad()` (frozen, `requiresGrad = false`, or
   * outside this step's graph) is left alone, state included, as PyTorch skips `grad is None`.
   */
  step(): void {
    this.#steps++;
    let i = 0;
    for (const g of this.paramGroups) {
      const h = this.parseHyper(this.constructor.name, g); // a group edited by hand is checked too
      for (const p of g.params) {
        if (p.hasGrad) this.update(i, p, ++this.#paramSteps[i]!, h);
        i++;
      }
    }
  }

  /** Updates parameter `p` (index `i`) with hyper-parameters `h`; `t` counts the steps that updated it, this one included. */
  protected abstract update(i: number, p: Parameter, t: number, h: H): void;

  /**
   * Validates hyper-parameters (the options, a group, or a state dict's), fills in the defaults
   * and returns them; throws a ValueError naming `owner` and the option.
   */
  protected abstract parseHyper(owner: string, h: Record<string, unknown>): H;

  /** The names of the state tensors a parameter may have. */
  protected abstract stateKeys(): readonly string[];

  protected getState(i: number, key: string): Tensor | undefined {
    return this.#state.get(i)?.get(key);
  }

  /** p's step as one `optimizerUpdate` of `rule` with its state under `keys` (absent before the first step), the new value and state stored. */
  protected apply(i: number, p: Parameter, rule: UpdateRule, keys: readonly string[], h: readonly number[]): void {
    const [value, ...state] = optimizerUpdate(rule, p.value, p.grad!, keys.map((k) => this.getState(i, k) ?? null), h);
    p.value = value!;
    keys.forEach((k, j) => this.setState(i, k, state[j]!));
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

  /**
   * The defaults (`hyper`), each group's hyper-parameters with its parameter indices (`groups`,
   * PyTorch's `param_groups`), the step count and the state tensors (live, not copies) by
   * parameter index; no device read.
   */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    for (const [i, m] of [...this.#state].sort((a, b) => a[0] - b[0])) state[String(i)] = Object.fromEntries(m);
    const paramSteps: Record<string, number> = {};
    this.#paramSteps.forEach((n, i) => {
      if (n !== this.#steps) paramSteps[String(i)] = n;
    });
    let next = 0;
    const groups = this.paramGroups.map(({ params, ...h }) => ({ ...copyHyper(h as Hyper), params: params.map(() => next++) }));
    return { type: this.constructor.name, hyper: copyHyper(this.defaults as Hyper), groups, step: this.#steps, ...(Object.keys(paramSteps).length ? { paramSteps } : {}), state };
  }

  /**
   * Restores hyper-parameters (each group's, lr included, as PyTorch does; a dict without
   * `groups` gives its `hyper` to every group), the step count and the state tensors. Everything
   * is checked first: on an error nothing changes. State values may be tensors (copied on the
   * device when they live on the parameter's backend, read otherwise) or `{ shape, data }`; they
   * are copied onto each parameter's backend.
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
    const parse = (owner: string, h: unknown): H => {
      try {
        return this.parseHyper(owner, h as Record<string, unknown>);
      } catch (e) {
        return fail(e instanceof Error ? e.message : String(e));
      }
    };
    const defaults = parse(name, dict.hyper);
    const groups = dict.groups ?? this.paramGroups.map(() => ({ ...dict.hyper, params: undefined }));
    if (!Array.isArray(groups) || groups.length !== this.paramGroups.length) fail(`the dict has ${Array.isArray(groups) ? groups.length : String(groups)} parameter groups, the optimizer ${this.paramGroups.length}`);
    let first = 0;
    const groupHyper = this.paramGroups.map((g, k) => {
      const { params, ...h } = (groups[k] ?? {}) as { params?: unknown };
      const want = g.params.map((_, j) => first + j);
      first += g.params.length;
      if (params !== undefined && (!Array.isArray(params) || params.join() !== want.join())) fail(`param group ${k} holds parameters [${String(params)}], the optimizer's [${want.join(', ')}]`);
      return parse(`${name} (param group ${k})`, h);
    });
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
      for (const [k, given] of Object.entries(entry as Record<string, unknown>)) {
        let v0 = given;
        if (!this.stateKeys().includes(k)) fail(`unknown state '${k}' for parameter ${i} (expected ${this.stateKeys().join(', ')})`);
        if (v0 === null || typeof v0 !== 'object') fail(`state ${i}.${k} must be a tensor or { shape, data }, got ${v0 === null ? 'null' : typeof v0}`);
        const v = v0 as StateValue;
        if (!Array.isArray(v.shape)) fail(`state ${i}.${k} has no shape`);
        if (!shapesEqual(v.shape, p.shape)) {
          const e = new ShapeError(`${name}.loadStateDict`, `state ${i}.${k} does not match its parameter`, { state: v.shape, parameter: p.shape });
          fail(e.message);
        }
        if (isTensor(v)) {
          if (v.isDisposed) fail(`state ${i}.${k}: the tensor was disposed`);
          if (v.backend !== p.backend) {
            if (!v.backend.canReadSync) fail(`state ${i}.${k} lives on ${v.backend.name}, which reads only asynchronously; pass await t.data() instead`);
            v0 = { shape: v.shape, data: v.dataSync() }; // another backend's values: read and checked like host values
          }
        }
        if (!isTensor(v0)) {
          const data = (v0 as { data?: unknown }).data as ArrayLike<unknown> | null | undefined;
          if (data == null || typeof data !== 'object' || typeof data.length !== 'number') fail(`state ${i}.${k}: data must be an array or a typed array of numbers`);
          if (data!.length !== p.value.size) fail(`state ${i}.${k}: ${data!.length} values for shape [${p.shape.join(', ')}]`);
          const bad = valueProblem(data!, p.backend.dtype); // non-finite, or beyond a float32 parameter's range
          if (bad) fail(`state ${i}.${k}: ${bad}`);
        }
        loads.push([i, k, v0 as StateValue]);
      }
    }
    // every check passed: build the new state tensors first (a failure here changes nothing) …
    const built: [number, string, Tensor][] = [];
    try {
      for (const [i, k, v] of loads) {
        const p = this.params[i]!;
        const t = isTensor(v) ? v.clone() : p.backend.tensor(v.data, p.shape);
        built.push([i, k, keep(t)]);
      }
    } catch (e) {
      for (const [, , t] of built) t.dispose();
      fail(e instanceof Error ? e.message : String(e));
    }
    // … then swap them in
    this.defaults = defaults;
    this.paramGroups.forEach((g, k) => Object.assign(g, groupHyper[k]));
    this.#clearState();
    for (const [i, k, t] of built) this.setState(i, k, t);
    this.#steps = dict.step;
    this.#paramSteps = paramSteps;
  }

  toString(): string {
    return `${this.constructor.name}(${this.paramGroups.map(({ params, ...h }) => `[${params.length} params] ${JSON.stringify(h)}`).join(', ')})`;
  }

  /** Frees the state tensors (the parameters are not touched). */
  dispose(): void {
    this.#clearState();
  }
}
