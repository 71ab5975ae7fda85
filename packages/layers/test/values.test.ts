import { describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError, manualSeed } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Flatten, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, TanH, Tanh } from '../src/index';
import { expectClose, rand } from './helpers';

const be = cpu({ dtype: 'float64' });

/** Row-major [r, c] matrix as nested loops read it. */
const at = (a: ArrayLike<number>, cols: number, i: number, j: number): number => a[i * cols + j]!;

describe('Linear', () => {
  const [B, IN, OUT] = [3, 4, 2];
  const x = rand(be, [B, IN], 1);
  const delta = rand(be, [B, OUT], 2);
  const lin = new Linear(IN, OUT, { backend: be, rng: new RNG(9) });
  const X = x.dataSync();
  const D = delta.dataSync();
  const W = lin.weight.value.dataSync();
  const b = lin.bias!.value.dataSync();

  it('has weight [out, in] and bias [out]', () => {
    expect(lin.weight.shape).toEqual([OUT, IN]);
    expect(lin.bias!.shape).toEqual([OUT]);
    expect(new Linear(IN, OUT, { backend: be, bias: false }).bias).toBeNull();
  });

  it('forward z_ij = Σ_k x_ik W_jk + b_j', () => {
    const expected: number[] = [];
    for (let i = 0; i < B; i++)
      for (let j = 0; j < OUT; j++) {
        let s = b[j]!;
        for (let k = 0; k < IN; k++) s += at(X, IN, i, k) * at(W, IN, j, k);
        expected.push(s);
      }
    const z = lin.forward(x);
    expect(z.shape).toEqual([B, OUT]);
    expectClose(z.dataSync(), expected);
  });

  it('backwardUpdateGradient: ∂W_jk = Σ_i δ_ij x_ik, ∂b_j = Σ_i δ_ij, and it accumulates', () => {
    const gW: number[] = [];
    for (let j = 0; j < OUT; j++)
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let i = 0; i < B; i++) s += at(D, OUT, i, j) * at(X, IN, i, k);
        gW.push(s);
      }
    const gb = [0, 1].map((j) => [0, 1, 2].reduce((s, i) => s + at(D, OUT, i, j), 0));
    lin.zeroGrad();
    lin.backwardUpdateGradient(x, delta);
    expectClose(lin.weight.grad!.dataSync(), gW);
    expectClose(lin.bias!.grad!.dataSync(), gb);
    lin.backwardUpdateGradient(x, delta);
    expectClose(lin.weight.grad!.dataSync(), gW.map((v) => 2 * v));
    expectClose(lin.bias!.grad!.dataSync(), gb.map((v) => 2 * v));
    lin.zeroGrad();
    expect(lin.weight.grad).toBeNull(); // no gradient after zeroGrad (PyTorch: grad is None)
    expect(lin.weight.hasGrad).toBe(false);
  });

  it('backwardDelta: ∂x_ik = Σ_j δ_ij W_jk', () => {
    const expected: number[] = [];
    for (let i = 0; i < B; i++)
      for (let k = 0; k < IN; k++) {
        let s = 0;
        for (let j = 0; j < OUT; j++) s += at(D, OUT, i, j) * at(W, IN, j, k);
        expected.push(s);
      }
    expectClose(lin.backwardDelta(x, delta).dataSync(), expected);
  });

  it('updateParameters: W ← W − step·∂W', () => {
    const m = new Linear(IN, OUT, { backend: be, rng: new RNG(9) });
    m.backwardUpdateGradient(x, delta);
    const g = m.weight.grad!.dataSync();
    m.updateParameters(0.5);
    expectClose(m.weight.value.dataSync(), Array.from(W, (w, i) => w - 0.5 * g[i]!));
  });

  it('initialises like PyTorch: U(±1/√in), reproducible from a seed', () => {
    const m = new Linear(16, 50, { backend: be, rng: new RNG(1) });
    const bound = 1 / Math.sqrt(16);
    const w = m.weight.value.dataSync();
    const bs = m.bias!.value.dataSync();
    for (const v of [...w, ...bs]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    // the spread fills the interval (not a constant, not a narrower range)
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...w)).toBeLessThan(-0.9 * bound);
    expect([...new Linear(16, 50, { backend: be, rng: new RNG(1) }).weight.value.dataSync()]).toEqual([...w]);
    manualSeed(42);
    const a = new Linear(3, 2, { backend: be }).weight.value.dataSync();
    manualSeed(42);
    expect([...new Linear(3, 2, { backend: be }).weight.value.dataSync()]).toEqual([...a]);
  });

  it('accepts custom initialisers and resetParameters redraws', () => {
    const m = new Linear(2, 3, { backend: be, init: () => Float64Array.from([1, 2, 3, 4, 5, 6]), biasInit: () => new Float64Array(3).fill(-1) });
    expect([...m.weight.value.dataSync()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...m.bias!.value.dataSync()]).toEqual([-1, -1, -1]);
    const r = new Linear(4, 3, { backend: be, rng: new RNG(5) });
    const before = r.weight.value.dataSync();
    r.backwardUpdateGradient(rand(be, [2, 4], 1), rand(be, [2, 3], 2));
    r.resetParameters();
    expect([...r.weight.value.dataSync()]).not.toEqual([...before]);
    expect(r.weight.grad).toBeNull();
  });

  it('rejects inputs that are not [batch, in] with a ShapeError naming Linear(in, out) and the shapes', () => {
    expect(() => lin.forward(be.zeros([4]))).toThrow(ShapeError);
    expect(() => lin.forward(be.zeros([4]))).toThrow(/Linear\(4, 2\).*input: \[4\].*weight: \[2, 4\]/);
    expect(() => lin.forward(be.zeros([3, 5]))).toThrow(/Linear\(4, 2\).*\[3, 5\]/);
    expect(() => lin.forward(be.zeros([2, 2, 4]))).toThrow(/Linear\(4, 2\).*\[2, 2, 4\]/);
    expect(() => lin.backwardDelta(x, be.zeros([3, 3]))).toThrow(/Linear\(4, 2\)\.backwardDelta.*delta: \[3, 3\]/);
    expect(() => lin.backwardUpdateGradient(x, be.zeros([2, 2]))).toThrow(ShapeError);
    expect(() => new Linear(0, 3, { backend: be })).toThrow(/inFeatures/);
    expect(() => new Linear(3, 1.5, { backend: be })).toThrow(/outFeatures/);
  });

  it('prints like PyTorch', () => {
    expect(String(new Linear(784, 256, { backend: be }))).toBe('Linear(in_features=784, out_features=256, bias=true)');
    expect(String(new Linear(3, 1, { backend: be, bias: false }))).toBe('Linear(in_features=3, out_features=1, bias=false)');
  });
});

describe('activations', () => {
  const x = rand(be, [3, 5], 3, -3, 3);
  const delta = rand(be, [3, 5], 4);
  const X = x.dataSync();
  const D = delta.dataSync();
  const sig = (v: number) => 1 / (1 + Math.exp(-v));

  it('Tanh is TanH under PyTorch\'s spelling', () => {
    expect(Tanh).toBe(TanH);
  });

  it('TanH forward tanh(a) and backward δ(1 − tanh²a)', () => {
    const t = new TanH();
    expectClose(t.forward(x).dataSync(), Array.from(X, (v) => (Math.exp(v) - Math.exp(-v)) / (Math.exp(v) + Math.exp(-v))));
    expectClose(t.backwardDelta(x, delta).dataSync(), Array.from(X, (v, i) => D[i]! * (1 - Math.tanh(v) ** 2)));
  });

  it('Sigmoid forward 1/(1+e^−a) and backward δσ(1 − σ)', () => {
    const s = new Sigmoid();
    expectClose(s.forward(x).dataSync(), Array.from(X, sig));
    expectClose(s.backwardDelta(x, delta).dataSync(), Array.from(X, (v, i) => D[i]! * sig(v) * (1 - sig(v))));
  });

  it('ReLU forward max(a, 0) and backward δ[a > 0]', () => {
    const r = new ReLU();
    expectClose(r.forward(x).dataSync(), Array.from(X, (v) => (v > 0 ? v : 0)));
    expectClose(r.backwardDelta(x, delta).dataSync(), Array.from(X, (v, i) => (v > 0 ? D[i]! : 0)));
  });

  const rows = (f: (row: number[], d: number[]) => number[]) => {
    const out: number[] = [];
    for (let i = 0; i < 3; i++) out.push(...f(Array.from(X.subarray(i * 5, i * 5 + 5)), Array.from(D.subarray(i * 5, i * 5 + 5))));
    return out;
  };
  const softmaxRow = (r: number[]) => {
    const e = r.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };

  it('Softmax forward e^x/Σe^x and backward s ⊙ (δ − Σ δ_j s_j), row by row', () => {
    const s = new Softmax();
    expectClose(s.forward(x).dataSync(), rows(softmaxRow));
    const expected = rows((r, d) => {
      const p = softmaxRow(r);
      const dot = p.reduce((a, v, j) => a + v * d[j]!, 0);
      return p.map((v, j) => v * (d[j]! - dot));
    });
    expectClose(s.backwardDelta(x, delta).dataSync(), expected);
  });

  it('LogSoftmax forward x − log Σ e^x and backward δ − softmax·Σδ', () => {
    const l = new LogSoftmax();
    expectClose(l.forward(x).dataSync(), rows((r) => r.map((v) => v - Math.log(r.reduce((a, u) => a + Math.exp(u), 0)))));
    const expected = rows((r, d) => {
      const p = softmaxRow(r);
      const sum = d.reduce((a, b) => a + b, 0);
      return d.map((v, j) => v - p[j]! * sum);
    });
    expectClose(l.backwardDelta(x, delta).dataSync(), expected);
  });

  it('LogSoftmax is stable for large logits', () => {
    const out = new LogSoftmax().forward(be.tensor([1000, 1001, 1002], [1, 3])).dataSync();
    const lse = 2 + Math.log(Math.exp(-2) + Math.exp(-1) + 1);
    expectClose(out, [-lse, 1 - lse, 2 - lse]);
  });

  it('a cached activation output is never stale: backward follows the input it is given', () => {
    for (const M of [TanH, Sigmoid, Softmax]) {
      const m = new M();
      const x2 = rand(be, [3, 5], 99, -3, 3);
      const fresh = new M().backwardDelta(x, delta).dataSync();
      const y1 = m.forward(x);
      m.forward(x2); // the cache now belongs to x2
      expectClose(m.backwardDelta(x, delta).dataSync(), fresh);
      // the cached path (same input, output alive) gives the same values
      m.forward(x);
      expectClose(m.backwardDelta(x, delta).dataSync(), fresh);
      // and after the output was disposed, the recomputed one too
      const y3 = m.forward(x);
      y3.dispose();
      expectClose(m.backwardDelta(x, delta).dataSync(), fresh);
      y1.dispose();
    }
  });

  it('rejects a delta of another shape', () => {
    for (const m of [new TanH(), new Sigmoid(), new ReLU(), new Softmax(), new LogSoftmax()]) {
      expect(() => m.backwardDelta(x, be.zeros([3, 4]))).toThrow(ShapeError);
      expect(() => m.backwardDelta(x, be.zeros([3, 4]))).toThrow(/delta: \[3, 4\]/);
    }
  });

  it('Flatten is [batch, …] → [batch, prod] and back', () => {
    const f = new Flatten();
    const t = rand(be, [2, 3, 4], 5);
    const y = f.forward(t);
    expect(y.shape).toEqual([2, 12]);
    expect([...y.dataSync()]).toEqual([...t.dataSync()]);
    const back = f.backwardDelta(t, y);
    expect(back.shape).toEqual([2, 3, 4]);
    expect(() => f.backwardDelta(t, be.zeros([2, 11]))).toThrow(ShapeError);
  });
});

describe('Sequential basics', () => {
  it('names children 0, 1, … and prints them', () => {
    const m = new Sequential(new Linear(4, 3, { backend: be }), new TanH(), new Linear(3, 2, { backend: be }));
    expect(m.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2']);
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(String(m)).toBe(
      'Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=true)\n  (1): TanH()\n  (2): Linear(in_features=3, out_features=2, bias=true)\n)',
    );
  });

  it('append, length, at and iteration', () => {
    const a = new Linear(2, 2, { backend: be });
    const t = new TanH();
    const m = new Sequential([a]);
    expect(m.length).toBe(1);
    expect(m.append(t)).toBe(m);
    expect(m.length).toBe(2);
    expect(m.at(0)).toBe(a);
    expect(m.at(-1)).toBe(t);
    expect([...m]).toEqual([a, t]);
    expect(() => m.at(2)).toThrow(ValueError);
    expect(() => m.append({} as never)).toThrow(ValueError);
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.bias']);
  });

  it('forward composes the modules', () => {
    const r = new RNG(2);
    const l1 = new Linear(3, 4, { backend: be, rng: r });
    const t = new TanH();
    const l2 = new Linear(4, 2, { backend: be, rng: r });
    const m = new Sequential(l1, t, l2);
    const x = rand(be, [5, 3], 1);
    const expected = l2.forward(t.forward(l1.forward(x))).dataSync();
    expectClose(m.forward(x).dataSync(), expected);
  });

  it('an empty Sequential is the identity (and returns new tensors)', () => {
    const m = new Sequential();
    const x = rand(be, [2, 3], 1);
    const y = m.forward(x);
    expect(y).not.toBe(x);
    expect([...y.dataSync()]).toEqual([...x.dataSync()]);
    const d = m.backward(x);
    expect(d).not.toBe(x);
    expect([...d.dataSync()]).toEqual([...x.dataSync()]);
  });
});
