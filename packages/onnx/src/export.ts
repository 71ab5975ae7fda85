import { GELU_TANH, Module, Parameter, ValueError } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { AvgPool1D, AvgPool2D, BatchNorm1d, BatchNorm2d, Conv1D, Conv2D, Dropout, ELU, Flatten, GELU, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool1D, MaxPool2D, ReLU, Sigmoid, Softmax, TanH, toTorchConvWeight, traceModules } from '@neurone/layers';
import type { TracedModule } from '@neurone/layers';
import { AttrType, DataType, encodeModel } from './proto';
import type { AttributeMsg, NodeMsg, TensorMsg } from './proto';
import { OPSETS, toFirst, toLast } from './layout';
import type { Layout } from './layout';

/** Options of `toOnnx`. */
export interface ToOnnxOptions {
  /** One sample's shape, without the batch axis, in neurone's layout (channels-last): [784], [28, 28, 1]. */
  inputShape: readonly number[];
  /** The default-domain opset, 13 to 21 (default 17). */
  opset?: number;
  /** Name of the graph's input (default 'input'). */
  inputName?: string;
  /** Name of the graph's output (default 'output'). */
  outputName?: string;
  /** Element type of the weights and of the input and output (default 'float32'; 'float64' writes DOUBLE, which fewer runtimes run). */
  dtype?: 'float32' | 'float64';
  /** Backend to trace the shapes on when the model has no parameters (default: the parameters', else `getBackend()`). */
  backend?: Backend;
}

/** An attribute: an integer, integers, a float as `{ f }` or a string as `{ s }`. */
type Attr = number | readonly number[] | { f: number } | { s: string };

/** What an exporter writes with: the current value, its layout, and node and initializer factories. */
export class OnnxGraph {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  /** Name of the current value (the previous module's output). */
  value: string;
  /** Layout of the current value when it has channels. */
  layout: Layout = 'last';
  /** Rank of the current value, batch axis included. */
  rank: number;
  readonly #names: Map<Tensor, string>;
  readonly #values: Map<Tensor, ArrayLike<number>>;
  readonly #written = new Map<string, string>();
  readonly #dtype: number;
  /** The opset the graph is written for. */
  readonly opset: number;

  constructor(input: string, rank: number, names: Map<Tensor, string>, values: Map<Tensor, ArrayLike<number>>, dtype: number, opset: number) {
    this.opset = opset;
    this.value = input;
    this.rank = rank;
    this.#names = names;
    this.#values = values;
    this.#dtype = dtype;
  }

  /** Appends a node on `inputs` (default: the current value) and makes its output the current value (returned). */
  op(opType: string, attrs: Record<string, Attr> = {}, inputs: string[] = [this.value]): string {
    const out = `${opType.toLowerCase()}_${this.nodes.length}`;
    const attribute: AttributeMsg[] = Object.entries(attrs).map(([name, v]) =>
      typeof v === 'number' ? { name, type: AttrType.INT, i: v } : 'f' in v ? { name, type: AttrType.FLOAT, f: v.f } : 's' in v ? { name, type: AttrType.STRING, s: new TextEncoder().encode(v.s) } : { name, type: AttrType.INTS, ints: [...v] },
    );
    this.nodes.push({ input: inputs, output: [out], name: `${opType}_${this.nodes.length}`, opType, attribute });
    this.value = out;
    return out;
  }

  /** Transposes the current value to `layout` when it has channels and is in the other one. */
  to(layout: Layout): void {
    if (this.rank < 3 || this.layout === layout) return;
    this.op('Transpose', { perm: layout === 'first' ? toFirst(this.rank) : toLast(this.rank) });
    this.layout = layout;
  }

  /** An initializer of the graph's element type holding `v`: a scalar, or a vector of n copies. */
  scalar(v: number, n?: number): string {
    const name = `const_${this.initializers.length}`;
    const data = new Array<number>(n ?? 1).fill(v);
    this.initializers.push({ name, dims: n === undefined ? [] : [n], dataType: this.#dtype, ...(this.#dtype === DataType.FLOAT ? { floatData: data } : { doubleData: data }) });
    return name;
  }

  /** The host values of a tensor of the model's stateDict() (read before the export). */
  host(t: Tensor): ArrayLike<number> {
    const v = this.#values.get(t);
    if (!v) throw new ValueError(`toOnnx: a tensor of shape [${t.shape.join(', ')}] is not in the model's stateDict()`);
    return v;
  }

  /** An INT64 initializer (a shape) named `name`. */
  constant(name: string, values: readonly number[]): string {
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, int64Data: [...values] });
    return name;
  }

  /**
   * The initializer holding a parameter or buffer of the model (its value in `stateDict()`) under
   * its state-dict name, in PyTorch's layout for a convolution weight (`torch`); written once.
   */
  param(p: Parameter | Tensor, torch = false): string {
    const t = p instanceof Parameter ? p.value : p;
    const name = this.#names.get(t);
    if (name === undefined) throw new ValueError(`toOnnx: a tensor of shape [${t.shape.join(', ')}] is not in the model's stateDict()`);
    const key = `${name}|${torch}`;
    const done = this.#written.get(key);
    if (done) return done;
    const host = { shape: t.shape, data: this.#values.get(t)! };
    const v = torch ? toTorchConvWeight(host, name) : host;
    const n = v.data.length;
    const raw = new Uint8Array(n * (this.#dtype === DataType.FLOAT ? 4 : 8));
    const view = new DataView(raw.buffer);
    for (let i = 0; i < n; i++) {
      if (this.#dtype === DataType.FLOAT) view.setFloat32(i * 4, v.data[i]!, true);
      else view.setFloat64(i * 8, v.data[i]!, true);
    }
    const id = [...this.#written.values()].includes(name) ? `${name}.torch` : name;
    this.initializers.push({ name: id, dims: [...v.shape], dataType: this.#dtype, rawData: raw });
    this.#written.set(key, id);
    return id;
  }
}

/** Writes one module (of a class it is registered for) into the graph; `t` has its input and output shapes. */
export type OnnxExporter = (g: OnnxGraph, module: Module, t: TracedModule) => void;

const act = (opType: string): OnnxExporter => (g) => g.op(opType);
/** GELU: the Gelu operator from opset 20; before it PyTorch's formula in element-wise nodes (as torch.onnx.export writes it). */
const gelu: OnnxExporter = (g, m) => {
  const tanh = (m as GELU).approximate === 'tanh';
  if (g.opset >= 20) return void g.op('Gelu', { approximate: { s: tanh ? 'tanh' : 'none' } });
  const x = g.value;
  const mul = (a: string, b: string) => g.op('Mul', {}, [a, b]);
  // ½x(1 + tanh(c(x + k·x³))) or ½x(1 + erf(x/√2))
  if (tanh) g.op('Tanh', {}, [mul(g.op('Add', {}, [x, mul(mul(mul(x, x), x), g.scalar(GELU_TANH.k))]), g.scalar(GELU_TANH.c))]);
  else g.op('Erf', {}, [g.op('Div', {}, [x, g.scalar(Math.SQRT2)])]);
  mul(mul(x, g.op('Add', {}, [g.value, g.scalar(1)])), g.scalar(0.5));
};
/** BatchNorm (eval form, running statistics): BatchNormalization over the channels (axis 1: channels-first). */
const batchNorm: OnnxExporter = (g, m, t) => {
  const bn = m as BatchNorm1d | BatchNorm2d;
  if (!bn.trackRunningStats) throw new ValueError(`toOnnx: ${bn.constructor.name}${t.name ? ` ('${t.name}')` : ''} has trackRunningStats false: its eval form normalises with each batch's statistics, which ONNX's inference BatchNormalization does not compute`);
  g.to('first');
  const n = bn.numFeatures;
  const [mean, variance] = ['running_mean', 'running_var'].map((b) => g.param(bn.buffer(b)));
  // y = γ·(x − mean)/√(var + ε) + β; ONNX's momentum weighs the running value: 1 − PyTorch's
  g.op('BatchNormalization', { epsilon: { f: bn.eps }, momentum: { f: 1 - bn.momentum } }, [g.value, bn.weight ? g.param(bn.weight) : g.scalar(1, n), bn.bias ? g.param(bn.bias) : g.scalar(0, n), mean!, variance!]);
  // the batch count has no ONNX input: kept in the node's doc string, fromOnnx reads it back
  g.nodes.at(-1)!.docString = `num_batches_tracked ${g.host(bn.buffer('num_batches_tracked'))[0]!}`;
};
/** LayerNorm over the last axis: LayerNormalization from opset 17, before it its formula in nodes. */
const layerNorm: OnnxExporter = (g, m) => {
  const ln = m as LayerNorm;
  g.to('last');
  const scale = ln.weight ? g.param(ln.weight) : g.scalar(1, ln.normalizedShape);
  if (g.opset >= 17) return void g.op('LayerNormalization', { axis: -1, epsilon: { f: ln.eps } }, [g.value, scale, ...(ln.bias ? [g.param(ln.bias)] : [])]);
  // (x − mean)/√(var + ε)·γ + β, mean and (biased) var over the last axis
  const d = g.op('Sub', {}, [g.value, g.op('ReduceMean', { axes: [-1] })]);
  const variance = g.op('ReduceMean', { axes: [-1] }, [g.op('Mul', {}, [d, d])]);
  g.op('Mul', {}, [g.op('Div', {}, [d, g.op('Sqrt', {}, [g.op('Add', {}, [variance, g.scalar(ln.eps)])])]), scale]);
  if (ln.bias) g.op('Add', {}, [g.value, g.param(ln.bias)]);
};
const lastAxis = (opType: string): OnnxExporter => (g) => {
  g.to('last');
  g.op(opType, { axis: -1 });
};
const conv: OnnxExporter = (g, m) => {
  const c = m as Conv1D | Conv2D;
  const two = 'kernel' in c;
  g.to('first');
  const w = g.param(c.weight, true); // [kh, kw, in, out] → [out, in, kh, kw]; [k, in, out] → [out, in, k]
  const inputs = [g.value, w, ...(c.bias ? [g.param(c.bias)] : [])];
  g.op('Conv', two ? { kernel_shape: c.kernel, strides: c.stride, pads: [...c.padding, ...c.padding] } : { kernel_shape: [c.kSize], strides: [c.stride], pads: [0, 0] }, inputs);
};
const pool =
  (opType: 'MaxPool' | 'AveragePool'): OnnxExporter =>
  (g, m) => {
    const p = m as MaxPool1D | MaxPool2D;
    g.to('first');
    const attrs: Record<string, Attr> = 'kernel' in p ? { kernel_shape: p.kernel, strides: p.stride, pads: [...p.padding, ...p.padding] } : { kernel_shape: [p.kSize], strides: [p.stride], pads: [0, 0] };
    g.op(opType, opType === 'AveragePool' ? { ...attrs, count_include_pad: 1 } : attrs);
  };

/**
 * The exporters by module class name: a class not listed here exports as its parent class when
 * it does not define its own `forward` (e.g. `TiedLinear` as `Linear`). Sequential (and the
 * Autoencoder) are walked into, not listed. Add an entry to export a new module (under
 * `MyLayer.name` where a minifier may rename it; the layers' own classes are found by identity).
 */
export const onnxExporters: Record<string, OnnxExporter> = {
  Linear: (g, m) => {
    const l = m as Linear;
    // z = x·Wᵀ + b: Gemm(x, W, b, transB = 1); a tied weight is stored [in, out]: transB = 0
    g.op('Gemm', { transB: l.tied ? 0 : 1 }, [g.value, g.param(l.weight), ...(l.bias ? [g.param(l.bias)] : [])]);
  },
  TanH: act('Tanh'),
  Sigmoid: act('Sigmoid'),
  ReLU: act('Relu'),
  LeakyReLU: (g, m) => g.op('LeakyRelu', { alpha: { f: (m as LeakyReLU).negativeSlope } }),
  ELU: (g, m) => g.op('Elu', { alpha: { f: (m as ELU).alpha } }),
  GELU: gelu,
  // inference form: the identity; the node keeps p for fromOnnx
  Dropout: (g, m) => void g.op('Dropout', {}, [g.value, g.scalar((m as Dropout).p)]),
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  LayerNorm: layerNorm,
  Softmax: lastAxis('Softmax'),
  LogSoftmax: lastAxis('LogSoftmax'),
  Flatten: (g, _m, t) => {
    g.to('last');
    // all but the batch axis: Flatten; other axes (startDim, endDim): Reshape to [batch (0: kept), ...]
    if (t.output.length === 1) g.op('Flatten', { axis: 1 });
    else g.op('Reshape', {}, [g.value, g.constant(`${t.name || 'flatten'}.shape`, [0, ...t.output])]);
  },
  Conv1D: conv,
  Conv2D: conv,
  MaxPool1D: pool('MaxPool'),
  MaxPool2D: pool('MaxPool'),
  AvgPool1D: pool('AveragePool'),
  AvgPool2D: pool('AveragePool'),
};

/** The layers' classes under their names in `onnxExporters`: a minifier renames classes (`Linear.name` may be 'V' in a browser bundle). */
const NAMES = new Map<unknown, string>(Object.entries({ Linear, TanH, Sigmoid, ReLU, LeakyReLU, ELU, GELU, Dropout, BatchNorm1d, BatchNorm2d, LayerNorm, Softmax, LogSoftmax, Flatten, Conv1D, Conv2D, MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D }).map(([n, c]) => [c, n]));

/** The exporter of m's class, or of the nearest parent class when m's class keeps the parent's forward. */
function exporterOf(m: Module): OnnxExporter | undefined {
  const has = Object.prototype.hasOwnProperty;
  for (let p = Object.getPrototypeOf(m) as { constructor: { name: string } } | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as typeof p) {
    const name = NAMES.get(p.constructor) ?? p.constructor.name;
    if (has.call(onnxExporters, name)) return onnxExporters[name];
    if (has.call(p, 'forward')) return undefined;
  }
  return undefined;
}

/**
 * The bytes of an ONNX model computing `model` (inference form: BatchNorm with its running
 * statistics, Dropout the identity, whatever `model.training` is): opset 17 by default, the batch
 * axis dynamic ('batch'), one input and one output named `inputName`/`outputName`, the weights
 * as initializers under their state-dict names. The graph takes and gives neurone's layout
 * (channels-last): it transposes to ONNX's channels-first around convolutions and pools itself.
 * A module without an exporter (see `onnxExporters`) is a ValueError naming it; reads the weights
 * (asynchronously, so any backend works).
 */
export async function toOnnx(model: Module, options: ToOnnxOptions): Promise<Uint8Array> {
  const { inputShape, opset = 17, inputName = 'input', outputName = 'output', dtype = 'float32' } = options ?? ({} as ToOnnxOptions);
  if (!(model instanceof Module)) throw new ValueError(`toOnnx: expected a Module, got ${String(model)}`);
  if (!Number.isInteger(opset) || OPSETS[opset] === undefined) throw new ValueError(`toOnnx: opset must be an integer from 13 to 21, got ${String(opset)}`);
  if (dtype !== 'float32' && dtype !== 'float64') throw new ValueError(`toOnnx: dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  if (!inputName || !outputName || inputName === outputName) throw new ValueError(`toOnnx: inputName and outputName must be two different non-empty names`);
  const traced = traceModules(model, inputShape, options?.backend);
  for (const t of traced) {
    if (!exporterOf(t.module)) throw new ValueError(`toOnnx: ${t.module.constructor.name}${t.name ? ` ('${t.name}')` : ''} has no ONNX exporter; supported: ${Object.keys(onnxExporters).join(', ')}, Sequential`);
  }
  const named = Object.entries(model.stateDict()); // parameters and buffers
  const values = new Map<Tensor, ArrayLike<number>>();
  for (const [, t] of named) values.set(t, await t.data());
  const type = dtype === 'float32' ? DataType.FLOAT : DataType.DOUBLE;
  const g = new OnnxGraph(inputName, inputShape.length + 1, new Map(named.map(([n, t]) => [t, n])), values, type, opset);
  for (const t of traced) {
    exporterOf(t.module)!(g, t.module, t);
    g.rank = t.output.length + 1;
  }
  g.to('last');
  if (g.value === inputName) g.op('Identity');
  g.nodes.at(-1)!.output = [outputName];
  const info = (name: string, shape: readonly number[]) => ({ name, type: { tensorType: { elemType: type, shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] } } } });
  return encodeModel({
    irVersion: OPSETS[opset],
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'neurone',
    graph: { name: model.constructor.name, node: g.nodes, initializer: g.initializers, input: [info(inputName, inputShape)], output: [info(outputName, traced.at(-1)?.output ?? inputShape)] },
  });
}
