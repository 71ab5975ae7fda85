import type { Backend } from '../backend';
import { runCases } from './conformance';
import type { CaseOutcome } from './conformance';
import type { Loss, Optimizer } from '../module';
import { Module as ModuleBase, Parameter } from '../module';
import type { Module } from '../module';
import { tidy } from '../scope';
import { RNG } from '../random';
import type { Shape } from '../shape';
import { sizeOf } from '../shape';
import type { Tensor } from '../tensor';

/**
 * The module conformance suite: real layers, losses and optimizer steps run on the backend
 * under test and on a float64 reference backend (`cpu({ dtype: 'float64' })`), from the same
 * parameters and inputs, compared value by value. Core cannot import the layers, so the caller
 * passes the classes in (`ModuleLibrary`); the catalogue of cases lives here, once.
 */
type Ctor<T> = new (...args: never[]) => T;

/** The classes under test, as the packages export them (pass `{ ...layers, ...losses, ...optim }`). */
export interface ModuleLibrary {
  Linear: Ctor<Module>;
  TanH: Ctor<Module>;
  Sigmoid: Ctor<Module>;
  ReLU: Ctor<Module>;
  LeakyReLU: Ctor<Module>;
  ELU: Ctor<Module>;
  GELU: Ctor<Module>;
  Dropout: Ctor<Module>;
  BatchNorm1d: Ctor<Module>;
  BatchNorm2d: Ctor<Module>;
  LayerNorm: Ctor<Module>;
  Softmax: Ctor<Module>;
  LogSoftmax: Ctor<Module>;
  Flatten: Ctor<Module>;
  Sequential: Ctor<Module>;
  Conv1D: Ctor<Module>;
  Conv2D: Ctor<Module>;
  MaxPool1D: Ctor<Module>;
  AvgPool1D: Ctor<Module>;
  MaxPool2D: Ctor<Module>;
  AvgPool2D: Ctor<Module>;
  MSELoss: Ctor<Loss>;
  NLLLoss: Ctor<Loss>;
  CrossEntropyLoss: Ctor<Loss>;
  BCELoss: Ctor<Loss>;
  BCEWithLogitsLoss: Ctor<Loss>;
  SGD: Ctor<Optimizer>;
  Adam: Ctor<Optimizer>;
  AdamW: Ctor<Optimizer>;
  RMSprop: Ctor<Optimizer>;
  /** Optional: `Autoencoder` from @neurone/autoencoder (its static `dense` builder is used). */
  Autoencoder?: { dense(sizes: number[], options: Record<string, unknown>): Module };
}

/** One case of the module conformance suite: runs on the backend under test and the reference. */
export interface ModuleCase {
  name: string;
  run(test: Backend, ref: Backend, lib: ModuleLibrary, tol: { rtol: number; atol: number }): Promise<void>;
}

class Mismatch extends Error {}

async function close(got: Tensor, want: Tensor, rtol: number, atol: number, what: string): Promise<void> {
  if (got.shape.join() !== want.shape.join()) throw new Mismatch(`${what}: shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
  const [g, w] = await Promise.all([got.data(), want.data()]);
  let scale = 0;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < w.length; i++) {
    if (!(Math.abs(g[i]! - w[i]!) <= atol * Math.max(1, scale) + rtol * Math.abs(w[i]!))) {
      throw new Mismatch(`${what}[${i}]: got ${g[i]}, expected ${w[i]} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** The same random values on both backends. */
function pair(test: Backend, ref: Backend, shape: Shape, seed: number, lo = -1, hi = 1): [Tensor, Tensor] {
  const v = new RNG(seed).uniformArray(sizeOf(shape), lo, hi);
  return [test.tensor(v, shape), ref.tensor(v, shape)];
}

/** Builds a module on the reference backend and a copy on the test backend with the same parameters. */
function twins(test: Backend, ref: Backend, build: (b: Backend, rng: RNG) => Module): [Module, Module] {
  const r = build(ref, new RNG(7));
  const t = build(test, new RNG(7));
  t.loadStateDict(Object.fromEntries(Object.entries(r.stateDict()).map(([n, v]) => [n, { shape: v.shape, data: v.dataSync() }])));
  return [t, r];
}

/** forward, backwardUpdateGradient and backwardDelta of twin modules, compared. */
function moduleCase(name: string, input: Shape, build: (lib: ModuleLibrary, b: Backend, rng: RNG) => Module, range: [number, number] = [-2, 2]): ModuleCase {
  return {
    name: `module ${name}`,
    async run(test, ref, lib, { rtol, atol }) {
      const [mt, mr] = twins(test, ref, (b, rng) => build(lib, b, rng));
      const [xt, xr] = pair(test, ref, input, 11, ...range);
      const yr = mr.forward(xr);
      await close(mt.forward(xt), yr, rtol, atol, `${name}.forward`);
      const tb = new Map(mt.namedBuffers());
      for (const [n, b] of mr.namedBuffers()) await close(tb.get(n)!, b, rtol, atol, `${name} buffer ${n} after forward`);
      const [dt, dr] = pair(test, ref, yr.shape, 12);
      mt.backwardUpdateGradient(xt, dt);
      mr.backwardUpdateGradient(xr, dr);
      const tp = new Map(mt.namedParameters());
      for (const [n, p] of mr.namedParameters()) await close(tp.get(n)!.grad!, p.grad!, rtol, atol, `${name} ∂${n}`);
      await close(mt.backwardDelta(xt, dt), mr.backwardDelta(xr, dr), rtol, atol, `${name}.backwardDelta`);
    },
  };
}

type LossName = 'MSELoss' | 'NLLLoss' | 'CrossEntropyLoss' | 'BCELoss' | 'BCEWithLogitsLoss';

/** forward and backward of a loss for every reduction; targets: class indices, one-hot rows or values in [0, 1]. */
function lossCase(loss: LossName, targets: 'indices' | 'onehot' | 'unit', yhatRange: [number, number], options: Record<string, unknown> = {}): ModuleCase {
  return {
    name: `loss ${loss}${Object.keys(options).length ? ` ${JSON.stringify(options)}` : ''} (${targets} targets), every reduction`,
    async run(test, ref, lib, { rtol, atol }) {
      const [n, k] = [6, 5];
      const labels = Array.from({ length: n }, (_, i) => (i * 3) % k);
      const yv = targets === 'indices' ? labels : targets === 'onehot' ? labels.flatMap((c) => Array.from({ length: k }, (_, j) => (j === c ? 1 : 0))) : new RNG(3).uniformArray(n * k, 0, 1);
      const yShape = targets === 'indices' ? [n] : [n, k];
      const [yt, yr] = [test.tensor(yv, yShape), ref.tensor(yv, yShape)];
      const [pt, pr] = pair(test, ref, [n, k], 13, ...yhatRange);
      for (const reduction of ['mean', 'sum', 'none']) {
        const Lt = new (lib[loss] as unknown as new (o: object) => Loss)({ reduction, ...options });
        const Lr = new (lib[loss] as unknown as new (o: object) => Loss)({ reduction, ...options });
        await close(Lt.forward(yt, pt), Lr.forward(yr, pr), rtol, atol, `${loss}(${reduction}).forward`);
        await close(Lt.backward(yt, pt), Lr.backward(yr, pr), rtol, atol, `${loss}(${reduction}).backward`);
      }
    },
  };
}

/** Three steps of an optimizer from the same parameters and gradients, compared after each. */
function optimizerCase(name: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop', options: Record<string, unknown>): ModuleCase {
  return {
    name: `optimizer ${name} ${JSON.stringify(options)}: three steps`,
    async run(test, ref, lib, { rtol, atol }) {
      const shapes: Shape[] = [[4, 3], [3]];
      const make = (b: Backend): Parameter[] => shapes.map((s, i) => new Parameter(b.tensor(new RNG(20 + i).uniformArray(sizeOf(s), -1, 1), s)));
      const [pt, pr] = [make(test), make(ref)];
      const Opt = lib[name] as unknown as new (p: Parameter[], o: object) => Optimizer;
      const [ot, or] = [new Opt(pt, options), new Opt(pr, options)];
      for (let step = 0; step < 3; step++) {
        shapes.forEach((s, i) => {
          [pt[i]!.grad, pr[i]!.grad] = pair(test, ref, s, 100 + 10 * step + i);
        });
        ot.step();
        or.step();
        for (let i = 0; i < shapes.length; i++) await close(pt[i]!.value, pr[i]!.value, rtol, atol, `${name} step ${step + 1}, parameter ${i}`);
      }
    },
  };
}

/**
 * A module written as a user would: children as fields (no registration), a buffer, and a forward
 * that saves what backward needs. y = x + fc2(tanh(fc1(x − μ))), with μ the batch mean in training
 * (and the running mean updated: a stateful forward) and the running mean in eval.
 */
function centeredResidual(lib: ModuleLibrary, backend: Backend, rng: RNG): Module {
  const Lin = lib.Linear as unknown as new (i: number, o: number, opt: object) => Module;
  class CenteredResidual extends ModuleBase {
    fc1 = new Lin(4, 6, { backend, rng });
    act = new lib.TanH();
    fc2 = new Lin(6, 4, { backend, rng });
    constructor() {
      super();
      this.registerBuffer('running_mean', backend.zeros([4]));
    }
    override get statefulForward(): boolean {
      return this.training;
    }
    forward(x: Tensor): Tensor {
      const be = x.backend;
      const { y, c, h, a } = tidy(() => {
        let mean = this.buffer('running_mean');
        if (this.training) {
          mean = be.affine(be.sum(x, 0), 1 / x.shape[0]!, 0); // μ = Σ_b x / B
          this.setBuffer('running_mean', be.axpby(0.9, this.buffer('running_mean'), 0.1, mean));
        }
        const c = be.binary('sub', x, mean);
        const h = this.fc1.forward(c);
        const a = this.act.forward(h);
        return { y: be.binary('add', x, this.fc2.forward(a)), c, h, a };
      });
      this.saveForBackward(x, { c, h, a }, [c, h, a]);
      return y;
    }
    #back(x: Tensor, delta: Tensor, grads: boolean): Tensor {
      const { c, h, a } = this.training ? this.savedOrThrow<{ c: Tensor; h: Tensor; a: Tensor }>(x, 'backward') : this.#evalState(x);
      const be = x.backend;
      return tidy(() => {
        if (grads) this.fc2.backwardUpdateGradient(a, delta);
        const dh = this.act.backwardDelta(h, this.fc2.backwardDelta(a, delta));
        if (grads) this.fc1.backwardUpdateGradient(c, dh);
        const dc = this.fc1.backwardDelta(c, dh);
        // ∂L/∂x = δ + ∂L/∂c − (training: the batch mean of ∂L/∂c, through μ)
        const dx = this.training ? be.binary('sub', dc, be.affine(be.sum(dc, 0, true), 1 / x.shape[0]!, 0)) : dc;
        return be.binary('add', delta, dx);
      });
    }
    #evalState(x: Tensor): { c: Tensor; h: Tensor; a: Tensor } {
      const s = this.saved<{ c: Tensor; h: Tensor; a: Tensor }>(x);
      if (s) return s;
      const c = x.backend.binary('sub', x, this.buffer('running_mean'));
      const h = this.fc1.forward(c);
      return { c, h, a: this.act.forward(h) };
    }
    override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
      tidy(() => this.#back(x, delta, true));
    }
    backwardDelta(x: Tensor, delta: Tensor): Tensor {
      return tidy(() => this.#back(x, delta, false));
    }
  }
  return new CenteredResidual();
}

/** The catalogue: every layer, every loss (each target form and reduction), each optimizer's options. */
export const moduleCases: ModuleCase[] = [
  moduleCase('Linear(5, 3)', [4, 5], (l, b, rng) => new (l.Linear as unknown as new (i: number, o: number, opt: object) => Module)(5, 3, { backend: b, rng })),
  moduleCase('Linear(5, 3, bias: false), batch of one', [1, 5], (l, b, rng) => new (l.Linear as unknown as new (i: number, o: number, opt: object) => Module)(5, 3, { backend: b, rng, bias: false })),
  moduleCase('TanH', [3, 4], (l) => new l.TanH()),
  moduleCase('Sigmoid', [3, 4], (l) => new l.Sigmoid(), [-6, 6]),
  moduleCase('ReLU', [3, 4], (l) => new l.ReLU()),
  moduleCase('LeakyReLU(0.1)', [3, 4], (l) => new (l.LeakyReLU as unknown as new (s: number) => Module)(0.1)),
  moduleCase('ELU(1.5)', [3, 4], (l) => new (l.ELU as unknown as new (a: number) => Module)(1.5)),
  moduleCase('GELU', [3, 4], (l) => new l.GELU(), [-4, 4]),
  moduleCase("GELU({ approximate: 'tanh' })", [3, 4], (l) => new (l.GELU as unknown as new (o: object) => Module)({ approximate: 'tanh' }), [-4, 4]),
  moduleCase('Dropout(0.3) (training: the same seeded mask on both)', [4, 5], (l, _b, rng) => new (l.Dropout as unknown as new (o: object) => Module)({ p: 0.3, rng })),
  moduleCase('BatchNorm1d(5) (training: batch statistics, running buffers)', [6, 5], (l, b) => new (l.BatchNorm1d as unknown as new (n: number, o: object) => Module)(5, { backend: b, momentum: 0.2 })),
  moduleCase('BatchNorm2d(3) on [b, H, W, 3]', [2, 4, 3, 3], (l, b) => new (l.BatchNorm2d as unknown as new (n: number, o: object) => Module)(3, { backend: b })),
  moduleCase('LayerNorm(6)', [3, 6], (l, b) => new (l.LayerNorm as unknown as new (n: number, o: object) => Module)(6, { backend: b })),
  moduleCase('Softmax', [3, 6], (l) => new l.Softmax(), [-4, 4]),
  moduleCase('LogSoftmax', [3, 6], (l) => new l.LogSoftmax(), [-4, 4]),
  moduleCase('Flatten', [2, 3, 2], (l) => new l.Flatten()),
  moduleCase('Sequential(Linear, TanH, Linear, Sigmoid)', [5, 6], (l, b, rng) => {
    const Lin = l.Linear as unknown as new (i: number, o: number, opt: object) => Module;
    const Seq = l.Sequential as unknown as new (m: Module[]) => Module;
    return new Seq([new Lin(6, 8, { backend: b, rng }), new l.TanH(), new Lin(8, 3, { backend: b, rng }), new l.Sigmoid()]);
  }),
  moduleCase('Conv1D(3, 2, 4, stride 2), last window does not fit', [2, 10, 2], (l, b, rng) => new (l.Conv1D as unknown as new (k: number, i: number, o: number, s: number, opt: object) => Module)(3, 2, 4, 2, { backend: b, rng })),
  moduleCase('Conv2D(3, 1, 2), batch of one', [1, 5, 5, 1], (l, b, rng) => new (l.Conv2D as unknown as new (k: number, i: number, o: number, opt: object) => Module)(3, 1, 2, { backend: b, rng })),
  moduleCase('Conv2D([3, 2], 3, 4, stride [2, 1], padding 1, bias: false)', [2, 6, 5, 3], (l, b, rng) => new (l.Conv2D as unknown as new (k: number[], i: number, o: number, opt: object) => Module)([3, 2], 3, 4, { stride: [2, 1], padding: 1, bias: false, backend: b, rng })),
  moduleCase('MaxPool1D(3, 2)', [2, 9, 3], (l) => new (l.MaxPool1D as unknown as new (k: number, s: number) => Module)(3, 2)),
  moduleCase('AvgPool1D(2)', [1, 7, 2], (l) => new (l.AvgPool1D as unknown as new (k: number) => Module)(2)),
  moduleCase('MaxPool2D(3, 2, padding 1)', [2, 6, 7, 3], (l) => new (l.MaxPool2D as unknown as new (k: number, s: number, p: number) => Module)(3, 2, 1)),
  moduleCase('AvgPool2D(2)', [2, 5, 5, 2], (l) => new (l.AvgPool2D as unknown as new (k: number) => Module)(2)),
  moduleCase('Sequential(Conv2D, ReLU, MaxPool2D, Flatten, Linear)', [2, 6, 6, 1], (l, b, rng) => {
    const Conv = l.Conv2D as unknown as new (k: number, i: number, o: number, opt: object) => Module;
    const Lin = l.Linear as unknown as new (i: number, o: number, opt: object) => Module;
    const Seq = l.Sequential as unknown as new (m: Module[]) => Module;
    const Pool = l.MaxPool2D as unknown as new (k: number) => Module;
    return new Seq([new Conv(3, 1, 3, { padding: 1, backend: b, rng }), new l.ReLU(), new Pool(2), new l.Flatten(), new Lin(27, 4, { backend: b, rng })]);
  }),
  {
    name: 'module Autoencoder.dense([8, 4, 2]) (tied weights)',
    async run(test, ref, lib, tol) {
      if (!lib.Autoencoder) throw new Mismatch('the library passed no Autoencoder (pass @neurone/autoencoder with the layers)');
      const ae = lib.Autoencoder;
      await moduleCase('Autoencoder', [3, 8], (_l, b, rng) => ae.dense([8, 4, 2], { backend: b, rng, tied: true }), [0, 1]).run(test, ref, lib, tol);
    },
  },
  moduleCase('custom module: fields, a buffer, a stateful forward (training mode)', [5, 4], (l, b, rng) => centeredResidual(l, b, rng)),
  {
    name: 'custom module: eval() uses the running buffer, not the batch (train ≠ eval), on every backend',
    async run(test, ref, lib, { rtol, atol }) {
      const [mt, mr] = twins(test, ref, (b, rng) => centeredResidual(lib, b, rng));
      const [xt, xr] = pair(test, ref, [5, 4], 21, -2, 2);
      for (const m of [mt, mr]) m.forward(m === mt ? xt : xr); // one training step of the running mean
      const trained = mr.forward(xr);
      mt.forward(xt);
      [mt, mr].forEach((m) => m.eval());
      const yr = mr.forward(xr);
      await close(mt.forward(xt), yr, rtol, atol, 'eval forward');
      const [a, b] = [await trained.data(), await yr.data()];
      if (a.every((v, i) => Math.abs(v - b[i]!) < 1e-6)) throw new Mismatch('eval() output equals the training output: the running buffer is not used');
      const [dt, dr] = pair(test, ref, yr.shape, 22);
      await close(mt.backwardDelta(xt, dt), mr.backwardDelta(xr, dr), rtol, atol, 'eval backwardDelta');
    },
  },
  lossCase('MSELoss', 'unit', [-1, 1]),
  lossCase('NLLLoss', 'indices', [-3, 0]),
  lossCase('NLLLoss', 'onehot', [-3, 0]),
  lossCase('CrossEntropyLoss', 'indices', [-3, 3]),
  lossCase('CrossEntropyLoss', 'onehot', [-3, 3]),
  lossCase('CrossEntropyLoss', 'indices', [-3, 3], { weight: [0.5, 2, 1, 1.5, 0.7], labelSmoothing: 0.1, ignoreIndex: 1 }),
  lossCase('CrossEntropyLoss', 'unit', [-3, 3], { weight: [0.5, 2, 1, 1.5, 0.7], labelSmoothing: 0.2 }),
  lossCase('BCELoss', 'unit', [0.02, 0.98]),
  lossCase('BCEWithLogitsLoss', 'unit', [-4, 4]),
  optimizerCase('SGD', { lr: 0.1 }),
  optimizerCase('SGD', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  optimizerCase('Adam', { lr: 0.01 }),
  optimizerCase('Adam', { lr: 0.003, betas: [0.8, 0.95], weightDecay: 0.02 }),
  optimizerCase('AdamW', { lr: 0.01, weightDecay: 0.1 }),
  optimizerCase('RMSprop', { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.01 }),
];

/** Tolerances of the module conformance suite. */
export interface ModuleConformanceOptions {
  /** Relative tolerance against the float64 reference (default 1e-5: float32 through a few ops). */
  rtol?: number;
  /** Absolute tolerance, relative to the largest reference value (default 1e-5). */
  atol?: number;
}

/** Runs every case on `make()` against `reference()` under a describe/it harness. */
export function runModuleConformance(
  label: string,
  make: () => Backend,
  reference: () => Backend,
  lib: ModuleLibrary,
  harness: { describe: (n: string, f: () => void) => void; it: (n: string, f: () => Promise<void>, timeout?: number) => void },
  opts: ModuleConformanceOptions = {},
): void {
  const tol = { rtol: opts.rtol ?? 1e-5, atol: opts.atol ?? 1e-5 };
  harness.describe(`module conformance: ${label}`, () => {
    for (const c of moduleCases) harness.it(c.name, () => c.run(make(), reference(), lib, tol), 120_000);
  });
}

/** Runs every case and returns the outcomes (for browser pages and scripts). */
export async function runModuleConformanceCases(make: () => Backend, reference: () => Backend, lib: ModuleLibrary, opts: ModuleConformanceOptions = {}): Promise<CaseOutcome[]> {
  const tol = { rtol: opts.rtol ?? 1e-5, atol: opts.atol ?? 1e-5 };
  return runCases(moduleCases, (c) => c.run(make(), reference(), lib, tol));
}
