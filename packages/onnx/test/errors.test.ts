import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataError, Module, NeuroneError, ShapeError, ValueError } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '@neurone/layers';
import type { Dropout } from '@neurone/layers';
import { fromOnnx, toOnnx } from '../src/index';
import { encodeModel } from '../src/proto';
import type { GraphMsg, NodeMsg, TensorMsg } from '../src/proto';
import { fixture } from './helpers';

const backend = cpu({ dtype: 'float32' });

class Doubler extends Module {
  forward(x: Tensor): Tensor {
    return x.backend.affine(x, 2, 0);
  }
  backwardDelta(_x: Tensor, d: Tensor): Tensor {
    return d.backend.affine(d, 2, 0);
  }
}
class ScaledLinear extends Linear {
  override forward(x: Tensor): Tensor {
    return super.forward(x);
  }
}
class NamedLinear extends Linear {}

describe('toOnnx: typed errors', () => {
  it('an unsupported module is a ValueError naming it and where it sits', async () => {
    await expect(toOnnx(new Sequential([new Linear(2, 2, { backend }), new Doubler()]), { inputShape: [2] })).rejects.toThrow(ValueError);
    await expect(toOnnx(new Sequential([new Linear(2, 2, { backend }), new Doubler()]), { inputShape: [2] })).rejects.toThrow(/toOnnx: Doubler \('1'\) has no ONNX exporter; supported: Linear, TanH/);
    // a subclass with its own forward is not taken for its parent; one without is
    await expect(toOnnx(new ScaledLinear(2, 2, { backend }), { inputShape: [2] })).rejects.toThrow(/ScaledLinear has no ONNX exporter/);
    expect((await toOnnx(new NamedLinear(2, 2, { backend }), { inputShape: [2] })).length).toBeGreaterThan(0);
  });

  it("finds the layers' exporters by class, not by name: a minifier renames classes (a browser bundle)", async () => {
    const renamed = [Linear, ReLU];
    for (const C of renamed) Object.defineProperty(C, 'name', { value: 'V' });
    try {
      const bytes = await toOnnx(new Sequential([new Linear(2, 3, { backend }), new ReLU()]), { inputShape: [2] });
      expect(fromOnnx(bytes, { backend }).length).toBe(2);
    } finally {
      for (const [C, name] of [[Linear, 'Linear'], [ReLU, 'ReLU']] as const) Object.defineProperty(C, 'name', { value: name });
    }
  });

  it('bad options and an input shape the model does not take', async () => {
    const net = new Sequential([new Linear(3, 2, { backend }), new ReLU()]);
    for (const opset of [12, 22, 17.5]) await expect(toOnnx(net, { inputShape: [3], opset })).rejects.toThrow(/toOnnx: opset must be an integer from 13 to 21/);
    await expect(toOnnx(net, { inputShape: [3], dtype: 'int8' as 'float32' })).rejects.toThrow(/dtype must be 'float32' or 'float64'/);
    await expect(toOnnx(net, { inputShape: [3], inputName: 'x', outputName: 'x' })).rejects.toThrow(ValueError);
    await expect(toOnnx(net, { inputShape: [4] })).rejects.toThrow(ShapeError);
    await expect(toOnnx(net, { inputShape: [0] })).rejects.toThrow(/inputShape must be the input's shape without the batch axis/);
    await expect(toOnnx(net, undefined as never)).rejects.toThrow(ValueError);
    await expect(toOnnx({} as never, { inputShape: [3] })).rejects.toThrow(/toOnnx: expected a Module/);
  });
});

const f32 = (name: string, dims: number[], values: number[]): TensorMsg => ({ name, dims, dataType: 1, floatData: values });
const input = (dims: (number | string)[]) => ({ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
function model(node: NodeMsg[], extra: Partial<GraphMsg> = {}, opset = 17): Uint8Array {
  const last = node.at(-1)?.output[0] ?? 'x';
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph: { name: 'g', node, input: [input(['batch', 2])], output: [{ name: last }], ...extra } });
}
const gemm = (out = 'y'): NodeMsg => ({ opType: 'Gemm', input: ['x', 'w', 'b'], output: [out], attribute: [{ name: 'transB', type: 2, i: 1 }] });
const wb = [f32('w', [3, 2], [1, 2, 3, 4, 5, 6]), f32('b', [3], [0, 0, 1])];

describe('fromOnnx: typed errors on files it cannot read', () => {
  it('reads a hand-made Gemm graph (the base the cases below break)', async () => {
    const net = fromOnnx(model([gemm()], { initializer: wb }), { backend });
    const y = net.forward(backend.tensor([1, 1], [1, 2]));
    expect(Array.from(await y.data())).toEqual([3, 7, 12]);
  });

  it('reads MatMul + Add as one Linear, skips Identity, and Dropout is the identity of an eval-mode model', async () => {
    const nodes: NodeMsg[] = [
      { opType: 'Identity', input: ['x'], output: ['i'] },
      { opType: 'MatMul', input: ['i', 'm'], output: ['p'] },
      { opType: 'Add', input: ['p', 'b'], output: ['q'] },
      { opType: 'Dropout', input: ['q'], output: ['d'] },
      { opType: 'Relu', input: ['d'], output: ['y'] },
    ];
    const net = fromOnnx(model(nodes, { initializer: [f32('m', [2, 3], [1, 2, 3, 4, 5, 6]), f32('b', [3], [-10, 0, 1])] }), { backend });
    expect(net.children().map((m) => m.constructor.name)).toEqual(['Linear', 'Dropout', 'ReLU']);
    expect([net.training, (net.at(1) as Dropout).p]).toEqual([false, 0.5]); // ONNX's default ratio
    const y = net.forward(backend.tensor([1, 1], [1, 2]));
    expect(Array.from(await y.data())).toEqual([0, 7, 10]); // relu([1+4−10, 2+5, 3+6+1])
  });

  it('normalisations, Dropout and Gelu forms it has no equivalent for are ValueErrors saying why', () => {
    const v = (name: string, n = 2, x = 1) => f32(name, [n], new Array<number>(n).fill(x));
    const bnInit = { initializer: [...wb, v('s', 3), v('b0', 3, 0), v('m', 3, 0), v('var', 3)] };
    const bn = (extra: Partial<NodeMsg> = {}): NodeMsg => ({ opType: 'BatchNormalization', name: 'bn', input: ['y', 's', 'b0', 'm', 'var'], output: ['z'], ...extra });
    expect(fromOnnx(model([gemm(), bn()], bnInit), { backend }).at(1)!.constructor.name).toBe('BatchNorm1d');
    expect(() => fromOnnx(model([gemm(), bn({ attribute: [{ name: 'training_mode', type: 2, i: 1 }] })], bnInit), { backend })).toThrow(/unsupported operator 'BatchNormalization' \(node 'bn'\): training mode/);
    expect(() => fromOnnx(model([gemm(), bn({ output: ['z', 'rm', 'rv'] })], bnInit), { backend })).toThrow(/training mode/);
    expect(() => fromOnnx(model([gemm(), bn({ input: ['y', 's', 'b0', 'm', 'short'] })], { initializer: [...bnInit.initializer, v('short', 2)] }), { backend })).toThrow(/its input_var must hold one value per feature \(3\), it has 2/);
    expect(() => fromOnnx(model([gemm(), bn({ input: ['y', 's', 'b0', 'm', 'x'] })], bnInit), { backend })).toThrow(/its input_var input must be an initializer/);
    const ln: NodeMsg = { opType: 'LayerNormalization', input: ['x', 's'], output: ['z'], attribute: [{ name: 'axis', type: 2, i: 0 }] };
    expect(() => fromOnnx(model([ln], { initializer: [v('s')] }), { backend })).toThrow(/'LayerNormalization'.*only over the channels/);
    expect(() => fromOnnx(model([{ opType: 'Dropout', input: ['x', 'r', 't'], output: ['z'] }], { initializer: [f32('r', [], [0.2]), v('t')] }), { backend })).toThrow(/'Dropout'.*a training_mode input/);
    expect(() => fromOnnx(model([{ opType: 'Dropout', input: ['x', 'r'], output: ['z'] }], { initializer: [f32('r', [], [1.5])] }), { backend })).toThrow(/Dropout: p must be a probability/);
    expect(() => fromOnnx(model([{ opType: 'Gelu', input: ['x'], output: ['z'], attribute: [{ name: 'approximate', type: 3, s: new TextEncoder().encode('fast') }] }]), { backend })).toThrow(/'Gelu'.*approximate 'fast'/);
  });

  it('names the first unsupported operator', () => {
    const elu: NodeMsg = { opType: 'Selu', name: 'act', input: ['y'], output: ['z'] };
    expect(() => fromOnnx(model([gemm(), elu, { opType: 'Celu', input: ['z'], output: ['s'] }], { initializer: wb }), { backend })).toThrow(/fromOnnx: unsupported operator 'Selu' \(node 'act'\)/);
    expect(() => fromOnnx(model([{ opType: 'Relu', domain: 'com.microsoft', input: ['x'], output: ['y'] }]), { backend })).toThrow(/unsupported operator 'com.microsoft.Relu'/);
    expect(() => fromOnnx(model([{ ...gemm(), attribute: [{ name: 'alpha', type: 1, f: 2 }] }], { initializer: wb }), { backend })).toThrow(/unsupported operator 'Gemm'.*alpha/);
    expect(() => fromOnnx(model([{ ...gemm(), input: ['x', 'x'] }], { initializer: wb }), { backend })).toThrow(/its B input must be an initializer/);
    expect(() => fromOnnx(model([gemm(), { opType: 'Relu', input: ['x'], output: ['r'] }], { initializer: wb }), { backend })).toThrow(/only a chain of operators/);
    expect(() => fromOnnx(model([{ opType: 'Relu', input: ['x'], output: ['y'] }], {}, 11), { backend })).toThrow(/opset 11 is not supported/);
    const reshape = (shape: number[]) => model([{ opType: 'Reshape', input: ['x', 's'], output: ['y'] }], { initializer: [{ name: 's', dims: [shape.length], dataType: 7, int64Data: shape }] });
    expect(() => fromOnnx(reshape([0, 1, 2]), { backend })).toThrow(/unsupported operator 'Reshape'.*only a merge of neighbouring axes/);
    expect(() => fromOnnx(reshape([2, 1]), { backend })).toThrow(/unsupported operator 'Reshape'.*only a merge of axes after the batch axis/);
    expect(fromOnnx(reshape([-1, 2]), { backend }).length).toBe(1);
  });

  it('malformed or hostile files are DataErrors, the size capped', () => {
    const ok = model([gemm()], { initializer: wb });
    expect(() => fromOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), { backend })).toThrow(DataError);
    expect(() => fromOnnx(ok.subarray(0, ok.length - 7), { backend })).toThrow(/fromOnnx: not a well-formed ONNX model/);
    expect(() => fromOnnx(ok, { backend, maxBytes: 10 })).toThrow(/the file has \d+ bytes, more than maxBytes \(10\)/);
    expect(() => fromOnnx(model([]), { backend })).toThrow(/no graph or an empty one/);
    expect(() => fromOnnx(model([gemm()], { initializer: [f32('w', [3, 2], [1, 2, 3]), wb[1]!] }), { backend })).toThrow(/initializer 'w' holds 3 values, its dims need 6/);
    expect(() => fromOnnx(model([gemm()], { initializer: [{ ...wb[0]!, floatData: [], rawData: new Uint8Array(5) }, wb[1]!] }), { backend })).toThrow(/holds 5 bytes, its dims need 6 values of 4 bytes/);
    expect(() => fromOnnx(model([gemm()], { initializer: [{ ...wb[0]!, dims: [2 ** 40, 2 ** 20] }, wb[1]!] }), { backend })).toThrow(DataError);
    expect(() => fromOnnx(model([gemm()], { initializer: [{ ...wb[0]!, dataLocation: 1 }, wb[1]!] }), { backend })).toThrow(/external file/);
    expect(() => fromOnnx(model([gemm()], { initializer: [{ ...wb[0]!, dataType: 3 }, wb[1]!] }), { backend })).toThrow(/data type 3; FLOAT, DOUBLE or INT64 expected/);
    expect(() => fromOnnx(model([gemm()], { initializer: wb, input: [input(['batch', 'features'])] }), { backend })).toThrow(/needs a known shape/);
    expect(() => fromOnnx('model.onnx' as never, { backend })).toThrow(/expected the bytes of an ONNX file/);
  });

  // The fuzz: random bytes, and PyTorch's files with bytes changed or cut, give a model or a
  // NeuroneError (never a RangeError, a TypeError or a hang)
  const outcome = (bytes: Uint8Array): string => {
    try {
      fromOnnx(bytes, { backend }).dispose();
      return 'model';
    } catch (e) {
      if (!(e instanceof NeuroneError)) throw e;
      return e.name;
    }
  };
  it('fuzz: random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => ['model', 'DataError', 'ValueError', 'ShapeError'].includes(outcome(b))), { numRuns: 500, seed: 20 });
  });
  // the CNN; GELU's formulas and the activations; BatchNorm, LayerNorm, Dropout (graph nodes first, then the weights)
  for (const name of ['cnn.onnx', 'acts.onnx', 'norms.onnx']) {
    it(`fuzz: ${name} with bytes changed or cut`, () => {
      const file = fixture(name);
      const seen = new Set<string>();
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(file.length), (edits, cut) => {
          const b = file.slice(0, Math.max(cut, file.length - 64));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          seen.add(outcome(b));
          return true;
        }),
        { numRuns: 300, seed: 20 },
      );
      console.log(`fuzz ${name}: ${[...seen].join(', ')}`);
      expect(seen.size).toBeGreaterThan(1);
    });
  }
});
