import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DataError, RNG, ValueError, fromBytes, parseSafetensors, toBytes } from '../src/index';
import { load, save } from '../src/node';

/** Fails the next write of a FileHandle after `after` bytes, as a full disk would. */
const failure = vi.hoisted(() => ({ armed: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const h = await real.open(...args);
      if (!failure.armed) return h;
      const write = h.write.bind(h) as (b: Uint8Array, o: number, l: number) => Promise<{ bytesWritten: number }>;
      (h as unknown as { write: unknown }).write = async (b: Uint8Array, o: number, l: number) => {
        if (o > 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        return write(b, o, Math.min(l, 1000));
      };
      return h;
    },
  };
});

const model = {
  '0.weight': { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  '0.bias': { shape: [2], data: new Float64Array([0.5, -0.25]) },
};
const optimizer = {
  stateDict: () => ({ type: 'Adam', hyper: { lr: 0.01, betas: [0.9, 0.999] }, step: 7, state: { '0': { expAvg: { shape: [2], data: new Float64Array([1e-9, 3]) } } } }),
};

describe('toBytes / fromBytes', () => {
  it('round-trips weights, optimizer, scheduler, epoch, rng and metadata exactly', async () => {
    const rng = new RNG(9);
    rng.normal(); // leaves a spare
    const bytes = await toBytes({ model, optimizer, scheduler: { stateDict: () => ({ lastEpoch: 2, baseLr: 0.1 }) }, epoch: 2, rng, metadata: { note: 'hi' } });
    const c = fromBytes(bytes, 'ck.safetensors');
    expect(Object.keys(c.weights)).toEqual(['0.weight', '0.bias']);
    expect(c.weights['0.weight']!.data).toEqual(model['0.weight'].data);
    expect(c.weights['0.bias']!.data).toBeInstanceOf(Float64Array);
    expect(JSON.parse(JSON.stringify(c.optimizer, (_, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)))).toEqual({
      type: 'Adam', hyper: { lr: 0.01, betas: [0.9, 0.999] }, step: 7, state: { '0': { expAvg: { shape: [2], data: [1e-9, 3] } } },
    });
    expect({ ...c.scheduler }).toEqual({ lastEpoch: 2, baseLr: 0.1 });
    expect(c.epoch).toBe(2);
    expect(c.rng).toEqual(rng.getState());
    expect(RNG.fromState(c.rng!).random()).toBe(rng.random());
    expect({ ...c.metadata }).toEqual({ format: 'pt', note: 'hi' });
    // a PyTorch reader sees the weights under their names, the optimizer tensors under a prefix
    expect(Object.keys(parseSafetensors(bytes).tensors)).toEqual(['0.weight', '0.bias', '__optimizer__/state/0/expAvg']);
  });

  it('refuses unknown keys, reserved metadata and bad values with a ValueError', async () => {
    await expect(toBytes({ model, epochs: 3 } as never)).rejects.toThrow(/unknown key 'epochs'; valid keys: model, optimizer, scheduler, epoch, rng, metadata/);
    await expect(toBytes({ model, metadata: { 'neurone.epoch': '1' } })).rejects.toThrow(ValueError);
    await expect(toBytes({ model, epoch: -1 })).rejects.toThrow(/epoch must be a non-negative integer/);
    await expect(toBytes({ model, rng: { s: [0, 0, 0, 0], spare: null } })).rejects.toThrow(ValueError);
    await expect(toBytes({ model: { w: null } as never })).rejects.toThrow(/weight 'w' is not a tensor/);
  });

  it('reads a plain safetensors file as weights only, and names the source on bad metadata', async () => {
    const c = fromBytes(await toBytes({ model }));
    expect(c.optimizer).toBeUndefined();
    expect(c.epoch).toBeUndefined();
    const bad = await toBytes({ model, epoch: 1 });
    const at = new TextDecoder('latin1').decode(bad).indexOf('"neurone.epoch":"1"') + '"neurone.epoch":"'.length;
    const patched = bad.slice();
    patched[at] = 'x'.charCodeAt(0); // same length: the file stays well-formed
    expect(() => fromBytes(patched, 'ck.st')).toThrow(/^ck\.st: neurone\.epoch must be a non-negative integer/);
  });
});

describe('save / load (Node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-ckpt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads a checkpoint file', async () => {
    const path = join(dir, 'a.safetensors');
    await save(path, { model, optimizer, epoch: 4 });
    const c = await load(path);
    expect(c.epoch).toBe(4);
    expect(c.weights['0.bias']!.data).toEqual(model['0.bias'].data);
    await expect(load(join(dir, 'missing'))).rejects.toThrow(DataError);
  });

  it('a write that fails midway leaves the previous file intact and decodable, says why, and leaves no temp file', async () => {
    const path = join(dir, 'b.safetensors');
    await save(path, { model, epoch: 1 });
    const before = readFileSync(path);
    failure.armed = true;
    const big = { w: { shape: [100_000], data: new Float32Array(100_000).fill(7) } };
    try {
      await expect(save(path, { model: big, epoch: 2 })).rejects.toThrow(DataError);
      await expect(save(path, { model: big, epoch: 2 })).rejects.toThrow(/b\.safetensors: could not write the file \(ENOSPC: no space left on device\); the previous file, if any, is unchanged/);
    } finally {
      failure.armed = false;
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    expect((await load(path)).epoch).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an existing file in the way of the temp folder: a DataError naming the path', async () => {
    const notDir = join(dir, 'plainfile');
    writeFileSync(notDir, 'x');
    await expect(save(join(notDir, 'c.safetensors'), { model })).rejects.toThrow(/c\.safetensors: could not write the file \(ENOTDIR/);
  });
});
