import { describe, expect, it } from 'vitest';
import { Module, RNG } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { gradcheckModule } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { Autoencoder, TiedLinear } from '../src';
import { expectClose, rand, transpose } from './helpers';

const be = cpu({ dtype: 'float64' });
const TOL = 1e-6;

describe('gradcheck (float64, central differences)', () => {
  for (const batch of [1, 3]) {
    it(`dense [6, 4, 2], tanh, sigmoid output, batch ${batch}`, () => {
      const ae = Autoencoder.dense([6, 4, 2], { activation: 'tanh', output: 'sigmoid', backend: be, rng: new RNG(3) });
      const x = rand(be, [batch, 6], 10 + batch, 0, 1);
      const r = gradcheckModule(ae, x);
      expect(Object.keys(r.errors).sort()).toEqual(
        ['input', 'param:decoder.0.bias', 'param:decoder.0.weight', 'param:decoder.2.bias', 'param:decoder.2.weight', 'param:encoder.0.bias', 'param:encoder.0.weight', 'param:encoder.2.bias', 'param:encoder.2.weight'].sort(),
      );
      expect(r.maxRelError).toBeLessThanOrEqual(TOL);
    });

    it(`dense [6, 4, 2] with tied weights, batch ${batch}`, () => {
      const ae = Autoencoder.dense([6, 4, 2], { activation: 'tanh', output: 'sigmoid', tied: true, backend: be, rng: new RNG(4) });
      const x = rand(be, [batch, 6], 20 + batch, 0, 1);
      const r = gradcheckModule(ae, x);
      // the decoder's weights are the encoder's: checked once, under the encoder's names
      expect(Object.keys(r.errors).sort()).toEqual(
        ['input', 'param:decoder.0.bias', 'param:decoder.2.bias', 'param:encoder.0.bias', 'param:encoder.0.weight', 'param:encoder.2.bias', 'param:encoder.2.weight'].sort(),
      );
      expect(r.maxRelError).toBeLessThanOrEqual(TOL);
    });
  }

  it('dense [5, 7, 3] with relu, no code activation, linear output', () => {
    const ae = Autoencoder.dense([5, 7, 3], { activation: 'relu', codeActivation: false, output: 'none', init: 'kaiming', backend: be, rng: new RNG(5) });
    // inputs away from ReLU's kink are not guaranteed here, so use a seed checked to stay clear of it
    const r = gradcheckModule(ae, rand(be, [2, 5], 6, 0, 1));
    expect(r.maxRelError).toBeLessThanOrEqual(TOL);
  });

  it('TiedLinear alone (non-square, batch 1 and 3)', () => {
    const src = new Linear(5, 3, { backend: be, rng: new RNG(7) });
    const tied = new TiedLinear(src, { rng: new RNG(8) });
    expect(tied.inFeatures).toBe(3);
    expect(tied.outFeatures).toBe(5);
    for (const batch of [1, 3]) {
      const r = gradcheckModule(tied, rand(be, [batch, 3], 30 + batch));
      expect(r.maxRelError).toBeLessThanOrEqual(TOL);
    }
  });

  it('Autoencoder of plain modules (a Linear encoder, a Sequential decoder)', () => {
    const enc = new Linear(4, 3, { backend: be, rng: new RNG(9) });
    const dec = new Sequential(new Linear(3, 4, { backend: be, rng: new RNG(10) }), new Sigmoid());
    const r = gradcheckModule(new Autoencoder(enc, dec), rand(be, [2, 4], 11));
    expect(r.maxRelError).toBeLessThanOrEqual(TOL);
  });
});

describe('tied weights: the shared gradient is the sum of both uses', () => {
  /**
   * A tied autoencoder and an untied twin holding the same numbers (decoder weights = encoder
   * weights transposed). After the same backward, the tied weight's gradient must equal the
   * encoder use's gradient plus the transpose of the decoder use's gradient, both read from the
   * untied twin.
   */
  it('[5, 3, 2], batch 4', () => {
    const tied = Autoencoder.dense([5, 3, 2], { tied: true, backend: be, rng: new RNG(12) });
    const enc0 = tied.encoder.at(0) as Linear;
    const enc2 = tied.encoder.at(2) as Linear;
    const dec0 = tied.decoder.at(0) as TiedLinear;
    const dec2 = tied.decoder.at(2) as TiedLinear;
    expect(dec0.weight).toBe(enc2.weight);
    expect(dec2.weight).toBe(enc0.weight);
    expect(tied.parameters()).toHaveLength(6); // 2 weights + 4 biases

    const twin = Autoencoder.dense([5, 3, 2], { backend: be, rng: new RNG(99) });
    const sd = Object.fromEntries(Object.entries(tied.stateDict()).map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() }]));
    const W0 = enc0.weight.value.dataSync(); // [3, 5]
    const W2 = enc2.weight.value.dataSync(); // [2, 3]
    twin.loadStateDict({
      ...sd,
      'decoder.0.weight': { shape: [3, 2], data: transpose(W2, 2, 3) },
      'decoder.2.weight': { shape: [5, 3], data: transpose(W0, 3, 5) },
    });

    const x = rand(be, [4, 5], 13, 0, 1);
    const delta = rand(be, [4, 5], 14);
    const outT = tied.forward(x);
    const outU = twin.forward(x);
    expectClose(outT.dataSync(), outU.dataSync(), 1e-14);
    tied.backward(delta, { inputGrad: false });
    twin.backward(delta, { inputGrad: false });

    const g = (m: Autoencoder, k: string): Float64Array => m.namedParameters().find(([n]) => n === k)![1].grad!.dataSync() as Float64Array;
    const enc0Use = g(twin, 'encoder.0.weight'); // [3, 5]
    const dec2Use = g(twin, 'decoder.2.weight'); // [5, 3]
    const enc2Use = g(twin, 'encoder.2.weight'); // [2, 3]
    const dec0Use = g(twin, 'decoder.0.weight'); // [3, 2]
    const sum0 = enc0Use.map((v, i) => v + transpose(dec2Use, 5, 3)[i]!);
    const sum2 = enc2Use.map((v, i) => v + transpose(dec0Use, 3, 2)[i]!);
    expectClose(g(tied, 'encoder.0.weight'), sum0, 1e-12);
    expectClose(g(tied, 'encoder.2.weight'), sum2, 1e-12);
    // both uses contribute: neither part is negligible
    const norm = (a: ArrayLike<number>) => Math.hypot(...Array.from(a));
    expect(norm(enc0Use)).toBeGreaterThan(1e-4);
    expect(norm(dec2Use)).toBeGreaterThan(1e-4);
    // the decoder biases are the tied model's own and match the twin's
    expectClose(g(tied, 'decoder.2.bias'), g(twin, 'decoder.2.bias'), 1e-12);
    for (const t of [x, delta, outT, outU]) t.dispose();
  });
});

describe('forward values against plain loops', () => {
  it('TiedLinear: z = x·W + b with the source W [out, in]', () => {
    const src = new Linear(4, 3, { backend: be, rng: new RNG(15) });
    const tied = new TiedLinear(src, { rng: new RNG(16) });
    const W = src.weight.value.dataSync(); // [3, 4]
    const b = tied.bias!.value.dataSync(); // [4]
    const x = rand(be, [2, 3], 17);
    const xv = x.dataSync();
    const out = tied.forward(x).dataSync();
    const want: number[] = [];
    for (let n = 0; n < 2; n++)
      for (let j = 0; j < 4; j++) {
        let s = b[j]!;
        for (let i = 0; i < 3; i++) s += xv[n * 3 + i]! * W[i * 4 + j]!;
        want.push(s);
      }
    expectClose(out, want, 1e-14);
  });

  it('forward of a custom-module autoencoder equals decode(encode(x))', () => {
    class Scale extends Module {
      forward(x: Tensor): Tensor {
        return x.backend.affine(x, 2, 0);
      }
      override backwardDelta(_input: Tensor, delta: Tensor): Tensor {
        return delta.backend.affine(delta, 2, 0);
      }
    }
    const ae = new Autoencoder(new Sequential(new Linear(3, 2, { backend: be }), new TanH(), new Scale()), new Linear(2, 3, { backend: be }));
    const x = rand(be, [2, 3], 18);
    const z = ae.encode(x);
    const a = ae.decode(z).dataSync();
    expectClose(ae.forward(x).dataSync(), a, 1e-15);
    const r = gradcheckModule(ae, x);
    expect(r.maxRelError).toBeLessThanOrEqual(TOL);
  });
});
