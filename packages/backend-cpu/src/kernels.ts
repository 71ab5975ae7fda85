import { BCE_GRAD_EPS, BCE_LOG_FLOOR, GELU_TANH, ValueError, activationSlope, erf, broadcastStrides, stridesOf, updateChain } from '@neurone/core';
import type { ActivationGrad, AxisSplit, BinaryOp, ConvGeometry, DType, KernelTensor, Kernels, MatmulDims, PoolKind, Shape, TypedArray, UnaryOp, UpdateRule } from '@neurone/core';
import { gemm, wasmGemmEnabled } from './gemm';
import { colsumWasm, im2colWasm, mapOnWasm, maxPool2Fits, maxPool2GradWasm, maxPool2Wasm, passWasm } from './wasm-gemm';
import type { WasmMap } from './wasm-gemm';
import { col2im, im2col, pool, poolGrad } from './conv';
import type { Arena } from './arena';

type T = KernelTensor<TypedArray>;

/** Element-wise maps with a WebAssembly kernel (gemm.wat: tanh, sigmoid, relu, their backward, axpby) run there from this many float32 elements. */
const WASM_MAP_MIN = 64;

/** out = op(inputs) on the WebAssembly kernel when every array is float32, large enough, and wasm is on; false otherwise (the caller's loop runs). */
export function onWasm(op: WasmMap, inputs: readonly TypedArray[], out: TypedArray, extra: readonly number[] = []): boolean {
  return f32Wasm(out, inputs) && mapOnWasm(op, inputs as Float32Array[], out as Float32Array, extra);
}

/**
 * At most this many floats (operands and output) go through the WebAssembly memory in one kernel:
 * 24 MiB, under the 32 MiB that wasm-gemm.ts keeps between calls (more is let go and re-grown on
 * the next call, page by page: larger ones, evaluation batches of a CNN, run the loops).
 */
const WASM_MAP_MAX = 6 * 2 ** 20;

/** Whether a kernel over these arrays should try WebAssembly: all float32, the output from WASM_MAP_MIN elements, all within WASM_MAP_MAX, wasm on. */
function f32Wasm(out: TypedArray, inputs: readonly TypedArray[]): boolean {
  if (out.length < WASM_MAP_MIN || !(out instanceof Float32Array) || !wasmGemmEnabled()) return false;
  let total = out.length;
  for (const x of inputs) {
    if (!(x instanceof Float32Array)) return false;
    total += x.length;
  }
  return total <= WASM_MAP_MAX;
}

/**
 * The CPU kernels: every primitive as a loop over typed arrays (float32 or float64), the GEMM on
 * WebAssembly SIMD for float32. Inputs arrive checked by the op layer in @neurone/core.
 */
export class CpuKernels implements Kernels<TypedArray> {
  readonly name: string;
  readonly dtype: DType;
  readonly canReadSync = true;
  /** V8's typed-array length limit. */
  readonly maxElements = 2 ** 32 - 1;
  /** The most bytes of live tensors (cpu's `maxBytes` option). */
  readonly maxBytes: number;
  readonly #Array: Float32ArrayConstructor | Float64ArrayConstructor;

  /** Where float32 storage lives when it can (arena.ts; index.ts's cpu() passes the process's), so the wasm kernels need not copy it. */
  readonly #arena: Arena | null;

  constructor(dtype: DType, maxBytes = Infinity, arena: Arena | null = null) {
    this.#arena = dtype === 'float32' ? arena : null;
    this.dtype = dtype;
    this.maxBytes = maxBytes;
    this.name = `cpu(${dtype})`;
    this.#Array = dtype === 'float64' ? Float64Array : Float32Array;
  }

  /** Threads that large kernels run on: 1 (`cpu({ threads })` in Node makes a subclass that splits them across more). */
  readonly threads: number = 1;

  /** The loops behind the large kernels (gemm.ts, unaryRange, the wasm maps with BCE's terms among them, conv.ts's pools, the optimizers' wasm pass `adam`): the threaded subclass of index.ts splits them across threads. */
  protected readonly k = { gemm, unaryRange, map: onWasm, pool, poolGrad, pass: passWasm };

  ready(): Promise<void> {
    return Promise.resolve();
  }

  // ---- storage ----------------------------------------------------------------------------

  /**
   * Storage comes from the arena when there is one and it takes the size (float32 blocks go back
   * to it when freed); other freed buffers wait here by length and serve the next op of that size
   * (a training step allocates the same sizes every time), so steady-state training allocates nothing.
   */
  readonly #pool = new Map<number, TypedArray[]>();
  #pooledBytes = 0;
  static readonly POOL_BYTES = 64 * 1024 * 1024;
  static readonly POOL_PER_SIZE = 32;

  /** A buffer of n elements; zero-filled only when asked (most kernels overwrite every element). */
  #alloc(n: number, zero = false): TypedArray {
    const w = this.#arena?.take(n);
    if (w) return zero ? w.fill(0) : w;
    const a = this.#pool.get(n)?.pop();
    if (!a) return new this.#Array(n);
    this.#pooledBytes -= a.byteLength;
    return zero ? a.fill(0) : a;
  }

  /** Buffers pooled for reuse (tests). */
  get pooledBytes(): number {
    return this.#pooledBytes;
  }

  free(values: TypedArray): void {
    if (this.#arena?.give(values as Float32Array)) return;
    if (values.length === 0 || this.#pooledBytes + values.byteLength > CpuKernels.POOL_BYTES) return;
    const list = this.#pool.get(values.length);
    if (list && list.length >= CpuKernels.POOL_PER_SIZE) return;
    if (list) list.push(values);
    else this.#pool.set(values.length, [values]);
    this.#pooledBytes += values.byteLength;
  }

  upload(values: ArrayLike<number>, n: number): TypedArray {
    const out = this.#alloc(n);
    out.set(values);
    return out;
  }

  fill(n: number, value: number): TypedArray {
    return value === 0 ? this.#alloc(n, true) : this.#alloc(n).fill(value);
  }

  readSync(x: T): TypedArray {
    return x.data.slice();
  }

  read(x: T): Promise<TypedArray> {
    return Promise.resolve(x.data.slice());
  }

  // ---- arithmetic -------------------------------------------------------------------------

  matmul(a: T, b: T, { m, k, n, transposeA, transposeB }: MatmulDims, bias?: T): TypedArray {
    const out = this.#alloc(m * n);
    // the wasm kernel adds the bias itself (f32 adds: the same rounding as the loops below)
    if (!this.k.gemm(a.data, b.data, out, m, n, k, transposeA, transposeB, bias?.data) && bias) {
      // + bias on each row, in place: the same rounding as a separate add, without its buffer
      const bv = bias.data;
      if (n < 16 && m >= 64) {
        // few columns (a convolution's channels): one long strided pass per column, its bias in a register
        const len = m * n;
        for (let j = 0; j < n; j++) {
          const b = bv[j]!;
          for (let o = j; o < len; o += n) out[o] = out[o]! + b;
        }
      } else for (let i = 0, o = 0; i < m; i++) for (let j = 0; j < n; j++, o++) out[o] = out[o]! + bv[j]!;
    }
    return out;
  }

  unary(op: UnaryOp, x: T, p: number): TypedArray {
    const out = this.#alloc(x.data.length);
    if ((op === 'tanh' || op === 'sigmoid' || op === 'relu') && this.k.map(op, [x.data], out)) return out;
    this.k.unaryRange(op, x.data, out, 0, out.length, p);
    return out;
  }

  binary(op: BinaryOp, a: T, b: T, shape: Shape): TypedArray {
    const f = BINARY[op];
    const n = sizeOfShape(shape);
    const av = a.data;
    const bv = b.data;
    const out = this.#alloc(n);
    if (av.length === n && bv.length === n) {
      // one loop per op (a call through `f` does not inline)
      if (op === 'add') for (let i = 0; i < n; i++) out[i] = av[i]! + bv[i]!;
      else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = av[i]! * bv[i]!;
      else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = av[i]! - bv[i]!;
      else if (op === 'div') for (let i = 0; i < n; i++) out[i] = av[i]! / bv[i]!;
      else for (let i = 0; i < n; i++) out[i] = f(av[i]!, bv[i]!);
    } else if (av.length === n && isSuffix(b.shape, shape)) {
      // b repeats along the leading axes (bias rows, scalars)
      const m = bv.length;
      if (op === 'add') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! + bv[j]!;
      else if (op === 'mul') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! * bv[j]!;
      else if (op === 'sub') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! - bv[j]!;
      else if (op === 'div') for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = av[i]! / bv[j]!;
      else for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = f(av[i]!, bv[j]!);
    } else if (bv.length === n && isSuffix(a.shape, shape)) {
      const m = av.length;
      for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) out[i] = f(av[j]!, bv[i]!);
    } else {
      const sa = broadcastStrides(a.shape, shape);
      const sb = broadcastStrides(b.shape, shape);
      const idx = new Array<number>(shape.length).fill(0);
      let ia = 0;
      let ib = 0;
      for (let i = 0; i < n; i++) {
        out[i] = f(av[ia]!, bv[ib]!);
        for (let d = shape.length - 1; d >= 0; d--) {
          idx[d]!++;
          ia += sa[d]!;
          ib += sb[d]!;
          if (idx[d]! < shape[d]!) break;
          ia -= sa[d]! * shape[d]!;
          ib -= sb[d]! * shape[d]!;
          idx[d] = 0;
        }
      }
    }
    return out;
  }

  affine(x: T, scale: number, shift: number): TypedArray {
    const a = x.data;
    const out = this.#alloc(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i]! * scale + shift;
    return out;
  }

  axpby(alpha: number, x: T, beta: number, y: T): TypedArray {
    const a = x.data;
    const b = y.data;
    const out = this.#alloc(a.length);
    // float32 from WASM_MAP_MIN elements on WebAssembly (the same float64 arithmetic, ≈ 5× faster: SGD's step)
    if (out.length >= WASM_MAP_MIN && out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array && wasmGemmEnabled() && passWasm('axpby', [a, b, out], [alpha, beta])) return out; // a pass over memory: on this thread
    for (let i = 0; i < a.length; i++) out[i] = alpha * a[i]! + beta * b[i]!;
    return out;
  }

  clamp(x: T, lo: number, hi: number): TypedArray {
    const a = x.data;
    const out = this.#alloc(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
    return out;
  }

  activationGrad(op: ActivationGrad, saved: T, delta: T, p: number): TypedArray {
    const s = saved.data;
    const d = delta.data;
    const out = this.#alloc(s.length);
    if ((op === 'tanh' || op === 'sigmoid' || op === 'relu') && this.k.map(`${op}Grad`, [s, d], out)) return out;
    if (op === 'tanh') for (let i = 0; i < s.length; i++) out[i] = d[i]! * (1 - s[i]! * s[i]!);
    else if (op === 'sigmoid') for (let i = 0; i < s.length; i++) out[i] = d[i]! * s[i]! * (1 - s[i]!);
    else if (op === 'relu') for (let i = 0; i < s.length; i++) out[i] = s[i]! > 0 ? d[i]! : 0;
    else for (let i = 0; i < s.length; i++) out[i] = d[i]! * activationSlope(op, s[i]!, p);
    return out;
  }

  // ---- reductions -------------------------------------------------------------------------

  sum(x: T, ax: readonly number[], shape: Shape): TypedArray {
    const a = x.data;
    const xs = x.shape;
    // accumulate in float64 whatever the dtype, then store into a pooled buffer
    const out = new Float64Array(sizeOfShape(shape));
    if (ax.length === xs.length) out[0] = sumAll(a);
    else if (ax.every((v, i) => i === 0 || v === ax[i - 1]! + 1)) {
      // the reduced axes are contiguous: (outer, reduced, inner)
      const outer = sizeOfShape(xs.slice(0, ax[0]));
      const red = sizeOfShape(ax.map((i) => xs[i]!));
      const inner = sizeOfShape(xs.slice(ax[ax.length - 1]! + 1));
      // float32 on WebAssembly (bias gradients: a conv's few long columns, a Linear's wide rows over
      // the batch; blocks large enough to pay for a call each), two columns per f64x2: the same
      // float64 sums in the same order as the loops below
      const pays = (inner <= 16 && red >= 64) || (red >= 8 && red * inner >= 1024);
      if (pays && a instanceof Float32Array && a.length <= WASM_MAP_MAX && wasmGemmEnabled() && colsumWasm(a, outer, red, inner, out)) return this.#fromF64(out);
      sumBlocks(a, out, outer, red, inner);
    } else {
      const keep = xs.map((d, i) => (ax.includes(i) ? 1 : d));
      const os = stridesOf(keep).map((s, i) => (ax.includes(i) ? 0 : s));
      forEachIndex(xs, os, (flat, o) => {
        out[o]! += a[flat]!;
      });
    }
    return this.#fromF64(out);
  }

  /** A pooled buffer holding the float64 values (rounded to float32 for that dtype). */
  #fromF64(values: Float64Array): TypedArray {
    const result = this.#alloc(values.length);
    result.set(values);
    return result;
  }

  argmax(x: T, { outer, len, inner }: AxisSplit): TypedArray {
    const a = x.data;
    const out = this.#alloc(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = a[o * len * inner + i]!;
        let at = 0;
        for (let r = 1; r < len; r++) {
          const v = a[(o * len + r) * inner + i]!;
          if (v > best) {
            best = v;
            at = r;
          }
        }
        out[o * inner + i] = at;
      }
    return out;
  }

  // ---- rows -------------------------------------------------------------------------------

  rowwise(op: 'softmax' | 'logSoftmax', x: T, _rows: number, k: number): TypedArray {
    const a = x.data;
    const out = this.#alloc(a.length);
    const log = op === 'logSoftmax';
    for (let o = 0; o < a.length; o += k) {
      let m = -Infinity;
      for (let j = 0; j < k; j++) if (a[o + j]! > m) m = a[o + j]!;
      let s = 0;
      for (let j = 0; j < k; j++) s += Math.exp(a[o + j]! - m);
      if (log) {
        const lse = m + Math.log(s); // log Σ eˣ, max-shifted
        for (let j = 0; j < k; j++) out[o + j] = a[o + j]! - lse;
      } else {
        for (let j = 0; j < k; j++) out[o + j] = Math.exp(a[o + j]! - m) / s;
      }
    }
    return out;
  }

  bce(y: T, p: T, grad: boolean, c: number): TypedArray {
    const out = this.#alloc(p.data.length);
    if (this.k.map(grad ? 'bceGrad' : 'bce', [y.data, p.data], out, grad ? [c, BCE_GRAD_EPS] : [BCE_LOG_FLOOR])) return out;
    return grad ? bceGrad(y.data, p.data, out, c) : bceRange(y.data, p.data, out, BCE_LOG_FLOOR);
  }

  optimizerUpdate(rule: UpdateRule, p: T, g: T, state: readonly (T | null)[], h: readonly number[]): TypedArray[] {
    // float32 Adam and RMSprop on WebAssembly once the state exists: updateChain's bits in one pass
    const [a, b, c, d, e, f, mode, lr] = h as number[];
    if (rule === 'sgd' && !b && !d) return [this.axpby(1, p, -a!, g)]; // plain SGD: p − lr·g, as the chain
    const ins = [p.data, ...state.map((s) => s?.data)];
    if (rule !== 'sgd' && !ins.includes(undefined) && f32Wasm(p.data, [g.data, ...(ins as TypedArray[])])) {
      // the kernel's p, m, v, b from [p, ...state]: Adam's m and v; RMSprop's ḡ (centered), s and buffer (momentum)
      const kernelOrder = (x: TypedArray[]): (TypedArray | null)[] => (rule === 'adam' ? [x[0]!, x[1]!, x[2]!, null] : [x[0]!, f ? x[2]! : null, x[1]!, d! > 0 ? x[f ? 3 : 2]! : null]);
      const args = rule === 'adam' ? [b, 1 - b!, c, 1 - c!, -a!, d, e, mode === 2 ? 1 - lr! * f! : f, 0, mode] : [b, 1 - b!, b, 1 - b!, -a!, 1, c, e, d, (e ? 1 : 0) | 4 | (f ? 16 : 8) | (d! > 0 ? 32 : 0)];
      const outs = [p, ...state].map(() => this.#alloc(p.data.length));
      const [pi, ...si] = kernelOrder(ins as TypedArray[]);
      if (this.k.pass('adam', [pi!, g.data, ...si, ...kernelOrder(outs)] as (Float32Array | null)[], args as number[])) return outs;
      outs.forEach((o) => this.free(o));
    }
    return updateChain(this, rule, p, g, state, h); // SGD: its axpby passes run on WebAssembly
  }

  oneHot(indices: T, depth: number): TypedArray {
    const idx = indices.data;
    const n = idx.length;
    const out = this.#alloc(n * depth, true);
    for (let i = 0; i < n; i++) {
      const c = idx[i]!;
      if (Number.isInteger(c) && c >= 0 && c < depth) out[i * depth + c] = 1;
    }
    return out;
  }

  // ---- layout and selection ----------------------------------------------------------------

  extremum(op: 'max' | 'min', x: T, { outer, len, inner }: AxisSplit): TypedArray {
    const a = x.data;
    const out = this.#alloc(outer * inner);
    const max = op === 'max';
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = a[o * len * inner + i]!;
        for (let r = 1; r < len; r++) {
          const v = a[(o * len + r) * inner + i]!;
          if ((max ? v > best : v < best) || v !== v) best = v; // NaN propagates (PyTorch)
          if (best !== best) break;
        }
        out[o * inner + i] = best;
      }
    return out;
  }

  where(c: T, a: T, b: T, shape: Shape): TypedArray {
    const n = sizeOfShape(shape);
    const out = this.#alloc(n);
    const [cv, av, bv] = [c.data, a.data, b.data];
    if (cv.length === n && av.length === n && bv.length === n) {
      for (let i = 0; i < n; i++) out[i] = cv[i] !== 0 ? av[i]! : bv[i]!;
      return out;
    }
    const [sc, sa, sb] = [c, a, b].map((t) => broadcastStrides(t.shape, shape)) as [number[], number[], number[]];
    forEachIndex(shape, sc, (i, ic) => {
      // the a and b offsets from the coordinates that ic walked through
      let [ia, ib, rest] = [0, 0, i];
      for (let d = shape.length - 1; d >= 0; d--) {
        const k = rest % shape[d]!;
        rest = (rest - k) / shape[d]!;
        ia += k * sa[d]!;
        ib += k * sb[d]!;
      }
      out[i] = cv[ic] !== 0 ? av[ia]! : bv[ib]!;
    });
    return out;
  }

  strided(x: T, shape: Shape, strides: readonly number[], offset: number): TypedArray {
    const a = x.data;
    const out = this.#alloc(sizeOfShape(shape));
    forEachIndex(shape, strides, (i, o) => {
      out[i] = a[offset + o]!;
    });
    return out;
  }

  concat(xs: readonly T[], outer: number, lens: readonly number[], inner: number): TypedArray {
    const total = lens.reduce((p, q) => p + q, 0);
    const out = this.#alloc(outer * total * inner);
    let at = 0;
    for (let o = 0; o < outer; o++)
      xs.forEach((x, j) => {
        const block = lens[j]! * inner;
        out.set(x.data.subarray(o * block, (o + 1) * block), at);
        at += block;
      });
    return out;
  }

  gather(x: T, index: T, axis: number): TypedArray {
    const a = x.data;
    const iv = index.data;
    const xs = stridesOf(x.shape);
    const len = x.shape[axis]!;
    const out = this.#alloc(iv.length);
    forEachIndex(index.shape, xs.map((s, d) => (d === axis ? 0 : s)), (i, o) => {
      const k = iv[i]!;
      out[i] = Number.isInteger(k) && k >= 0 && k < len ? a[o + k * xs[axis]!]! : 0;
    });
    return out;
  }

  // ---- windows (conv.ts) ------------------------------------------------------------------

  im2col(x: T, g: ConvGeometry): TypedArray {
    const out = this.#alloc(g.batch * g.outH * g.outW * g.kh * g.kw * g.chan);
    if (f32Wasm(out, [x.data]) && im2colWasm(x.data as Float32Array, out as Float32Array, g)) return out;
    im2col(x.data, out, g);
    return out;
  }

  col2im(cols: T, g: ConvGeometry): TypedArray {
    const out = this.#alloc(g.batch * g.inH * g.inW * g.chan);
    col2im(cols.data, out, g);
    return out;
  }

  pool(kind: PoolKind, x: T, g: ConvGeometry): TypedArray {
    const out = this.#alloc(g.batch * g.outH * g.outW * g.chan);
    // the common 2×2 max pool on WebAssembly (on the calling thread: faster than the loop on every thread)
    if (kind === 'max' && maxPool2Fits(g) && f32Wasm(out, [x.data]) && maxPool2Wasm(x.data as Float32Array, out as Float32Array, g)) return out;
    this.k.pool(kind, x.data, out, g);
    return out;
  }

  poolGrad(kind: PoolKind, x: T, delta: T, g: ConvGeometry): TypedArray {
    const out = this.#alloc(x.size);
    if (kind === 'max' && maxPool2Fits(g) && f32Wasm(out, [x.data, delta.data]) && maxPool2GradWasm(x.data as Float32Array, delta.data as Float32Array, out as Float32Array, g)) return out;
    this.k.poolGrad(kind, x.data, delta.data, out, g);
    return out;
  }
}

/** BCELoss's gradient c·(ŷ − y) / max(ŷ(1 − ŷ), ε), the floor as `v < floor ? floor : v`, like clamp: NaN stays NaN. */
function bceGrad(y: TypedArray, p: TypedArray, out: TypedArray, c: number): TypedArray {
  for (let i = 0; i < p.length; i++) {
    const q = p[i]!;
    const d = q * (1 - q);
    out[i] = (c * q - c * y[i]!) / (d < BCE_GRAD_EPS ? BCE_GRAD_EPS : d);
  }
  return out;
}

/**
 * BCELoss's terms y·log ŷ + (1 − y)·log(1 − ŷ) into out, each log floored at F (−100),
 * as y·(a − b) + b. Where y = 0 and ŷ ≥ 0 (log ŷ finite after its floor) that is b exactly, so
 * log ŷ is skipped: most pixels of an image target are 0. Float32 results take log32, as
 * gemm.wat's `bce` does (the same bits); float64 ones Math.log.
 */
export function bceRange(y: TypedArray, p: TypedArray, out: TypedArray, F: number): TypedArray {
  const log = out instanceof Float32Array ? log32 : Math.log;
  for (let i = 0; i < out.length; i++) {
    const q = p[i]!;
    let b = log(1 - q);
    b = b < F ? F : b;
    if (y[i] === 0 && q >= 0) out[i] = b;
    else {
      const a = log(q);
      out[i] = y[i]! * ((a < F ? F : a) - b) + b;
    }
  }
  return out;
}

// The sums' loops, each in its own function: inside sum() one path's loop had no type feedback
// when the others made it hot, and V8 deoptimized it again and again (399 times in W3's epoch).

/** Σ a in float64, in order. */
function sumAll(a: TypedArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** out[o·inner + i] = Σᵣ a[(o·red + r)·inner + i] in float64, in r order. */
function sumBlocks(a: TypedArray, out: Float64Array, outer: number, red: number, inner: number): void {
  if (inner <= 16 && red >= 64) {
    // few long columns (a conv's bias gradient: [positions, channels] over positions): one
    // register accumulator per column beats a read-modify-write of `out` per element
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let r = 0, at = o * red * inner + i; r < red; r++, at += inner) acc += a[at]!;
        out[o * inner + i] = acc;
      }
  } else {
    for (let o = 0; o < outer; o++)
      for (let r = 0; r < red; r++) {
        const base = (o * red + r) * inner;
        const ob = o * inner;
        for (let i = 0; i < inner; i++) out[ob + i]! += a[base + i]!;
      }
  }
}

/**
 * y = op(x) on elements [lo, hi), p the op's parameter (leakyRelu's slope, elu's α). Also run by
 * the thread pool's workers, from its source text (threads.ts), for the ops of THREADED_UNARY
 * only: those use nothing but Math (erf, GELU_TANH and the unknown-op error are the caller's,
 * never a worker's).
 */
export function unaryRange(op: UnaryOp, a: TypedArray, out: TypedArray, lo: number, hi: number, p: number): void {
  // one loop per op: a call through a function table would not inline, and costs several times the math
  switch (op) {
    case 'abs':
      for (let i = lo; i < hi; i++) out[i] = Math.abs(a[i]!);
      break;
    case 'exp':
      for (let i = lo; i < hi; i++) out[i] = Math.exp(a[i]!);
      break;
    case 'log':
      for (let i = lo; i < hi; i++) out[i] = Math.log(a[i]!);
      break;
    case 'sqrt':
      for (let i = lo; i < hi; i++) out[i] = Math.sqrt(a[i]!);
      break;
    case 'square':
      for (let i = lo; i < hi; i++) out[i] = a[i]! * a[i]!;
      break;
    case 'tanh':
      // float32: tanh32, the WebAssembly kernel's own arithmetic (the same bits with or without it)
      if (out instanceof Float32Array) for (let i = lo; i < hi; i++) out[i] = tanh32(a[i]!);
      else for (let i = lo; i < hi; i++) out[i] = Math.tanh(a[i]!);
      break;
    case 'sigmoid':
      for (let i = lo; i < hi; i++) {
        const v = a[i]!;
        if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      break;
    case 'relu':
      for (let i = lo; i < hi; i++) out[i] = a[i]! < 0 ? 0 : a[i]!; // NaN stays NaN (PyTorch), so a bad input cannot vanish behind a ReLU
      break;
    case 'softplus':
      // log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), stable for any x
      for (let i = lo; i < hi; i++) out[i] = Math.max(a[i]!, 0) + Math.log1p(Math.exp(-Math.abs(a[i]!)));
      break;
    case 'leakyRelu':
      for (let i = lo; i < hi; i++) out[i] = a[i]! > 0 ? a[i]! : p * a[i]!; // x > 0 ? x : p·x
      break;
    case 'elu':
      for (let i = lo; i < hi; i++) out[i] = a[i]! > 0 ? a[i]! : p * Math.expm1(a[i]!); // x > 0 ? x : α(eˣ − 1)
      break;
    case 'gelu':
      for (let i = lo; i < hi; i++) out[i] = 0.5 * a[i]! * (1 + erf(a[i]! * Math.SQRT1_2)); // x·Φ(x)
      break;
    case 'geluTanh': {
      const { c, k } = GELU_TANH;
      for (let i = lo; i < hi; i++) out[i] = 0.5 * a[i]! * (1 + Math.tanh(c * (a[i]! + k * a[i]! ** 3))); // ½x(1 + tanh(c(x + kx³)))
      break;
    }
    default:
      throw new ValueError(`unary: no CPU kernel for '${String(op)}'`);
  }
}

/**
 * tanh for float32 results, computed in float64 step for step as wasm/gemm.wat's `tanh` (which
 * runs it two lanes at a time): x·(1 + x²·P(x²)) (Taylor to x⁹) below |x| = 1/16, else
 * ±(1 − 2/(e^(2|x|) + 1)) with e^y = 2^k·e^r (Cody–Waite: r = y − k·ln 2, |r| ≤ ln2/2) and e^r by
 * Taylor to r¹². Relative error ≈ 1e-15 against tanh: its float32 rounding is Math.tanh's but for
 * about one input in 10⁵ that lies within that distance of a rounding boundary. Math.tanh costs
 * ≈ 20 ns an element in V8; the wasm kernel ≈ 1. Self-contained: the thread pool's workers get
 * its source text.
 */
export function tanh32(x: number): number {
  const a = Math.abs(x);
  const x2 = x * x;
  if (a < 0.0625) return x * (1 + x2 * (-1 / 3 + x2 * (2 / 15 + x2 * (-17 / 315 + x2 * (62 / 2835))))); // x·(…): tanh(−0) = −0
  const y = 2 * Math.min(a, 19); // tanh(19) = 1 in float64
  const k = Math.floor(y * 1.4426950408889634 + 0.5); // round(y / ln 2)
  const r = y - k * 0.6931471803691238 - k * 1.9082149292705877e-10; // ln 2 in two parts
  const r2 = r * r;
  const r4 = r2 * r2;
  // e^r = Σ rⁱ/i! to i = 12 in Estrin's scheme (short dependency chains): u0 + u1·r⁸
  const u0 = 1 + r * 1 + (1 / 2 + r * (1 / 6)) * r2 + (1 / 24 + r * (1 / 120) + (1 / 720 + r * (1 / 5040)) * r2) * r4;
  const u1 = 1 / 40320 + r * (1 / 362880) + (1 / 3628800 + r * (1 / 39916800)) * r2 + (1 / 479001600) * r4;
  const er = u0 + u1 * (r4 * r4);
  const t = 1 - 2 / (er * 2 ** k + 1);
  return x < 0 ? -t : t;
}

const LOG_X = new DataView(new ArrayBuffer(8)); // x's bits, the high word at 4 (little-endian, as WebAssembly)

/**
 * log for BCE's float32 terms, in float64 step for step as gemm.wat's `bce` (which runs it two
 * lanes at a time): fdlibm's log without its branches, as musl's, for a float32 x or 1 − x (never
 * a subnormal double). x = 2^k·m with √2/2 ≤ m < √2, f = m − 1, s = f/(2 + f), log x = k·ln 2 + f
 * − f²/2 + s·(f²/2 + R(s²)). Error < 1 ulp of a double, so a term rounds to float32 as with
 * Math.log but within that of a rounding boundary; Math.log, a call into C++, has no SIMD form.
 */
export function log32(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? -Infinity : x > 0 ? x : NaN;
  LOG_X.setFloat64(0, x, true);
  const hx = LOG_X.getUint32(4, true) + (0x3ff00000 - 0x3fe6a09e); // its exponent field is k + 1023 for m in [√2/2, √2)
  LOG_X.setUint32(4, (hx & 0xfffff) + 0x3fe6a09e, true);
  const [k, f] = [(hx >>> 20) - 1023, LOG_X.getFloat64(0, true) - 1];
  const [h, s] = [0.5 * f * f, f / (2 + f)];
  const [z, w] = [s * s, s * s * (s * s)];
  const R = z * (0.666666666666673513 + w * (0.2857142874366239149 + w * (0.1818357216161805012 + w * 0.1479819860511658591))) + w * (0.3999999999940941908 + w * (0.2222219843214978396 + w * 0.1531383769920937332));
  return s * (h + R) + k * 1.9082149292705877e-10 - h + f + k * 0.6931471803691238;
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b || a !== a ? a : b), // NaN propagates (PyTorch)
  minimum: (a, b) => (a < b || a !== a ? a : b),
  pow: Math.pow,
};

function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isSuffix(small: Shape, full: Shape): boolean {
  // small broadcasts by repetition along leading axes: its shape (minus leading 1s) is a suffix of full
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const tail = small.slice(s);
  const off = full.length - tail.length;
  return off >= 0 && tail.every((d, i) => d === full[off + i]);
}

function forEachIndex(shape: Shape, outStrides: readonly number[], f: (flat: number, out: number) => void): void {
  const n = sizeOfShape(shape);
  const idx = new Array<number>(shape.length).fill(0);
  let o = 0;
  for (let flat = 0; flat < n; flat++) {
    f(flat, o);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      o += outStrides[d]!;
      if (idx[d]! < shape[d]!) break;
      o -= outStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
