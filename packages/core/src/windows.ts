import { ShapeError, ValueError } from './errors';
import type { PoolKind, Window2D } from './kernels';
import { POOL_KINDS } from './kernels';
import { windowGeometry } from './conv';
import type { Shape } from './shape';
import { checkShape, shapesEqual } from './shape';
import type { Tensor } from './tensor';
import { isTensor } from './tensor';
import { runOp } from './backend';

/**
 * The window ops (Conv1D, Conv2D, the pools), as functions rather than Backend methods so that a
 * bundle without convolutions carries none of them. Each checks its arguments here and runs
 * through the op layer (`runOp`): liveness, same backend and size limits as every op.
 */
function tensorArg(op: string, x: unknown): Tensor {
  if (!isTensor(x)) throw new ValueError(`${op}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x;
}

function poolKind(op: string, kind: PoolKind): PoolKind {
  if (!POOL_KINDS.includes(kind)) throw new ValueError(`${op}: unknown kind '${String(kind)}' (one of ${POOL_KINDS.join(', ')})`);
  return kind;
}

/**
 * The patches of a channels-last x [batch, H, W, C] under `window`, one row per output
 * position: [batch·H'·W', kh·kw·C], columns in (ky, kx, c) order, zeros in the padding.
 * Conv2D is im2col(x)·W with W [kh, kw, C, out] seen as [kh·kw·C, out].
 */
export function im2col(x: Tensor, window: Window2D): Tensor {
  const g = windowGeometry('im2col', tensorArg('im2col', x).shape, window);
  return runOp(x.backend, 'im2col', [x], [g.batch * g.outH * g.outW, g.kh * g.kw * g.chan], (k, [xi]) => k.im2col(xi!, g));
}

/**
 * The adjoint of im2col: rows of patches [batch·H'·W', kh·kw·C] back to `inputShape`
 * [batch, H, W, C], summing where windows overlap (Conv2D's input gradient).
 */
export function col2im(cols: Tensor, window: Window2D, inputShape: Shape): Tensor {
  tensorArg('col2im', cols);
  checkShape('col2im', inputShape);
  const g = windowGeometry('col2im', inputShape, window);
  const rows = g.batch * g.outH * g.outW;
  const k = g.kh * g.kw * g.chan;
  if (cols.rank !== 2 || cols.shape[0] !== rows || cols.shape[1] !== k) {
    throw new ShapeError('col2im', `expects patches of shape [${rows}, ${k}] for this window on the input`, { cols: cols.shape, input: inputShape });
  }
  return runOp(cols.backend, 'col2im', [cols], inputShape, (kn, [c]) => kn.col2im(c!, g));
}

/**
 * Max or average pooling of a channels-last x [batch, H, W, C] → [batch, H', W', C]. Padding
 * (at most half the kernel) is ignored by 'max' and counts as zeros for 'avg' (PyTorch's
 * defaults).
 */
export function pool(kind: PoolKind, x: Tensor, window: Window2D): Tensor {
  poolKind('pool', kind);
  const g = windowGeometry(`pool(${kind})`, tensorArg('pool', x).shape, window, true);
  return runOp(x.backend, 'pool', [x], [g.batch, g.outH, g.outW, g.chan], (k, [xi]) => k.pool(kind, xi!, g));
}

/**
 * The gradient of pool(kind, x, window) given `delta` of shape [batch, H', W', C], shaped like
 * x (batch, H, W, C); 'max' sends each delta to the first arg-max of its window (row-major), 'avg' spreads it
 * evenly; overlapping windows add up.
 */
export function poolGrad(kind: PoolKind, x: Tensor, delta: Tensor, window: Window2D): Tensor {
  poolKind('poolGrad', kind);
  tensorArg('poolGrad', delta);
  const g = windowGeometry(`poolGrad(${kind})`, tensorArg('poolGrad', x).shape, window, true);
  const out = [g.batch, g.outH, g.outW, g.chan];
  if (!shapesEqual(delta.shape, out)) {
    throw new ShapeError(`poolGrad(${kind})`, `delta must have the pool's output shape [${out.join(', ')}]`, { x: x.shape, delta: delta.shape });
  }
  return runOp(x.backend, 'poolGrad', [x, delta], x.shape, (k, [xi, di]) => k.poolGrad(kind, xi!, di!, g));
}
