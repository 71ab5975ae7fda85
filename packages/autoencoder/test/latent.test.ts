import { describe, expect, it } from 'vitest';
import { RNG, ShapeError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Autoencoder, encodeAll, pixelError, reconstructAll, reconstructionError } from '../src';
import { expectClose } from './helpers';

const be = cpu({ dtype: 'float64' });

describe('batched helpers', () => {
  const ae = Autoencoder.dense([6, 4, 3], { backend: be, rng: new RNG(1) });
  const x = { data: new RNG(2).uniformArray(7 * 6, 0, 1), shape: [7, 6] };

  it('encodeAll and reconstructAll equal one big forward, in any batch size, and restore train mode', async () => {
    const t = be.tensor(x.data, x.shape);
    const z = ae.encode(t).dataSync();
    const r = ae.reconstruct(t).dataSync();
    for (const batchSize of [1, 3, 100]) {
      const codes = await encodeAll(ae, x, { batchSize });
      expect(codes.shape).toEqual([7, 3]);
      expectClose(codes.data, z, 1e-6);
      const rec = await reconstructAll(ae, x, { batchSize });
      expect(rec.shape).toEqual([7, 6]);
      expectClose(rec.data, r, 1e-6);
    }
    expect(ae.training).toBe(true);
  });

  it('pixelError: BCE and MSE per pixel by their formulas', () => {
    const y = [0, 1, 0.25];
    const p = [0.1, 0.8, 0.5];
    const bce = -(Math.log(0.9) + Math.log(0.8) + 0.25 * Math.log(0.5) + 0.75 * Math.log(0.5)) / 3;
    expect(pixelError(y, p, 'bce')).toBeCloseTo(bce, 12);
    expect(pixelError(y, p, 'mse')).toBeCloseTo((0.01 + 0.04 + 0.0625) / 3, 12);
    expect(pixelError([1], [0], 'bce')).toBe(100); // log clamped at −100, as PyTorch
    expect(() => pixelError([1, 2], [1])).toThrow(ShapeError);
  });

  it('reconstructionError compares the output for `input` with the clean images', async () => {
    const rec = await reconstructAll(ae, x);
    expect(await reconstructionError(ae, x, { metric: 'mse' })).toBeCloseTo(pixelError(x.data, rec.data, 'mse'), 6);
    const noisy = { data: x.data.map((v) => 1 - v), shape: x.shape };
    const recN = await reconstructAll(ae, noisy);
    expect(await reconstructionError(ae, x, { input: noisy })).toBeCloseTo(pixelError(x.data, recN.data, 'bce'), 6);
    await expect(reconstructionError(ae, x, { input: { data: new Float64Array(6), shape: [1, 6] } })).rejects.toThrow(ShapeError);
  });
});
