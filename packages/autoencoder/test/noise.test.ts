import { describe, expect, it } from 'vitest';
import { RNG, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { addNoise, denoising, reconstructionDataset } from '../src';

const n = 20000;
const gray = (v: number) => new Float32Array(n).fill(v);

describe('addNoise', () => {
  it('gaussian: x + σ·ε with the right spread, clipped to [0, 1], input untouched', () => {
    const x = gray(0.5);
    const y = addNoise(x, { kind: 'gaussian', sigma: 0.1 }, new RNG(1));
    expect(x.every((v) => v === 0.5)).toBe(true);
    let s = 0;
    let s2 = 0;
    for (const v of y) {
      s += v - 0.5;
      s2 += (v - 0.5) ** 2;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.003); // mean 0 ± 3 standard errors (0.1/√n ≈ 0.0007)
    expect(Math.sqrt(s2 / n)).toBeCloseTo(0.1, 2);
    const big = addNoise(gray(0.9), { kind: 'gaussian', sigma: 0.5 }, new RNG(2));
    expect(Math.min(...big)).toBe(0);
    expect(Math.max(...big)).toBe(1);
    const free = addNoise(gray(0.9), { kind: 'gaussian', sigma: 0.5, clip: false }, new RNG(2));
    expect(Math.max(...free)).toBeGreaterThan(1.5);
  });

  it('sigma 0 and p 0 leave the values, p 1 zeroes everything', () => {
    const x = new Float32Array([0, 0.25, 0.5, 1]);
    expect([...addNoise(x, { kind: 'gaussian', sigma: 0 })]).toEqual([0, 0.25, 0.5, 1]);
    expect([...addNoise(x, { kind: 'mask', p: 0 })]).toEqual([0, 0.25, 0.5, 1]);
    expect([...addNoise(x, { kind: 'mask', p: 1 })]).toEqual([0, 0, 0, 0]);
  });

  it('mask: zeroes a fraction p of the pixels and keeps the others', () => {
    const x = gray(0.7);
    const y = addNoise(x, { kind: 'mask', p: 0.3 }, new RNG(3));
    const zeros = y.filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - 0.3)).toBeLessThan(0.01); // ± 3 standard errors (√(0.21/n) ≈ 0.0032)
    expect(y.every((v) => v === 0 || v === x[0])).toBe(true);
  });

  it('is seeded and keeps a HostTensor a HostTensor', () => {
    const h = { data: new Float32Array(12).fill(0.5), shape: [3, 4] };
    const a = addNoise(h, { kind: 'gaussian', sigma: 0.2 }, new RNG(4));
    const b = addNoise(h, { kind: 'gaussian', sigma: 0.2 }, new RNG(4));
    expect(a.shape).toEqual([3, 4]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual([...b.data]);
    expect([...a.data]).not.toEqual([...h.data]);
  });

  it('noise levels outside the valid range are a ValueError naming the value', () => {
    const x = gray(0.5).subarray(0, 4);
    const cases: [object, RegExp][] = [
      [{ kind: 'gaussian', sigma: -0.1 }, /sigma = -0\.1/],
      [{ kind: 'gaussian', sigma: NaN }, /sigma = NaN/],
      [{ kind: 'gaussian', sigma: Infinity }, /sigma = Infinity/],
      [{ kind: 'mask', p: 1.5 }, /p = 1\.5/],
      [{ kind: 'mask', p: -0.01 }, /p = -0\.01/],
      [{ kind: 'mask', p: NaN }, /p = NaN/],
      [{ kind: 'salt' }, /'salt'/],
    ];
    for (const [spec, msg] of cases) {
      expect(() => addNoise(x, spec as never)).toThrow(ValueError);
      expect(() => addNoise(x, spec as never)).toThrow(msg);
      expect(() => denoising({ data: x, shape: [1, 4] }, spec as never)).toThrow(msg);
    }
  });
});

describe('denoising', () => {
  it('gives { x: noisy, y: clean } and resample() redraws the noise in place', () => {
    const clean = { x: { data: new Float32Array(40).fill(0.5), shape: [10, 4] }, y: { data: new Float32Array(10), shape: [10] } };
    const d = denoising(clean, { kind: 'mask', p: 0.5 }, { seed: 5 });
    expect(d.dataset.y).toBe(clean.x); // the clean images are the targets, not the labels
    expect(d.dataset.x.shape).toEqual([10, 4]);
    const arr = d.dataset.x.data;
    const first = Array.from(arr);
    expect(first.some((v) => v === 0) && first.some((v) => v === 0.5)).toBe(true);
    d.resample();
    expect(d.dataset.x.data).toBe(arr);
    expect(Array.from(arr)).not.toEqual(first);
    expect(clean.x.data.every((v) => v === 0.5)).toBe(true);
  });
});

describe('scaled byte images (HostTensor scale, loadMnist({ bytes: true }))', () => {
  it('addNoise, denoising and fit on a reconstruction dataset read the values, not the bytes', async () => {
    const bytes = Uint8Array.from({ length: 64 * 6 }, (_, i) => (i * 37) % 256);
    const floats = Float32Array.from(bytes, (v) => v / 255);
    const scaled = { data: bytes, shape: [64, 6], scale: 1 / 255 };
    const plain = { data: floats, shape: [64, 6] };
    const spec = { kind: 'gaussian', sigma: 0.2 } as const;
    expect(addNoise(scaled, spec, new RNG(4)).data).toEqual(addNoise(plain, spec, new RNG(4)).data);
    const [a, b] = [scaled, plain].map((c) => denoising(c, spec, { seed: 2 }).dataset);
    expect(a!.x.data).toEqual(b!.x.data);
    expect(Array.from(a!.y.data)).toEqual(Array.from(b!.y.data));
    // fit with BCE on the bytes as their own targets: the loss's target check sees values in [0, 1]
    const losses: number[][] = [];
    for (const images of [scaled, plain]) {
      const B = cpu();
      const net = new Sequential([new Linear(6, 6, { backend: B, rng: new RNG(1) }), new Sigmoid()]);
      losses.push((await fit(net, new BCELoss(), new SGD(net.parameters(), { lr: 0.5 }), reconstructionDataset(images), { epochs: 2, batchSize: 16, progress: false })).loss);
    }
    expect(losses[0]).toEqual(losses[1]);
  });
});
