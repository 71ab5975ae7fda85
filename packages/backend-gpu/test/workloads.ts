/**
 * Workloads shared by the Node tests and the Chromium page (test/browser/page.ts): the W2 MLP of
 * bench/README.md built from backend primitives (the layers package is not a dependency here),
 * and a memory probe over many training-like steps.
 */
import { RNG, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { BatchNorm1d, Dropout, Linear, ReLU, Sequential } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { AdamW, Optim } from '@neurone/optim';

export interface MlpSpec {
  inputs: number;
  hidden: number;
  classes: number;
  batch: number;
  lr: number;
  steps: number;
  /** Distinct batches drawn once on the host and cycled through. */
  batches: number;
  seed: number;
}

/** W2 of bench/README.md: Linear(784,256) → TanH → Linear(256,10) → cross-entropy on logits; SGD lr 0.1, batch 64. */
export const W2: MlpSpec = { inputs: 784, hidden: 256, classes: 10, batch: 64, lr: 0.1, steps: 200, batches: 50, seed: 7 };

interface HostData {
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
  xs: Float64Array[];
  ys: Float64Array[];
}

/** Seeded initial weights (PyTorch's default U(±1/√fan_in)) and synthetic data of MNIST's shapes. */
function hostData(s: MlpSpec): HostData {
  const rng = new RNG(s.seed);
  const k1 = 1 / Math.sqrt(s.inputs);
  const k2 = 1 / Math.sqrt(s.hidden);
  // labels from a random linear teacher: learnable, so the loss falls, but 200 steps over
  // 50 batches never drive it near zero (where a relative gap would be ill-conditioned)
  const teacher = rng.uniformArray(s.inputs * s.classes, -1, 1);
  const xs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  for (let i = 0; i < s.batches; i++) {
    const x = rng.uniformArray(s.batch * s.inputs, 0, 1);
    const y = new Float64Array(s.batch * s.classes);
    for (let r = 0; r < s.batch; r++) {
      let best = 0;
      let arg = 0;
      for (let c = 0; c < s.classes; c++) {
        let z = 0;
        for (let j = 0; j < s.inputs; j++) z += x[r * s.inputs + j]! * teacher[j * s.classes + c]!;
        if (c === 0 || z > best) {
          best = z;
          arg = c;
        }
      }
      y[r * s.classes + arg] = 1;
    }
    xs.push(x);
    ys.push(y);
  }
  return {
    w1: rng.uniformArray(s.hidden * s.inputs, -k1, k1),
    b1: rng.uniformArray(s.hidden, -k1, k1),
    w2: rng.uniformArray(s.classes * s.hidden, -k2, k2),
    b2: rng.uniformArray(s.classes, -k2, k2),
    xs,
    ys,
  };
}

export interface Mlp {
  B: Backend;
  params: { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
  xs: Tensor[];
  ys: Tensor[];
  spec: MlpSpec;
}

export function buildMlp(B: Backend, spec: MlpSpec): Mlp {
  const h = hostData(spec);
  const { inputs: I, hidden: H, classes: C, batch: N } = spec;
  return {
    B,
    spec,
    params: { w1: B.tensor(h.w1, [H, I]), b1: B.tensor(h.b1, [H]), w2: B.tensor(h.w2, [C, H]), b2: B.tensor(h.b2, [C]) },
    xs: h.xs.map((x) => B.tensor(x, [N, I])),
    ys: h.ys.map((y) => B.tensor(y, [N, C])),
  };
}

/** One SGD step on batch `i`; returns the (unread) loss tensor and replaces the parameters. */
export function step(m: Mlp, i: number): Tensor {
  const { B, params: p, spec } = m;
  const x = m.xs[i % m.xs.length]!;
  const y = m.ys[i % m.ys.length]!;
  const N = spec.batch;
  const r = tidy(() => {
    const a1 = B.binary('add', B.matmul(x, p.w1, false, true), p.b1); // a¹ = x·W¹ᵀ + b¹
    const z1 = B.unary('tanh', a1); // z¹ = tanh(a¹)
    const a2 = B.binary('add', B.matmul(z1, p.w2, false, true), p.b2); // a² = z¹·W²ᵀ + b²
    const loss = B.affine(B.sum(B.binary('mul', B.logSoftmax(a2), y)), -1 / N, 0); // L = −(1/N) Σ y ⊙ log softmax(a²)
    const d2 = B.affine(B.binary('sub', B.softmax(a2), y), 1 / N, 0); // δ² = (softmax(a²) − y)/N
    const gw2 = B.matmul(d2, z1, true, false); // ∂L/∂W² = δ²ᵀ·z¹
    const gb2 = B.sum(d2, 0); // ∂L/∂b² = Σ_rows δ²
    const d1 = B.activationGrad('tanh', z1, B.matmul(d2, p.w2)); // δ¹ = (δ²·W²) ⊙ (1 − z¹²)
    const gw1 = B.matmul(d1, x, true, false); // ∂L/∂W¹ = δ¹ᵀ·x
    const gb1 = B.sum(d1, 0); // ∂L/∂b¹ = Σ_rows δ¹
    const lr = spec.lr;
    return {
      loss,
      w1: B.axpby(1, p.w1, -lr, gw1),
      b1: B.axpby(1, p.b1, -lr, gb1),
      w2: B.axpby(1, p.w2, -lr, gw2),
      b2: B.axpby(1, p.b2, -lr, gb2),
    };
  });
  for (const t of Object.values(p)) t.dispose();
  m.params = { w1: r.w1, b1: r.b1, w2: r.w2, b2: r.b2 };
  return r.loss;
}

export function disposeMlp(m: Mlp): void {
  for (const t of [...Object.values(m.params), ...m.xs, ...m.ys]) t.dispose();
}

/** Trains `spec.steps` steps, reading the loss after each; returns the loss curve and the wall time. */
export async function trainCurve(B: Backend, spec: MlpSpec): Promise<{ losses: number[]; ms: number }> {
  const m = buildMlp(B, spec);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < spec.steps; i++) {
    const l = step(m, i);
    losses.push((await l.data())[0]!);
    l.dispose();
  }
  const ms = performance.now() - t0;
  disposeMlp(m);
  return { losses, ms };
}

/** The largest relative difference between two loss curves, and where. */
export function curveGap(a: number[], b: number[]): { maxRel: number; at: number } {
  let maxRel = 0;
  let at = -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const rel = x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) ? Infinity : Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);
    if (rel > maxRel || at < 0) {
      maxRel = Math.max(maxRel, rel);
      at = i;
    }
  }
  return { maxRel, at };
}

/** A small MLP for the memory probe (fast on software renderers). */
export const SMALL: MlpSpec = { inputs: 64, hidden: 32, classes: 10, batch: 16, lr: 0.1, steps: 500, batches: 4, seed: 3 };

/**
 * Runs `steps` training steps (reading the loss every 50) and samples `count()` — live tensors,
 * and whatever device objects the caller counts — after a warm-up and at the end.
 */
export async function memoryProbe(
  B: Backend,
  spec: MlpSpec,
  count: () => Record<string, number>,
): Promise<{ warm: Record<string, number>; end: Record<string, number>; lastLoss: number }> {
  const m = buildMlp(B, spec);
  const flush = async (): Promise<void> => {
    await (B as { flush?: () => Promise<void> }).flush?.();
  };
  let warm: Record<string, number> = {};
  let lastLoss = NaN;
  for (let i = 0; i < spec.steps; i++) {
    const l = step(m, i);
    if (i % 50 === 49 || i === 9) lastLoss = (await l.data())[0]!;
    l.dispose();
    if (i === 9) {
      await flush();
      warm = count();
    }
  }
  await flush();
  const end = count();
  disposeMlp(m);
  return { warm, end, lastLoss };
}

/**
 * A training loop as a PyTorch user writes it — no tidy(), no dispose(): Linear → BatchNorm1d →
 * ReLU → Dropout → Linear, cross-entropy, AdamW through `Optim.step`, the loss read every 100
 * steps. What each step leaves behind (the returned loss) is reclaimed by the garbage collector
 * through the backend's FinalizationRegistry. `probe` samples memory after the first step, after
 * step `warmAt` (once JIT compilation and the allocators' pools have warmed up), every `every`
 * steps after it (`samples`, ending with `end`) and at the end, each time after `gc` when the
 * runtime exposes one.
 */
export async function noTidyLoop<M>(
  B: Backend,
  { steps = 2000, warmAt = 100, every = 0, gc }: { steps?: number; warmAt?: number; every?: number; gc?: () => void },
  probe: () => M | Promise<M>,
): Promise<{ start: M; warm: M; end: M; samples: M[]; lastLoss: number }> {
  const rng = new RNG(5);
  const net = new Sequential(new Linear(32, 64, { backend: B, rng }), new BatchNorm1d(64, { backend: B }), new ReLU(), new Dropout({ p: 0.1, rng }), new Linear(64, 10, { backend: B, rng }));
  const optim = new Optim(net, new CrossEntropyLoss(), new AdamW(net, { lr: 1e-3 }));
  const xs = Array.from({ length: 8 }, () => B.tensor(Float32Array.from({ length: 64 * 32 }, () => rng.normal()), [64, 32]));
  const ys = Array.from({ length: 8 }, (_, k) => B.tensor(Float32Array.from({ length: 64 }, (_, i) => (i + k) % 10), [64]));
  const settle = async () => {
    await (B as { flush?: () => Promise<void> }).flush?.();
    for (let k = 0; k < 3; k++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 20)); // the FinalizationRegistry's callbacks run in later tasks
    }
  };
  let start: M | undefined;
  let warm: M | undefined;
  const samples: M[] = []; // at warmAt, then every `every` steps after it (the last is `end`)
  let lastLoss = NaN;
  let l: Tensor | undefined;
  for (let i = 1; i <= steps; i++) {
    l = optim.step(xs[i % 8]!, ys[i % 8]!);
    if (i % 100 === 0) lastLoss = (await l.data())[0]!;
    const sampled = i === warmAt || (every > 0 && i > warmAt && i < steps && (i - warmAt) % every === 0);
    if (i === 1 || sampled) {
      await settle();
      const m = await probe();
      if (i === 1) start = m;
      if (i === warmAt) warm = m;
      if (sampled) samples.push(m);
    }
  }
  await settle();
  const end = await probe();
  samples.push(end);
  // the model, its optimizer and the last loss are still in use here, as at every probe: a
  // collector may reclaim whatever a finished loop no longer reaches
  if (optim.net !== net || net.parameters().length !== 6 || xs.length + ys.length !== 16 || l?.shape.length !== 0) throw new Error('noTidyLoop: the model changed');
  return { start: start!, warm: warm!, end, samples, lastLoss };
}
