import { afterAll, describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError } from '@neurone/core';
import type { Module, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { AvgPool1D, AvgPool2D, Conv1D, Conv2D, Flatten, Linear, MaxPool1D, MaxPool2D, ReLU, Sequential, fromTorchConv, torchConvWeight } from '../src/index';
import { expectClose, rand, gradcheckInto } from './helpers';

const be = cpu({ dtype: 'float64' });
const results: Record<string, number> = {};

const check = (name: string, m: Module, x: Tensor): void => gradcheckInto(results, name, m, x);

/** Distinct values 0.05 apart in random order, so that no max-pool window holds a near-tie (finite differences would cross it). */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new RNG(seed).permutation(n);
  return be.tensor(Array.from(perm, (p) => (p - n / 2) * 0.05), shape);
}

afterAll(() => {
  console.log(`gradcheckModule max relative errors, convolutions (float64):\n${Object.entries(results)
    .map(([k, v]) => `  ${k.padEnd(64)} ${v.toExponential(2)}`)
    .join('\n')}`);
});

describe('gradcheck of the convolution and pooling layers (float64, maxRelError ≤ 1e-6)', () => {
  const rng = () => new RNG(5);
  const cases: [string, () => Module, () => Tensor][] = [
    ['Conv1D(3, 1, 2) [1, 7, 1] (one channel, batch of one)', () => new Conv1D(3, 1, 2, 1, { backend: be, rng: rng() }), () => rand(be, [1, 7, 1], 1)],
    ['Conv1D(3, 3, 4, stride 2) [2, 10, 3] (last window does not fit)', () => new Conv1D(3, 3, 4, 2, { backend: be, rng: rng() }), () => rand(be, [2, 10, 3], 2)],
    ['Conv1D(4, 2, 3, stride 3) no bias [3, 12, 2]', () => new Conv1D(4, 2, 3, 3, { backend: be, rng: rng(), bias: false }), () => rand(be, [3, 12, 2], 3)],
    ['Conv2D(3, 1, 2) [1, 5, 5, 1] (one channel, batch of one)', () => new Conv2D(3, 1, 2, { backend: be, rng: rng() }), () => rand(be, [1, 5, 5, 1], 4)],
    ['Conv2D([3, 2], 3, 2, stride [2, 1], padding 1) [2, 6, 5, 3]', () => new Conv2D([3, 2], 3, 2, { stride: [2, 1], padding: 1, backend: be, rng: rng() }), () => rand(be, [2, 6, 5, 3], 5)],
    ['Conv2D(3, 2, 3, stride 2, padding [1, 2]) [1, 7, 6, 2]', () => new Conv2D(3, 2, 3, { stride: 2, padding: [1, 2], backend: be, rng: rng() }), () => rand(be, [1, 7, 6, 2], 6)],
    ['Conv2D(2, 3, 2, stride 3) no bias [2, 8, 8, 3] (windows skip columns)', () => new Conv2D(2, 3, 2, { stride: 3, bias: false, backend: be, rng: rng() }), () => rand(be, [2, 8, 8, 3], 7)],
    ['MaxPool1D(2, 2) [1, 7, 1] (last window does not fit, batch of one)', () => new MaxPool1D(2, 2), () => distinct([1, 7, 1], 8)],
    ['MaxPool1D(3, 2) [2, 9, 3] (overlapping windows)', () => new MaxPool1D(3, 2), () => distinct([2, 9, 3], 9)],
    ['AvgPool1D(2, 2) [1, 7, 1]', () => new AvgPool1D(2, 2), () => rand(be, [1, 7, 1], 10)],
    ['AvgPool1D(3, 2) [2, 9, 3]', () => new AvgPool1D(3, 2), () => rand(be, [2, 9, 3], 11)],
    ['MaxPool2D(2) [1, 5, 5, 1] (last window does not fit)', () => new MaxPool2D(2), () => distinct([1, 5, 5, 1], 12)],
    ['MaxPool2D(3, 2, 1) [2, 6, 7, 3] (overlaps, padding)', () => new MaxPool2D(3, 2, 1), () => distinct([2, 6, 7, 3], 13)],
    ['AvgPool2D(2) [1, 5, 5, 1]', () => new AvgPool2D(2), () => rand(be, [1, 5, 5, 1], 14)],
    ['AvgPool2D([3, 2], [2, 1], [1, 1]) [2, 6, 5, 3] (padding counted)', () => new AvgPool2D([3, 2], [2, 1], [1, 1]), () => rand(be, [2, 6, 5, 3], 15)],
    [
      'Sequential Conv2D → ReLU → MaxPool2D → Flatten → Linear [2, 8, 8, 2]',
      () => {
        const r = new RNG(9);
        return new Sequential(new Conv2D(3, 2, 4, { padding: 1, backend: be, rng: r }), new ReLU(), new MaxPool2D(2), new Flatten(), new Linear(4 * 4 * 4, 3, { backend: be, rng: r }));
      },
      () => rand(be, [2, 8, 8, 2], 16),
    ],
    [
      "the course's Conv1D net, shortened: Conv1D(3, 1, 4) → MaxPool1D(2, 2) → Flatten → Linear → ReLU → Linear [2, 20, 1]",
      () => {
        const r = new RNG(10);
        return new Sequential(new Conv1D(3, 1, 4, 1, { backend: be, rng: r }), new MaxPool1D(2, 2), new Flatten(), new Linear(9 * 4, 6, { backend: be, rng: r }), new ReLU(), new Linear(6, 3, { backend: be, rng: r }));
      },
      () => rand(be, [2, 20, 1], 17),
    ],
  ];
  for (const [name, make, input] of cases) it(name, () => check(name, make(), input()));
});

/** Direct convolution in PyTorch's layout: x channels-last, w [out, in, kh, kw]. */
function directConv(x: ArrayLike<number>, [b, h, w, cin]: [number, number, number, number], wt: ArrayLike<number>, cout: number, kh: number, kw: number, s: [number, number], p: [number, number], bias: ArrayLike<number>): { out: Float64Array; shape: number[] } {
  const oh = Math.floor((h + 2 * p[0] - kh) / s[0]) + 1;
  const ow = Math.floor((w + 2 * p[1] - kw) / s[1]) + 1;
  const out = new Float64Array(b * oh * ow * cout);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < cout; o++) {
          let acc = bias[o]!;
          for (let c = 0; c < cin; c++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const y = oy * s[0] - p[0] + ky;
                const xx = ox * s[1] - p[1] + kx;
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                acc += wt[((o * cin + c) * kh + ky) * kw + kx]! * x[((n * h + y) * w + xx) * cin + c]!;
              }
          out[((n * oh + oy) * ow + ox) * cout + o] = acc;
        }
  return { out, shape: [b, oh, ow, cout] };
}

describe('values and PyTorch layout', () => {
  it('Conv2D with weights loaded from a PyTorch Conv2d state dict equals a direct convolution in PyTorch layout', () => {
    const r = new RNG(21);
    const [cout, cin, kh, kw] = [3, 2, 3, 2];
    const wt = r.uniformArray(cout * cin * kh * kw, -1, 1);
    const bias = r.uniformArray(cout, -1, 1);
    const conv = new Conv2D([kh, kw], cin, cout, { stride: [2, 1], padding: [1, 0], backend: be });
    conv.loadStateDict(fromTorchConv({ weight: { shape: [cout, cin, kh, kw], data: wt }, bias: { shape: [cout], data: bias } }));
    const xs: [number, number, number, number] = [2, 7, 5, cin];
    const xv = r.uniformArray(2 * 7 * 5 * cin, -1, 1);
    const ref = directConv(xv, xs, wt, cout, kh, kw, [2, 1], [1, 0], bias);
    const y = conv.forward(be.tensor(xv, xs));
    expect(y.shape).toEqual(ref.shape);
    expectClose(y.dataSync(), ref.out, 1e-12);
  });

  it('Conv1D with a PyTorch Conv1d weight [out, in, k] equals the direct 1-D convolution', () => {
    const r = new RNG(22);
    const [cout, cin, k] = [2, 3, 4];
    const wt = r.uniformArray(cout * cin * k, -1, 1);
    const conv = new Conv1D(k, cin, cout, 2, { backend: be, bias: false });
    conv.loadStateDict({ weight: torchConvWeight({ shape: [cout, cin, k], data: wt }) });
    const xv = r.uniformArray(11 * cin, -1, 1);
    const ref = directConv(xv, [1, 1, 11, cin], wt, cout, 1, k, [1, 2], [0, 0], [0, 0]);
    const y = conv.forward(be.tensor(xv, [1, 11, cin]));
    expect(y.shape).toEqual([1, 4, cout]); // ⌊(11 − 4)/2⌋ + 1
    expectClose(y.dataSync(), ref.out, 1e-12);
  });

  it('fromTorchConv permutes rank-3 and rank-4 weights only, and rejects a size mismatch', () => {
    const d = fromTorchConv({
      '0.weight': { shape: [2, 1, 1, 2], data: [1, 2, 3, 4] },
      '0.bias': { shape: [2], data: [5, 6] },
      '3.weight': { shape: [2, 2], data: [7, 8, 9, 10] },
    });
    expect(d['0.weight']).toEqual({ shape: [1, 2, 1, 2], data: new Float64Array([1, 3, 2, 4]) });
    expect(d['0.bias']).toEqual({ shape: [2], data: [5, 6] });
    expect(d['3.weight']).toEqual({ shape: [2, 2], data: [7, 8, 9, 10] });
    expect(() => torchConvWeight({ shape: [2, 1, 3, 3], data: [1, 2] })).toThrow(/torchConvWeight: weight holds 2 values, its shape needs 18 \(weight: \[2, 1, 3, 3\]\)/);
  });

  it("PyTorch's default initialisation: U(±1/√(k·chanIn)) for weight and bias", () => {
    const c = new Conv2D(3, 4, 64, { backend: be, rng: new RNG(3) });
    const bound = 1 / Math.sqrt(9 * 4);
    const w = Array.from(c.weight.value.dataSync());
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.98 * bound);
    expect(Math.max(...Array.from(c.bias!.value.dataSync(), Math.abs))).toBeLessThanOrEqual(bound);
    const c1 = new Conv1D(5, 2, 200, 1, { backend: be, rng: new RNG(3) });
    const b1 = 1 / Math.sqrt(10);
    expect(Math.max(...Array.from(c1.weight.value.dataSync(), Math.abs))).toBeGreaterThan(0.98 * b1);
    expect(Math.max(...Array.from(c1.weight.value.dataSync(), Math.abs))).toBeLessThanOrEqual(b1);
    expect(c1.weight.shape).toEqual([5, 2, 200]);
    expect(c.weight.shape).toEqual([3, 3, 4, 64]);
  });

  it('pools: max and average literal values, default stride = kernel', () => {
    const x = be.tensor([1, 5, 2, 0, 3, 4, 6, 6, 7, 1, 0, 2, 1, 1, 9, 8], [1, 4, 4, 1]);
    expect(Array.from(new MaxPool2D(2).forward(x).dataSync())).toEqual([5, 6, 7, 9]);
    expect(Array.from(new AvgPool2D(2).forward(x).dataSync())).toEqual([13 / 4, 14 / 4, 10 / 4, 19 / 4]);
    const s = be.tensor([1, 3, 2, 2, 5, 4, 0], [1, 7, 1]);
    expect(Array.from(new MaxPool1D(2).forward(s).dataSync())).toEqual([3, 2, 5]);
    expect(Array.from(new AvgPool1D(3, 2).forward(s).dataSync())).toEqual([2, 3, 3]);
    // ties: the gradient goes to the first maximum
    expect(Array.from(new MaxPool1D(2).backwardDelta(be.tensor([4, 4, 1, 1], [1, 4, 1]), be.tensor([10, 20], [1, 2, 1])).dataSync())).toEqual([10, 0, 20, 0]);
  });

  it('Flatten handles [batch, …] of any rank', () => {
    const f = new Flatten();
    for (const shape of [[3], [3, 4], [3, 2, 2], [2, 3, 2, 2], [2, 1, 3, 1, 2]]) {
      const x = rand(be, shape, 1);
      const y = f.forward(x);
      expect(y.shape).toEqual([shape[0], shape.slice(1).reduce((a, b) => a * b, 1)]);
      expect(f.backwardDelta(x, y).shape).toEqual(shape);
    }
  });
});

describe('bad input: typed errors naming the layer and the shapes', () => {
  it('a kernel longer than the input', () => {
    expect(() => new Conv1D(5, 1, 2, 1, { backend: be }).forward(be.zeros([2, 4, 1]))).toThrow(ShapeError);
    expect(() => new Conv1D(5, 1, 2, 1, { backend: be }).forward(be.zeros([2, 4, 1]))).toThrow(/Conv1D\(5, 1, 2, stride 1\)\.forward: the kernel \(5\) is longer than the input \(4\) \(input: \[2, 4, 1\], weight: \[5, 1, 2\]\)/);
    expect(() => new Conv2D(3, 1, 2, { backend: be }).forward(be.zeros([1, 2, 5, 1]))).toThrow(/Conv2D\(3×3, 1, 2\)\.forward: the kernel 3×3 is larger than the input 2×5 with padding 0×0 \(input: \[1, 2, 5, 1\]/);
    expect(() => new MaxPool1D(3).forward(be.zeros([1, 2, 4]))).toThrow(/MaxPool1D\(3, 3\)\.forward: the kernel \(3\) is longer than the input \(2\) \(input: \[1, 2, 4\]\)/);
    expect(() => new AvgPool2D(4).forward(be.zeros([1, 3, 8, 1]))).toThrow(/AvgPool2D\(4×4, stride 4×4\)\.forward: the kernel 4×4 is larger than the input 3×8/);
  });
  it('a wrong channel count or rank', () => {
    expect(() => new Conv1D(3, 2, 4, 1, { backend: be }).forward(be.zeros([2, 9, 3]))).toThrow(/Conv1D\(3, 2, 4, stride 1\)\.forward: expects an input of shape \[batch, length, 2\] \(input: \[2, 9, 3\], weight: \[3, 2, 4\]\)/);
    expect(() => new Conv2D(3, 3, 4, { backend: be }).forward(be.zeros([2, 9, 9, 1]))).toThrow(/Conv2D\(3×3, 3, 4\)\.forward: expects an input of shape \[batch, height, width, 3\] \(input: \[2, 9, 9, 1\], weight: \[3, 3, 3, 4\]\)/);
    expect(() => new Conv2D(3, 1, 4, { backend: be }).forward(be.zeros([9, 9, 1]))).toThrow(ShapeError);
    expect(() => new MaxPool2D(2).forward(be.zeros([4, 4, 1]))).toThrow(/MaxPool2D\(2×2, stride 2×2\)\.forward: expects an input of shape \[batch, height, width, channels\] \(input: \[4, 4, 1\]\)/);
    const c = new Conv2D(3, 1, 2, { backend: be });
    expect(() => c.backwardDelta(be.zeros([1, 5, 5, 1]), be.zeros([1, 3, 3, 3]))).toThrow(/Conv2D\(3×3, 1, 2\)\.backwardDelta: expects a delta of the output's shape \[1, 3, 3, 2\] \(input: \[1, 5, 5, 1\], delta: \[1, 3, 3, 3\]\)/);
    expect(() => new MaxPool1D(2).backwardDelta(be.zeros([1, 6, 2]), be.zeros([1, 2, 2]))).toThrow(/MaxPool1D\(2, 2\)\.backwardDelta: expects a delta of the output's shape \[1, 3, 2\]/);
  });
  it('a non-positive stride, a negative padding, a bad kernel', () => {
    expect(() => new Conv1D(3, 1, 2, 0)).toThrow(ValueError);
    expect(() => new Conv1D(3, 1, 2, 0)).toThrow(/Conv1D: stride must be a positive integer, got 0/);
    expect(() => new Conv2D(3, 1, 2, { stride: [1, -2] })).toThrow(/Conv2D: stride must be a positive integer or a pair of them, got \[1, -2\]/);
    expect(() => new Conv2D(3, 1, 2, { padding: -1 })).toThrow(/Conv2D: padding must be a non-negative integer, got -1/);
    expect(() => new Conv2D(0, 1, 2)).toThrow(/Conv2D: kernel must be a positive integer/);
    expect(() => new Conv1D(3, 1.5, 2)).toThrow(/Conv1D: chanIn must be a positive integer, got 1.5/);
    expect(() => new MaxPool1D(2, 0)).toThrow(/MaxPool1D: stride must be a positive integer, got 0/);
    expect(() => new AvgPool2D(2, [2, 0])).toThrow(/AvgPool2D: stride must be a positive integer or a pair of them, got \[2, 0\]/);
    expect(() => new MaxPool2D(2, 2, -1)).toThrow(/MaxPool2D: padding must be a non-negative integer, got -1/);
    expect(() => new MaxPool2D(2, 2, 2)).toThrow(/MaxPool2D: padding 2×2 must be at most half the kernel 2×2/);
  });
});

describe('the patches cached by Conv in training mode', () => {
  it('give the same gradients as recomputed patches, and nothing leaks across steps, eval() or dispose()', () => {
    const B = cpu({ dtype: 'float64' });
    const conv = new Conv2D(3, 2, 3, { stride: 2, padding: 1, backend: B, rng: new RNG(4) });
    const x = rand(B, [2, 7, 6, 2], 30);
    const d = rand(B, [2, 4, 3, 3], 31);
    conv.forward(x).dispose(); // caches the patches of x
    conv.backwardUpdateGradient(x, d);
    const cached = Array.from(conv.weight.grad!.dataSync());
    conv.zeroGrad();
    const other = rand(B, [2, 7, 6, 2], 32);
    conv.forward(other).dispose(); // the cache now holds another input's patches
    conv.backwardUpdateGradient(x, d); // recomputed
    expectClose(conv.weight.grad!.dataSync(), cached, 0);
    conv.zeroGrad();
    const before = B.memory().tensors;
    for (let i = 0; i < 5; i++) {
      conv.forward(x).dispose();
      conv.backwardUpdateGradient(x, d);
      conv.zeroGrad();
    }
    expect(B.memory().tensors).toBe(before);
    conv.eval();
    expect(B.memory().tensors).toBe(before - 1); // the cached patches are gone
    conv.forward(x).dispose();
    expect(B.memory().tensors).toBe(before - 1); // eval() caches nothing
    conv.train();
    conv.forward(x).dispose();
    conv.dispose();
    [x, d, other].forEach((t) => t.dispose());
    expect(B.memory().tensors).toBe(0);
  });
});
