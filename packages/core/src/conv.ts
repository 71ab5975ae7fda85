import { ShapeError, ValueError } from './errors';
import type { ConvGeometry, Window2D } from './kernels';
import type { Shape } from './shape';

/**
 * Geometry of sliding windows, shared by the op layer (im2col, col2im, pool, poolGrad), the
 * layers (Conv1D, Conv2D, the pools) and every backend: nothing here is duplicated elsewhere.
 */

/** Output length of a window of `kernel` sliding by `stride` over `input` padded by `padding` on both sides: ⌊(input + 2·padding − kernel)/stride⌋ + 1. */
export function convOutputLength(input: number, kernel: number, stride = 1, padding = 0): number {
  return Math.floor((input + 2 * padding - kernel) / stride) + 1;
}

/** A number or a pair, as a pair (Conv2D's `kernel`, `stride`, `padding` options). */
export function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

const fmtPair = (p: readonly number[]): string => `${p[0]}×${p[1]}`;

/**
 * Checks a window's numbers (kernel and stride positive integers, padding non-negative
 * integers, each a pair) and returns it complete; throws a ValueError naming `op`.
 */
export function checkWindow(op: string, w: Window2D): { kernel: [number, number]; stride: [number, number]; padding: [number, number] } {
  if (w == null || typeof w !== 'object') throw new ValueError(`${op}: window must be an object { kernel, stride?, padding? }, got ${String(w)}`);
  const get = (name: 'kernel' | 'stride' | 'padding', dflt: number, min: number): [number, number] => {
    const v = w[name] ?? [dflt, dflt];
    if (!Array.isArray(v) || v.length !== 2) throw new ValueError(`${op}: ${name} must be a pair [rows, columns], got ${String(v)}`);
    for (const d of v as number[]) {
      if (!Number.isInteger(d) || d < min) {
        const what = min === 0 ? 'non-negative integers' : 'positive integers';
        throw new ValueError(`${op}: ${name} must be ${what}, got [${(v as number[]).join(', ')}]`);
      }
    }
    return [v[0]!, v[1]!];
  };
  return { kernel: get('kernel', 1, 1), stride: get('stride', 1, 1), padding: get('padding', 0, 0) };
}

/**
 * Places window `w` on a channels-last input of shape `x` ([batch, H, W, C]): checks the rank,
 * the window's numbers and that the kernel fits in the padded input (and, for a pool, that
 * padding ≤ kernel/2, so that no window sees only padding), and returns the geometry with
 * the output size. Errors name `op` and the shapes.
 */
export function windowGeometry(op: string, x: Shape, w: Window2D, forPool = false): ConvGeometry {
  if (x.length !== 4) throw new ShapeError(op, 'expects a channels-last input [batch, height, width, channels]', { x });
  const { kernel, stride, padding } = checkWindow(op, w);
  const [batch, inH, inW, chan] = x as [number, number, number, number];
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  if (kh > inH + 2 * ph || kw > inW + 2 * pw) {
    throw new ShapeError(op, `kernel ${fmtPair(kernel)} is larger than the input ${inH}×${inW} with padding ${fmtPair(padding)}`, { x });
  }
  if (forPool && (2 * ph > kh || 2 * pw > kw)) {
    throw new ValueError(`${op}: padding ${fmtPair(padding)} must be at most half the kernel ${fmtPair(kernel)}`);
  }
  if (batch < 1 || chan < 1 || inH < 1 || inW < 1) throw new ShapeError(op, 'every dimension of the input must be ≥ 1', { x });
  return { batch, inH, inW, chan, outH: convOutputLength(inH, kh, sh, ph), outW: convOutputLength(inW, kw, sw, pw), kh, kw, sh, sw, ph, pw };
}
