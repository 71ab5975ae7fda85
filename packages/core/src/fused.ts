import type { Kernels, KernelTensor } from './kernels';
import { ShapeError } from './errors';
import { shapesEqual } from './shape';
import type { Tensor } from './tensor';
import { runOp } from './backend';

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
 * β·a + (1 − β)·x², element-wise: the second moment of Adam and RMSprop (a null: the first step,
 * (1 − β)·x²). One pass on a backend with the `optimizerStep` kernel, the primitives chained otherwise.
 */
export function emaSquare(a: Tensor | null, x: Tensor, beta: number): Tensor {
  if (a && !shapesEqual(a.shape, x.shape)) throw new ShapeError('emaSquare', 'the average and the values must have the same shape', { a: a.shape, x: x.shape });
  const h = [beta];
  return runOp(x.backend, 'emaSquare', a ? [x, a] : [x], x.shape, (k, [xi, ai]) =>
    k.optimizerStep ? k.optimizerStep('emaSquare', xi!, ai ?? null, null, h) : optimizerChain(k, 'emaSquare', xi!, ai ?? null, null, h),
  );
}

/** p − lr·m / (√v·s + ε), element-wise: the step of Adam (s = 1/√(1 − β₂ᵗ)) and RMSprop (m = g, s = 1). One pass, as emaSquare. */
export function rootStep(p: Tensor, m: Tensor, v: Tensor, lr: number, s: number, eps: number): Tensor {
  if (!shapesEqual(p.shape, m.shape) || !shapesEqual(p.shape, v.shape)) throw new ShapeError('rootStep', 'p, m and v must have the same shape', { p: p.shape, m: m.shape, v: v.shape });
  const h = [lr, s, eps];
  return runOp(p.backend, 'rootStep', [p, m, v], p.shape, (k, [pi, mi, vi]) =>
    k.optimizerStep ? k.optimizerStep('rootStep', pi!, mi!, vi!, h) : optimizerChain(k, 'rootStep', pi!, mi!, vi!, h),
  );
}

/** emaSquare (x, a, –, [β]) and rootStep (p, m, v, [lr, s, ε]) from the primitives, each intermediate freed. */
export function optimizerChain<D>(k: Kernels<D>, op: 'emaSquare' | 'rootStep', x: KernelTensor<D>, a: KernelTensor<D> | null, b: KernelTensor<D> | null, h: readonly number[]): D {
  const held: D[] = [];
  const t = (data: D): KernelTensor<D> => (held.push(data), { data, shape: x.shape, size: x.size });
  try {
    if (op === 'emaSquare') {
      const sq = t(k.unary('square', x, 0));
      return a ? k.axpby(h[0]!, a, 1 - h[0]!, sq) : k.affine(sq, 1 - h[0]!, 0);
    }
    const denom = t(k.affine(t(k.unary('sqrt', b!, 0)), h[1]!, h[2]!)); // √v·s + ε
    return k.axpby(1, x, -h[0]!, t(k.binary('div', a!, denom, x.shape)));
  } finally {
    for (const d of held) k.free(d);
  }
}
