import type { AxisSplit, Kernels, KernelTensor, MatmulDims } from '../kernels';
import type { Shape } from '../shape';
import { broadcastStrides, sizeOf, stridesOf } from '../shape';
import { referenceMatmul } from './reference';

type T = KernelTensor<Float64Array>;

/** Row-major coordinates of flat index i in `shape`. */
function coords(i: number, shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return out;
}

const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const map = (x: T, f: (v: number, i: number) => number): Float64Array => Float64Array.from(x.data, f);

const UNARY = {
  abs: Math.abs,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (v: number) => v * v,
  tanh: Math.tanh,
  sigmoid: (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  relu: (v: number) => (v < 0 ? 0 : v),
  softplus: (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
};
const BINARY = { add: (a: number, b: number) => a + b, sub: (a: number, b: number) => a - b, mul: (a: number, b: number) => a * b, div: (a: number, b: number) => a / b };
const GRAD = { tanh: (s: number, d: number) => d * (1 - s * s), sigmoid: (s: number, d: number) => d * s * (1 - s), relu: (s: number, d: number) => (s > 0 ? d : 0) };

/**
 * The smallest backend: every kernel written the plainest way, in float64, with no pooling or
 * tricks. `new Backend(referenceKernels())` passes the conformance suite, which shows what a new
 * backend is: these kernels, and nothing else (the op layer in core does every check).
 */
export function referenceKernels(): Kernels<Float64Array> {
  return {
    name: 'reference(float64)',
    dtype: 'float64',
    canReadSync: true,
    maxElements: 2 ** 32 - 1,
    ready: () => Promise.resolve(),
    upload: (values) => Float64Array.from(values),
    fill: (n, v) => new Float64Array(n).fill(v),
    readSync: (x) => x.data.slice(),
    read: (x) => Promise.resolve(x.data.slice()),
    free: () => {},
    matmul(a: T, b: T, { m, k, n, transposeA, transposeB }: MatmulDims, bias?: T) {
      const c = referenceMatmul(a.data, b.data, m, n, k, transposeA, transposeB);
      return bias ? c.map((v, i) => v + bias.data[i % n]!) : c;
    },
    unary: (op, x) => map(x, UNARY[op]),
    binary(op, a, b, out) {
      const [sa, sb] = [broadcastStrides(a.shape, out), broadcastStrides(b.shape, out)];
      return Float64Array.from({ length: sizeOf(out) }, (_, i) => {
        const c = coords(i, out);
        return BINARY[op](a.data[dot(c, sa)]!, b.data[dot(c, sb)]!);
      });
    },
    affine: (x, scale, shift) => map(x, (v) => v * scale + shift),
    axpby: (alpha, x, beta, y) => map(x, (v, i) => alpha * v + beta * y.data[i]!),
    clamp: (x, lo, hi) => map(x, (v) => Math.min(Math.max(v, lo), hi)),
    activationGrad: (op, s, d) => map(s, (v, i) => GRAD[op](v, d.data[i]!)),
    sum(x, axes, out) {
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const os = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
      const r = new Float64Array(sizeOf(out));
      x.data.forEach((v, i) => (r[dot(coords(i, x.shape), os)]! += v));
      return r;
    },
    argmax(x, { outer, len, inner }: AxisSplit) {
      return Float64Array.from({ length: outer * inner }, (_, j) => {
        const [o, i] = [Math.floor(j / inner), j % inner];
        let best = 0;
        for (let r = 1; r < len; r++) if (x.data[(o * len + r) * inner + i]! > x.data[(o * len + best) * inner + i]!) best = r;
        return best;
      });
    },
    rowwise(op, x, rows, k) {
      const out = new Float64Array(rows * k);
      for (let r = 0; r < rows; r++) {
        const row = x.data.subarray(r * k, (r + 1) * k);
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        row.forEach((v, j) => (out[r * k + j] = op === 'logSoftmax' ? v - lse : Math.exp(v - lse)));
      }
      return out;
    },
    oneHot(ix, depth) {
      const out = new Float64Array(ix.size * depth);
      ix.data.forEach((c, i) => {
        if (Number.isInteger(c) && c >= 0 && c < depth) out[i * depth + c] = 1;
      });
      return out;
    },
  };
}
