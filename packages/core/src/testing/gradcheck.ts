import type { Backend } from '../backend';
import type { Loss, Module } from '../module';
import { Parameter } from '../module';
import { ValueError } from '../errors';
import type { Tensor } from '../tensor';
import { isTensor } from '../tensor';
import { RNG } from '../random';

/**
 * Gradient checks by central finite differences, meant for a float64 backend.
 *
 * Error measure, per element: |analytic − numeric| / max(|analytic|, |numeric|, floor).
 * The floor (default 1e-3) keeps gradients that are zero in exact arithmetic from dividing by
 * round-off; above it the measure is a pure relative error.
 */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Denominator floor of the relative error (default 1e-3). */
  floor?: number;
  /** Seed of the random output projection (default 1). */
  seed?: number;
}

/** What `gradcheck` measured: the largest relative error, overall and per checked quantity. */
export interface GradcheckReport {
  /** Largest error over every checked element. */
  maxRelError: number;
  /** Per checked quantity ('input', 'param:0.weight', 'yhat'...), its largest error. */
  errors: Record<string, number>;
}

function sumOf(t: Tensor): number {
  const d = t.dataSync();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return s;
}

/** Compares analytic and numeric gradients element by element. */
export function compareGradients(analytic: ArrayLike<number>, numeric: ArrayLike<number>, floor = 1e-3): number {
  let worst = 0;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    const err = Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  return worst;
}

/** Central differences of a scalar function of a flat vector. */
export function numericGradient(f: (x: Float64Array) => number, x: ArrayLike<number>, eps = 1e-6): Float64Array {
  const v = Float64Array.from(x);
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const old = v[i]!;
    v[i] = old + eps;
    const up = f(v);
    v[i] = old - eps;
    const down = f(v);
    v[i] = old;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** Parameters held in a module's fields (objects, arrays, maps, nested) that its registry does not list. */
function unlistedParameters(module: Module): string[] {
  const listed = new Set(module.parameters());
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return;
    seen.add(v);
    if (v instanceof Parameter) {
      if (!listed.has(v)) found.push(path);
      return;
    }
    if (isTensor(v)) return;
    const entries: [string, unknown][] = v instanceof Map ? [...v].map(([k, x]) => [String(k), x]) : Object.entries(v);
    for (const [k, x] of entries) walk(x, path ? `${path}.${k}` : k);
  };
  walk(module, '');
  return found;
}

/**
 * Checks a module's backwardDelta and backwardUpdateGradient: with L = Σ R ⊙ forward(x) for a
 * fixed random R, dL/dx must equal backwardDelta(x, R) and dL/dθ the gradient accumulated in each
 * parameter the module lists. Throws a ValueError when the module holds parameters (in fields,
 * arrays, maps or plain objects) that `parameters()` does not list: they would never be trained.
 * Both backward halves run after one forward on `input` (a stateful forward's record is used).
 */
export function gradcheckModule(module: Module, input: Tensor, opts: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, floor = 1e-3, seed = 1 } = opts;
  const unlisted = unlistedParameters(module);
  if (unlisted.length) {
    throw new ValueError(`gradcheckModule: ${module.constructor.name} holds parameters that parameters() does not list (${unlisted.join(', ')}); assign them as fields of a Module or register them`);
  }
  const backend: Backend = input.backend;
  const out = module.forward(input);
  const rng = new RNG(seed);
  const R = backend.tensor(rng.uniformArray(out.size, -1, 1), out.shape);
  const Rv = R.dataSync();
  const loss = (y: Tensor): number => {
    const d = y.dataSync();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! * Rv[i]!;
    y.dispose();
    return s;
  };
  const errors: Record<string, number> = {};

  // analytic: both halves from the forward above
  module.zeroGrad();
  const delta = module.backwardDelta(input, R);
  const analyticIn = delta.dataSync();
  module.backwardUpdateGradient(input, R);
  const params = module.namedParameters().filter(([, p]) => p.requiresGrad);
  const analytic = params.map(([, p]) => (p.grad ? p.grad.dataSync() : new Float64Array(p.value.size)));
  module.zeroGrad();
  delta.dispose();
  out.dispose();

  const numIn = numericGradient((v) => {
    const x = backend.tensor(v, input.shape);
    const r = loss(module.forward(x));
    x.dispose();
    return r;
  }, input.dataSync(), eps);
  errors.input = compareGradients(analyticIn, numIn, floor);
  params.forEach(([name, p], i) => {
    const numeric = numericGradient((v) => withValue(p, v, () => loss(module.forward(input))), p.value.dataSync(), eps);
    errors[`param:${name}`] = compareGradients(analytic[i]!, numeric, floor);
  });
  R.dispose();
  return { maxRelError: Math.max(0, ...Object.values(errors)), errors };
}

function withValue<T>(p: Parameter, v: Float64Array, fn: () => T): T {
  const saved = p.value.dataSync();
  p.value = p.backend.tensor(v, p.shape);
  try {
    return fn();
  } finally {
    p.value = p.backend.tensor(saved, p.shape);
  }
}

/** Checks loss.backward(y, ŷ) against finite differences of Σ loss.forward(y, ŷ) in ŷ. */
export function gradcheckLoss(loss: Loss, y: Tensor, yhat: Tensor, opts: GradcheckOptions = {}): GradcheckReport {
  const { eps = 1e-6, floor = 1e-3 } = opts;
  const backend = yhat.backend;
  const g = loss.backward(y, yhat);
  const numeric = numericGradient((v) => {
    const t = backend.tensor(v, yhat.shape);
    const l = loss.forward(y, t);
    const s = sumOf(l);
    l.dispose();
    t.dispose();
    return s;
  }, yhat.dataSync(), eps);
  const err = compareGradients(g.dataSync(), numeric, floor);
  g.dispose();
  return { maxRelError: err, errors: { yhat: err } };
}
