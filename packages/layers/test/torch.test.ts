import { describe, expect, it } from 'vitest';
import { ShapeError, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { BatchNorm1d, Conv1D, Conv2D, Flatten, LayerNorm, Linear, MaxPool1D, ReLU, Sequential, flattenedWeight, fromTorch, permuteAxes, toTorch, toTorchConvWeight, torchConvWeight, traceModules } from '../src/index';

const backend = cpu({ dtype: 'float64' });
const values = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => (i * 7919 + seed * 31) % 101);

describe('permuteAxes', () => {
  it("is NumPy's transpose", () => {
    // [[1, 2, 3], [4, 5, 6]]ᵀ
    expect(permuteAxes({ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }, [1, 0])).toEqual({ shape: [3, 2], data: Float64Array.from([1, 4, 2, 5, 3, 6]) });
    // a [2, 3, 4] array: out[i, j, k] = in[j, k, i] for perm [2, 0, 1]
    const x = { shape: [2, 3, 4], data: Float64Array.from({ length: 24 }, (_, i) => i) };
    const y = permuteAxes(x, [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) expect(y.data[(i * 2 + j) * 3 + k]).toBe(x.data[(j * 3 + k) * 4 + i]);
    expect(() => permuteAxes(x, [0, 0, 1])).toThrow(ValueError);
    expect(() => permuteAxes({ shape: [2, 2], data: [1] }, [1, 0], 'w')).toThrow(/permuteAxes: w holds 1 values, its shape needs 4 \(w: \[2, 2\]\)/);
  });

  it('toTorchConvWeight undoes torchConvWeight', () => {
    for (const shape of [[4, 3, 2, 5], [4, 3, 5]]) {
      const w = { shape, data: values(shape.reduce((a, b) => a * b, 1), 3) };
      expect(toTorchConvWeight(torchConvWeight(w))).toEqual({ shape, data: w.data });
    }
    expect(() => toTorchConvWeight({ shape: [2, 2], data: [1, 2, 3, 4] })).toThrow(ShapeError);
  });

  it('flattenedWeight re-orders the columns (c, h, w) ↔ (h, w, c), and back', () => {
    // one output, features C=2 × H=1 × W=2: PyTorch's columns c0w0 c0w1 c1w0 c1w1 → ours w0c0 w0c1 w1c0 w1c1
    expect(Array.from(flattenedWeight({ shape: [1, 4], data: [1, 2, 3, 4] }, [1, 2, 2], 'neurone').data)).toEqual([1, 3, 2, 4]);
    const w = { shape: [3, 24], data: values(72, 5) };
    expect(flattenedWeight(flattenedWeight(w, [3, 4, 2], 'neurone'), [3, 4, 2], 'torch')).toEqual({ shape: [3, 24], data: w.data });
    expect(() => flattenedWeight(w, [3, 4, 3], 'neurone')).toThrow(/flattenedWeight: weight must be \[out, 3·4·3\]/);
  });
});

describe('traceModules and fromTorch / toTorch', () => {
  const build = () => new Sequential({ features: new Sequential([new Conv1D(3, 2, 4, 1, { backend }), new ReLU(), new MaxPool1D(2)]), head: new Sequential([new Flatten(), new Linear(4 * 4, 3, { backend })]) });

  it('traces the leaves with their shapes, and leaves the model as it was', () => {
    const net = build();
    const t = traceModules(net, [10, 2]);
    expect(t.map((m) => [m.name, m.input, m.output])).toEqual([
      ['features.0', [10, 2], [8, 4]],
      ['features.1', [8, 4], [8, 4]],
      ['features.2', [8, 4], [4, 4]],
      ['head.0', [4, 4], [16]],
      ['head.1', [16], [3]],
    ]);
    expect(net.training).toBe(true);
    expect(() => traceModules(net, [10, 3])).toThrow(ShapeError);
    expect(() => traceModules(net, [-1])).toThrow(ValueError);
  });

  it("a PyTorch Conv1d → ReLU → MaxPool1d → Flatten → Linear computes what the mapped model computes", () => {
    // PyTorch's forward, by hand on channels-first values: the reference the mapping must meet
    const [cin, cout, k, len] = [2, 4, 3, 10];
    const W = values(cout * cin * k, 1).map((v) => v / 100 - 0.5);
    const b = values(cout, 2).map((v) => v / 100);
    const L = values(3 * 16, 3).map((v) => v / 100 - 0.5);
    const lb = values(3, 4).map((v) => v / 100);
    const x = values(len * cin, 6).map((v) => v / 50 - 1); // PyTorch's [1, cin, len]
    const conv = Array.from({ length: cout }, (_, o) => Array.from({ length: len - k + 1 }, (_, t) => {
      let s = b[o]!;
      for (let c = 0; c < cin; c++) for (let j = 0; j < k; j++) s += W[(o * cin + c) * k + j]! * x[c * len + t + j]!;
      return Math.max(0, s);
    }));
    const pooled = conv.flatMap((row) => [0, 1, 2, 3].map((i) => Math.max(row[2 * i]!, row[2 * i + 1]!))); // (c, t) order: PyTorch's Flatten
    const want = [0, 1, 2].map((o) => lb[o]! + pooled.reduce((s, v, i) => s + v * L[o * 16 + i]!, 0));
    const torch = { 'features.0.weight': { shape: [cout, cin, k], data: W }, 'features.0.bias': { shape: [cout], data: b }, 'head.1.weight': { shape: [3, 16], data: L }, 'head.1.bias': { shape: [3], data: lb } };
    const net = build();
    net.loadStateDict(fromTorch(net, torch, { inputShape: [len, cin] }));
    const xLast = permuteAxes({ shape: [1, cin, len], data: x }, [0, 2, 1]);
    const got = Array.from(net.forward(backend.tensor(xLast.data, xLast.shape)).dataSync());
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-12));
    const back = toTorch(net, Object.fromEntries(Object.entries(net.stateDict()).map(([n, t]) => [n, { shape: t.shape, data: t.dataSync() }])), { inputShape: [len, cin] });
    for (const [n, v] of Object.entries(torch)) expect({ shape: back[n]!.shape, data: Array.from(back[n]!.data) }).toEqual({ shape: v.shape, data: Array.from(v.data) });
  });

  it("BatchNorm's buffers travel, and the per-feature vectors of a BatchNorm1d / LayerNorm after a Flatten are re-ordered like the Linear's columns", () => {
    const net = new Sequential([new Conv1D(3, 2, 4, 1, { backend }), new BatchNorm1d(4, { backend }), new Flatten(), new LayerNorm(32, { backend }), new BatchNorm1d(32, { backend }), new Linear(32, 3, { backend }), new BatchNorm1d(3, { backend })]);
    const torch: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [k, t] of Object.entries(net.stateDict())) torch[k] = { shape: k.endsWith('.weight') && t.rank === 3 ? [4, 2, 3] : [...t.shape], data: Array.from(values(t.size, k.length), (v, i) => (k.endsWith('num_batches_tracked') ? 7 : v + i / 1000)) };
    const mapped = fromTorch(net, torch, { inputShape: [10, 2] }) as Record<string, { shape: number[]; data: ArrayLike<number> }>;
    // PyTorch's feature (c, t) is ours (t, c): 8 steps × 4 channels
    const order = Array.from({ length: 32 }, (_, i) => (i % 4) * 8 + Math.floor(i / 4));
    for (const k of ['3.weight', '3.bias', '4.weight', '4.bias', '4.running_mean', '4.running_var']) expect(Array.from(mapped[k]!.data), k).toEqual(order.map((j) => torch[k]!.data[j]));
    expect(Array.from(mapped['5.weight']!.data)).toEqual(Array.from(flattenedWeight(torch['5.weight']!, [8, 4], 'neurone').data));
    for (const k of ['1.running_mean', '1.running_var', '1.num_batches_tracked', '6.weight', '6.running_var']) expect(Array.from(mapped[k]!.data), k).toEqual(torch[k]!.data);
    net.loadStateDict(mapped);
    expect(net.stateDict()['4.num_batches_tracked']!.item()).toBe(7);
    const back = toTorch(net, mapped, { inputShape: [10, 2] });
    for (const [k, v] of Object.entries(torch)) expect({ shape: back[k]!.shape, data: Array.from(back[k]!.data) }, k).toEqual(v);
  });

  it('Linear.tied tells a tied weight', () => {
    const enc = new Linear(3, 2, { backend });
    expect(enc.tied).toBe(false);
    expect(new Linear(2, 3, { backend, tiedTo: enc }).tied).toBe(true);
    expect(traceModules(new Sequential([new Conv2D(1, 1, 1, { backend })]), [2, 2, 1])[0]!.output).toEqual([2, 2, 1]);
  });
});
