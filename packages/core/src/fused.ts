import type { Kernels, KernelTensor, UpdateRule } from './kernels';
import { ShapeError } from './errors';
import { shapesEqual } from './shape';
import type { Tensor } from './tensor';
import { runOp, runOps } from './backend';

/** log ŷ and log(1 − ŷ) are floored here, as PyTorch's BCELoss does, so that ŷ ∈ {0, 1} gives a finite loss. */
export const BCE_LOG_FLOOR = -100;
/** PyTorch's floor of ŷ(1 − ŷ) in BCELoss's gradient. */
export const BCE_GRAD_EPS = 1e-12;

/**
 * Binary cross-entropy on probabilities ŷ = p, element-wise, as one op (BCELoss):
 * forward (grad false): y·max(log p, −100) + (1 − y)·max(log(1 − p), −100), the negated loss terms;
 * backward (grad true): c·(p − y) / max(p(1 − p), 1e-12). One pass on a backend with the `bce`
 * kernel; the same primitives chained otherwise (`bceChain`).
 */
export function binaryCrossEntropy(y: Tensor, p: Tensor, grad: boolean, c = 1): Tensor {
  if (!shapesEqual(y.shape, p.shape)) throw new ShapeError('bce', 'targets and predictions must have the same shape', { y: y.shape, yhat: p.shape });
  return runOp(p.backend, grad ? 'bceGrad' : 'bce', [y, p], p.shape, (k, [yi, pi]) => (k.bce ? k.bce(yi!, pi!, grad, c) : bceChain(k, yi!, pi!, grad, c)));
}

/** `binaryCrossEntropy` from the primitives, each intermediate freed: what a backend without the fused kernel runs. */
export function bceChain<D>(k: Kernels<D>, y: KernelTensor<D>, p: KernelTensor<D>, grad: boolean, c: number): D {
  const held: D[] = [];
  const s = p.shape;
  const t = (data: D): KernelTensor<D> => (held.push(data), { data, shape: s, size: p.size });
  try {
    if (grad) return k.binary('div', t(k.axpby(c, p, -c, y)), t(k.clamp(t(k.binary('mul', p, t(k.affine(p, -1, 1)), s)), BCE_GRAD_EPS, Infinity)), s);
    const logP = t(k.clamp(t(k.unary('log', p, 0)), BCE_LOG_FLOOR, Infinity));
    const log1mP = t(k.clamp(t(k.unary('log', t(k.affine(p, -1, 1)), 0)), BCE_LOG_FLOOR, Infinity));
    return k.binary('add', t(k.binary('mul', y, t(k.binary('sub', logP, log1mP, s)), s)), log1mP, s); // y(log ŷ − log(1 − ŷ)) + log(1 − ŷ)
  } finally {
    for (const d of held) k.free(d);
  }
}

/**
 * One optimizer step of one parameter as one op: from p, its gradient g and the rule's state (null
 * before the first step), the new [p, ...state]. One pass on a backend with the `optimizerUpdate`
 * kernel (the CPU), the primitives chained otherwise (`updateChain`, where the formulas are). `h`:
 * - sgd [lr, μ, dampening, wd, nesterov 0/1], state [buffer] (none when μ = 0);
 * - adam [lr/(1 − β₁ᵗ), β₁, β₂, 1/√(1 − β₂ᵗ), ε, wd, wd's mode (0 none, 1 L2, 2 decoupled), lr], state [m, v];
 * - rmsprop [lr, α, ε, μ, wd, centered 0/1], state [s, ḡ (centered), buffer (μ > 0)].
 */
export function optimizerUpdate(rule: UpdateRule, p: Tensor, g: Tensor, state: readonly (Tensor | null)[], h: readonly number[]): Tensor[] {
  for (const x of [g, ...state]) if (x && !shapesEqual(x.shape, p.shape)) throw new ShapeError(rule, 'the gradient and the state must have the parameter\'s shape', { p: p.shape, other: x.shape });
  return runOps(p.backend, rule, [p, g, ...state.map((s) => s ?? undefined)], p.shape, 1 + state.length, (k, [pi, gi, ...si]) =>
    k.optimizerUpdate ? k.optimizerUpdate(rule, pi!, gi!, si.map((s) => s ?? null), h) : updateChain(k, rule, pi!, gi!, si.map((s) => s ?? null), h),
  );
}

/**
 * `optimizerUpdate` from the primitives, each intermediate freed: what a backend without the
 * `optimizerUpdate` kernel runs, and the CPU's kernel where WebAssembly does not apply.
 */
export function updateChain<D>(k: Kernels<D>, rule: UpdateRule, p: KernelTensor<D>, g: KernelTensor<D>, state: readonly (KernelTensor<D> | null)[], h: readonly number[]): D[] {
  const held: D[] = [];
  const t = (data: D): KernelTensor<D> => (held.push(data), { data, shape: p.shape, size: p.size });
  const ax = (a: number, x: KernelTensor<D>, b: number, y: KernelTensor<D>): KernelTensor<D> => t(k.axpby(a, x, b, y));
  const ema = (prev: KernelTensor<D> | null, x: KernelTensor<D>, b: number): KernelTensor<D> => (prev ? ax(b, prev, 1 - b, x) : t(k.affine(x, 1 - b, 0))); // b·prev + (1 − b)·x, prev = 0 at first
  const square = (x: KernelTensor<D>): KernelTensor<D> => t(k.unary('square', x, 0));
  const [a, b, c, d, e, f, mode, lr] = h as number[];
  const wd = rule === 'sgd' ? d! : rule === 'rmsprop' ? e! : mode === 1 ? f! : 0;
  let out: KernelTensor<D>[] = [];
  try {
    const gw = wd !== 0 ? ax(1, g, wd, p) : g; // g + wd·p
    if (rule === 'sgd') {
      const buf = b === 0 ? null : state[0] ? ax(b!, state[0], 1 - c!, gw) : t(k.affine(gw, 1, 0)); // buf = μ·buf + (1 − dampening)·g, g at first
      out = [ax(1, p, -a!, buf ? (e ? ax(1, gw, b!, buf) : buf) : gw), ...(buf ? [buf] : [])]; // p −= lr·(g + μ·buf (Nesterov), buf, or g)
    } else if (rule === 'adam') {
      const [m, v] = [ema(state[0]!, gw, b!), ema(state[1]!, square(gw), c!)];
      const p1 = mode === 2 ? t(k.affine(p, 1 - lr! * f!, 0)) : p; // AdamW: p −= lr·wd·p
      out = [ax(1, p1, -a!, t(k.binary('div', m, t(k.affine(t(k.unary('sqrt', v, 0)), d!, e!)), p.shape))), m, v]; // p −= lr/(1 − β₁ᵗ) · m / (√v·s + ε)
    } else {
      const s = ema(state[0]!, square(gw), b!); // s = α·s + (1 − α)·g²
      const avg = f ? ema(state[1]!, gw, b!) : null; // ḡ = α·ḡ + (1 − α)·g
      const step = t(k.binary('div', gw, t(k.affine(t(k.unary('sqrt', avg ? t(k.binary('sub', s, square(avg), p.shape)) : s, 0)), 1, c!)), p.shape)); // g / (√(s − ḡ²) + ε)
      const prev = state[f ? 2 : 1];
      const buf = d! > 0 ? (prev ? ax(d!, prev, 1, step) : step) : null; // buf = μ·buf + step
      out = [ax(1, p, -a!, buf ?? step), s, ...(avg ? [avg] : []), ...(buf ? [buf] : [])];
    }
    return out.map((o) => o.data);
  } finally {
    for (const d of held) if (!out.some((o) => o.data === d)) k.free(d);
  }
}
