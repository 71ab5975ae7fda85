import { ShapeError, ValueError, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import type { MetricFn } from './optim';

/** The target class of each row, [n]: from class indices ([n] or [n, 1]) or one-hot rows (ŷ's shape). */
function targetClasses(owner: string, y: Tensor, yhat: Tensor): Tensor {
  const b = yhat.backend;
  if (yhat.rank !== 2) throw new ShapeError(owner, 'expects predictions of shape [n, classes]', { y: y.shape, yhat: yhat.shape });
  const n = yhat.shape[0]!;
  if (y.rank === 2 && y.shape[0] === n && y.shape[1] === yhat.shape[1] && y.shape[1]! > 1) return b.argmax(y, -1);
  if (y.size === n && y.shape[0] === n) return y.rank === 1 ? y : b.reshape(y, [n]);
  throw new ShapeError(owner, 'targets must be class indices [n] or one-hot rows [n, classes]', { y: y.shape, yhat: yhat.shape });
}

/** 1 where two [n] class tensors agree, else 0 (integer values: |a − b| clamped to 1). */
const hits = (a: Tensor, b: Tensor): Tensor => a.backend.affine(a.backend.clamp(a.backend.unary('abs', a.backend.binary('sub', a, b)), 0, 1), -1, 1);

/**
 * Classification accuracy of a batch, on the device: the share of rows whose arg-max equals
 * the target. `y` holds class indices ([n] or [n, 1]) or one-hot rows (the shape of ŷ).
 * Returns a one-element tensor.
 */
export const accuracy: MetricFn = (y: Tensor, yhat: Tensor): Tensor =>
  tidy(() => {
    const b = yhat.backend;
    const right = hits(b.argmax(yhat, -1), targetClasses('accuracy', y, yhat));
    return b.affine(b.sum(right), 1 / yhat.shape[0]!, 0);
  });

/**
 * Top-k accuracy (`fit`/`evaluate` accept it by name as 'top5', 'top3' …): the share of rows
 * whose target is among the k largest predictions (ties to the first, as arg-max). On the
 * device: k arg-max passes, each masking the class it found.
 */
export function topK(k: number): MetricFn {
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`topK: k must be a positive integer, got ${String(k)}`);
  return (y: Tensor, yhat: Tensor): Tensor =>
    tidy(() => {
      const b = yhat.backend;
      const t = targetClasses(`top${k}`, y, yhat);
      const [n, classes] = yhat.shape as [number, number];
      let z = yhat;
      let right = b.zeros([n]);
      for (let i = 0; i < Math.min(k, classes); i++) {
        const a = b.argmax(z, -1);
        right = b.binary('add', right, hits(a, t));
        z = b.binary('sub', z, b.affine(b.oneHot(a, classes), 1e30, 0)); // mask the class just found
      }
      return b.affine(b.sum(right), 1 / n, 0);
    });
}

/**
 * The confusion matrix of a batch, on the device: a [classes, classes] tensor whose entry
 * (i, j) counts the samples of true class i predicted as j (arg-max of ŷ), as scikit-learn's.
 * Targets as for `accuracy`; sum the matrices of several batches, read it once.
 */
export function confusionMatrix(y: Tensor, yhat: Tensor): Tensor {
  if (yhat === undefined) throw new ValueError('confusionMatrix(y, yhat): both the targets and the predictions are required');
  return tidy(() => {
    const b = yhat.backend;
    const classes = yhat.shape[1]!;
    const t = targetClasses('confusionMatrix', y, yhat);
    return b.matmul(b.oneHot(t, classes), b.oneHot(b.argmax(yhat, -1), classes), true, false); // Σ_s onehot(y_s)ᵀ·onehot(ŷ_s)
  });
}

/** A named metric for `fit` / `evaluate`: `fn` returns the batch mean as a one-element tensor. */
export interface Metric {
  name: string;
  fn: MetricFn;
}

/** `'accuracy'`, `'top5'` (any `top<k>`), or a custom metric. */
export type MetricSpec = 'accuracy' | `top${number}` | Metric;

/** @internal */
export function resolveMetrics(owner: string, specs: readonly MetricSpec[] | undefined): Metric[] {
  const out: Metric[] = [];
  for (const s of specs ?? []) {
    const top = typeof s === 'string' ? /^top([1-9]\d*)$/.exec(s) : null;
    const m = s === 'accuracy' ? { name: 'accuracy', fn: accuracy } : top ? { name: s as string, fn: topK(Number(top[1])) } : s;
    if (!m || typeof m !== 'object' || typeof m.name !== 'string' || typeof m.fn !== 'function') {
      throw new ValueError(`${owner}: a metric must be 'accuracy', 'top<k>' (e.g. 'top5') or { name, fn }, got ${typeof s === 'string' ? `'${s}'` : String(s)}`);
    }
    if (out.some((o) => o.name === m.name)) throw new ValueError(`${owner}: metric '${m.name}' is listed twice`);
    out.push(m);
  }
  return out;
}
