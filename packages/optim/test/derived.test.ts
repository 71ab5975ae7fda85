/**
 * Write forward, get backward (issue 17): the course's layers and losses written as forward-only
 * modules give the hand-written gradients to 1e-12 in float64; forward-only modules work in
 * Sequential, Optim.step, fit, checkpoints and to(); a child with its own backward is one node;
 * 2,000 steps leave memory flat; single-head self-attention passes gradcheckModule and trains.
 */
import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { Module, Parameter, RNG, fromBytes, grad, im2col, manualSeed, noGrad, tidy, toBytes } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { gradcheckModule, randomTensor } from '@neurone/core/testing';
import { Conv2D, Dropout, LogSoftmax, Linear, Sequential, Sigmoid, Softmax, TanH } from '@neurone/layers';
import { BCELoss, CrossEntropyLoss, MSELoss, NLLLoss } from '@neurone/losses';
import { Adam, Optim, SGD, fit } from '../src/index';

const f64 = cpu({ dtype: 'float64' });

/** Forward-only Linear: z = x·Wᵀ + b (the weight and bias copied from `like`). */
class FLinear extends Module {
  weight: Parameter;
  bias: Parameter;
  constructor(like: Linear) {
    super();
    this.weight = new Parameter(like.weight.value.clone());
    this.bias = new Parameter(like.bias!.value.clone());
  }
  override forward(x: Tensor): Tensor {
    return x.matmul(this.weight.value, { transposeB: true, bias: this.bias.value });
  }
}

/** Forward-only Conv2D through its ops: im2col(x)·W + b, W seen as [kh·kw·C, out]. */
class FConv2D extends Module {
  weight: Parameter;
  bias: Parameter;
  readonly #like: Conv2D; // private: not a child
  constructor(like: Conv2D) {
    super();
    this.#like = like;
    this.weight = new Parameter(like.weight.value.clone());
    this.bias = new Parameter(like.bias!.value.clone());
  }
  override forward(x: Tensor): Tensor {
    const [kh, kw, c, o] = this.weight.shape as number[];
    const { kernel, stride, padding } = this.#like;
    const cols = im2col(x, { kernel, stride, padding });
    const [n, h, w] = x.shape as number[];
    const oh = Math.floor((h! + 2 * padding[0] - kh!) / stride[0]) + 1;
    const ow = Math.floor((w! + 2 * padding[1] - kw!) / stride[1]) + 1;
    return cols.matmul(this.weight.value.reshape([kh! * kw! * c!, o!]), { bias: this.bias.value }).reshape([n!, oh, ow, o!]);
  }
}

const act = (f: (x: Tensor) => Tensor): Module =>
  new (class extends Module {
    override forward(x: Tensor): Tensor {
      return f(x);
    }
  })();

/** Both halves of backward for one forward: ∂L/∂x and each parameter's gradient. */
function backwardOf(m: Module, x: Tensor, delta: Tensor): Float64Array[] {
  return tidy(() => {
    m.zeroGrad();
    m.forward(x);
    m.backwardUpdateGradient(x, delta);
    const d = m.backwardDelta(x, delta);
    const out = [d, ...m.parameters().map((p) => p.grad!)].map((t) => Float64Array.from(t.dataSync()));
    m.zeroGrad();
    return out;
  });
}

/** Largest |a − b| / max(1, |b|) over every element. */
function worst(a: Float64Array[], b: Float64Array[]): number {
  expect(a.map((t) => t.length)).toEqual(b.map((t) => t.length));
  let w = 0;
  a.forEach((t, i) => t.forEach((v, j) => (w = Math.max(w, Math.abs(v - b[i]![j]!) / Math.max(1, Math.abs(b[i]![j]!))))));
  return w;
}

describe('the course written forward-only: the hand-written gradients to 1e-12 (float64)', () => {
  const x = randomTensor(f64, [6, 5], 1);
  const cases: [string, () => [Module, Module], Tensor, number[]][] = [
    ['Linear', () => { const l = new Linear(5, 4, { backend: f64 }); return [l, new FLinear(l)]; }, x, [6, 4]],
    ['TanH', () => [new TanH(), act((t) => t.tanh())], x, [6, 5]],
    ['Sigmoid', () => [new Sigmoid(), act((t) => t.sigmoid())], x, [6, 5]],
    ['Softmax', () => [new Softmax(), act((t) => t.softmax())], x, [6, 5]],
    ['LogSoftmax', () => [new LogSoftmax(), act((t) => t.logSoftmax())], x, [6, 5]],
    ['Conv2D (im2col + matmul)', () => { const c = new Conv2D(3, 2, 4, { stride: 2, padding: 1, backend: f64 }); return [c, new FConv2D(c)]; }, randomTensor(f64, [2, 7, 6, 2], 2), [2, 4, 3, 4]],
  ];
  for (const [name, make, input, outShape] of cases) {
    it(name, () => {
      const [hand, derived] = make();
      expect([hand.derived, derived.derived]).toEqual([false, true]);
      const delta = randomTensor(f64, outShape, 3);
      for (const mode of [true, false]) {
        hand.train(mode);
        derived.train(mode);
        expect(worst(backwardOf(derived, input, delta), backwardOf(hand, input, delta))).toBeLessThanOrEqual(1e-12);
      }
    });
  }

  const yhat = randomTensor(f64, [6, 4], 4);
  const labels = f64.tensor([0, 3, 1, 2, 2, 0], [6]);
  const onehot = f64.oneHot(labels, 4);
  const probs = randomTensor(f64, [6, 4], 5, 0.05, 0.95);
  const bits = f64.tensor(new RNG(6).uniformArray(24).map((v) => (v < 0.5 ? 0 : 1)), [6, 4]);
  const targets = randomTensor(f64, [6, 4], 7);
  const losses: [string, () => Tensor, () => Tensor, Tensor][] = [
    // LogSoftmax + NLL: −mean over the batch of the picked log-probabilities
    ['LogSoftmax + NLLLoss', () => grad((z: Tensor) => z.logSoftmax().gather(1, labels.unsqueeze(1)).mean().neg())(yhat), () => new LogSoftmax().backwardDelta(yhat, new NLLLoss().backward(labels, yhat.logSoftmax())), yhat],
    ['CrossEntropyLoss', () => grad((z: Tensor) => z.logSoftmax().mul(onehot).sum(1).mean().neg())(yhat), () => new CrossEntropyLoss().backward(labels, yhat), yhat],
    ['BCELoss', () => grad((p: Tensor) => bits.mul(p.log()).add(bits.neg().add(1).mul(p.neg().add(1).log())).mean().neg())(probs), () => new BCELoss().backward(bits, probs), probs],
    ['MSELoss', () => grad((z: Tensor) => z.sub(targets).square().sum(1).mean())(yhat), () => new MSELoss().backward(targets, yhat), yhat],
  ];
  for (const [name, derived, hand] of losses) {
    it(name, () => {
      const [a, b] = [derived(), hand()];
      expect(worst([Float64Array.from(a.dataSync())], [Float64Array.from(b.dataSync())])).toBeLessThanOrEqual(1e-12);
    });
  }
});

/** A two-layer net as one forward-only module (the W2 shape, small). */
class Mlp extends Module {
  w1: Parameter;
  b1: Parameter;
  w2: Parameter;
  b2: Parameter;
  constructor(be: Backend, inF: number, hidden: number, out: number, seed = 1) {
    super();
    this.w1 = new Parameter(randomTensor(be, [hidden, inF], seed, -0.5, 0.5));
    this.b1 = new Parameter(be.zeros([hidden]));
    this.w2 = new Parameter(randomTensor(be, [out, hidden], seed + 1, -0.5, 0.5));
    this.b2 = new Parameter(be.zeros([out]));
  }
  override forward(x: Tensor): Tensor {
    const h = x.matmul(this.w1.value, { transposeB: true, bias: this.b1.value }).tanh();
    return h.matmul(this.w2.value, { transposeB: true }).add(this.b2.value);
  }
}

/** XOR-like data: the label is whether x0·x1 > 0. */
function xorData(be: Backend, n: number, seed: number): { x: Tensor; y: Tensor } {
  const v = new RNG(seed).uniformArray(2 * n, -1, 1);
  const y = Array.from({ length: n }, (_, i) => (v[2 * i]! * v[2 * i + 1]! > 0 ? 1 : 0));
  return { x: be.tensor(v, [n, 2]), y: be.tensor(y, [n]) };
}

describe('forward-only modules everywhere a module goes', () => {
  it('Optim.step trains one; 2,000 steps leave backend memory flat', () => {
    const be = cpu();
    const net = new Mlp(be, 2, 16, 2);
    const step = new Optim(net, new CrossEntropyLoss(), new Adam(net.parameters(), { lr: 0.02 }));
    const { x, y } = xorData(be, 64, 3);
    const first = tidy(() => step.step(x, y).item());
    step.step(x, y).dispose();
    const after = be.memory();
    let last = 0;
    for (let i = 0; i < 2000; i++) {
      const l = step.step(x, y);
      if (i === 1999) last = l.item();
      l.dispose();
      if (i === 99) expect(be.memory()).toEqual(after);
    }
    expect(be.memory()).toEqual(after);
    expect(last).toBeLessThan(first / 4);
  });

  it('a loop without tidy holds at most one step of the tape (the record owns its intermediates)', () => {
    const be = cpu({ dtype: 'float64' });
    const net = new Mlp(be, 2, 8, 2);
    const { x } = xorData(be, 16, 4);
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const out = net.forward(x); // no tidy: the previous step's intermediates go with the next forward
      net.backwardUpdateGradient(x, out);
      out.dispose();
      sizes.push(be.memory().tensors);
    }
    expect(new Set(sizes.slice(1)).size).toBe(1);
  });

  it('trains in fit inside a Sequential with hand-written layers; saves, loads and moves to another backend', async () => {
    manualSeed(2);
    const be = cpu({ dtype: 'float64' });
    const net = new Sequential(new Mlp(be, 2, 16, 8), new TanH(), new Linear(8, 2, { backend: be }));
    const { x, y } = xorData(be, 256, 5);
    const data = { x: { data: Float32Array.from(x.dataSync()), shape: [256, 2] }, y: { data: Float32Array.from(y.dataSync()), shape: [256] } };
    const h = await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 }), data, { epochs: 30, batchSize: 32, seed: 1, progress: false });
    expect(h.loss[h.loss.length - 1]!).toBeLessThan(h.loss[0]! / 3);
    // checkpoint round trip: the same outputs
    const copy = new Sequential(new Mlp(be, 2, 16, 8, 7), new TanH(), new Linear(8, 2, { backend: be }));
    const ck = fromBytes(await toBytes({ model: net }));
    copy.loadStateDict(ck.weights);
    net.eval();
    copy.eval();
    expect([...copy.forward(x).dataSync()]).toEqual([...net.forward(x).dataSync()]);
    // to() another backend: the derived backward runs there
    const f32 = cpu();
    net.train().to(f32);
    const x32 = f32.tensor(x.dataSync(), x.shape);
    const g = tidy(() => {
      const out = net.forward(x32);
      net.zeroGrad();
      net.backward(f32.full(out.shape, 1));
      return net.parameters()[0]!.grad!.clone();
    });
    expect(g.backend).toBe(f32);
    expect([...g.dataSync()].some((v) => v !== 0)).toBe(true);
  });

  it('a child with its own backward is one node: its backward runs, not a re-derivation', () => {
    const be = cpu({ dtype: 'float64' });
    const calls: string[] = [];
    class Spy extends Linear {
      override backwardUpdateGradient(x: Tensor, d: Tensor): void {
        calls.push('update');
        super.backwardUpdateGradient(x, d);
      }
      override backwardDelta(x: Tensor, d: Tensor): Tensor {
        calls.push('delta');
        return super.backwardDelta(x, d);
      }
    }
    class Block extends Module {
      fc = new Spy(3, 3, { backend: be });
      drop = new Dropout(0.5);
      scale = new Parameter(be.tensor([0.5, -1, 2], [3]));
      override forward(x: Tensor): Tensor {
        return this.drop.forward(this.fc.forward(x).tanh()).mul(this.scale.value).add(x); // a residual around a hand-written child
      }
    }
    const m = new Block();
    m.drop.eval(); // deterministic for gradcheck (the rest in train mode)
    const r = gradcheckModule(m, randomTensor(be, [4, 3], 8));
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
    expect(Object.keys(r.errors)).toEqual(['input', 'param:scale', 'param:fc.weight', 'param:fc.bias']);
    calls.length = 0;
    const x = randomTensor(be, [4, 3], 9);
    tidy(() => {
      m.forward(x);
      m.backwardUpdateGradient(x, be.full([4, 3], 1)); // the child's input does not depend on a parameter: no delta through it
      m.backwardDelta(x, be.full([4, 3], 1));
    });
    expect(calls).toEqual(['update', 'delta']);
    // in training mode Dropout's forward is stateful: backward for another input is a StateError, never a second forward
    m.drop.train();
    expect(m.statefulForward).toBe(true);
    expect(() => tidy(() => m.backwardDelta(randomTensor(be, [4, 3], 10), be.full([4, 3], 1)))).toThrow(/no forward was run|not the one/);
  });

  it('after a forward in eval() or inside noGrad (nothing recorded) backward records again: the same gradient', () => {
    const be = cpu({ dtype: 'float64' });
    const net = new Mlp(be, 2, 4, 2);
    const x = randomTensor(be, [3, 2], 11);
    // eval and noGrad: no record, so the backward records again (and matches the recorded one)
    const rec = tidy(() => (net.forward(x), net.backwardDelta(x, be.full([3, 2], 1))));
    const evalD = tidy(() => (net.eval().forward(x), net.backwardDelta(x, be.full([3, 2], 1))));
    const ng = tidy(() => (noGrad(() => net.train().forward(x)), net.backwardDelta(x, be.full([3, 2], 1))));
    expect([...evalD.dataSync()]).toEqual([...rec.dataSync()]);
    expect([...ng.dataSync()]).toEqual([...rec.dataSync()]);
  });

  it('nests: a forward-only child records inline, grad(f) goes through modules (parameters constant there)', () => {
    const be = cpu({ dtype: 'float64' });
    class Outer extends Module {
      inner = new Mlp(be, 3, 5, 3, 12); // forward-only child: re-derived inline
      fc = new Linear(3, 3, { backend: be }); // hand-written child: one node
      override forward(x: Tensor): Tensor {
        return this.fc.forward(this.inner.forward(x).sigmoid()).add(this.inner.forward(x)); // the child used twice
      }
    }
    const m = new Outer();
    const x = randomTensor(be, [4, 3], 13);
    const r = gradcheckModule(m, x);
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
    expect(Object.keys(r.errors)).toHaveLength(1 + 6);
    // grad of a function that calls the module: ∂/∂x equals the module's backwardDelta with δ = 1
    const gx = grad((t: Tensor) => m.forward(t).sum())(x);
    const d = tidy(() => (m.forward(x), m.backwardDelta(x, be.full([4, 3], 1))));
    expect(worst([Float64Array.from(gx.dataSync())], [Float64Array.from(d.dataSync())])).toBeLessThanOrEqual(1e-12);
    expect(m.parameters().every((p) => p.grad === null)).toBe(true); // grad() leaves the parameters' gradients alone
  });

  it('inside a Sequential a forward-only child goes back once for both halves (gradcheck through it)', () => {
    const be = cpu({ dtype: 'float64' });
    const seq = new Sequential(new Linear(3, 2, { backend: be }), new Mlp(be, 2, 4, 2, 14), new TanH());
    const r = gradcheckModule(seq, randomTensor(be, [5, 3], 15));
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
    expect(Object.keys(r.errors)).toHaveLength(1 + 6);
  });
});
