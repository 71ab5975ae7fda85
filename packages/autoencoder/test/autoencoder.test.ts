import { describe, expect, it } from 'vitest';
import { Module, RNG, ShapeError, ValueError, init, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { Adam, Optim, fit } from '@neurone/optim';
import type { TiedLinear} from '../src';
import { Autoencoder, reconstructionDataset } from '../src';
import { denseRef, expectClose, rand, rows } from './helpers';

const be64 = cpu({ dtype: 'float64' });
const be = cpu();

/** A module that tells nothing about its widths (not a Linear, not a Sequential). */
class Opaque extends Module {
  readonly inner: Linear;
  constructor(inner: Linear) {
    super();
    this.inner = this.registerModule('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
  override backwardUpdateGradient(input: Tensor, delta: Tensor): void {
    this.inner.backwardUpdateGradient(input, delta);
  }
  override backwardDelta(input: Tensor, delta: Tensor): Tensor {
    return this.inner.backwardDelta(input, delta);
  }
}

describe('Autoencoder.dense', () => {
  it('mirrors the encoder: 784→128→32 then 32→128→784 (W3)', () => {
    const ae = Autoencoder.dense([784, 128, 32], { backend: be, rng: new RNG(1) });
    expect(ae.inputSize).toBe(784);
    expect(ae.latentSize).toBe(32);
    const shapes = Object.fromEntries(Object.entries(ae.stateDict()).map(([k, t]) => [k, t.shape]));
    expect(shapes).toEqual({
      'encoder.0.weight': [128, 784],
      'encoder.0.bias': [128],
      'encoder.2.weight': [32, 128],
      'encoder.2.bias': [32],
      'decoder.0.weight': [128, 32],
      'decoder.0.bias': [128],
      'decoder.2.weight': [784, 128],
      'decoder.2.bias': [784],
    });
    const kinds = (s: Sequential) => [...s].map((m) => m.constructor.name);
    expect(kinds(ae.encoder)).toEqual(['Linear', 'TanH', 'Linear', 'TanH']);
    expect(kinds(ae.decoder)).toEqual(['Linear', 'TanH', 'Linear', 'Sigmoid']);
    ae.dispose();
  });

  it('options: relu, no code activation, no output activation, tied', () => {
    const ae = Autoencoder.dense([10, 6, 4, 2], { activation: 'relu', codeActivation: false, output: 'none', tied: true, backend: be });
    const kinds = (s: Sequential) => [...s].map((m) => m.constructor.name);
    expect(kinds(ae.encoder)).toEqual(['Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
    expect(kinds(ae.decoder)).toEqual(['TiedLinear', 'ReLU', 'TiedLinear', 'ReLU', 'TiedLinear']);
    expect(Object.keys(ae.stateDict())).toEqual([
      'encoder.0.weight', 'encoder.0.bias', 'encoder.2.weight', 'encoder.2.bias', 'encoder.4.weight', 'encoder.4.bias',
      'decoder.0.bias', 'decoder.2.bias', 'decoder.4.bias',
    ]);
    expect(ae.latentSize).toBe(2);
    const mixed = Autoencoder.dense([10, 6, 2], { activation: 'relu', codeActivation: 'tanh', backend: be });
    expect([...mixed.encoder].map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear', 'TanH']);
    expect([...mixed.decoder].map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear', 'Sigmoid']);
    expect(() => Autoencoder.dense([4, 2], { codeActivation: 'elu' as never, backend: be })).toThrow(/'elu'/);
  });

  it('xavier init draws Glorot-uniform weights with the following activation\'s gain, zero biases', () => {
    const ae = Autoencoder.dense([300, 200], { init: 'xavier', backend: be, rng: new RNG(2) });
    const w = (ae.encoder.at(0) as Linear).weight.value.dataSync();
    const bound = (5 / 3) * Math.sqrt(6 / 500);
    let max = 0;
    for (const v of w) max = Math.max(max, Math.abs(v));
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.99 * bound);
    expect([...(ae.decoder.at(0) as Linear).bias!.value.dataSync()].every((v) => v === 0)).toBe(true);
    // a custom Initializer is used as given
    const c = Autoencoder.dense([3, 2], { init: init.constant(0.5), backend: be });
    expect([...(c.encoder.at(0) as Linear).weight.value.dataSync()]).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('rejects bad sizes and options with a ValueError', () => {
    expect(() => Autoencoder.dense([784], { backend: be })).toThrow(ValueError);
    expect(() => Autoencoder.dense([784, 0], { backend: be })).toThrow(/positive integers/);
    expect(() => Autoencoder.dense([4, 2], { activation: 'gelu' as never, backend: be })).toThrow(/'gelu'/);
    expect(() => Autoencoder.dense([4, 2], { output: 'softmax' as never, backend: be })).toThrow(ValueError);
    expect(() => Autoencoder.dense([4, 2], { init: 'he' as never, backend: be })).toThrow(/'he'/);
  });
});

describe('forward, encode, decode, reconstruct', () => {
  it('equal the formula computed with plain loops', () => {
    const ae = Autoencoder.dense([5, 3, 2], { backend: be64, rng: new RNG(3) });
    const p = Object.fromEntries(Object.entries(ae.stateDict()).map(([k, t]) => [k, t.dataSync()]));
    const x = rand(be64, [4, 5], 4, 0, 1);
    const h1 = denseRef(rows(x.dataSync(), 4, 5), p['encoder.0.weight']!, p['encoder.0.bias']!, 3, 'tanh');
    const code = denseRef(h1, p['encoder.2.weight']!, p['encoder.2.bias']!, 2, 'tanh');
    const h2 = denseRef(code, p['decoder.0.weight']!, p['decoder.0.bias']!, 3, 'tanh');
    const out = denseRef(h2, p['decoder.2.weight']!, p['decoder.2.bias']!, 5, 'sigmoid');
    const z = ae.encode(x);
    expect(z.shape).toEqual([4, 2]);
    expectClose(z.dataSync(), code.flat(), 1e-14);
    const d = ae.decode(z);
    expect(d.shape).toEqual([4, 5]);
    expectClose(d.dataSync(), out.flat(), 1e-14);
    expectClose(ae.forward(x).dataSync(), out.flat(), 1e-14);
    expectClose(ae.reconstruct(x).dataSync(), out.flat(), 1e-14);
  });

  it('tied forward uses the encoder weights transposed (plain loops)', () => {
    const ae = Autoencoder.dense([4, 3], { tied: true, activation: 'sigmoid', backend: be64, rng: new RNG(5) });
    const W = (ae.encoder.at(0) as Linear).weight.value.dataSync(); // [3, 4]
    const b1 = (ae.encoder.at(0) as Linear).bias!.value.dataSync();
    const b2 = (ae.decoder.at(0) as TiedLinear).bias!.value.dataSync();
    const Wt = Array.from({ length: 12 }, (_, k) => W[(k % 3) * 4 + Math.floor(k / 3)]!); // [4, 3]
    const x = rand(be64, [2, 4], 6, 0, 1);
    const code = denseRef(rows(x.dataSync(), 2, 4), W, b1, 3, 'sigmoid');
    const out = denseRef(code, Wt, b2, 4, 'sigmoid');
    expectClose(ae.forward(x).dataSync(), out.flat(), 1e-14);
  });

  it('frees what it does not return (train and eval)', () => {
    const ae = Autoencoder.dense([6, 4, 2], { backend: be, rng: new RNG(7) });
    const x = rand(be, [3, 6], 8);
    ae.forward(x).dispose(); // warm: the caches of the last forward exist from here on
    const before = be.memory().tensors;
    for (let i = 0; i < 5; i++) {
      ae.forward(x).dispose();
      ae.reconstruct(x).dispose();
      ae.encode(x).dispose();
    }
    ae.eval();
    for (let i = 0; i < 5; i++) ae.forward(x).dispose();
    ae.train();
    ae.forward(x).dispose();
    expect(be.memory().tensors).toBe(before);
    ae.clearCache();
    ae.dispose();
    x.dispose();
  });
});

describe('backward', () => {
  it('backward(δ) from the last forward gives the same gradients and δ as the generic path', () => {
    const mk = () => Autoencoder.dense([6, 4, 3], { backend: be64, rng: new RNG(9) });
    const a = mk();
    const b = mk();
    const x = rand(be64, [3, 6], 10, 0, 1);
    const delta = rand(be64, [3, 6], 11);
    a.forward(x).dispose();
    const dxA = a.backward(delta);
    // generic path on a fresh input tensor holding the same numbers (nothing cached for it)
    const x2 = be64.tensor(x.dataSync(), x.shape);
    b.backwardUpdateGradient(x2, delta);
    const dxB = b.backwardDelta(x2, delta);
    expectClose(dxA.dataSync(), dxB.dataSync(), 1e-13);
    const gb = new Map(b.namedParameters());
    for (const [k, p] of a.namedParameters()) expectClose(p.grad!.dataSync(), gb.get(k)!.grad!.dataSync(), 1e-13);
    expect(a.backward(delta, { inputGrad: false })).toBeNull();
  });

  it('recomputes the code when a parameter changed after forward', () => {
    const ae = Autoencoder.dense([4, 3], { backend: be64, rng: new RNG(12) });
    const ref = Autoencoder.dense([4, 3], { backend: be64, rng: new RNG(12) });
    const x = rand(be64, [2, 4], 13, 0, 1);
    const delta = rand(be64, [2, 4], 14);
    ae.forward(x).dispose();
    ae.updateParameters(0.5); // with zero grads: values unchanged, but new tensors
    const lin = ae.encoder.at(0) as Linear;
    lin.weight.value = be64.affine(lin.weight.value, 2, 0); // a real change
    (ref.encoder.at(0) as Linear).weight.value = be64.affine((ref.encoder.at(0) as Linear).weight.value, 2, 0);
    ae.backwardUpdateGradient(x, delta);
    ref.backwardUpdateGradient(be64.tensor(x.dataSync(), x.shape), delta);
    const r = new Map(ref.namedParameters());
    for (const [k, p] of ae.namedParameters()) expectClose(p.grad!.dataSync(), r.get(k)!.grad!.dataSync(), 1e-13);
  });

  it('backward without a forward, or after the input was disposed, is a ValueError', () => {
    const ae = Autoencoder.dense([4, 2], { backend: be });
    const d = rand(be, [1, 4], 1);
    expect(() => ae.backward(d)).toThrow(/no forward/);
    const x = rand(be, [1, 4], 2);
    ae.forward(x).dispose();
    x.dispose();
    expect(() => ae.backward(d)).toThrow(/disposed/);
  });
});

describe('shape errors', () => {
  it('an encoder output that does not fit the decoder input, at construction (Linear-ended Sequentials)', () => {
    const enc = new Sequential(new Linear(6, 4, { backend: be }), new TanH());
    const dec = new Sequential(new Linear(3, 6, { backend: be }), new Sigmoid());
    const e = (() => {
      try {
        new Autoencoder(enc, dec);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as Error).message).toMatch(/codes of size 4 .*inputs of size 3/);
    expect(() => new Autoencoder(new Linear(6, 5, { backend: be }), new Linear(4, 6, { backend: be }))).toThrow(/size 5.*size 4/);
  });

  it('… and at forward when the encoder does not tell its width', () => {
    const ae = new Autoencoder(new Opaque(new Linear(6, 4, { backend: be })), new Sequential(new ReLU(), new Linear(3, 6, { backend: be })));
    expect(ae.latentSize).toBe(3);
    const x = rand(be, [2, 6], 3);
    expect(() => ae.forward(x)).toThrow(ShapeError);
    expect(() => ae.forward(x)).toThrow(/codes of size 4 but the decoder expects inputs of size 3/);
    // neither half tells: the decoder's own error, wrapped with the code's shape
    const blind = new Autoencoder(new Opaque(new Linear(6, 4, { backend: be })), new Opaque(new Linear(3, 6, { backend: be })));
    expect(() => blind.forward(x)).toThrow(/Autoencoder.forward: the code of shape \[2, 4\] does not fit the decoder: Linear\(3, 6\)/);
  });

  it('images of the wrong width name the expected and the actual width', () => {
    const ae = Autoencoder.dense([784, 16, 4], { backend: be });
    const x = be.zeros([2, 783]);
    for (const f of [() => ae.forward(x), () => ae.encode(x), () => ae.reconstruct(x)]) {
      expect(f).toThrow(ShapeError);
      expect(f).toThrow(/784 features .*got 783 features/);
    }
    expect(() => ae.forward(be.zeros([784]))).toThrow(/784 features .*shape \[784\]/);
    expect(() => ae.decode(be.zeros([2, 5]))).toThrow(/codes of size 5 but the decoder expects inputs of size 4/);
  });
});

describe('stateDict', () => {
  it('round trip: a differently seeded model loads the values and gives the same outputs', () => {
    for (const tied of [false, true]) {
      const a = Autoencoder.dense([6, 4, 2], { tied, backend: be64, rng: new RNG(20) });
      const b = Autoencoder.dense([6, 4, 2], { tied, backend: be64, rng: new RNG(21) });
      const x = rand(be64, [3, 6], 22, 0, 1);
      const before = b.forward(x).dataSync();
      const saved = Object.fromEntries(Object.entries(a.stateDict()).map(([k, t]) => [k, { shape: [...t.shape], data: Array.from(t.dataSync()) }]));
      const json = JSON.parse(JSON.stringify(saved)) as typeof saved;
      expect(b.loadStateDict(json)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const after = b.forward(x).dataSync();
      expectClose(after, a.forward(x).dataSync(), 0);
      expect(Math.max(...after.map((v, i) => Math.abs(v - before[i]!)))).toBeGreaterThan(1e-3);
      if (tied) expect((b.decoder.at(2) as TiedLinear).weight).toBe((b.encoder.at(0) as Linear).weight);
    }
  });
});

describe('training', () => {
  it('Optim + Adam lowers the BCE on a small synthetic image set, without growing memory', () => {
    const rng = new RNG(30);
    // 64 "images" of 16 pixels: two prototypes plus noise, in [0, 1]
    const protos = [Array.from({ length: 16 }, (_, i) => (i % 2 ? 0.9 : 0.1)), Array.from({ length: 16 }, (_, i) => (i < 8 ? 0.8 : 0.2))];
    const data = new Float32Array(64 * 16).map((_, k) => Math.min(1, Math.max(0, protos[Math.floor(k / 16) % 2]![k % 16]! + 0.05 * rng.normal())));
    const ae = Autoencoder.dense([16, 8, 2], { backend: be, rng: new RNG(31) });
    const opt = new Optim(ae, new BCELoss(), new Adam(ae.parameters(), { lr: 1e-2 }));
    const x = be.tensor(data, [64, 16]);
    const first = tidy(() => opt.step(x, x).item());
    const mem = be.memory().tensors;
    let last = first;
    for (let i = 0; i < 150; i++) last = tidy(() => opt.step(x, x).item());
    expect(be.memory().tensors).toBe(mem);
    expect(last).toBeLessThan(0.8 * first);
    x.dispose();
  });

  it('fit on reconstructionDataset trains the tied model too', async () => {
    const rng = new RNG(32);
    const data = new Float32Array(128 * 8).map((_, k) => (Math.floor(k / 8) % 2 ? (k % 8) / 8 : 1 - (k % 8) / 8) * 0.8 + 0.1 * rng.random());
    const ae = Autoencoder.dense([8, 4, 2], { tied: true, backend: be, rng: new RNG(33) });
    const ds = reconstructionDataset({ data, shape: [128, 8] });
    const h = await fit(ae, new BCELoss(), new Adam(ae, { lr: 1e-2 }), ds, { epochs: 20, batchSize: 16, progress: false, validation: ds });
    expect(h.valLoss[19]!).toBeLessThan(h.valLoss[0]!);
    const rec = tidy(() => ae.reconstruct(be.tensor(data, [128, 8])));
    expect(rec.shape).toEqual([128, 8]);
    rec.dispose();
  });
});
