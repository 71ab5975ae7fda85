import { DataError, GELU_TANH, MAX_TENSOR_SIZE, ValueError, erf, resolveBackend } from '@neurone/core';
import type { Backend, Module } from '@neurone/core';
import { AvgPool1D, AvgPool2D, BatchNorm1d, BatchNorm2d, Conv1D, Conv2D, Dropout, ELU, Flatten, GELU, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool1D, MaxPool2D, ReLU, Sequential, Sigmoid, Softmax, TanH, flattenedWeight, permuteAxes, torchConvWeight, traceModules } from '@neurone/layers';
import { AttrType, DataType, decodeModel } from './proto';
import type { AttributeMsg, ModelMsg, NodeMsg, TensorMsg } from './proto';
import { toFirst, toLast } from './layout';
import type { Layout } from './layout';

/** The largest ONNX file `fromOnnx` reads by default (bytes): 512 MiB. */
export const MAX_ONNX_BYTES = 512 * 2 ** 20;
const MAX_NODES = 10_000;

/** Options of `fromOnnx`. */
export interface FromOnnxOptions {
  /** Backend of the model's parameters (default: the registry's, `getBackend()`). */
  backend?: Backend;
  /** Refuse larger files (default `MAX_ONNX_BYTES`). */
  maxBytes?: number;
}

type Host = { shape: number[]; data: Float64Array };

/** The state of the walk along the chain of nodes: the value so far in neurone's terms. */
interface Chain {
  backend: Backend;
  modules: Module[];
  /** One sample's shape in neurone's layout (channels-last). */
  shape: number[];
  /**
   * Layout of the ONNX value relative to neurone's tensor (rank ≥ 3); 'unknown' until a node
   * tells (a Conv or pool: the input is channels-first; a Transpose, Softmax or Flatten).
   */
  layout: Layout | 'unknown';
  /** Set by a Flatten of a channels-first value: the channels-last shape whose flattening the next Gemm/MatMul must re-order. */
  flattened: number[] | null;
  /** Set by a Pad of zeros: its pads per spatial axis, for the Conv or AveragePool that must follow. */
  padded: number[] | null;
  /** The node's weights and attributes. */
  constant(name: string | undefined, what: string): Host;
  /** The values of `name` when it is an initializer (or a Constant's output), else null. */
  known(name: string | undefined): Host | null;
  attr(name: string, dflt?: number | number[]): number | number[];
}

const unsupported = (node: NodeMsg, why: string): ValueError =>
  new ValueError(`fromOnnx: unsupported operator '${node.opType}'${node.name ? ` (node '${node.name}')` : ''}: ${why}`);

/** Fixes an unknown layout (only element-wise modules came before: the shape is just re-ordered). */
function decide(c: Chain, layout: Layout): void {
  if (c.layout !== 'unknown') return;
  c.layout = layout;
  if (layout === 'first') c.shape = [...c.shape.slice(1), c.shape[0]!];
}

/** Appends a module to the chain; its output shape is the module's own (a mismatch is its ShapeError). */
function push(c: Chain, m: Module): void {
  c.shape = traceModules(m, c.shape, c.backend)[0]!.output;
  c.modules.push(m);
}

/** A weight [out, in] whose columns follow a channels-first flattening, re-ordered for neurone's. */
function unflatten(c: Chain, w: Host): Float64Array {
  const s = c.flattened;
  c.flattened = null;
  return s ? flattenedWeight(w, s, 'neurone').data : w.data;
}

/** Per-feature values (a normalisation's) of a value that is a Flatten of a channels-first one, re-ordered for neurone's flattening. */
function features(c: Chain, v: Host): Float64Array {
  return c.flattened ? flattenedWeight({ shape: [1, v.data.length], data: v.data }, c.flattened, 'neurone').data : v.data;
}

/** The host weights of the Linears made here (an Add after a MatMul re-makes its Linear with a bias). */
const weights = new WeakMap<Module, Float64Array>();

function linear(c: Chain, w: Host, b: Host | null): Linear {
  const [out, inp] = w.shape as [number, number];
  const data = unflatten(c, w);
  const l = new Linear(inp, out, { backend: c.backend, bias: b !== null, init: () => data, ...(b ? { biasInit: () => b.data } : {}) });
  weights.set(l, data);
  return l;
}

/** Checks the window attributes neurone has no equivalent for, and returns kernel, strides and pads per spatial axis. */
function window(c: Chain, node: NodeMsg, spatial: number, kernel?: number[]): { k: number[]; s: number[]; p: number[] } {
  decide(c, 'first');
  if (c.layout !== 'first' || c.shape.length !== spatial + 1) throw unsupported(node, `needs a channels-first input with ${spatial} spatial axes`);
  const k = c.attr('kernel_shape', kernel) as number[];
  const s = c.attr('strides', new Array<number>(spatial).fill(1)) as number[];
  const p = c.attr('pads', new Array<number>(2 * spatial).fill(0)) as number[];
  const ones = (a: number[]) => a.every((v) => v === 1);
  if (!ones(c.attr('dilations', new Array<number>(spatial).fill(1)) as number[])) throw unsupported(node, 'dilations other than 1');
  if (c.attr('ceil_mode', 0) !== 0) throw unsupported(node, 'ceil_mode 1');
  if (node.attribute?.some((a) => a.name === 'auto_pad' && a.s && new TextDecoder().decode(a.s) !== 'NOTSET')) throw unsupported(node, 'auto_pad');
  if (k.length !== spatial || s.length !== spatial || p.length !== 2 * spatial) throw unsupported(node, 'window attributes of the wrong length');
  if (p.some((v, i) => v !== p[i % spatial])) throw unsupported(node, 'pads that differ at the two ends');
  const pad = p.slice(0, spatial).map((v, i) => v + (c.padded?.[i] ?? 0));
  c.padded = null;
  if (spatial === 1 && pad[0] !== 0) throw unsupported(node, 'padding of a 1-D window');
  return { k, s, p: pad };
}

/** What can come between a Flatten of a channels-first value and the Gemm/MatMul whose columns it re-orders. */
const AFTER_FLATTEN = new Set(['Gemm', 'MatMul', 'Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'Elu', 'Gelu', 'Identity', 'Dropout', 'BatchNormalization', 'LayerNormalization']);

const pools = { MaxPool: [MaxPool1D, MaxPool2D], AveragePool: [AvgPool1D, AvgPool2D] } as const;

/** What each operator adds to the chain, by op_type. */
const importers: Record<string, (c: Chain, node: NodeMsg) => void> = {
  Gemm: (c, node) => {
    if (c.attr('alpha', 1) !== 1 || c.attr('beta', 1) !== 1 || c.attr('transA', 0) !== 0) throw unsupported(node, 'alpha, beta or transA other than the defaults');
    const b = c.constant(node.input[1], 'B');
    if (b.shape.length !== 2) throw unsupported(node, 'B must be a matrix');
    const w = c.attr('transB', 0) === 1 ? b : permuteAxes(b, [1, 0]);
    const bias = node.input[2] ? c.constant(node.input[2], 'C') : null;
    if (bias && bias.data.length !== w.shape[0]) throw unsupported(node, 'C must hold one value per output');
    push(c, linear(c, w, bias));
  },
  MatMul: (c, node) => {
    const b = c.constant(node.input[1], 'B');
    if (b.shape.length !== 2) throw unsupported(node, 'B must be a matrix');
    push(c, linear(c, permuteAxes(b, [1, 0]), null));
  },
  Add: (c, node) => {
    // MatMul then Add of a vector: one Linear with a bias
    const last = c.modules.at(-1);
    const b = c.constant(node.input[1], 'B');
    const w = last && weights.get(last);
    if (!(last instanceof Linear) || !w || last.bias || b.data.length !== last.outFeatures) throw unsupported(node, 'only the bias after a MatMul');
    c.modules.pop();
    last.dispose();
    c.shape = [last.inFeatures];
    push(c, linear(c, { shape: [last.outFeatures, last.inFeatures], data: w }, b));
  },
  Relu: (c) => push(c, new ReLU()),
  Tanh: (c) => push(c, new TanH()),
  Sigmoid: (c) => push(c, new Sigmoid()),
  LeakyRelu: (c) => push(c, new LeakyReLU(c.attr('alpha', 0.01) as number)),
  Elu: (c) => push(c, new ELU(c.attr('alpha', 1) as number)),
  Gelu: (c, node) => {
    const s = node.attribute?.find((x) => x.name === 'approximate')?.s;
    const a = s ? new TextDecoder().decode(s) : 'none';
    if (a !== 'none' && a !== 'tanh') throw unsupported(node, `approximate '${a}'`);
    push(c, new GELU({ approximate: a }));
  },
  Softmax: (c, node) => softmax(c, node, new Softmax()),
  LogSoftmax: (c, node) => softmax(c, node, new LogSoftmax()),
  Flatten: (c, node) => {
    if (c.attr('axis', 1) !== 1) throw unsupported(node, 'axis other than 1');
    flatten(c);
  },
  Reshape: (c, node) => {
    // a merge of neighbouring axes, the batch axis kept (0 or -1): a Flatten
    const shape = Array.from(c.constant(node.input[1], 'shape').data);
    const size = c.shape.reduce((a, b) => a * b, 1);
    const rest = shape.slice(1).map((d, i) => (d === 0 ? c.shape[i] : d));
    const known = rest.filter((d) => d !== -1).reduce((a, b) => a! * b!, 1)!;
    const target = rest.map((d) => (d === -1 ? size / known : d!));
    if (![0, -1].includes(shape[0]!) || rest.filter((d) => d === -1).length > (shape[0] === -1 ? 0 : 1) || target.reduce((a, b) => a * b, 1) !== size) throw unsupported(node, 'only a merge of axes after the batch axis');
    if (target.length === 1) return flatten(c);
    decide(c, 'last');
    const s = target.findIndex((d, i) => d !== c.shape[i]);
    if (s < 0 && target.length === c.shape.length) return;
    const e = c.shape.length - (target.length - s);
    const merged = c.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    if (c.layout !== 'last' || s < 0 || e <= s || merged !== target[s] || c.shape.slice(e + 1).join() !== target.slice(s + 1).join()) throw unsupported(node, 'only a merge of neighbouring axes of a channels-last value');
    push(c, new Flatten({ startDim: s + 1, endDim: e + 1 }));
  },
  Conv: (c, node) => {
    const w = c.constant(node.input[1], 'W');
    const spatial = w.shape.length - 2;
    if (spatial !== 1 && spatial !== 2) throw unsupported(node, 'only 1-D and 2-D convolutions');
    if (c.attr('group', 1) !== 1) throw unsupported(node, 'group other than 1');
    const { k, s, p } = window(c, node, spatial, w.shape.slice(2));
    if (k.some((v, i) => v !== w.shape[i + 2])) throw unsupported(node, 'kernel_shape differs from the weight');
    const bias = node.input[2] ? c.constant(node.input[2], 'B') : null;
    const [out, inp] = w.shape as [number, number];
    const data = torchConvWeight(w).data;
    const opts = { backend: c.backend, bias: bias !== null, init: () => data, ...(bias ? { biasInit: () => bias.data } : {}) };
    push(c, spatial === 2 ? new Conv2D([k[0]!, k[1]!], inp, out, { ...opts, stride: [s[0]!, s[1]!], padding: [p[0]!, p[1]!] }) : new Conv1D(k[0]!, inp, out, s[0]!, opts));
  },
  MaxPool: (c, node) => pool(c, node, 'MaxPool'),
  AveragePool: (c, node) => pool(c, node, 'AveragePool'),
  Transpose: (c, node) => {
    const r = c.shape.length + 1;
    const perm = (c.attr('perm', []) as number[]).join();
    if (r >= 3) decide(c, perm === toFirst(r).join() ? 'last' : 'first');
    if (r >= 3 && c.layout === 'last' && perm === toFirst(r).join()) c.layout = 'first';
    else if (r >= 3 && c.layout === 'first' && perm === toLast(r).join()) c.layout = 'last';
    else throw unsupported(node, 'only the layout changes between channels-last and channels-first');
  },
  Pad: (c, node) => {
    const r = c.shape.length + 1;
    const pads = Array.from(c.constant(node.input[1], 'pads').data);
    const value = node.input[2] ? c.constant(node.input[2], 'constant_value').data[0] : 0;
    const mode = node.attribute?.find((a) => a.name === 'mode')?.s;
    if ((mode && new TextDecoder().decode(mode) !== 'constant') || value !== 0 || node.input[3]) throw unsupported(node, 'only zeros added on every axis');
    if (pads.every((v) => v === 0)) return;
    decide(c, 'first');
    const [begin, end] = [pads.slice(0, r), pads.slice(r)];
    const ok = pads.length === 2 * r && c.layout === 'first' && begin.every((v, i) => v === end[i] && v >= 0 && (i > 1 || v === 0));
    if (!ok) throw unsupported(node, 'only the same zeros at both ends of the spatial axes of a channels-first value');
    c.padded = begin.slice(2);
  },
  Identity: () => {},
  Dropout: (c, node) => {
    // the inference form: the identity (a Dropout module, p from the ratio input, ONNX's default 0.5)
    const ratio = node.input[1] ? c.constant(node.input[1], 'ratio').data : [0.5];
    if (node.input[2]) throw unsupported(node, 'a training_mode input (the inference form only)');
    if (ratio.length !== 1) throw unsupported(node, 'ratio must be one value');
    push(c, new Dropout(decimal(ratio[0]!)));
  },
  BatchNormalization: (c, node) => {
    // the eval form: y = γ·(x − mean)/√(var + ε) + β over the channels (axis 1)
    const r = c.shape.length + 1;
    if (r >= 3) decide(c, 'first');
    if (c.attr('training_mode', 0) !== 0 || node.output.slice(1).some(Boolean)) throw unsupported(node, 'training mode (only the inference form, with running statistics)');
    if (r > 4 || (r >= 3 && c.layout !== 'first')) throw unsupported(node, 'needs [batch, C], [batch, C, L] or [batch, C, H, W]');
    const n = c.shape.at(-1)!;
    const [weight, bias, mean, variance] = ['scale', 'B', 'input_mean', 'input_var'].map((what, i) => norm(c, node, i + 1, what, n));
    const count = /^num_batches_tracked (\d{1,15})$/.exec(node.docString ?? '')?.[1]; // toOnnx's, else 0
    const bn = new (r === 4 ? BatchNorm2d : BatchNorm1d)(n, { eps: c.attr('epsilon', 1e-5) as number, momentum: +(1 - (c.attr('momentum', 0.9) as number)).toPrecision(12), backend: c.backend });
    bn.loadStateDict({ weight: weight!, bias: bias!, running_mean: mean!, running_var: variance!, num_batches_tracked: { shape: [], data: [Number(count ?? 0)] } });
    push(c, bn);
  },
  LayerNormalization: (c, node) => {
    const r = c.shape.length + 1;
    const axis = c.attr('axis', -1) as number;
    if (r >= 3) decide(c, 'last');
    if ((axis !== -1 && axis !== r - 1) || c.layout !== 'last' || node.output.slice(1).some(Boolean)) throw unsupported(node, 'only over the channels (the last axis in neurone), one output');
    const n = c.shape.at(-1)!;
    const ln = new LayerNorm(n, { eps: c.attr('epsilon', 1e-5) as number, backend: c.backend });
    ln.loadStateDict({ weight: norm(c, node, 1, 'Scale', n), bias: node.input[2] ? norm(c, node, 2, 'B', n) : { shape: [n], data: new Float64Array(n) } });
    push(c, ln);
  },
};

/** Input i of a normalisation node: one value per feature (re-ordered after a Flatten of a channels-first value). */
function norm(c: Chain, node: NodeMsg, i: number, what: string, n: number): Host {
  const v = c.constant(node.input[i], what);
  if (v.data.length !== n) throw unsupported(node, `its ${what} must hold one value per feature (${n}), it has ${v.data.length}`);
  return { shape: [n], data: features(c, v) };
}

/** The shortest decimal that a float32 value was written from (0.2, not 0.200000003): ONNX's float attributes are float32. */
function decimal(v: number): number {
  for (let p = 1; p < 10; p++) if (Math.fround(Number(v.toPrecision(p))) === v) return Number(v.toPrecision(p));
  return v;
}

/** A Flatten of every axis but the batch: of a channels-first value, the next Gemm/MatMul re-orders its columns. */
function flatten(c: Chain): void {
  decide(c, 'last');
  if (c.layout === 'first' && c.shape.length > 1) c.flattened = c.shape;
  c.layout = 'last';
  push(c, new Flatten());
}

function softmax(c: Chain, node: NodeMsg, m: Module): void {
  const r = c.shape.length + 1;
  const axis = c.attr('axis', -1) as number;
  const a = axis < 0 ? axis + r : axis;
  if (r >= 3) decide(c, a === 1 ? 'first' : 'last');
  if (!(r < 3 || c.layout === 'last' ? a === r - 1 : a === 1)) throw unsupported(node, 'only over the channels (the last axis in neurone)');
  push(c, m);
}

function pool(c: Chain, node: NodeMsg, op: 'MaxPool' | 'AveragePool'): void {
  if (node.output.length > 1 && node.output[1]) throw unsupported(node, 'the indices output');
  if (c.attr('storage_order', 0) !== 0) throw unsupported(node, 'storage_order 1');
  const spatial = c.shape.length - 1;
  if (spatial !== 1 && spatial !== 2) throw unsupported(node, 'only 1-D and 2-D pools');
  const { k, s, p } = window(c, node, spatial);
  if (op === 'AveragePool' && p.some((v) => v > 0) && c.attr('count_include_pad', 0) !== 1) throw unsupported(node, 'padding left out of the average (count_include_pad 0)');
  const [P1, P2] = pools[op];
  push(c, spatial === 2 ? new P2([k[0]!, k[1]!], [s[0]!, s[1]!], [p[0]!, p[1]!]) : new P1(k[0]!, s[0]!));
}

const ELEMENTWISE: Record<string, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: (a, b) => a ** b, Erf: erf, Tanh: Math.tanh };
const PROBES = [-3, -1.7, -0.6, -0.1, 0, 0.3, 0.9, 1.4, 2.6];
/** The element-wise formulas that exporters write as several nodes (PyTorch's GELU at opset < 20), and their modules. */
const FORMULAS: [(x: number) => number, () => Module][] = [
  [(x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), () => new GELU()],
  [(x) => 0.5 * x * (1 + Math.tanh(GELU_TANH.c * (x + GELU_TANH.k * x ** 3))), () => new GELU({ approximate: 'tanh' })],
];

/**
 * A run of element-wise nodes from chain[i] on `value` (scalar constants beside it) that computes a
 * known formula of it, found by evaluating the run on probe values: the module and the run's last index.
 */
function elementwise(chain: NodeMsg[], i: number, value: string, c: Chain): { module: Module; end: number } | null {
  const vals = new Map([[value, PROBES]]);
  for (let j = i; j < Math.min(chain.length, i + 12); j++) {
    const n = chain[j]!;
    const f = ELEMENTWISE[n.opType];
    if (!f || n.domain || !n.output[0]) return null;
    const args = n.input.map((name) => {
      const k = c.known(name);
      return vals.get(name) ?? (k?.data.length === 1 ? PROBES.map(() => k.data[0]!) : null);
    });
    if (args.some((a) => !a) || args.length < (f.length === 2 ? 2 : 1)) return null;
    const out = PROBES.map((_, k) => f(args[0]![k]!, args[1]?.[k] ?? 0));
    vals.set(n.output[0], out);
    const hit = FORMULAS.find(([g]) => PROBES.every((x, k) => Math.abs(g(x) - out[k]!) <= 1e-6 * (1 + Math.abs(out[k]!))));
    if (hit && j > i) return { module: hit[1](), end: j };
  }
  return null;
}

/**
 * LayerNorm as its formula (torch.onnx.export before opset 17, and toOnnx): ReduceMean, Sub,
 * Pow 2 (or Mul by itself), ReduceMean, Add ε, Sqrt, Div, then Mul by γ and Add of β: the module
 * and the run's last index, or null when chain[i] does not start it.
 */
function layerNormFormula(chain: NodeMsg[], i: number, value: string, c: Chain): { module: Module; end: number } | null {
  const n = chain.slice(i, i + 9);
  const out = (k: number): string => n[k]?.output[0] ?? '';
  const is = (k: number, op: string, ...inputs: string[]): boolean => n[k]?.opType === op && !n[k].domain && inputs.every((x, j) => n[k]!.input[j] === x);
  const scalar = (name: string | undefined): number | null => {
    const k = c.known(name);
    return k?.data.length === 1 ? k.data[0]! : null;
  };
  const r = c.shape.length + 1;
  const lastAxis = (k: number): boolean => {
    const a = new Map((n[k]!.attribute ?? []).map((x) => [x.name, x]));
    const axes = (a.get('axes')?.ints ?? []).map(Number);
    return n[k]!.input.length === 1 && axes.length === 1 && (axes[0] === -1 || axes[0] === r - 1) && Number(a.get('keepdims')?.i ?? 1) === 1;
  };
  const eps = (k: number): number | null => (is(k, 'Add') ? (n[k]!.input[0] === out(k - 1) ? scalar(n[k]!.input[1]) : n[k]!.input[1] === out(k - 1) ? scalar(n[k]!.input[0]) : null) : null);
  if (r >= 3) decide(c, 'last');
  if (!(is(0, 'ReduceMean', value) && lastAxis(0) && is(1, 'Sub', value, out(0)) && c.layout === 'last')) return null;
  const square = is(2, 'Mul', out(1), out(1)) || (is(2, 'Pow', out(1)) && scalar(n[2]!.input[1]) === 2);
  const e = eps(4);
  if (!(square && is(3, 'ReduceMean', out(2)) && lastAxis(3) && e !== null && e > 0 && is(5, 'Sqrt', out(4)) && is(6, 'Div', out(1), out(5)))) return null;
  // then γ and β, when they are vectors of the features
  const f = c.shape.at(-1)!;
  const vector = (k: number, op: string): Host | null => {
    const t = is(k, op) && n[k]!.input.length === 2 && n[k]!.input.includes(out(k - 1)) ? c.known(n[k]!.input.find((x) => x !== out(k - 1))) : null;
    return t && t.data.length === f && t.shape.length === 1 ? { shape: [f], data: features(c, t) } : null;
  };
  let end = 6;
  const weight = vector(7, 'Mul');
  if (weight) end = 7;
  const bias = vector(end + 1, 'Add');
  if (bias) end++;
  const ln = new LayerNorm(f, { eps: decimal(e), backend: c.backend });
  ln.loadStateDict({ weight: weight ?? { shape: [f], data: new Float64Array(f).fill(1) }, bias: bias ?? { shape: [f], data: new Float64Array(f) } });
  return { module: ln, end: i + end };
}

/** The values of an initializer, checked against its dims (DataError otherwise). */
function tensorValues(t: TensorMsg): Host {
  const name = `initializer '${t.name ?? ''}'`;
  const shape = t.dims ?? [];
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new DataError(`fromOnnx: ${name} has invalid dims [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_TENSOR_SIZE) throw new DataError(`fromOnnx: ${name} has ${n} values, more than ${MAX_TENSOR_SIZE}`);
  if (t.dataLocation === 1) throw new DataError(`fromOnnx: ${name} is stored in an external file, which fromOnnx does not read`);
  const width = t.dataType === DataType.FLOAT ? 4 : t.dataType === DataType.DOUBLE || t.dataType === DataType.INT64 ? 8 : 0;
  if (!width) throw new DataError(`fromOnnx: ${name} has data type ${t.dataType ?? 'none'}; FLOAT, DOUBLE or INT64 expected`);
  const raw = t.rawData;
  const list = t.dataType === DataType.FLOAT ? t.floatData : t.dataType === DataType.DOUBLE ? t.doubleData : t.int64Data;
  if (raw?.length ? raw.length !== n * width : (list?.length ?? 0) !== n) {
    throw new DataError(`fromOnnx: ${name} holds ${raw?.length ? `${raw.length} bytes` : `${list?.length ?? 0} values`}, its dims need ${n}${raw?.length ? ` values of ${width} bytes` : ''}`);
  }
  const data = new Float64Array(n);
  if (raw && raw.length) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
    for (let i = 0; i < n; i++) data[i] = width === 4 ? view.getFloat32(i * 4, true) : t.dataType === DataType.DOUBLE ? view.getFloat64(i * 8, true) : Number(view.getBigInt64(i * 8, true));
  } else data.set(list!);
  return { shape, data };
}

/**
 * A neurone `Sequential` (in eval mode) computing an ONNX model made of a chain of the operators
 * neurone has (Gemm, MatMul + Add, Relu, Tanh, Sigmoid, LeakyRelu, Elu, Gelu and GELU's formula,
 * Softmax, LogSoftmax, Flatten, Reshape merging axes, Conv, MaxPool, AveragePool, Pad of zeros,
 * BatchNormalization (inference form), LayerNormalization and its formula, Dropout, Transpose,
 * Identity, Constant), as `torch.onnx.export` writes them or `toOnnx` does. Channels-first graphs (PyTorch's) become channels-last models: the model takes the
 * graph's input with the channels moved last (the same data for one channel, e.g. MNIST) —
 * convolution weights are permuted, the Linear after a Flatten re-ordered, a graph's own
 * layout Transposes folded. An operator with no equivalent is a ValueError naming the first
 * one; a file that is not a well-formed ONNX model (or is larger than `maxBytes`) a DataError.
 */
export function fromOnnx(bytes: Uint8Array, options: FromOnnxOptions = {}): Sequential {
  const { maxBytes = MAX_ONNX_BYTES } = options ?? {};
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`fromOnnx: expected the bytes of an ONNX file (a Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  if (bytes.length > maxBytes) throw new DataError(`fromOnnx: the file has ${bytes.length} bytes, more than maxBytes (${maxBytes})`);
  let model: ModelMsg;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new DataError(`fromOnnx: not a well-formed ONNX model (${e instanceof Error ? e.message : String(e)})`);
  }
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  if (!graph || nodes.length === 0) throw new DataError('fromOnnx: the model has no graph or an empty one');
  if (nodes.length > MAX_NODES) throw new DataError(`fromOnnx: the graph has ${nodes.length} nodes, more than ${MAX_NODES}`);
  if (graph.sparseInitializer?.length) throw new ValueError('fromOnnx: sparse initializers are not supported');
  const opset = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 13) throw new ValueError(`fromOnnx: opset ${opset} is not supported (13 or later; export with opset_version=17)`);
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name));
  if (inputs.length !== 1 || graph.output?.length !== 1) throw new ValueError(`fromOnnx: the graph must have one input and one output, it has ${inputs.length} and ${graph.output?.length ?? 0}`);
  const dims = inputs[0]!.type?.tensorType?.shape?.dim ?? [];
  const sample = dims.slice(1).map((d) => d.dimValue ?? 0);
  if (dims.length < 2 || sample.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new ValueError(`fromOnnx: the input '${inputs[0]!.name}' needs a known shape [batch, ...] with fixed sizes past the batch axis`);
  let node = nodes[0]!;
  const attrs = (): Map<string, AttributeMsg> => new Map((node.attribute ?? []).map((a) => [a.name, a]));
  const c: Chain = {
    backend: resolveBackend(options?.backend),
    modules: [],
    shape: sample,
    layout: dims.length >= 3 ? 'unknown' : 'last',
    flattened: null,
    padded: null,
    constant: (name, what) => {
      const v = c.known(name);
      if (!v) throw unsupported(node, `its ${what} input must be an initializer`);
      return v;
    },
    known: (name) => {
      const t = name === undefined ? undefined : inits.get(name);
      return t ? tensorValues(t) : null;
    },
    attr: (name, dflt) => {
      const a = attrs().get(name);
      if (!a) {
        if (dflt === undefined) throw unsupported(node, `missing attribute ${name}`);
        return dflt;
      }
      if (a.type === AttrType.INT || (a.type === undefined && a.i !== undefined && !a.ints?.length)) return Number(a.i ?? 0);
      if (a.type === AttrType.FLOAT) return decimal(a.f ?? 0);
      if (a.type === AttrType.INTS) return (a.ints ?? []).map(Number);
      throw unsupported(node, `attribute ${name} of type ${a.type ?? 'none'}`);
    },
  };
  // Constants, and Identity copies of initializers (torch.onnx.export writes one per repeated weight), are initializers; the rest is the chain
  const chain: NodeMsg[] = [];
  for (node of nodes) {
    if (node.opType === 'Constant' && !node.domain) {
      const t = node.attribute?.find((a) => a.name === 'value')?.t;
      if (!t || !node.output[0] || node.input.length) throw unsupported(node, 'only a tensor value');
      inits.set(node.output[0], t);
    } else if (node.opType === 'Identity' && !node.domain && node.output[0] && inits.has(node.input[0] ?? '')) inits.set(node.output[0], inits.get(node.input[0]!)!);
    else chain.push(node);
  }
  let value = inputs[0]!.name;
  for (let i = 0; i < chain.length; i++) {
    node = chain[i]!;
    const run = Object.prototype.hasOwnProperty.call(importers, node.opType) && (!node.domain || node.domain === 'ai.onnx') ? importers[node.opType]! : null;
    if (c.padded && node.opType !== 'Conv' && node.opType !== 'AveragePool') throw unsupported(node, 'after a Pad only a Conv or an AveragePool can come');
    const formula = run ? null : node.opType === 'ReduceMean' ? layerNormFormula(chain, i, value, c) : elementwise(chain, i, value, c);
    if (formula) {
      push(c, formula.module);
      [i, value] = [formula.end, chain[formula.end]!.output[0]!];
      continue;
    }
    if (!run) throw new ValueError(`fromOnnx: unsupported operator '${node.domain ? `${node.domain}.` : ''}${node.opType}'${node.name ? ` (node '${node.name}')` : ''}`);
    if (node.input[0] !== value || !node.output[0]) throw new ValueError(`fromOnnx: only a chain of operators is supported; node '${node.name ?? node.opType}' reads '${node.input[0] ?? ''}' where '${value}' comes`);
    if (c.flattened && !AFTER_FLATTEN.has(node.opType)) throw unsupported(node, 'after a Flatten of a channels-first value only a Gemm or MatMul (or an activation, Dropout or normalisation) can come');
    run(c, node);
    value = node.output[0];
  }
  if (value !== graph.output[0]!.name) throw new ValueError(`fromOnnx: the graph's output '${graph.output[0]!.name}' is not the end of its chain of nodes`);
  if (c.padded) throw new ValueError('fromOnnx: the graph ends with a Pad');
  if (c.flattened) throw new ValueError('fromOnnx: the graph ends with a Flatten of a channels-first value (its order differs from neurone\'s)');
  return new Sequential(c.modules).eval();
}
