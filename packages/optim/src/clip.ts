import { ValueError, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { checkHyper, paramList } from './optimizer';
import type { ParamsList } from './optimizer';

/**
 * Scales the gradients so that their total 2-norm (over every parameter, as one vector) is at
 * most `maxNorm` — PyTorch's `clip_grad_norm_`: coef = min(1, maxNorm / (‖g‖ + 1e-6)), g ← coef·g.
 * Returns the total norm **before** clipping as a one-element tensor, on the device (read it
 * with `await norm.data()` if you need it; dispose it). Parameters without a gradient are skipped.
 */
export function clipGradNorm(params: ParamsList, maxNorm: number): Tensor {
  if (arguments.length < 2) throw new ValueError('clipGradNorm(params, maxNorm): maxNorm is required');
  checkHyper('clipGradNorm', 'maxNorm', maxNorm);
  const all = paramList('clipGradNorm', params);
  if (all.length === 0) throw new ValueError('clipGradNorm: got no parameters');
  const ps = all.filter((p) => p.hasGrad);
  const b = all[0]!.backend;
  if (ps.length === 0) return b.zeros([1]);
  return tidy(() => {
    const sq = ps.map((p) => b.reshape(b.sum(b.unary('square', p.grad!)), [1]));
    const total = b.unary('sqrt', sq.reduce((a, s) => b.binary('add', a, s))); // ‖g‖ = √Σ g²
    const coef = b.clamp(b.binary('div', b.full([1], maxNorm), b.affine(total, 1, 1e-6)), 0, 1); // min(1, maxNorm / (‖g‖ + 1e-6))
    for (const p of ps) p.grad = b.binary('mul', p.grad!, coef);
    return total;
  });
}

/** Clamps every gradient element into [−clipValue, clipValue] (PyTorch's `clip_grad_value_`). */
export function clipGradValue(params: ParamsList, clipValue: number): void {
  if (arguments.length < 2) throw new ValueError('clipGradValue(params, clipValue): clipValue is required');
  checkHyper('clipGradValue', 'clipValue', clipValue);
  for (const p of paramList('clipGradValue', params).filter((q) => q.hasGrad)) p.grad = tidy(() => p.backend.clamp(p.grad!, -clipValue, clipValue));
}
