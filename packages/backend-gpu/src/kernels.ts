import type { ActivationGrad, BinaryOp, UnaryOp } from '@neurone/core';

/**
 * gpu.js kernel sources, generated as strings with every shape baked in as a literal (a kernel
 * is compiled once per op and shape, then cached). One source compiles to WGSL (webgpu), GLSL
 * ES 3.00 (webgl2, headless-gl) and WebAssembly (webasm).
 *
 * Every tensor is stored flat (row-major). A thread's flat index is split into coordinates in
 * float arithmetic: q = floor((r + 0.5) / d) is exact for r < 2²² (the +0.5 keeps the quotient
 * away from an integer, so a rounding of the division never crosses it), and r − q·d is exact
 * in float32 below 2²⁴. Hence the size limit of 2²⁴ elements per tensor (checked by the backend).
 */

export const MAX_ELEMENTS = 1 << 24;

const lit = (v: number): string => {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

/** Splits flat index `t` of `shape` into coordinate expressions i0..i(r-1) (declared consts). */
function coords(shape: readonly number[], t = 't'): string {
  const r = shape.length;
  if (r === 0) return '';
  const lines: string[] = [];
  let rest = t;
  for (let d = r - 1; d >= 1; d--) {
    const D = shape[d]!;
    if (D === 1) {
      lines.push(`const i${d} = 0.0;`);
      continue;
    }
    lines.push(`const q${d} = Math.floor((${rest} + 0.5) / ${lit(D)});`);
    lines.push(`const i${d} = ${rest} - q${d} * ${lit(D)};`);
    rest = `q${d}`;
  }
  lines.push(`const i0 = ${rest};`);
  return lines.join('\n');
}

/** Linear offset Σ i_d·stride_d, skipping zero strides. */
function offset(strides: readonly number[]): string {
  const terms = strides.flatMap((s, d) => (s === 0 ? [] : [s === 1 ? `i${d}` : `i${d} * ${lit(s)}`]));
  return terms.length ? terms.join(' + ') : '0.0';
}

/**
 * Statements that set `erf_v` to erf(v) (shaders have no erf): Abramowitz & Stegun 7.1.26,
 * |error| ≤ 1.5e-7, below float32's resolution of GELU's values.
 */
const ERF = (v: string): string =>
  `const erf_z = Math.abs(${v});\nconst erf_t = 1.0 / (1.0 + 0.3275911 * erf_z);\n` +
  `let erf_v = 1.0 - ((((1.061405429 * erf_t - 1.453152027) * erf_t + 1.421413741) * erf_t - 0.284496736) * erf_t + 0.254829592) * erf_t * Math.exp(-erf_z * erf_z);\n` +
  `if (${v} < 0.0) { erf_v = -erf_v; }\n`;

/** The unary and activation-gradient ops that take a parameter p (a kernel argument; log's is −∞). */
export const takesP = (op: string): boolean => op === 'leakyRelu' || op === 'elu' || op === 'log';

export const src = {
  /** Host → device: a copy of a flat Float32Array. */
  upload: (): string => `function (a) { return a[this.thread.x]; }`,
  fill: (): string => `function (v) { return v; }`,

  unary(op: UnaryOp): string {
    const body: Record<UnaryOp, string> = {
      abs: `return Math.abs(x);`,
      exp: `return Math.exp(x);`,
      // log 0 is −∞ (p, an argument: shaders have no infinity literal); some drivers' log(0) is finite (−88 on SwiftShader)
      log: `if (x == 0.0) { return p; }\nreturn Math.log(x);`,
      sqrt: `return Math.sqrt(x);`,
      square: `return x * x;`,
      // tanh(±15) is ±1 in float32; clamping keeps every driver's tanh away from exp overflow
      tanh: `return Math.tanh(Math.min(Math.max(x, -15.0), 15.0));`,
      // σ(x) with e^(−|x|) only: never overflows
      sigmoid: `const e = Math.exp(-Math.abs(x));\nif (x >= 0.0) { return 1.0 / (1.0 + e); }\nreturn e / (1.0 + e);`,
      relu: `if (x < 0.0) { return 0.0; }\nreturn x;`, // NaN passes through where the device keeps NaN
      // log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|)
      softplus: `return Math.max(x, 0.0) + Math.log(1.0 + Math.exp(-Math.abs(x)));`,
      leakyRelu: `if (x > 0.0) { return x; }\nreturn p * x;`,
      elu: `if (x > 0.0) { return x; }\nreturn p * (Math.exp(x) - 1.0);`,
      gelu: `${ERF('x * 0.7071067811865476')}return 0.5 * x * (1.0 + erf_v);`,
      geluTanh: `const u = Math.min(Math.max(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0), 15.0);\nreturn 0.5 * x * (1.0 + Math.tanh(u));`,
    };
    return `function (a${takesP(op) ? ', p' : ''}) {\nconst x = a[this.thread.x];\n${body[op]}\n}`;
  },

  /**
   * Element-wise binary op with NumPy broadcasting. `sa`/`sb` are the operands' strides read as
   * broadcast to `shape` (0 along broadcast axes). Fast paths: equal shapes, and one operand
   * repeating along the leading axes (bias rows, scalars).
   */
  binary(op: BinaryOp, shape: readonly number[], sa: readonly number[], sb: readonly number[], na: number, nb: number, n: number): string {
    const f: Record<BinaryOp, string> = {
      add: 'return x + y;',
      sub: 'return x - y;',
      mul: 'return x * y;',
      div: 'return x / y;',
      maximum: 'return Math.max(x, y);',
      minimum: 'return Math.min(x, y);',
      // |x|^y, negated for a negative base and an odd integer exponent (the device's pow takes x ≥ 0)
      pow: `if (y == 0.0) { return 1.0; }
if (x == 0.0 && y > 0.0) { return 0.0; }
const p = Math.pow(Math.abs(x), y);
if (x < 0.0 && y == Math.floor(y) && Math.abs(y - 2.0 * Math.floor(y * 0.5)) > 0.5) { return -p; }
return p;`,
    };
    const ia = bindex(na, sa, shape, n);
    const ib = bindex(nb, sb, shape, n);
    return `function (a, b) {
const t = this.thread.x;
${/i\d/.test(ia + ib) ? coords(shape) : ''}
const x = a[${ia}];
const y = b[${ib}];
${f[op]}
}`;
  },

  /** cond ≠ 0 ? a : b, the three broadcast to `shape` (strides as in binary). */
  where(shape: readonly number[], st: readonly (readonly number[])[], lens: readonly number[], n: number): string {
    const [ic, ia, ib] = st.map((s, j) => bindex(lens[j]!, s, shape, n));
    return `function (c, a, b) {
const t = this.thread.x;
${/i\d/.test(ic! + ia! + ib!) ? coords(shape) : ''}
if (c[${ic}] != 0.0) { return a[${ia}]; }
return b[${ib}];
}`;
  },

  /** out element (i₀…) = x[offset + Σ i_d·strides[d]] (permute, narrow, expand; a constant index alone: WebGL 1 rejects `0.0 + 0.0`). */
  strided(shape: readonly number[], strides: readonly number[], off: number): string {
    return `function (a) {
const t = this.thread.x;
${coords(shape)}
return a[${strides.some((d) => d !== 0) ? `${lit(off)} + ${offset(strides)}` : lit(off)}];
}`;
  },

  /** The k inputs, each (outer, lens[j], inner), joined along the middle axis. */
  concat(lens: readonly number[], inner: number): string {
    const L = lens.reduce((p, q) => p + q, 0);
    const args = lens.map((_, j) => `a${j}`);
    let start = 0;
    const picks = lens.map((len, j) => {
      const read = `a${j}[o * ${lit(len * inner)} + (p - ${lit(start)}) * ${lit(inner)} + i]`;
      start += len;
      return j === lens.length - 1 ? `return ${read};` : `if (p < ${lit(start)}) { return ${read}; }`;
    });
    return `function (${args.join(', ')}) {
const t = this.thread.x;
const o = Math.floor((t + 0.5) / ${lit(L * inner)});
const rest = t - o * ${lit(L * inner)};
const p = Math.floor((rest + 0.5) / ${lit(inner)});
const i = rest - p * ${lit(inner)};
${picks.join('\n')}
}`;
  },

  /** out (index's shape) = x at the same coordinates with `axis` replaced by the index (0 outside [0, len)). */
  gather(shape: readonly number[], xStrides: readonly number[], axis: number, len: number): string {
    return `function (a, ix) {
const t = this.thread.x;
${coords(shape)}
const k = ix[t];
if (k < 0.0 || k >= ${lit(len)} || k != Math.floor(k)) { return 0.0; }
return a[${offset(xStrides.map((s, d) => (d === axis ? 0 : s)))} + k * ${lit(xStrides[axis]!)}];
}`;
  },

  affine: (): string => `function (a, scale, shift) { return a[this.thread.x] * scale + shift; }`,
  axpby: (): string => `function (a, alpha, b, beta) { return alpha * a[this.thread.x] + beta * b[this.thread.x]; }`,
  clamp(hasLo: boolean, hasHi: boolean): string {
    return `function (a, lo, hi) {
let x = a[this.thread.x];
${hasLo ? 'if (x < lo) { x = lo; }' : ''}
${hasHi ? 'if (x > hi) { x = hi; }' : ''}
return x;
}`;
  },

  activationGrad(op: ActivationGrad): string {
    const f: Record<ActivationGrad, string> = {
      tanh: 'return d * (1.0 - s * s);', // δ ⊙ (1 − tanh²)
      sigmoid: 'return d * s * (1.0 - s);', // δ ⊙ σ(1 − σ)
      relu: 'if (s > 0.0) { return d; }\nreturn 0.0;', // δ ⊙ [a > 0]
      leakyRelu: 'if (s > 0.0) { return d; }\nreturn d * p;', // δ ⊙ (a > 0 ? 1 : p)
      elu: 'if (s > 0.0) { return d; }\nreturn d * p * Math.exp(s);', // δ ⊙ (a > 0 ? 1 : α·eᵃ)
      gelu: `${ERF('s * 0.7071067811865476')}return d * (0.5 * (1.0 + erf_v) + s * Math.exp(-0.5 * s * s) * 0.3989422804014327);`, // δ ⊙ (Φ(a) + a·φ(a))
      // δ ⊙ (½(1 + t) + ½a(1 − t²)·c(1 + 3k·a²))
      geluTanh: 'const t = Math.tanh(Math.min(Math.max(0.7978845608028654 * (s + 0.044715 * s * s * s), -15.0), 15.0));\nreturn d * (0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 0.134145 * s * s));',
    };
    return `function (sv, dv${takesP(op) ? ', p' : ''}) {\nconst s = sv[this.thread.x];\nconst d = dv[this.thread.x];\n${f[op]}\n}`;
  },

  /**
   * C = op(A)·op(B), one output per thread on a 2-D grid [n, m] (workgroups of 8×8 on webgpu,
   * so neighbouring threads share rows of A and columns of B in cache), the k-loop unrolled by
   * four into independent accumulators (instruction-level parallelism, and a pairwise final sum).
   */
  matmul(m: number, k: number, n: number, ta: boolean, tb: boolean, bias = false): string {
    const A = (p: string): string => (ta ? `a[(${p}) * ${lit(m)} + i]` : `a[iK + ${p}]`);
    const B = (p: string): string => (tb ? `b[jK + ${p}]` : `b[(${p}) * ${lit(n)} + j]`);
    const k4 = k - (k % 4);
    const lines = [
      bias ? 'function (a, b, bias) {' : 'function (a, b) {',
      'const i = this.thread.y;',
      'const j = this.thread.x;',
      `const iK = i * ${lit(k)};`,
      `const jK = j * ${lit(k)};`,
      'let s0 = 0.0;',
      'let s1 = 0.0;',
      'let s2 = 0.0;',
      'let s3 = 0.0;',
    ];
    if (k4 > 0) {
      lines.push(
        `for (let p = 0; p < ${k4}; p += 4) {`,
        `s0 += ${A('p')} * ${B('p')};`,
        `s1 += ${A('p + 1')} * ${B('p + 1')};`,
        `s2 += ${A('p + 2')} * ${B('p + 2')};`,
        `s3 += ${A('p + 3')} * ${B('p + 3')};`,
        '}',
      );
    }
    for (let p = k4; p < k; p++) lines.push(`s${p - k4} += ${A(String(p))} * ${B(String(p))};`);
    // the fused bias adds to the float32 product, as a separate add of the stored product would
    lines.push(bias ? 'return ((s0 + s1) + (s2 + s3)) + bias[j];' : 'return (s0 + s1) + (s2 + s3);', '}');
    return lines.join('\n');
  },

  /**
   * Sum over the middle axis of (outer, red, inner), in chunks of `ch` consecutive reduced
   * elements: output (outer, chunks, inner). Chunks > 1 makes a two-pass (tree) reduction.
   */
  sumChunks(red: number, inner: number, chunks: number, ch: number): string {
    return `function (a) {
const t = this.thread.x;
const o = Math.floor((t + 0.5) / ${lit(chunks * inner)});
const rest = t - o * ${lit(chunks * inner)};
const c = Math.floor((rest + 0.5) / ${lit(inner)});
const i = rest - c * ${lit(inner)};
const base = o * ${lit(red * inner)} + i;
let s = 0.0;
for (let r = 0; r < ${ch}; r++) {
  const rr = c * ${lit(ch)} + r;
  if (rr < ${lit(red)}) {
    s += a[base + rr * ${lit(inner)}];
  }
}
return s;
}`;
  },

  /** max or min (arg = false) or argmax (arg = true, first index on ties) along the middle axis of (outer, len, inner). */
  maxAlong(len: number, inner: number, arg: boolean, min = false): string {
    return `function (a) {
const t = this.thread.x;
const o = Math.floor((t + 0.5) / ${lit(inner)});
const i = t - o * ${lit(inner)};
const base = o * ${lit(len * inner)} + i;
let best = a[base];
let at = 0.0;
for (let r = 1; r < ${len}; r++) {
  const v = a[base + r * ${lit(inner)}];
  if (v ${min ? '<' : '>'} best) {
    best = v;
    at = r;
  }
}
return ${arg ? 'at' : 'best'};
}`;
  },

  /** Per-row statistics: out[r] = max of row r, out[R + r] = Σ exp(x − max). */
  rowStats(rows: number, k: number): string {
    return `function (a) {
const t = this.thread.x;
let row = t;
if (t >= ${lit(rows)}) { row = t - ${lit(rows)}; }
const base = row * ${lit(k)};
let m = a[base];
for (let j = 1; j < ${k}; j++) { m = Math.max(m, a[base + j]); }
if (t < ${lit(rows)}) { return m; }
let s = 0.0;
for (let j = 0; j < ${k}; j++) { s += Math.exp(a[base + j] - m); }
return s;
}`;
  },

  /** softmax = e^(x − m) / s; log-softmax = (x − m) − log s, from rowStats. */
  rowApply(rows: number, k: number, log: boolean): string {
    return `function (a, st) {
const t = this.thread.x;
const row = Math.floor((t + 0.5) / ${lit(k)});
const m = st[row];
const s = st[row + ${lit(rows)}];
${log ? 'return (a[t] - m) - Math.log(s);' : 'return Math.exp(a[t] - m) / s;'}
}`;
  },

  oneHot(depth: number): string {
    return `function (ix) {
const t = this.thread.x;
const row = Math.floor((t + 0.5) / ${lit(depth)});
const c = t - row * ${lit(depth)};
if (ix[row] == c) { return 1.0; }
return 0.0;
}`;
  },
};

/** The flat index expression of an operand of `len` elements broadcast to `shape` (n elements). */
function bindex(len: number, strides: readonly number[], shape: readonly number[], n: number): string {
  if (len === n) return 't';
  if (len === 1) return '0.0';
  if (isSuffixRepeat(strides, shape, len)) return `t - Math.floor((t + 0.5) / ${lit(len)}) * ${lit(len)}`;
  return offset(strides);
}

/** True when the operand's strides are those of a row-major block repeated along the leading axes. */
function isSuffixRepeat(strides: readonly number[], shape: readonly number[], len: number): boolean {
  // trailing axes: contiguous strides; leading axes: 0
  let expect = 1;
  let d = shape.length - 1;
  let covered = 1;
  while (d >= 0 && covered < len) {
    if (shape[d] !== 1 && strides[d] !== expect) return false;
    expect *= shape[d]!;
    covered *= shape[d]!;
    d--;
  }
  if (covered !== len) return false;
  for (; d >= 0; d--) if (strides[d] !== 0 && shape[d] !== 1) return false;
  return true;
}
