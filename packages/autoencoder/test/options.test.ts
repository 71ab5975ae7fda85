import { describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear } from '@neurone/layers';
import { Autoencoder, TiedLinear, denoising, encodeAll, reconstructionError } from '../src';

describe('autoencoder options', () => {
  const backend = cpu();
  it('refuse unknown keys, listing the valid ones', async () => {
    expect(() => Autoencoder.dense([4, 2], { backend, activations: 'relu' } as never)).toThrow(/Autoencoder\.dense: unknown option 'activations' \(did you mean 'activation'\?\); valid options: activation/);
    expect(() => new TiedLinear(new Linear(4, 2, { backend }), { backend } as never)).toThrow(/TiedLinear: unknown option 'backend'; valid options: bias, biasInit, rng/);
    expect(() => denoising({ data: new Float32Array(4), shape: [1, 4] }, { kind: 'gaussian', sigma: 0.1 }, { rng: new RNG(1), sed: 2 } as never)).toThrow(/denoising: unknown option 'sed'; valid options: rng, seed/);
    const ae = Autoencoder.dense([4, 2], { backend });
    const x = { data: new Float32Array(8), shape: [2, 4] };
    expect(() => encodeAll(ae, x, { batch: 1 } as never)).toThrow(/encodeAll: unknown option 'batch'/);
    await expect(reconstructionError(ae, x, { metrics: 'mse' } as never)).rejects.toThrow(/reconstructionError: unknown option 'metrics' \(did you mean 'metric'\?\)/);
    expect(await reconstructionError(ae, x, { metric: 'mse', batchSize: 1 })).toBeGreaterThanOrEqual(0);
  });
});
