import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { AvgPool2D, BatchNorm1d, BatchNorm2d, Conv2D, Dropout, ELU, Flatten, GELU, LayerNorm, LeakyReLU, Linear, LogSoftmax, MaxPool2D, ReLU, Sequential, TanH, fromTorch, permuteAxes, toTorch } from '@neurone/layers';
import { fromOnnx } from '../src/index';
import { cases, fixture, maxAbsDiff, runNeurone } from './helpers';

// fixtures/make_fixtures.py: PyTorch models exported by torch.onnx.export (opset 17), inputs in
// PyTorch's layout and PyTorch's outputs
const backend = cpu({ dtype: 'float32' });
const data = cases();
/** PyTorch's [n, C, ...spatial] input as neurone's [n, ...spatial, C]. */
const channelsLast = (x: { shape: readonly number[]; data: ArrayLike<number> }) => (x.shape.length < 3 ? { shape: [...x.shape], data: x.data } : permuteAxes(x, [0, ...x.shape.slice(2).map((_, i) => i + 2), 1]));

describe('fromOnnx on torch.onnx.export files', () => {
  for (const [name, ops] of [
    ['mlp', 'Gemm, Tanh, Sigmoid, Relu, Softmax'],
    ['cnn', 'Conv (padded), Relu, MaxPool, Tanh, Pad + AveragePool, Flatten → Gemm, LogSoftmax'],
    ['cnn1d', 'Conv1d with stride, Sigmoid, MaxPool1d, Flatten of 3 channels → Gemm'],
    ['acts', 'LeakyRelu, Elu, and GELU (erf and tanh) written as element-wise nodes'],
    ['norms', 'Conv with a BatchNorm2d folded in, LeakyRelu, Elu, BatchNormalization 2-D and 1-D, Flatten → LayerNormalization → Gemm, both GELU formulas'],
  ] as const) {
    it(`${name} (${ops}) agrees with PyTorch to 1e-5`, async () => {
      const model = fromOnnx(fixture(`${name}.onnx`), { backend });
      const x = channelsLast(data[`${name}.x`]!);
      const y = await runNeurone(model, backend, x.data, x.shape);
      const want = data[`${name}.y`]!;
      const d = maxAbsDiff(y, want.data);
      console.log(`${name}: max |neurone − PyTorch| = ${d.toExponential(2)} over ${want.data.length} outputs`);
      expect(d).toBeLessThanOrEqual(1e-5);
    });
  }
});

describe('fromTorch: a PyTorch CNN state_dict (safetensors) onto the channels-last model', () => {
  const build = () =>
    new Sequential([new Conv2D(3, 1, 4, { backend, padding: 1 }), new ReLU(), new MaxPool2D(2), new Conv2D(3, 4, 8, { backend }), new TanH(), new AvgPool2D(2), new Flatten(), new Linear(8 * 6 * 6, 10, { backend }), new LogSoftmax()]);
  const state = decodeSafetensors(fixture('cnn.safetensors'));

  it('agrees with PyTorch to 1e-5 (the Flatten → Linear columns permuted)', async () => {
    const model = build();
    model.loadStateDict(fromTorch(model, state, { inputShape: [28, 28, 1] }));
    const x = channelsLast(data['cnn.x']!);
    const d = maxAbsDiff(await runNeurone(model, backend, x.data, x.shape), data['cnn.y']!.data);
    console.log(`fromTorch cnn: max |neurone − PyTorch| = ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-5);
    // without the mapping of the Linear (fromTorchConv alone) the outputs are wrong: the check can fail
    const naive = build();
    naive.loadStateDict(Object.fromEntries(Object.entries(fromTorch(naive, state, { inputShape: [28, 28, 1] })).map(([k, v]) => [k, k === '7.weight' ? state[k]! : v])));
    expect(maxAbsDiff(await runNeurone(naive, backend, x.data, x.shape), data['cnn.y']!.data)).toBeGreaterThan(1e-2);
  });

  it('toTorch gives the PyTorch state_dict back, bit for bit', () => {
    const model = build();
    const mapped = fromTorch(model, state, { inputShape: [28, 28, 1] }) as Record<string, { shape: number[]; data: ArrayLike<number> }>;
    const back = toTorch(model, mapped, { inputShape: [28, 28, 1] });
    for (const [k, v] of Object.entries(state)) {
      expect(back[k]!.shape).toEqual(v.shape);
      expect(Array.from(back[k]!.data)).toEqual(Array.from(v.data));
    }
    // the model's weights differ in layout from PyTorch's where they must
    expect(mapped['0.weight']!.shape).toEqual([3, 3, 1, 4]);
    expect(Array.from(mapped['7.weight']!.data)).not.toEqual(Array.from(state['7.weight']!.data));
  });
});

describe('fromTorch: a PyTorch CNN with BatchNorm2d, LayerNorm, GELU, LeakyReLU, ELU, Dropout (safetensors, num_batches_tracked as I64)', () => {
  const build = () =>
    new Sequential([
      new Conv2D(3, 1, 4, { backend, padding: 1 }), new BatchNorm2d(4, { backend }), new LeakyReLU(0.1), new MaxPool2D(2),
      new Conv2D(3, 4, 8, { backend }), new ELU(0.7), new BatchNorm2d(8, { backend, momentum: 0.3 }), new MaxPool2D(2),
      new Flatten(), new Dropout(0.3), new LayerNorm(8 * 6 * 6, { backend }), new Linear(8 * 6 * 6, 32, { backend }), new BatchNorm1d(32, { backend }), new GELU(),
      new Linear(32, 16, { backend }), new GELU({ approximate: 'tanh' }), new Linear(16, 10, { backend }),
    ]);
  const state = decodeSafetensors(fixture('norms.safetensors'));

  it('agrees with PyTorch to 1e-5 (the LayerNorm after the Flatten re-ordered too), and toTorch gives the state_dict back bit for bit', async () => {
    const model = build();
    const mapped = fromTorch(model, state, { inputShape: [28, 28, 1] });
    model.loadStateDict(mapped);
    expect(model.stateDict()['6.num_batches_tracked']!.item()).toBe(3);
    const x = channelsLast(data['norms.x']!);
    const d = maxAbsDiff(await runNeurone(model, backend, x.data, x.shape), data['norms.y']!.data);
    console.log(`fromTorch norms: max |neurone − PyTorch| = ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(1e-5);
    const back = toTorch(model, mapped as Record<string, { shape: number[]; data: ArrayLike<number> }>, { inputShape: [28, 28, 1] });
    for (const [k, v] of Object.entries(state)) expect({ shape: back[k]!.shape, data: Array.from(back[k]!.data) }, k).toEqual({ shape: v.shape, data: Array.from(v.data) });
  });
});
