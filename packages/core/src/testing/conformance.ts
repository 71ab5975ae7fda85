import { Backend } from '../backend';
import { grad } from '../grad';
import { referenceKernels } from './reference-kernels';
import type { ActivationGrad, BinaryOp, PoolKind, UnaryOp, UpdateRule, Window2D } from '../kernels';
import { BackendMismatchError, DisposedError, NeuroneError, ShapeError, ValueError } from '../errors';
import { RNG } from '../random';
import { col2im, im2col, pool, poolGrad } from '../windows';
import { concat, stack, where } from '../ops';
import { binaryCrossEntropy, optimizerUpdate } from '../fused';
import { referenceMatmul } from './reference';
import type { Shape } from '../shape';
import type { Tensor } from '../tensor';

/**
 * The backend conformance suite: every primitive against values computed independently here
 * (plain float64 loops and hand-worked literals), on any backend. Framework-agnostic: each case
 * throws on failure, so it runs under vitest, in a browser page, or from a script.
 */
export interface ConformanceOptions {
  /** Relative tolerance against the float64 references (default: 1e-12 for float64, 2e-6 for float32). */
  rtol?: number;
  /** Absolute tolerance (default: rtol). */
  atol?: number;
  /** Matmul is compared with tolerance scaled by √K (accumulation order differs). */
  skip?: string[];
}

/** One named case of the backend conformance suite. */
export interface ConformanceCase {
  name: string;
  run(make: () => Backend, opts: Required<Pick<ConformanceOptions, 'rtol' | 'atol'>>): Promise<void>;
}

class Mismatch extends Error {}

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Mismatch(msg);
}

async function expectClose(t: Tensor, shape: Shape, expected: ArrayLike<number>, rtol: number, atol: number, what: string): Promise<void> {
  assert(t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]), `${what}: shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  const got = await t.data();
  assert(got.length === expected.length, `${what}: ${got.length} values, expected ${expected.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert(Number.isNaN(g), `${what}[${i}]: got ${g}, expected NaN`);
      continue;
    }
    if (!Number.isFinite(e)) {
      assert(g === e, `${what}[${i}]: got ${g}, expected ${e}`);
      continue;
    }
    assert(Math.abs(g - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${g}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

function expectThrow(fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp, what: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert(err instanceof type, `${what}: expected ${type.name}, got ${err === undefined ? 'no error' : String(err)}`);
  assert(pattern.test((err as Error).message), `${what}: message "${(err as Error).message}" does not match ${pattern}`);
}

const rand = (n: number, seed: number, lo = -1, hi = 1): Float64Array => new RNG(seed).uniformArray(n, lo, hi);
const prod = (s: Shape): number => s.reduce((a, b) => a * b, 1);

/** Reference GEMM for shaped operands: C = op(A)·op(B) in float64. */
function refMatmul(a: ArrayLike<number>, as: Shape, b: ArrayLike<number>, bs: Shape, ta: boolean, tb: boolean): { c: Float64Array; m: number; n: number; k: number } {
  const m = ta ? as[1]! : as[0]!;
  const k = ta ? as[0]! : as[1]!;
  const n = tb ? bs[0]! : bs[1]!;
  return { c: referenceMatmul(a, b, m, n, k, ta, tb), m, n, k };
}

/** The activations with a parameter and GELU are checked against PyTorch's literals (below). */
type PlainUnary = Exclude<UnaryOp, 'leakyRelu' | 'elu' | 'gelu' | 'geluTanh'>;
const unaryRef: Record<PlainUnary, (x: number) => number> = {
  abs: Math.abs,
  exp: (x) => Math.E ** x,
  log: Math.log,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  softplus: (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0),
};

const binaryRef: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
  pow: (a, b) => Math.exp(b * Math.log(a)), // the cases' bases are positive
};

/** Reference broadcasting: index arithmetic written out per element. */
function refBroadcast(a: ArrayLike<number>, as: Shape, b: ArrayLike<number>, bs: Shape, f: (x: number, y: number) => number): { out: Float64Array; shape: number[] } {
  const r = Math.max(as.length, bs.length);
  const pa = [...Array(r - as.length).fill(1), ...as];
  const pb = [...Array(r - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const out = new Float64Array(prod(shape));
  const idx = new Array(r).fill(0);
  for (let flat = 0; flat < out.length; flat++) {
    let rem = flat;
    for (let d = r - 1; d >= 0; d--) {
      idx[d] = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d]);
    }
    out[flat] = f(a[ia]!, b[ib]!);
  }
  return { out, shape };
}

function rows(x: ArrayLike<number>, n: number, k: number, f: (row: number[]) => number[]): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) out.set(f(Array.from({ length: k }, (_, j) => x[i * k + j]!)), i * k);
  return out;
}
const refSoftmax = (r: number[]): number[] => {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const refLogSoftmax = (r: number[]): number[] => {
  const m = Math.max(...r);
  const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
  return r.map((v) => v - lse);
};

/** Reference sum over axes with keepDims. */
function refSum(x: ArrayLike<number>, shape: Shape, axes: number[], keepDims: boolean): { out: Float64Array; shape: number[] } {
  const outShapeKeep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(prod(outShapeKeep));
  const idx = new Array(shape.length).fill(0);
  for (let flat = 0; flat < prod(shape); flat++) {
    let rem = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    let o = 0;
    for (let d = 0; d < shape.length; d++) o = o * outShapeKeep[d]! + (axes.includes(d) ? 0 : idx[d]);
    out[o]! += x[flat]!;
  }
  return { out, shape: keepDims ? outShapeKeep : shape.filter((_, i) => !axes.includes(i)) };
}

/** Row-major coordinates of flat index i in shape, and back: the tensor API's references. */
function unflat(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return c;
}
const flat = (c: readonly number[], shape: Shape): number => c.reduce((acc, v, d) => acc * shape[d]! + v, 0);
/** out (shape) element c = f(c): every tensor-API reference is written this way, gather-style. */
const build = (shape: Shape, f: (c: number[]) => number): Float64Array => Float64Array.from({ length: prod(shape) }, (_, i) => f(unflat(i, shape)));
/** A reduction over `axes` with f folding the values of each output position. */
function refReduce(x: ArrayLike<number>, shape: Shape, axes: number[], keepDims: boolean, f: (vals: number[]) => number): { out: Float64Array; shape: number[] } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = build(kept, (c) => {
    const vals: number[] = [];
    for (let i = 0; i < prod(shape); i++) {
      const xc = unflat(i, shape);
      if (xc.every((v, d) => axes.includes(d) || v === c[d])) vals.push(x[i]!);
    }
    return f(vals);
  });
  return { out, shape: keepDims ? kept : shape.filter((_, i) => !axes.includes(i)) };
}

/**
 * References for the window ops, written gather-style (each output element computed on its own
 * from the definitions), independent of how the kernels loop. Channels-last [b, h, w, c].
 */
interface Geo { b: number; h: number; w: number; c: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; oh: number; ow: number }
function geo(x: Shape, win: Window2D): Geo {
  const [b, h, w, c] = x as number[];
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride ?? [1, 1];
  const [ph, pw] = win.padding ?? [0, 0];
  return { b: b!, h: h!, w: w!, c: c!, kh, kw, sh, sw, ph, pw, oh: Math.floor((h! + 2 * ph - kh) / sh) + 1, ow: Math.floor((w! + 2 * pw - kw) / sw) + 1 };
}
const at4 = (g: Geo, b: number, y: number, x: number, c: number): number => ((b * g.h + y) * g.w + x) * g.c + c;
function refIm2col(x: ArrayLike<number>, g: Geo): Float64Array {
  const K = g.kh * g.kw * g.c;
  const out = new Float64Array(g.b * g.oh * g.ow * K);
  for (let r = 0; r < g.b * g.oh * g.ow; r++)
    for (let j = 0; j < K; j++) {
      const b = Math.floor(r / (g.oh * g.ow));
      const oy = Math.floor(r / g.ow) % g.oh;
      const ox = r % g.ow;
      const ky = Math.floor(j / (g.kw * g.c));
      const kx = Math.floor(j / g.c) % g.kw;
      const ch = j % g.c;
      const y = oy * g.sh - g.ph + ky;
      const xx = ox * g.sw - g.pw + kx;
      out[r * K + j] = y >= 0 && y < g.h && xx >= 0 && xx < g.w ? x[at4(g, b, y, xx, ch)]! : 0;
    }
  return out;
}
/** For input position (y, x): every (oy, ky) with oy·sh − ph + ky = y, likewise columns. */
function windowsOver(g: Geo, y: number, x: number): { oy: number; ox: number; ky: number; kx: number }[] {
  const out: { oy: number; ox: number; ky: number; kx: number }[] = [];
  for (let oy = 0; oy < g.oh; oy++)
    for (let ox = 0; ox < g.ow; ox++) {
      const ky = y - (oy * g.sh - g.ph);
      const kx = x - (ox * g.sw - g.pw);
      if (ky >= 0 && ky < g.kh && kx >= 0 && kx < g.kw) out.push({ oy, ox, ky, kx });
    }
  return out;
}
function refCol2im(cols: ArrayLike<number>, g: Geo): Float64Array {
  const K = g.kh * g.kw * g.c;
  const out = new Float64Array(g.b * g.h * g.w * g.c);
  for (let b = 0; b < g.b; b++)
    for (let y = 0; y < g.h; y++)
      for (let x = 0; x < g.w; x++)
        for (let ch = 0; ch < g.c; ch++) {
          let s = 0;
          for (const { oy, ox, ky, kx } of windowsOver(g, y, x)) s += cols[((b * g.oh + oy) * g.ow + ox) * K + (ky * g.kw + kx) * g.c + ch]!;
          out[at4(g, b, y, x, ch)] = s;
        }
  return out;
}
/** The input positions of window (oy, ox), row-major, and how many positions the window has in all (padding included). */
function windowCells(g: Geo, oy: number, ox: number): [number, number][] {
  const cells: [number, number][] = [];
  for (let ky = 0; ky < g.kh; ky++)
    for (let kx = 0; kx < g.kw; kx++) {
      const y = oy * g.sh - g.ph + ky;
      const x = ox * g.sw - g.pw + kx;
      if (y >= 0 && y < g.h && x >= 0 && x < g.w) cells.push([y, x]);
    }
  return cells;
}
function refPool(kind: PoolKind, xv: ArrayLike<number>, g: Geo): Float64Array {
  const out = new Float64Array(g.b * g.oh * g.ow * g.c);
  for (let b = 0; b < g.b; b++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let ch = 0; ch < g.c; ch++) {
          const vals = windowCells(g, oy, ox).map(([y, x]) => xv[at4(g, b, y, x, ch)]!);
          out[((b * g.oh + oy) * g.ow + ox) * g.c + ch] = kind === 'max' ? Math.max(...vals) : vals.reduce((p, q) => p + q, 0) / (g.kh * g.kw);
        }
  return out;
}
function refPoolGrad(kind: PoolKind, xv: ArrayLike<number>, d: ArrayLike<number>, g: Geo): Float64Array {
  const out = new Float64Array(g.b * g.h * g.w * g.c);
  for (let b = 0; b < g.b; b++)
    for (let y = 0; y < g.h; y++)
      for (let x = 0; x < g.w; x++)
        for (let ch = 0; ch < g.c; ch++) {
          let s = 0;
          for (const { oy, ox } of windowsOver(g, y, x)) {
            const dv = d[((b * g.oh + oy) * g.ow + ox) * g.c + ch]!;
            if (kind === 'avg') {
              s += dv / (g.kh * g.kw);
              continue;
            }
            // the first maximum of the window, row-major
            const cells = windowCells(g, oy, ox);
            let best = 0;
            for (let i = 1; i < cells.length; i++) if (xv[at4(g, b, ...cells[i]!, ch)]! > xv[at4(g, b, ...cells[best]!, ch)]!) best = i;
            if (cells[best]![0] === y && cells[best]![1] === x) s += dv;
          }
          out[at4(g, b, y, x, ch)] = s;
        }
  return out;
}
/** Geometries the window cases run: square and not, strides that skip the last column, padding, one and several channels, batch of one. */
const WINDOWS: [Shape, Window2D][] = [
  [[2, 5, 5, 3], { kernel: [3, 3] }],
  [[1, 7, 6, 2], { kernel: [3, 2], stride: [2, 3], padding: [1, 0] }],
  [[3, 1, 10, 4], { kernel: [1, 3], stride: [1, 2] }],
  [[2, 4, 4, 1], { kernel: [2, 2], stride: [2, 2] }],
  [[1, 6, 5, 2], { kernel: [3, 3], stride: [2, 1], padding: [1, 1] }],
  [[2, 9, 8, 1], { kernel: [3, 3], stride: [3, 3] }],
  [[1, 3, 3, 1], { kernel: [3, 3] }],
];

type Tol = { rtol: number; atol: number };
/**
 * op(A)·op(B) (+ a bias in [-3, 3] when `withBias`) for each [m, k, n] and all four transpose
 * flag combinations, seeded random operands, against the float64 reference; the tolerance grows
 * with √k (float32 accumulation).
 */
async function randomMatmuls(B: Backend, { rtol, atol }: Tol, shapes: [number, number, number][], seed: number, withBias: boolean): Promise<void> {
  for (const [m, k, n] of shapes)
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const as = ta ? [k, m] : [m, k];
        const bs = tb ? [n, k] : [k, n];
        const a = rand(m * k, seed++);
        const b = rand(k * n, seed++);
        const { c: ref } = refMatmul(a, as, b, bs, ta, tb);
        let bias: Tensor | undefined;
        if (withBias) {
          const bv = rand(n, seed++, -3, 3);
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ref[i * n + j] = ref[i * n + j]! + bv[j]!;
          bias = B.tensor(bv, [n]);
        }
        const got = B.matmul(B.tensor(a, as), B.tensor(b, bs), ta, tb, bias);
        const label = `matmul${withBias ? '+bias' : ''} ${m}x${k}x${n} ta=${ta} tb=${tb}`;
        await expectClose(got, [m, n], ref, rtol * Math.sqrt(k) * 4, atol * Math.sqrt(k) * 4 + (withBias ? atol * 3 : 0), label);
      }
}

const c = (name: string, run: (B: Backend, tol: Tol, make: () => Backend) => Promise<void>): ConformanceCase => ({
  name,
  async run(make, tol) {
    const B = make();
    await run(B, tol, make);
  },
});

/** Every case of the backend conformance suite, in order. */
export const conformanceCases: ConformanceCase[] = [
  c('tensor: creation, shape, dtype, read back (sync where possible, async always)', async (B, t) => {
    const x = B.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert(x.dtype === B.dtype, `dtype ${x.dtype} vs backend ${B.dtype}`);
    assert(x.size === 6 && x.rank === 2, 'size/rank');
    await expectClose(x, [2, 3], [1, 2, 3, 4, 5, 6], 0, 0, 'tensor');
    if (B.canReadSync) assert(Array.from(x.dataSync()).join() === '1,2,3,4,5,6', 'dataSync');
    await expectClose(B.tensor(new Float32Array([0.5, -2]), [2]), [2], [0.5, -2], 0, 0, 'from Float32Array');
    await expectClose(B.tensor([7], []), [], [7], 0, 0, 'rank 0');
    await expectClose(B.tensor([3], [1, 1]), [1, 1], [3], 0, 0, '1x1');
    await expectClose(B.zeros([3, 2]), [3, 2], [0, 0, 0, 0, 0, 0], 0, 0, 'zeros');
    await expectClose(B.full([2, 2], 2.5), [2, 2], [2.5, 2.5, 2.5, 2.5], 0, 0, 'full');
    const y = B.tensor([0.1, 1e-8], [2]);
    const yd = await y.data();
    const f32 = Math.fround;
    if (B.dtype === 'float64') assert(yd[0] === 0.1 && yd[1] === 1e-8, 'float64 keeps doubles exactly');
    else assert(yd[0] === f32(0.1) && yd[1] === f32(1e-8), 'float32 rounds to nearest float');
    void t;
  }),
  c('reshape: views of one storage (non-square, flat, rank 0 ↔ 1)', async (B) => {
    const v = [1, 2, 3, 4, 5, 6];
    const x = B.tensor(v, [2, 3]);
    await expectClose(B.reshape(x, [3, 2]), [3, 2], v, 0, 0, 'reshape');
    await expectClose(B.reshape(x, [6]), [6], v, 0, 0, 'reshape flat');
    await expectClose(B.reshape(B.tensor([9], []), [1, 1]), [1, 1], [9], 0, 0, 'rank 0 to 1x1');
    // the source survives its reshape being disposed
    const r = B.reshape(x, [6]);
    r.dispose();
    await expectClose(x, [2, 3], v, 0, 0, 'reshape source after view disposed');
  }),
  c('matmul: hand-worked literals with both transpose flags', async (B) => {
    // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]] → A·B = [[58,64],[139,154]]
    const A = B.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const Bm = B.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    await expectClose(B.matmul(A, Bm), [2, 2], [58, 64, 139, 154], 0, 0, 'A·B');
    const At = B.tensor([1, 4, 2, 5, 3, 6], [3, 2]);
    const Bt = B.tensor([7, 9, 11, 8, 10, 12], [2, 3]);
    await expectClose(B.matmul(At, Bm, true, false), [2, 2], [58, 64, 139, 154], 0, 0, 'Aᵀ·B');
    await expectClose(B.matmul(A, Bt, false, true), [2, 2], [58, 64, 139, 154], 0, 0, 'A·Bᵀ');
    await expectClose(B.matmul(At, Bt, true, true), [2, 2], [58, 64, 139, 154], 0, 0, 'Aᵀ·Bᵀ');
    // outer and inner products, batch of one, 1×1
    await expectClose(B.matmul(B.tensor([1, 2], [2, 1]), B.tensor([3, 4, 5], [1, 3])), [2, 3], [3, 4, 5, 6, 8, 10], 0, 0, 'outer');
    await expectClose(B.matmul(B.tensor([1, 2, 3], [1, 3]), Bm), [1, 2], [58, 64], 0, 0, 'batch of one');
    await expectClose(B.matmul(B.tensor([3], [1, 1]), B.tensor([-4], [1, 1])), [1, 1], [-12], 0, 0, '1x1');
  }),
  c('matmul: random non-square shapes, all four flag combinations, against a float64 triple loop', async (B, tol) => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [1, 7, 1], [1, 784, 10], [5, 1, 3], [3, 5, 2], [64, 20, 10], [33, 65, 17], [70, 130, 9], [128, 96, 160],
    ];
    await randomMatmuls(B, tol, shapes, 10, false);
  }),
  c('matmul with a fused bias: literals, every flag, broadcast over rows, k = 0, against a float64 reference', async (B, { rtol, atol }) => {
    const A = B.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const Bm = B.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    await expectClose(B.matmul(A, Bm, false, false, B.tensor([1, -1], [2])), [2, 2], [59, 63, 140, 153], 0, 0, 'A·B + b');
    await expectClose(B.matmul(B.tensor([3], [1, 1]), B.tensor([-4], [1, 1]), false, false, B.tensor([0.5], [1])), [1, 1], [-11.5], 0, 0, '1x1 + b');
    // an empty inner dimension gives the bias on every row
    await expectClose(B.matmul(B.zeros([2, 0]), B.zeros([0, 3]), false, false, B.tensor([1, 2, 3], [3])), [2, 3], [1, 2, 3, 1, 2, 3], 0, 0, 'k = 0 + b');
    await randomMatmuls(B, { rtol, atol }, [[1, 1, 1], [1, 784, 10], [3, 5, 2], [64, 20, 10], [33, 65, 17]], 500, true);
    expectThrow(() => B.matmul(A, Bm, false, false, B.tensor([1, 2, 3], [3])), ShapeError, /matmul: the bias must be 1-D with one value per output column: \[2\].*bias: \[3\]/, 'bias of the wrong length');
    expectThrow(() => B.matmul(A, Bm, false, false, B.zeros([1, 2])), ShapeError, /matmul.*bias: \[1, 2\]/, 'a 2-D bias');
  }),
  c('unary maps against Math, log 0 = −∞', async (B, { rtol, atol }) => {
    const xs = [-3.5, -1, -0.25, 0, 0.3, 1, 2.75, 20, -20];
    const pos = [0.01, 0.5, 1, 2, 10, 1e3];
    for (const op of Object.keys(unaryRef) as PlainUnary[]) {
      const input = op === 'log' || op === 'sqrt' ? pos : xs;
      await expectClose(B.unary(op, B.tensor(input, [input.length])), [input.length], input.map(unaryRef[op]), rtol, atol, `unary ${op}`);
    }
    // shapes are kept
    await expectClose(B.unary('tanh', B.tensor([0, 1, 2, 3], [2, 1, 2])), [2, 1, 2], [0, 1, 2, 3].map(Math.tanh), rtol, atol, 'unary 3-D');
    // large arguments stay finite where the math is finite
    await expectClose(B.unary('sigmoid', B.tensor([-800, 800], [2])), [2], [0, 1], 0, atol, 'sigmoid saturates');
    await expectClose(B.unary('tanh', B.tensor([-800, 800], [2])), [2], [-1, 1], 0, atol, 'tanh saturates');
    await expectClose(B.unary('softplus', B.tensor([-800, 800], [2])), [2], [0, 800], rtol, atol, 'softplus stable');
    await expectClose(B.unary('log', B.tensor([0, 1], [2])), [2], [-Infinity, 0], 0, 0, 'log 0 is −∞ (a shader log may be finite there)');
  }),
  c('binary ops with broadcasting: same shape, row, column, scalar, both sides, 3-D', async (B, { rtol, atol }) => {
    const cases: [Shape, Shape][] = [
      [[2, 3], [2, 3]], [[4, 3], [3]], [[4, 3], [1, 3]], [[4, 3], [4, 1]], [[3], [4, 3]], [[4, 1], [1, 5]],
      [[2, 3], []], [[], [2, 3]], [[2, 1, 4], [3, 1]], [[1], [1]], [[1, 1], [5, 1]],
    ];
    let seed = 100;
    for (const op of Object.keys(binaryRef) as BinaryOp[])
      for (const [as, bs] of cases) {
        const a = rand(prod(as), seed++, 0.5, 2);
        const b = rand(prod(bs), seed++, -2, -0.5).map((v, i) => (i % 2 ? -v : v));
        const { out, shape } = refBroadcast(a, as, b, bs, binaryRef[op]);
        await expectClose(B.binary(op, B.tensor(a, as), B.tensor(b, bs)), shape, out, rtol, atol, `${op} [${as}] with [${bs}]`);
      }
  }),
  c('affine, axpby, clamp (with infinite bounds)', async (B, { rtol, atol }) => {
    const a = [1, -2, 3.5, 0];
    const b = [0.5, 4, -1, 2];
    await expectClose(B.affine(B.tensor(a, [2, 2]), -2, 0.5), [2, 2], a.map((v) => -2 * v + 0.5), rtol, atol, 'affine');
    await expectClose(B.axpby(0.9, B.tensor(a, [4]), -0.1, B.tensor(b, [4])), [4], a.map((v, i) => 0.9 * v - 0.1 * b[i]!), rtol, atol, 'axpby');
    await expectClose(B.clamp(B.tensor(a, [4]), -1, 2), [4], [1, -1, 2, 0], 0, 0, 'clamp');
    await expectClose(B.clamp(B.tensor(a, [4]), -Infinity, 0.5), [4], [0.5, -2, 0.5, 0], 0, 0, 'clamp hi only');
    await expectClose(B.clamp(B.tensor(a, [4]), 0, Infinity), [4], [1, 0, 3.5, 0], 0, 0, 'clamp lo only');
  }),
  c('LeakyReLU(0.02), ELU(1.3), GELU (erf and tanh forms) and their gradients against PyTorch 1.13 float64', async (B, { rtol, atol }) => {
    // torch.nn.functional.leaky_relu(x, 0.02), elu(x, 1.3), gelu(x), gelu(x, approximate='tanh')
    const xs = [-3.5, -1, -0.25, 0, 0.3, 1, 2.75, 20, -20];
    const fwd: [UnaryOp, number, number[]][] = [
      ['leakyRelu', 0.02, [-0.07, -0.02, -0.005, 0, 0.3, 1, 2.75, 20, -0.4]],
      ['elu', 1.3, [-1.260743401550986, -0.8217567264771249, -0.28755898200717367, 0, 0.3, 1, 2.75, 20, -1.2999999973205003]],
      ['gelu', 0, [-0.0008142017766243903, -0.15865525393145702, -0.10032341857926907, 0, 0.1853734266566858, 0.841344746068543, 2.7418056511035998, 20, -0]],
      ['geluTanh', 0, [-0.0006161976553737403, -0.1588080093917233, -0.100324649298315, 0, 0.18537092354275922, 0.8411919906082768, 2.742276855926382, 20, -0]],
    ];
    for (const [op, p, want] of fwd) await expectClose(B.unary(op, B.tensor(xs, [3, 3]), p), [3, 3], want, rtol, atol, `unary ${op}`);
    // torch.autograd.grad(f(a), a, d)
    const a = [-2, -0.5, 0.25, 1.5, 3, -0.1];
    const d = [0.3, -1, 2, 0.5, -0.7, 1];
    const grads: [ActivationGrad, number, number[]][] = [
      ['leakyRelu', 0.02, [0.006, -0.02, 2, 0.5, -0.7, 0.02]],
      ['elu', 1.3, [0.052780760462278954, -0.7884898576264234, 2, 0.5, -0.7, 1.1762886434467474]],
      ['gelu', 0, [-0.025569540323459074, -0.13250487534383712, 1.390746709767272, 0.5637345961149898, -0.7083619530429287, 0.4204769079752698]],
      ['geluTanh', 0, [-0.02582977698708549, -0.13263009646535764, 1.3907081903021208, 0.5638553965757165, -0.7081089166416786, 0.4204782107282433]],
    ];
    for (const [op, p, want] of grads) await expectClose(B.activationGrad(op, B.tensor(a, [2, 3]), B.tensor(d, [2, 3]), p), [2, 3], want, rtol, atol, `${op} grad`);
  }),
  c('fused activation gradients', async (B, { rtol, atol }) => {
    const a = [-2, -0.5, 0.25, 1.5, 3, -0.1];
    const d = [0.3, -1, 2, 0.5, -0.7, 1];
    const th = a.map(Math.tanh);
    const sg = a.map(unaryRef.sigmoid);
    await expectClose(B.activationGrad('tanh', B.tensor(th, [2, 3]), B.tensor(d, [2, 3])), [2, 3], th.map((s, i) => d[i]! * (1 - s * s)), rtol, atol, 'tanh grad');
    await expectClose(B.activationGrad('sigmoid', B.tensor(sg, [2, 3]), B.tensor(d, [2, 3])), [2, 3], sg.map((s, i) => d[i]! * s * (1 - s)), rtol, atol, 'sigmoid grad');
    await expectClose(B.activationGrad('relu', B.tensor(a, [2, 3]), B.tensor(d, [2, 3])), [2, 3], a.map((v, i) => (v > 0 ? d[i]! : 0)), rtol, 0, 'relu grad');
  }),
  c('fused binary cross-entropy: terms and gradient against float64, predictions at 0 and 1 (the floors), sizes off the SIMD width', async (B, { rtol, atol }) => {
    const round = (v: Float64Array): Float64Array => (B.dtype === 'float32' ? v.map(Math.fround) : v);
    const p = round(rand(37, 11, 1e-3, 1 - 1e-3));
    const y = round(rand(37, 12, 0, 1));
    [p[0], y[0], p[1], y[1], p[2], y[2], p[3], y[3]] = [0, 1, 1, 0, 0, 0.5, 1, 1];
    const [yt, pt] = [B.tensor(y, [37]), B.tensor(p, [37])];
    const floor = (v: number): number => Math.max(v, -100);
    await expectClose(binaryCrossEntropy(yt, pt, false), [37], Array.from(p, (q, i) => y[i]! * floor(Math.log(q)) + (1 - y[i]!) * floor(Math.log(1 - q))), rtol, atol, 'bce terms');
    await expectClose(binaryCrossEntropy(yt, pt, true, 0.25), [37], Array.from(p, (q, i) => (0.25 * (q - y[i]!)) / Math.max(q * (1 - q), 1e-12)), rtol, atol, 'bce gradient');
    expectThrow(() => binaryCrossEntropy(yt, B.tensor(p.subarray(1), [36]), false), ShapeError, /bce: .*same shape/, 'bce with other shapes');
  }),
  c('optimizerUpdate: SGD (momentum, dampening, Nesterov, L2), Adam (L2, decoupled), RMSprop (centered, momentum), first and second steps against float64, a size off the SIMD width', async (B, { rtol, atol }) => {
    const n = 131;
    const round = (v: Float64Array): number[] => Array.from(B.dtype === 'float32' ? v.map(Math.fround) : v);
    const [p0, g0, g1] = [round(rand(n, 31)), round(rand(n, 32, -2, 2)), round(rand(n, 33, -2, 2))];
    // one step in float64, PyTorch's formulas (h as optimizerUpdate takes it)
    const ref = (rule: UpdateRule, p: number[], g: number[], st: (number[] | null)[], h: number[]): number[][] => {
      const [a, b, c, d, e, f, mode, lr] = h as [number, number, number, number, number, number, number, number];
      const ema = (prev: number[] | null | undefined, x: number[], beta: number): number[] => x.map((v, i) => beta * (prev?.[i] ?? 0) + (1 - beta) * v);
      if (rule === 'sgd') {
        const gw = g.map((v, i) => v + d * p[i]!);
        const buf = b === 0 ? null : st[0] ? st[0].map((v, i) => b * v + (1 - c) * gw[i]!) : gw;
        const u = buf && e ? gw.map((v, i) => v + b * buf[i]!) : (buf ?? gw);
        return [p.map((v, i) => v - a * u[i]!), ...(buf ? [buf] : [])];
      }
      if (rule === 'adam') {
        const gw = g.map((v, i) => v + (mode === 1 ? f * p[i]! : 0));
        const [m, v2] = [ema(st[0], gw, b), ema(st[1], gw.map((v) => v * v), c)];
        return [p.map((v, i) => v * (mode === 2 ? 1 - lr * f : 1) - (a * m[i]!) / (Math.sqrt(v2[i]!) * d + e)), m, v2];
      }
      const gw = g.map((v, i) => v + e * p[i]!);
      const s = ema(st[0], gw.map((v) => v * v), b);
      const avg = f ? ema(st[1], gw, b) : null;
      const step = gw.map((v, i) => v / (Math.sqrt(s[i]! - (avg ? avg[i]! ** 2 : 0)) + c));
      const prev = st[f ? 2 : 1];
      const buf = d > 0 ? step.map((v, i) => d * (prev?.[i] ?? 0) + v) : null;
      return [p.map((v, i) => v - a * (buf ?? step)[i]!), s, ...(avg ? [avg] : []), ...(buf ? [buf] : [])];
    };
    const cases: [UpdateRule, number, number[]][] = [
      ['sgd', 0, [0.1, 0, 0, 0, 0]],
      ['sgd', 1, [0.1, 0.9, 0.2, 0.01, 0]],
      ['sgd', 1, [0.05, 0.8, 0, 0.01, 1]],
      ['adam', 2, [0.01, 0.9, 0.999, 3.2, 1e-8, 0, 0, 0.001]],
      ['adam', 2, [0.01, 0.8, 0.99, 1.5, 1e-8, 0.1, 1, 0.001]],
      ['adam', 2, [0.01, 0.9, 0.999, 3.2, 1e-8, 0.1, 2, 0.001]],
      ['rmsprop', 1, [0.01, 0.9, 1e-8, 0, 0.01, 0]],
      ['rmsprop', 3, [0.01, 0.9, 1e-8, 0.5, 0, 1]],
    ];
    const t = (v: number[]): Tensor => B.tensor(v, [n]);
    for (const [rule, count, h] of cases) {
      let [p, st]: [number[], (number[] | null)[]] = [p0, Array.from({ length: count }, () => null)];
      for (const g of [g0, g1]) {
        const outs = optimizerUpdate(rule, t(p), t(g), st.map((s) => s && t(s)), h);
        const want = ref(rule, p, g, st, h);
        assert(outs.length === want.length, `${rule} ${h}: ${outs.length} outputs, ${want.length} expected`);
        for (let j = 0; j < outs.length; j++) await expectClose(outs[j]!, [n], want[j]!, rtol, atol, `${rule} ${h}, output ${j}`);
        const read = await Promise.all(outs.map(async (o) => Array.from(await o.data())));
        [p, st] = [read[0]!, read.slice(1)];
      }
    }
    expectThrow(() => optimizerUpdate('adam', t(p0), t(g0), [t(g1), B.tensor(g1.slice(1), [n - 1])], cases[3]![2]), ShapeError, /adam: .*parameter's shape/, 'a state of another shape');
  }),
  c('reductions: sum over all, each axis, several axes, keepDims, negative axis, no axes; argmax with ties', async (B, { rtol, atol }) => {
    const shape = [3, 4, 5];
    const x = rand(60, 7);
    const X = B.tensor(x, shape);
    for (const axes of [[0], [1], [2], [0, 2], [0, 1, 2]])
      for (const keep of [false, true]) {
        const r = refSum(x, shape, axes, keep);
        await expectClose(B.sum(X, axes, keep), r.shape, r.out, rtol, atol * 8, `sum axes ${axes} keepDims ${keep}`);
      }
    const all = refSum(x, shape, [0, 1, 2], false);
    await expectClose(B.sum(X), [], all.out, rtol, atol * 8, 'sum all');
    await expectClose(B.sum(B.tensor([1, 2, 3, 4], [2, 2]), -1), [2], [3, 7], 0, 0, 'sum axis -1');
    await expectClose(B.sum(B.tensor([5], [1, 1]), 0), [1], [5], 0, 0, 'sum 1x1');
    const m = B.tensor([1, 5, 5, -2, -7, -3, 9, 9], [2, 4]);
    await expectClose(B.sum(m, []), [2, 4], [1, 5, 5, -2, -7, -3, 9, 9], 0, 0, 'sum over no axes is a copy');
    await expectClose(B.argmax(m, 1), [2], [1, 2], 0, 0, 'argmax rows, first on ties');
    await expectClose(B.argmax(m, 0), [4], [0, 0, 1, 1], 0, 0, 'argmax cols');
  }),
  c('softmax and log-softmax over the last axis (stable for large logits, batch of one, one class)', async (B, { rtol, atol }) => {
    const x = rand(4 * 10, 9, -5, 5);
    await expectClose(B.softmax(B.tensor(x, [4, 10])), [4, 10], rows(x, 4, 10, refSoftmax), rtol, atol, 'softmax');
    await expectClose(B.logSoftmax(B.tensor(x, [4, 10])), [4, 10], rows(x, 4, 10, refLogSoftmax), rtol, atol, 'logSoftmax');
    const big = [1000, 1001, 999, -1000];
    await expectClose(B.softmax(B.tensor(big, [1, 4])), [1, 4], refSoftmax(big), rtol, atol, 'softmax large');
    await expectClose(B.logSoftmax(B.tensor(big, [1, 4])), [1, 4], refLogSoftmax(big), rtol, atol, 'logSoftmax large');
    await expectClose(B.softmax(B.tensor([3], [1, 1])), [1, 1], [1], 0, 0, 'softmax one class');
    await expectClose(B.logSoftmax(B.tensor([3], [1, 1])), [1, 1], [0], 0, 0, 'logSoftmax one class');
  }),
  c('oneHot: rows, 1×1, and a row of zeros for an index outside [0, depth) (no read-back check)', async (B) => {
    await expectClose(B.oneHot(B.tensor([2, 0, 1], [3]), 3), [3, 3], [0, 0, 1, 1, 0, 0, 0, 1, 0], 0, 0, 'oneHot');
    await expectClose(B.oneHot(B.tensor([0], [1]), 1), [1, 1], [1], 0, 0, 'oneHot 1x1');
    await expectClose(B.oneHot(B.tensor([0, 3, -1, 1.5], [4]), 3), [4, 3], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, 0, 'oneHot outside the range');
    expectThrow(() => B.oneHot(B.tensor([0, 1], [2]), 0), ValueError, /oneHot: depth/, 'oneHot depth 0');
    expectThrow(() => B.oneHot(B.tensor([0, 1], [1, 2]), 3), ShapeError, /oneHot: indices must be 1-D/, 'oneHot of a matrix');
  }),
  c('im2col: hand-worked literal, then strides, padding, non-square kernels against a float64 gather', async (B, { rtol, atol }) => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], 2×2 windows, stride 1: four patches
    const x = B.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    await expectClose(im2col(x, { kernel: [2, 2] }), [4, 4], [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9], 0, 0, 'im2col literal');
    // padding 1, stride 2: windows start at (−1, −1), (−1, 1), (1, −1), (1, 1); zeros outside
    await expectClose(im2col(x, { kernel: [2, 2], stride: [2, 2], padding: [1, 1] }), [4, 4], [0, 0, 0, 1, 0, 0, 2, 3, 0, 4, 0, 7, 5, 6, 8, 9], 0, 0, 'im2col padded literal');
    let seed = 900;
    for (const [shape, w] of WINDOWS) {
      const g = geo(shape, w);
      const v = rand(prod(shape), seed++);
      await expectClose(im2col(B.tensor(v, shape), w), [g.b * g.oh * g.ow, g.kh * g.kw * g.c], refIm2col(v, g), rtol, atol, `im2col [${shape}] ${JSON.stringify(w)}`);
    }
  }),
  c('col2im: the adjoint of im2col (overlaps summed), literal and against a float64 gather', async (B, { rtol, atol }) => {
    // 2×2 windows on 3×3, all ones: each position counts the windows that cover it
    await expectClose(col2im(B.full([4, 4], 1), { kernel: [2, 2] }, [1, 3, 3, 1]), [1, 3, 3, 1], [1, 2, 1, 2, 4, 2, 1, 2, 1], 0, 0, 'col2im counts');
    let seed = 950;
    for (const [shape, w] of WINDOWS) {
      const g = geo(shape, w);
      const rows = g.b * g.oh * g.ow;
      const K = g.kh * g.kw * g.c;
      const v = rand(rows * K, seed++);
      await expectClose(col2im(B.tensor(v, [rows, K]), w, shape), shape, refCol2im(v, g), rtol * 4, atol * 4, `col2im [${shape}] ${JSON.stringify(w)}`);
    }
  }),
  c('pool and poolGrad, max and avg: literals, ties (first arg-max), overlaps, padding, against float64 references', async (B, { rtol, atol }) => {
    const x = B.tensor([1, 5, 2, 0, 3, 4, 6, 6, 7, 1, 0, 2, 1, 1, 9, 8], [1, 4, 4, 1]);
    const w: Window2D = { kernel: [2, 2], stride: [2, 2] };
    await expectClose(pool('max', x, w), [1, 2, 2, 1], [5, 6, 7, 9], 0, 0, 'max pool literal');
    await expectClose(pool('avg', x, w), [1, 2, 2, 1], [13 / 4, 14 / 4, 10 / 4, 19 / 4], rtol, atol, 'avg pool literal');
    // the tie 6, 6 sends the gradient to the first one
    await expectClose(poolGrad('max', x, B.tensor([1, 2, 3, 4], [1, 2, 2, 1]), w), [1, 4, 4, 1], [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0], 0, 0, 'max poolGrad literal');
    let seed = 980;
    const cases: [Shape, Window2D][] = [
      ...WINDOWS.filter(([, win]) => 2 * (win.padding?.[0] ?? 0) <= win.kernel[0] && 2 * (win.padding?.[1] ?? 0) <= win.kernel[1]),
      [[2, 7, 7, 3], { kernel: [3, 3], stride: [2, 2] }], // overlapping windows
      [[1, 5, 6, 2], { kernel: [3, 2], stride: [1, 2], padding: [1, 1] }],
    ];
    for (const [shape, win] of cases) {
      const g = geo(shape, win);
      // values from a small set: ties are common
      const v = rand(prod(shape), seed++).map((u) => Math.round(u * 2));
      const d = rand(g.b * g.oh * g.ow * g.c, seed++);
      const X = B.tensor(v, shape);
      const D = B.tensor(d, [g.b, g.oh, g.ow, g.c]);
      for (const kind of ['max', 'avg'] as const) {
        const what = `${kind} [${shape}] ${JSON.stringify(win)}`;
        await expectClose(pool(kind, X, win), [g.b, g.oh, g.ow, g.c], refPool(kind, v, g), rtol, atol, `pool ${what}`);
        await expectClose(poolGrad(kind, X, D, win), shape, refPoolGrad(kind, v, d, g), rtol * 4, atol * 4, `poolGrad ${what}`);
      }
    }
  }),
  c('window ops: typed errors naming the op and the shapes', async (B) => {
    const x = B.zeros([1, 4, 4, 2]);
    expectThrow(() => im2col(x, { kernel: [5, 3] }), ShapeError, /im2col: kernel 5×3 is larger than the input 4×4 with padding 0×0 \(x: \[1, 4, 4, 2\]\)/, 'kernel larger than the input');
    expectThrow(() => im2col(B.zeros([4, 4, 2]), { kernel: [2, 2] }), ShapeError, /im2col: expects a channels-last input.*\[4, 4, 2\]/, 'rank 3 input');
    expectThrow(() => im2col(x, { kernel: [2, 2], stride: [0, 1] }), ValueError, /im2col: stride must be positive integers, got \[0, 1\]/, 'stride 0');
    expectThrow(() => im2col(x, { kernel: [2, 2], padding: [-1, 0] }), ValueError, /im2col: padding must be non-negative integers, got \[-1, 0\]/, 'negative padding');
    expectThrow(() => im2col(x, { kernel: [2.5, 2] } as never), ValueError, /im2col: kernel must be positive integers/, 'fractional kernel');
    expectThrow(() => col2im(B.zeros([9, 7]), { kernel: [2, 2] }, [1, 4, 4, 2]), ShapeError, /col2im: expects patches of shape \[9, 8\].*cols: \[9, 7\], input: \[1, 4, 4, 2\]/, 'col2im wrong patch width');
    expectThrow(() => pool('max', x, { kernel: [2, 2], padding: [2, 0] }), ValueError, /pool\(max\): padding 2×0 must be at most half the kernel 2×2/, 'pool padding');
    expectThrow(() => pool('min' as never, x, { kernel: [2, 2] }), ValueError, /pool: unknown kind 'min'/, 'pool kind');
    expectThrow(() => poolGrad('avg', x, B.zeros([1, 2, 2, 2]), { kernel: [2, 2] }), ShapeError, /poolGrad\(avg\): delta must have the pool's output shape \[1, 3, 3, 2\].*delta: \[1, 2, 2, 2\]/, 'poolGrad delta');
  }),
  c('tensor API: number operands, neg, exp, pow (negative base, integer exponent), maximum, minimum', async (B, { rtol, atol }) => {
    const v = [-2, -0.5, 0, 1.5, 3, -3.25, 7];
    const x = B.tensor(v, [7]);
    await expectClose(x.add(2.5), [7], v.map((a) => a + 2.5), rtol, atol, 'add number');
    await expectClose(x.sub(1), [7], v.map((a) => a - 1), rtol, atol, 'sub number');
    await expectClose(x.mul(-3), [7], v.map((a) => a * -3), rtol, atol, 'mul number');
    await expectClose(x.div(4), [7], v.map((a) => a / 4), rtol, atol, 'div number');
    await expectClose(x.neg(), [7], v.map((a) => -a), 0, 0, 'neg');
    await expectClose(x.exp(), [7], v.map((a) => Math.E ** a), rtol, atol, 'exp');
    await expectClose(x.pow(2), [7], v.map((a) => a * a), rtol, atol, 'pow 2');
    await expectClose(x.pow(3), [7], [-8, -0.125, 0, 3.375, 27, -34.328125, 343], rtol * 4, atol * 4, 'pow 3 (negative bases stay real)');
    await expectClose(B.tensor([4, 0.25, 9, 2], [4]).pow(-0.5), [4], [0.5, 2, 1 / 3, Math.SQRT1_2], rtol * 4, atol * 4, 'pow −0.5');
    await expectClose(B.tensor([2, 3], [2, 1]).pow(B.tensor([0, 1, 2], [3])), [2, 3], [1, 2, 4, 1, 3, 9], rtol * 4, atol * 4, 'pow broadcast');
    await expectClose(x.maximum(0.5), [7], v.map((a) => (a > 0.5 ? a : 0.5)), 0, 0, 'maximum number');
    await expectClose(x.minimum(B.tensor([0], [1])), [7], v.map((a) => (a < 0 ? a : 0)), 0, 0, 'minimum tensor');
    await expectClose(x.clamp(-1), [7], v.map((a) => (a < -1 ? -1 : a)), 0, 0, 'clamp low only');
    await expectClose(B.tensor([1, 2], [2, 1]).maximum(B.tensor([0, 1.5, 3], [3])), [2, 3], [1, 1.5, 3, 2, 2, 3], 0, 0, 'maximum broadcast');
  }),
  c('tensor API: max, min, logsumexp over axes (keepDims, negative axes, several axes), sizes of no common factor', async (B, { rtol, atol }) => {
    for (const shape of [[3, 7, 5], [1, 13], [11]] as Shape[]) {
      const x = rand(prod(shape), prod(shape), -4, 4).map(Math.fround);
      const X = B.tensor(x, shape);
      const axesList: (number[] | undefined)[] = shape.length === 3 ? [[0], [1], [2], [0, 2], [0, 1], [-1], undefined] : [[0], [-1], undefined];
      for (const axes of axesList)
        for (const keep of [false, true]) {
          const ax = axes === undefined ? shape.map((_, i) => i) : axes.map((a) => (a < 0 ? a + shape.length : a));
          const what = `[${shape}] axes ${String(axes)} keepDims ${keep}`;
          const mx = refReduce(x, shape, ax, keep, (vs) => vs.reduce((p, q) => (q > p ? q : p)));
          const mn = refReduce(x, shape, ax, keep, (vs) => vs.reduce((p, q) => (q < p ? q : p)));
          const lse = refReduce(x, shape, ax, keep, (vs) => Math.log(vs.reduce((p, q) => p + Math.E ** q, 0)));
          await expectClose(X.max(axes, keep), mx.shape, mx.out, 0, 0, `max ${what}`);
          await expectClose(X.min(axes, keep), mn.shape, mn.out, 0, 0, `min ${what}`);
          await expectClose(X.logsumexp(axes, keep), lse.shape, lse.out, rtol * 8, atol * 8, `logsumexp ${what}`);
        }
    }
    // stable for large values, −∞ rows give −∞
    await expectClose(B.tensor([1000, 1000, -Infinity, -Infinity], [2, 2]).logsumexp(1), [2], [1000 + Math.LN2, -Infinity], rtol, atol, 'logsumexp large and −∞');
    expectThrow(() => B.zeros([2, 0]).max(1), ShapeError, /max: axis 1 is empty/, 'max of an empty axis');
  }),
  c('tensor API: where with broadcasting', async (B) => {
    const cond = B.tensor([1, 0, 0, 1, 1, 0], [2, 3]);
    await expectClose(where(cond, B.tensor([1, 2, 3, 4, 5, 6], [2, 3]), B.tensor([-1, -2, -3], [3])), [2, 3], [1, -2, -3, 4, 5, -3], 0, 0, 'where');
    await expectClose(where(B.tensor([0, 1], [2, 1]), B.tensor([7], []), B.tensor([1, 2, 3], [3])), [2, 3], [1, 2, 3, 7, 7, 7], 0, 0, 'where broadcast all three');
    await expectClose(B.tensor([5, 6], [2]).where(B.tensor([0, 2], [2]), B.zeros([2])), [2], [0, 6], 0, 0, 'Tensor.where');
    expectThrow(() => where(B.zeros([2]), B.zeros([3]), B.zeros([3])), ShapeError, /where: shapes do not broadcast/, 'where shapes');
  }),
  c('tensor API: transpose, permute, narrow, expand, squeeze/unsqueeze against index references', async (B) => {
    const shape = [2, 3, 5];
    const x = rand(30, 31).map(Math.fround);
    const X = B.tensor(x, shape);
    for (const perm of [[0, 2, 1], [2, 0, 1], [1, 2, 0], [2, 1, 0], [0, 1, 2]]) {
      const out = perm.map((p) => shape[p]!);
      await expectClose(X.permute(...perm), out, build(out, (c) => x[flat(perm.map((_, i) => c[perm.indexOf(i)]!), shape)]!), 0, 0, `permute ${perm}`);
    }
    await expectClose(X.transpose(), [2, 5, 3], build([2, 5, 3], ([a, b, c]) => x[flat([a!, c!, b!], shape)]!), 0, 0, 'transpose last two');
    await expectClose(X.transpose(0, -1), [5, 3, 2], build([5, 3, 2], ([a, b, c]) => x[flat([c!, b!, a!], shape)]!), 0, 0, 'transpose 0, −1');
    await expectClose(X.narrow(2, 1, 3), [2, 3, 3], build([2, 3, 3], ([a, b, c]) => x[flat([a!, b!, c! + 1], shape)]!), 0, 0, 'narrow');
    await expectClose(X.narrow(1, -2, 2), [2, 2, 5], build([2, 2, 5], ([a, b, c]) => x[flat([a!, b! + 1, c!], shape)]!), 0, 0, 'narrow negative start');
    await expectClose(X.narrow(0, 1, 0), [0, 3, 5], [], 0, 0, 'narrow to nothing');
    await expectClose(B.tensor([1, 2, 3], [3, 1]).expand([2, 3, 4]), [2, 3, 4], build([2, 3, 4], ([, b]) => b! + 1), 0, 0, 'expand');
    await expectClose(B.tensor([1, 2, 3], [3, 1]).expand([-1, 2]), [3, 2], [1, 1, 2, 2, 3, 3], 0, 0, 'expand −1');
    await expectClose(B.tensor([7], []).expand([2, 3]), [2, 3], [7, 7, 7, 7, 7, 7], 0, 0, 'expand a single element (every stride 0)');
    await expectClose(X.unsqueeze(1), [2, 1, 3, 5], x, 0, 0, 'unsqueeze');
    await expectClose(X.unsqueeze(-1).squeeze(), shape, x, 0, 0, 'squeeze');
    expectThrow(() => X.permute(0, 0, 1), ShapeError, /permute: dims \[0,0,1\] are not a permutation of the 3 axes/, 'permute repeat');
    expectThrow(() => X.narrow(2, 3, 3), ShapeError, /narrow: start 3 and length 3 do not fit axis 2 of size 5/, 'narrow past the end');
    expectThrow(() => X.expand([2, 4, 5]), ShapeError, /expand: cannot expand to \[2,4,5\].*x: \[2, 3, 5\]/, 'expand a dimension that is not 1');
  }),
  c('tensor API: concat and stack along each axis, sizes of no common factor', async (B) => {
    const a = rand(2 * 3 * 5, 41).map(Math.fround);
    const b = rand(2 * 4 * 5, 42).map(Math.fround);
    const c = rand(2 * 1 * 5, 43).map(Math.fround);
    const [A, Bt, C] = [B.tensor(a, [2, 3, 5]), B.tensor(b, [2, 4, 5]), B.tensor(c, [2, 1, 5])];
    await expectClose(concat([A, Bt, C], 1), [2, 8, 5], build([2, 8, 5], ([i, j, k]) => (j! < 3 ? a[flat([i!, j!, k!], [2, 3, 5])]! : j! < 7 ? b[flat([i!, j! - 3, k!], [2, 4, 5])]! : c[flat([i!, 0, k!], [2, 1, 5])]!)), 0, 0, 'concat axis 1');
    await expectClose(concat([A, A], 0), [4, 3, 5], [...a, ...a], 0, 0, 'concat axis 0');
    await expectClose(concat([A, A], -1), [2, 3, 10], build([2, 3, 10], ([i, j, k]) => a[flat([i!, j!, k! % 5], [2, 3, 5])]!), 0, 0, 'concat last axis');
    await expectClose(concat([A]), [2, 3, 5], a, 0, 0, 'concat of one');
    for (const dim of [0, 1, 3, -1]) {
      const ax = dim < 0 ? dim + 4 : dim;
      const out = [2, 3, 5];
      out.splice(ax, 0, 2);
      await expectClose(stack([A, A.neg()], dim), out, build(out, (co) => {
        const s = co[ax]!;
        const rest = co.filter((_, i) => i !== ax);
        return (s === 0 ? 1 : -1) * a[flat(rest, [2, 3, 5])]!;
      }), 0, 0, `stack dim ${dim}`);
    }
    expectThrow(() => concat([A, B.zeros([3, 3, 5])], 1), ShapeError, /concat: every tensor must have the same shape except along axis 1 \(x0: \[2, 3, 5\], x1: \[3, 3, 5\]\)/, 'concat shapes');
    expectThrow(() => stack([A, Bt]), ShapeError, /stack: every tensor must have the same shape/, 'stack shapes');
    expectThrow(() => concat([]), ValueError, /concat: expects a non-empty array/, 'concat of nothing');
  }),
  c('tensor API: gather and indexSelect (an index outside the axis gives 0), softmax and logSoftmax over any axis', async (B, { rtol, atol }) => {
    const x = rand(3 * 4, 51).map(Math.fround);
    const X = B.tensor(x, [3, 4]);
    const idx = [[3, 0], [1, 1], [0, 2]];
    await expectClose(X.gather(1, B.tensor(idx.flat(), [3, 2])), [3, 2], idx.flatMap((r, i) => r.map((j) => x[i * 4 + j]!)), 0, 0, 'gather dim 1');
    await expectClose(X.gather(0, B.tensor([2, 0, 1, 5], [1, 4])), [1, 4], [x[8]!, x[1]!, x[6]!, 0], 0, 0, 'gather dim 0, one index out of range');
    await expectClose(X.indexSelect(1, B.tensor([3, 3, 0], [3])), [3, 3], build([3, 3], ([i, j]) => x[i! * 4 + [3, 3, 0][j!]!]!), 0, 0, 'indexSelect');
    await expectClose(X.indexSelect(0, B.tensor([2, -1], [2])), [2, 4], [...x.slice(8, 12), 0, 0, 0, 0], 0, 0, 'indexSelect out of range');
    const v = rand(2 * 3 * 5, 52, -3, 3).map(Math.fround);
    const V = B.tensor(v, [2, 3, 5]);
    for (const dim of [0, 1, 2, -1])
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const ax = dim < 0 ? dim + 3 : dim;
        const ref = build([2, 3, 5], (co) => {
          const vals = Array.from({ length: [2, 3, 5][ax]! }, (_, r) => v[flat(co.map((q, d) => (d === ax ? r : q)), [2, 3, 5])]!);
          const lse = Math.log(vals.reduce((p, q) => p + Math.E ** q, 0));
          const own = v[flat(co, [2, 3, 5])]!;
          return op === 'softmax' ? Math.E ** (own - lse) : own - lse;
        });
        await expectClose(V[op](dim), [2, 3, 5], ref, rtol * 4, atol * 4, `${op} dim ${dim}`);
      }
    expectThrow(() => X.gather(1, B.zeros([4, 1])), ShapeError, /gather: index must have x's rank and no larger dimensions except along axis 1/, 'gather index too large');
  }),
  c('errors: shapes, data length, bad dimensions, mixed backends, use after dispose', async (B, _t, make) => {
    expectThrow(() => B.matmul(B.tensor([1, 2, 3, 4, 5, 6], [2, 3]), B.tensor([1, 2, 3, 4], [2, 2])), ShapeError, /matmul.*\[2, 3\].*\[2, 2\]/, 'matmul inner mismatch');
    expectThrow(() => B.binary('add', B.tensor([1, 2, 3], [3]), B.tensor([1, 2], [2])), ShapeError, /add.*\[3\].*\[2\]/, 'add mismatch');
    expectThrow(() => B.axpby(1, B.zeros([2, 2]), 1, B.zeros([4])), ShapeError, /axpby.*\[2, 2\].*\[4\]/, 'axpby mismatch');
    expectThrow(() => B.activationGrad('tanh', B.zeros([2, 2]), B.zeros([2, 3])), ShapeError, /activationGrad.*\[2, 2\].*\[2, 3\]/, 'activationGrad mismatch');
    expectThrow(() => B.tensor([1, 2, 3], [2, 2]), ShapeError, /tensor.*3 values.*\[2, 2\]/, 'length mismatch');
    expectThrow(() => B.tensor([1, 2], [-2, -1]), ShapeError, /tensor.*-2/, 'negative dimension');
    expectThrow(() => B.zeros([1.5, 2]), ShapeError, /zeros.*1\.5/, 'non-integer dimension');
    expectThrow(() => B.reshape(B.zeros([2, 3]), [4, 2]), ShapeError, /reshape.*\[2, 3\].*\[4, 2\]/, 'reshape size');
    expectThrow(() => B.sum(B.zeros([2, 3]), 2), ShapeError, /sum.*axis 2/, 'sum axis out of range');
    expectThrow(() => B.softmax(B.zeros([])), ShapeError, /softmax/, 'softmax of a scalar');
    expectThrow(() => B.argmax(B.zeros([2, 0]), 1), ShapeError, /argmax.*axis 1 is empty/, 'argmax of an empty axis');
    expectThrow(() => B.unary('cosh' as never, B.zeros([2])), ValueError, /unary: unknown op 'cosh'/, 'unknown unary op');
    expectThrow(() => B.binary('atan2' as never, B.zeros([2]), B.zeros([2])), ValueError, /binary: unknown op 'atan2'/, 'unknown binary op');
    expectThrow(() => B.zeros([2 ** 26, 2 ** 26]), ShapeError, /zeros: \d+ elements (exceed|are more than)/, 'a tensor too large for the backend');
    expectThrow(() => B.clamp(B.zeros([2]), 1, 0), ValueError, /clamp: lo \(1\) must be ≤ hi \(0\)/, 'clamp bounds');
    expectThrow(() => B.unary('tanh', [1, 2] as never), ValueError, /tanh: expected a Tensor, got Array/, 'a non-tensor input');
    const other = make();
    expectThrow(() => B.binary('add', B.zeros([2]), other.zeros([2])), BackendMismatchError, /add.*different backends/, 'mixed backends');
    expectThrow(() => B.matmul(B.zeros([2, 2]), other.zeros([2, 2])), BackendMismatchError, /matmul/, 'mixed backends matmul');
    expectThrow(() => B.matmul(B.zeros([2, 2]), B.zeros([2, 2]), false, false, other.zeros([2])), BackendMismatchError, /matmul/, 'mixed backends matmul bias');
    const d = B.tensor([1, 2], [2]);
    d.dispose();
    expectThrow(() => B.unary('tanh', d), DisposedError, /tanh.*disposed/, 'use after dispose');
    expectThrow(() => B.matmul(d, d), DisposedError, /matmul.*disposed/, 'matmul after dispose');
    let err: unknown;
    try {
      await d.data();
    } catch (e) {
      err = e;
    }
    assert(err instanceof DisposedError, 'data() after dispose');
    assert(new ShapeError('x', 'y') instanceof NeuroneError, 'typed errors share a base class');
    other.destroy?.();
  }),
  c('memory: dispose frees, reshape shares storage, nothing leaks in a loop', async (B) => {
    const before = B.memory();
    const values = rand(100, 3);
    const x = B.tensor(values, [10, 10]);
    const r = B.reshape(x, [100]);
    const m1 = B.memory();
    assert(m1.tensors === before.tensors + 2, `two handles live: ${JSON.stringify(m1)} vs ${JSON.stringify(before)}`);
    assert(m1.buffers === before.buffers + 1, 'reshape shares one buffer');
    x.dispose();
    await expectClose(r, [100], values, B.dtype === 'float32' ? 1e-7 : 0, 0, 'view alive after source disposed');
    r.dispose();
    const held: Tensor[] = [];
    for (let i = 0; i < 50; i++) {
      const a = B.tensor(rand(64, i), [8, 8]);
      const b = B.matmul(a, a, false, true);
      const h = B.unary('tanh', b);
      const s = B.sum(h);
      await s.data();
      for (const t of [a, b, s]) t.dispose();
      held.push(h);
    }
    const after = B.memory();
    // each unary('tanh', b) above is live and undisposed: one more tensor per iteration must show
    assert(after.tensors === before.tensors + 50, `memory() counts live tensors: ${JSON.stringify(after)} vs ${JSON.stringify(before)}`);
    for (const h of held) h.dispose();
    assert(B.memory().tensors === before.tensors, 'dispose gives each back');
  }),
  c('gradients: the derived backward of the tensor API runs on this backend (against the float64 reference kernels)', async (B, { rtol, atol }) => {
    // one function through every vjp: matmuls (all flags, bias), broadcasting binaries, unary ops, reductions, layout ops, windows
    const f = (x: Tensor, w: Tensor, v: Tensor): Tensor => {
      const h = x.matmul(w, { bias: v.narrow(0, 0, 4) }).tanh().add(x.matmul(w.transpose(), { transposeB: true }).sigmoid()); // [3, 4]
      const a = h.mul(v.narrow(0, 1, 4)).sub(h.div(v.narrow(0, 2, 4).exp())).pow(2).add(h.abs().sqrt().log().softplus()).relu();
      const b = a.maximum(h.neg()).minimum(h.mul(2).add(0.5)).clamp(-0.8, 0.9).where(x.narrow(1, 0, 1).relu(), h.square());
      const c = concat([b.softmax(0), b.logSoftmax(1), stack([b.max(1), b.min(1, true).expand([3, 2]).sum(1)], 1)], 1).permute(1, 0); // [10, 3]
      const d = c.gather(0, B2(c).tensor([0, 9, 4, 2, 2, 7], [2, 3])).sum().add(c.indexSelect(1, B2(c).tensor([2, 0, 2], [3])).logsumexp(0).sum());
      const img = b.reshape([1, 3, 4, 1]);
      const win = { kernel: [2, 2] as const, padding: [1, 1] as const };
      const e = pool('max', img, { kernel: [2, 2] }).sum().add(pool('avg', img, win).square().sum()).add(col2im(im2col(img, win).mul(2), win, [1, 3, 4, 1]).mean());
      return d.add(e).add(a.mean([0, 1])).add(v.unsqueeze(0).squeeze(0).max());
    };
    const B2 = (t: Tensor): Backend => t.backend;
    const xv = rand(15, 40, 0.2, 1);
    const wv = rand(20, 41);
    const vv = rand(6, 42, 0.3, 1);
    const at = (be: Backend): Tensor[] => [be.tensor(xv, [3, 5]), be.tensor(wv, [5, 4]), be.tensor(vv, [6])];
    const ref = grad(f, { argnums: [0, 1, 2] })(...(at(new Backend(referenceKernels())) as [Tensor, Tensor, Tensor]));
    const got = grad(f, { argnums: [0, 1, 2] })(...(at(B) as [Tensor, Tensor, Tensor]));
    for (let i = 0; i < 3; i++) await expectClose(got[i]!, ref[i]!.shape, await ref[i]!.data(), rtol * 100, atol * 100, `∂f/∂input ${i}`);
  }),
];

/** Runs the suite under a describe/it harness (vitest, jasmine, mocha…). */
export function runConformance(
  label: string,
  make: () => Backend,
  harness: { describe: (n: string, f: () => void) => void; it: (n: string, f: () => Promise<void>, timeout?: number) => void },
  opts: ConformanceOptions = {},
): void {
  const probe = make();
  const rtol = opts.rtol ?? (probe.dtype === 'float64' ? 1e-12 : 2e-6);
  const atol = opts.atol ?? rtol;
  probe.destroy?.();
  harness.describe(`backend conformance: ${label}`, () => {
    for (const k of conformanceCases) {
      if (opts.skip?.includes(k.name)) continue;
      harness.it(k.name, () => k.run(make, { rtol, atol }), 120_000);
    }
  });
}

/** One case's outcome, as the `…Cases` runners report it (for browser pages and scripts). */
export interface CaseOutcome {
  name: string;
  ok: boolean;
  error?: string;
}

/** Runs each case in turn, catching its failure: the outcome list of both conformance suites. */
export async function runCases<C extends { name: string }>(cases: readonly C[], run: (c: C) => Promise<void>): Promise<CaseOutcome[]> {
  const out: CaseOutcome[] = [];
  for (const c of cases) {
    try {
      await run(c);
      out.push({ name: c.name, ok: true });
    } catch (e) {
      out.push({ name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** Runs every case and returns failures (for browsers and scripts). */
export async function runConformanceCases(make: () => Backend, opts: ConformanceOptions = {}): Promise<CaseOutcome[]> {
  const probe = make();
  const rtol = opts.rtol ?? (probe.dtype === 'float64' ? 1e-12 : 2e-6);
  const atol = opts.atol ?? rtol;
  return runCases(conformanceCases, (k) => k.run(make, { rtol, atol }));
}
