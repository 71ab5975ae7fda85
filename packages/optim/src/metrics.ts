import { ShapeError, ValueError, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import type { MetricFn } from './optim';

/**
 * Classification accuracy of a batch, on the device: the share of rows whose arg-max equals
 * the target. `y` holds class indices ([n] or [n, 1]) or one-hot rows (the shape of ŷ).
 * Returns a one-element tensor.
 */
export const accuracy: MetricFn = (y: Tensor, yhat: Tensor): Tensor =>
  tidy(() => {
    const b = yhat.backend;
    if (yhat.rank !== 2) throw new ShapeError('accuracy', 'expects predictions of shape [n, classes]', { y: y.shape, yhat: yhat.shape });
    const n = yhat.shape[0]!;
    const pred = b.argmax(yhat, -1); // [n]
    let target: Tensor;
    if (y.rank === 2 && y.shape[0] === n && y.shape[1] === yhat.shape[1] && y.shape[1]! > 1) target = b.argmax(y, -1);
    else if (y.size === n && y.shape[0] === n) target = y.rank === 1 ? y : b.reshape(y, [n]);
    else throw new ShapeError('accuracy', 'targets must be class indices [n] or one-hot rows [n, classes]', { y: y.shape, yhat: yhat.shape });
    const wrong = b.clamp(b.unary('abs', b.binary('sub', pred, target)), 0, 1); // 1 where argmax ŷ ≠ y (integer values)
    return b.affine(b.sum(wrong), -1 / n, 1); // 1 − wrong / n
  });

/** A named metric for `fit` / `evaluate`: `fn` returns the batch mean as a one-element tensor. */
export interface Metric {
  name: string;
  fn: MetricFn;
}

/** `'accuracy'` or a custom metric. */
export type MetricSpec = 'accuracy' | Metric;

/** @internal */
export function resolveMetrics(owner: string, specs: readonly MetricSpec[] | undefined): Metric[] {
  const out: Metric[] = [];
  for (const s of specs ?? []) {
    const m = s === 'accuracy' ? { name: 'accuracy', fn: accuracy } : s;
    if (!m || typeof m.name !== 'string' || typeof m.fn !== 'function') {
      throw new ValueError(`${owner}: a metric must be 'accuracy' or { name, fn }, got ${String(s)}`);
    }
    if (out.some((o) => o.name === m.name)) throw new ValueError(`${owner}: metric '${m.name}' is listed twice`);
    out.push(m);
  }
  return out;
}
