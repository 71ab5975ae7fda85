import type { AxisSplit, ConvGeometry, Kernels, KernelTensor, MatmulDims } from '../kernels';
import type { Shape } from '../shape';
import { broadcastStrides, sizeOf, stridesOf } from '../shape';
import { referenceMatmul } from './reference';
import { GELU_TANH, activationSlope, erf } from '../erf';

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
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (v: number) => v * v,
  tanh: Math.tanh,
  sigmoid: (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  relu: (v: number) => (v < 0 ? 0 : v),
  softplus: (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
  leakyRelu: (v: number, p: number) => (v > 0 ? v : p * v),
  elu: (v: number, p: number) => (v > 0 ? v : p * Math.expm1(v)),
  gelu: (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  geluTanh: (v: number) => 0.5 * v * (1 + Math.tanh(GELU_TANH.c * (v + GELU_TANH.k * v ** 3))),
};
const BINARY = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  maximum: Math.max,
  minimum: Math.min,
  pow: Math.pow,
};
/**
 * Every (window, cell) pair of geometry g, row-major: f(row of the output position, cell index
 * within the kernel, input offset of the cell's channel 0, or −1 in the padding).
 */
function eachCell(g: ConvGeometry, f: (row: number, cell: number, at: number) => void): void {
  for (let b = 0; b < g.batch; b++)
    for (let oy = 0; oy < g.outH; oy++)
      for (let ox = 0; ox < g.outW; ox++)
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const [y, x] = [oy * g.sh - g.ph + ky, ox * g.sw - g.pw + kx];
            const inside = y >= 0 && y < g.inH && x >= 0 && x < g.inW;
            f((b * g.outH + oy) * g.outW + ox, ky * g.kw + kx, inside ? ((b * g.inH + y) * g.inW + x) * g.chan : -1);
          }
}

const GRAD = {
  tanh: (s: number, d: number) => d * (1 - s * s),
  sigmoid: (s: number, d: number) => d * s * (1 - s),
  relu: (s: number, d: number) => (s > 0 ? d : 0),
};

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
    unary: (op, x, p) => map(x, (v) => UNARY[op](v, p)),
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
    activationGrad: (op, s, d, p) => map(s, (v, i) => (op in GRAD ? GRAD[op as keyof typeof GRAD](v, d.data[i]!) : d.data[i]! * activationSlope(op, v, p))),
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
    im2col(x, g) {
      const K = g.kh * g.kw * g.chan;
      const out = new Float64Array(g.batch * g.outH * g.outW * K);
      eachCell(g, (row, cell, at) => {
        for (let c = 0; c < g.chan && at >= 0; c++) out[row * K + cell * g.chan + c] = x.data[at + c]!;
      });
      return out;
    },
    col2im(cols, g) {
      const K = g.kh * g.kw * g.chan;
      const out = new Float64Array(g.batch * g.inH * g.inW * g.chan);
      eachCell(g, (row, cell, at) => {
        for (let c = 0; c < g.chan && at >= 0; c++) out[at + c]! += cols.data[row * K + cell * g.chan + c]!;
      });
      return out;
    },
    pool(kind, x, g) {
      const out = new Float64Array(g.batch * g.outH * g.outW * g.chan).fill(kind === 'max' ? -Infinity : 0);
      eachCell(g, (row, _cell, at) => {
        for (let c = 0; c < g.chan && at >= 0; c++) {
          const o = row * g.chan + c;
          out[o] = kind === 'max' ? Math.max(out[o]!, x.data[at + c]!) : out[o]! + x.data[at + c]! / (g.kh * g.kw);
        }
      });
      return out;
    },
    poolGrad(kind, x, d, g) {
      const out = new Float64Array(x.size);
      // max: the first cell of each window holding its maximum, per channel (row-major)
      const best = new Float64Array(g.batch * g.outH * g.outW * g.chan).fill(-Infinity);
      const at0 = new Float64Array(best.length).fill(-1);
      eachCell(g, (row, _cell, at) => {
        for (let c = 0; c < g.chan && at >= 0; c++) {
          const o = row * g.chan + c;
          if (kind === 'avg') out[at + c]! += d.data[o]! / (g.kh * g.kw);
          else if (at0[o]! < 0 || x.data[at + c]! > best[o]!) [best[o], at0[o]] = [x.data[at + c]!, at + c];
        }
      });
      if (kind === 'max') at0.forEach((i, o) => (out[i]! += d.data[o]!));
      return out;
    },
    extremum(op, x, { outer, len, inner }: AxisSplit) {
      const f = op === 'max' ? Math.max : Math.min;
      return Float64Array.from({ length: outer * inner }, (_, j) => {
        const [o, i] = [Math.floor(j / inner), j % inner];
        return f(...Array.from({ length: len }, (_, r) => x.data[(o * len + r) * inner + i]!));
      });
    },
    where(c, a, b, out) {
      const [sc, sa, sb] = [c, a, b].map((t) => broadcastStrides(t.shape, out));
      return Float64Array.from({ length: sizeOf(out) }, (_, i) => {
        const at = coords(i, out);
        return c.data[dot(at, sc!)] !== 0 ? a.data[dot(at, sa!)]! : b.data[dot(at, sb!)]!;
      });
    },
    strided: (x, out, strides, offset) => Float64Array.from({ length: sizeOf(out) }, (_, i) => x.data[offset + dot(coords(i, out), [...strides])]!),
    concat(xs, outer, lens, inner) {
      const out: number[] = [];
      for (let o = 0; o < outer; o++) xs.forEach((x, j) => out.push(...x.data.subarray(o * lens[j]! * inner, (o + 1) * lens[j]! * inner)));
      return Float64Array.from(out);
    },
    gather(x, index, axis) {
      const xs = stridesOf(x.shape);
      return Float64Array.from(index.data, (v, i) => {
        const at = coords(i, index.shape);
        if (!Number.isInteger(v) || v < 0 || v >= x.shape[axis]!) return 0;
        at[axis] = v;
        return x.data[dot(at, xs)]!;
      });
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
