import { describe, expect, it } from 'vitest';
import { RNG, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { Autoencoder, inputWidth, outputWidth } from '../src';
import { rand } from './helpers';

const be = cpu({ dtype: 'float64' });

describe('Autoencoder as a Sequential of two named children', () => {
  it('is a Sequential whose children are encoder and decoder, and refuses a third', () => {
    const ae = Autoencoder.dense([6, 4, 2], { backend: be, rng: new RNG(1) });
    expect(ae).toBeInstanceOf(Sequential);
    expect(ae.namedChildren().map(([n]) => n)).toEqual(['encoder', 'decoder']);
    expect([...ae]).toEqual([ae.encoder, ae.decoder]);
    expect(inputWidth(ae)).toBe(6);
    expect(outputWidth(ae)).toBe(6);
    expect(() => ae.append(new TanH())).toThrow(ValueError);
    expect(() => ae.append(new TanH())).toThrow(/Autoencoder\.append: .*exactly two children/);
    expect(ae.length).toBe(2);
    expect(ae.toString()).toMatch(/^Autoencoder\(input=6, code=2\n {2}\(encoder\): Sequential\(/);
  });

  it('backward(δ) after forward goes back through each half in one sweep (each layer δ once)', () => {
    const ae = Autoencoder.dense([6, 4, 2], { backend: be, rng: new RNG(2) });
    const calls: Record<string, number> = {};
    for (const [half, s] of [['encoder', ae.encoder], ['decoder', ae.decoder]] as const) {
      [...s].forEach((m, i) => {
        const key = `${half}.${i}`;
        const orig = m.backwardDelta.bind(m);
        calls[key] = 0;
        m.backwardDelta = (x, d) => {
          calls[key]!++;
          return orig(x, d);
        };
      });
    }
    const x = rand(be, [3, 6], 3, 0, 1);
    const delta = rand(be, [3, 6], 4);
    ae.forward(x).dispose();
    ae.backward(delta).dispose();
    expect(calls).toEqual({ 'encoder.0': 1, 'encoder.1': 1, 'encoder.2': 1, 'encoder.3': 1, 'decoder.0': 1, 'decoder.1': 1, 'decoder.2': 1, 'decoder.3': 1 });
    ae.forward(x).dispose();
    expect(ae.backward(delta, { inputGrad: false })).toBeNull();
    expect(calls['encoder.0']).toBe(1); // the first layer's δ is skipped
  });

  it('dispose frees the kept code and the halves\' own caches', () => {
    const b32 = cpu();
    const before = b32.memory().tensors;
    const ae = new Autoencoder(new Sequential(new Linear(5, 3, { backend: b32 }), new TanH()), new Linear(3, 5, { backend: b32 }));
    const x = rand(b32, [2, 5], 5);
    ae.forward(x).dispose();
    x.dispose();
    ae.dispose();
    expect(b32.memory().tensors).toBe(before);
  });
});
