import { DataError, MAX_TENSOR_SIZE, ValueError, resolveBackend } from '@neurone/core';
import type { Backend, Module } from '@neurone/core';
import { AvgPool1D, AvgPool2D, Conv1D, Conv2D, Flatten, Linear, LogSoftmax, MaxPool1D, MaxPool2D, ReLU, Sequential, Sigmoid, Softmax, TanH, flattenedWeight, permuteAxes, torchConvWeight, traceModules } from '@neurone/layers';
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
  Dropout: () => {}, // the inference form is the identity
};

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
 * A neurone `Sequential` computing an ONNX model made of a chain of the operators neurone has
 * (Gemm, MatMul + Add, Relu, Tanh, Sigmoid, Softmax, LogSoftmax, Flatten, Reshape merging axes,
 * Conv, MaxPool, AveragePool, Pad of zeros, Transpose, Identity, Dropout, Constant), as `torch.onnx.export` writes them or `toOnnx`
 * does. Channels-first graphs (PyTorch's) become channels-last models: the model takes the
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
      const t = name === undefined ? undefined : inits.get(name);
      if (!t) throw unsupported(node, `its ${what} input must be an initializer`);
      return tensorValues(t);
    },
    attr: (name, dflt) => {
      const a = attrs().get(name);
      if (!a) {
        if (dflt === undefined) throw unsupported(node, `missing attribute ${name}`);
        return dflt;
      }
      if (a.type === AttrType.INT || (a.type === undefined && a.i !== undefined && !a.ints?.length)) return Number(a.i ?? 0);
      if (a.type === AttrType.FLOAT) return a.f ?? 0;
      if (a.type === AttrType.INTS) return (a.ints ?? []).map(Number);
      throw unsupported(node, `attribute ${name} of type ${a.type ?? 'none'}`);
    },
  };
  let value = inputs[0]!.name;
  for (node of nodes) {
    if (node.opType === 'Constant' && !node.domain && node.input.length === 0) {
      const t = node.attribute?.find((a) => a.name === 'value')?.t;
      if (!t || !node.output[0]) throw unsupported(node, 'only a tensor value');
      inits.set(node.output[0], t);
      continue;
    }
    const run = Object.prototype.hasOwnProperty.call(importers, node.opType) && (!node.domain || node.domain === 'ai.onnx') ? importers[node.opType]! : null;
    if (!run) throw new ValueError(`fromOnnx: unsupported operator '${node.domain ? `${node.domain}.` : ''}${node.opType}'${node.name ? ` (node '${node.name}')` : ''}`);
    if (node.input[0] !== value || !node.output[0]) throw new ValueError(`fromOnnx: only a chain of operators is supported; node '${node.name ?? node.opType}' reads '${node.input[0] ?? ''}' where '${value}' comes`);
    if (c.flattened && !['Gemm', 'MatMul', 'Relu', 'Tanh', 'Sigmoid', 'Identity', 'Dropout'].includes(node.opType)) throw unsupported(node, 'after a Flatten of a channels-first value only a Gemm or MatMul (or an activation) can come');
    if (c.padded && node.opType !== 'Conv' && node.opType !== 'AveragePool') throw unsupported(node, 'after a Pad only a Conv or an AveragePool can come');
    run(c, node);
    value = node.output[0];
  }
  if (value !== graph.output[0]!.name) throw new ValueError(`fromOnnx: the graph's output '${graph.output[0]!.name}' is not the end of its chain of nodes`);
  if (c.padded) throw new ValueError('fromOnnx: the graph ends with a Pad');
  if (c.flattened) throw new ValueError('fromOnnx: the graph ends with a Flatten of a channels-first value (its order differs from neurone\'s)');
  return new Sequential(c.modules);
}
