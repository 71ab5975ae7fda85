import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RNG, parseSafetensors } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential } from '../src/index';

/**
 * Files written by PyTorch (test/fixtures/pytorch/write_fixture.py, torch 1.13 from Debian): a
 * 4→8→3 MLP's state_dict as F32, F16 and BF16 safetensors, with its input and outputs.
 */
const dir = join(import.meta.dirname, 'fixtures', 'pytorch');
const ref = JSON.parse(readFileSync(join(dir, 'mlp.json'), 'utf8')) as { input: number[][]; output: number[][]; f16: Record<string, number[]>; bf16: Record<string, number[]> };

describe.each(['float32', 'float64'] as const)('a PyTorch safetensors file loads into the matching Sequential (%s)', (dtype) => {
  it("gives PyTorch's outputs on the fixed input", () => {
    const backend = cpu({ dtype });
    const net = new Sequential(new Linear(4, 8, { backend, rng: new RNG(1) }), new ReLU(), new Linear(8, 3, { backend, rng: new RNG(2) }));
    const file = parseSafetensors(readFileSync(join(dir, 'mlp.safetensors')), 'mlp.safetensors');
    expect(file.metadata.format).toBe('pt');
    expect(net.loadStateDict(file.tensors)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const y = net.forward(backend.tensor(ref.input.flat(), [5, 4]));
    const got = Array.from(y.dataSync());
    ref.output.flat().forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-6));
  });
});

describe('F16 and BF16 files written by PyTorch', () => {
  it.each(['f16', 'bf16'] as const)('%s values widen exactly as PyTorch widens them', (kind) => {
    const file = parseSafetensors(readFileSync(join(dir, `mlp-${kind}.safetensors`)));
    expect(Object.keys(file.tensors)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    for (const [k, r] of Object.entries(file.tensors)) {
      expect(file.dtypes[k]).toBe(kind === 'f16' ? 'F16' : 'BF16');
      expect(Array.from(r.data)).toEqual(ref[kind][k]);
    }
  });
});
