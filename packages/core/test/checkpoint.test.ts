import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsPromises from 'node:fs/promises';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DataError, RNG, ValueError, encodeSafetensors, fromBytes, parseSafetensors, toBytes } from '../src/index';
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

describe('toBytes never writes what load refuses', () => {
  const nanModel = { ...model, '0.bias': { shape: [2], data: new Float64Array([0.5, NaN]) } };
  const nanOptimizer = { stateDict: () => ({ ...optimizer.stateDict(), state: { '0': { expAvg: { shape: [2], data: new Float32Array([1, Infinity]) } } } }) };

  it('a NaN weight or a non-finite optimizer state: a ValueError naming the tensor and the value, nothing written', async () => {
    await expect(toBytes({ model: nanModel })).rejects.toThrow(ValueError);
    await expect(toBytes({ model: nanModel })).rejects.toThrow(/^toBytes: weight '0\.bias': value 1 is NaN, not a finite number; loadStateDict would refuse it, so nothing was written \(allowNonFinite: true writes it anyway\)$/);
    await expect(toBytes({ model, optimizer: nanOptimizer })).rejects.toThrow(/toBytes: optimizer state 'state\/0\/expAvg': value 1 is Infinity, not a finite number/);
    const dir = mkdtempSync(join(tmpdir(), 'neurone-nan-'));
    try {
      await expect(save(join(dir, 'n.safetensors'), { model: nanModel })).rejects.toThrow(ValueError);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('allowNonFinite: true writes them (the caller asked), and they read back as written', async () => {
    const c = fromBytes(await toBytes({ model: nanModel, optimizer: nanOptimizer, allowNonFinite: true }));
    expect(Number.isNaN(c.weights['0.bias']!.data[1])).toBe(true);
    expect(((c.optimizer!.state as Record<string, Record<string, { data: Float32Array }>>)['0']!.expAvg!.data)[1]).toBe(Infinity);
    await expect(toBytes({ model, allowNonFinite: 'yes' as never })).rejects.toThrow(/allowNonFinite must be a boolean, got yes/);
  });
});

describe('metadata walks are depth-capped: a typed error, never a stack overflow', () => {
  const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const file = (meta: Record<string, string>): Uint8Array => encodeSafetensors({ w: { shape: [1], data: new Float32Array([1]) } }, { 'neurone.checkpoint': '1', ...meta });

  it('optimizer or scheduler state nested 10,000 deep: a DataError naming the source', () => {
    expect(() => fromBytes(file({ 'neurone.optimizer': deep(10_000) }), 'deep.st')).toThrow(DataError);
    expect(() => fromBytes(file({ 'neurone.optimizer': deep(10_000) }), 'deep.st')).toThrow(/^deep\.st: neurone\.optimizer nests deeper than 64 levels$/);
    expect(() => fromBytes(file({ 'neurone.scheduler': `{"x":[${'['.repeat(10_000)}${']'.repeat(10_000)}]}` }), 'deep.st')).toThrow(/neurone\.scheduler nests deeper than 64 levels/);
    expect(fromBytes(file({ 'neurone.optimizer': deep(60) })).optimizer).toBeDefined(); // a deep but legal state still loads
  });

  it('a deep RNG state or a deep value in a tensor header: a DataError, not a RangeError', () => {
    expect(() => fromBytes(file({ 'neurone.rng': `{"s":${'['.repeat(10_000)}${']'.repeat(10_000)},"spare":null}` }), 'r.st')).toThrow(/^r\.st: neurone\.rng is not an RNG state \(RNG\.setState: expected .* got an object\)$/);
    const head = `{"w":{"dtype":"F32","shape":[${'['.repeat(10_000)}${']'.repeat(10_000)}],"data_offsets":[0,4]}}`;
    const bytes = new Uint8Array(8 + head.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(new TextEncoder().encode(head), 8);
    expect(() => parseSafetensors(bytes, 'h.st')).toThrow(DataError);
    expect(() => parseSafetensors(bytes, 'h.st')).toThrow(/holds an object, not a non-negative integer/);
  });

  it('a cyclic or 10,000-deep state given to toBytes: a ValueError', async () => {
    const cyclic: Record<string, unknown> = { type: 'X' };
    cyclic.self = cyclic;
    await expect(toBytes({ model, optimizer: { stateDict: () => cyclic } })).rejects.toThrow(/toBytes \(optimizer\): the state nests deeper than 64 levels at self\.self/);
    await expect(toBytes({ model, scheduler: { stateDict: () => JSON.parse(deep(10_000)) as unknown } })).rejects.toThrow(ValueError);
  });
});

describe('writeFileAtomic / load: permissions, symlinks, stale temporaries, non-regular files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const isRoot = process.getuid?.() === 0;

  it('a 0600 file stays 0600 (and keeps its owner); a new file is 0644 less the umask', async () => {
    const path = join(dir, 'private.safetensors');
    await save(path, { model, epoch: 1 });
    expect(statSync(path).mode & 0o777).toBe(0o644 & ~process.umask());
    chmodSync(path, 0o600);
    if (isRoot) chownSync(path, 65534, 65534); // root may keep another user's ownership
    const owner = statSync(path).uid;
    await save(path, { model, epoch: 2 });
    expect(statSync(path).mode & 0o7777).toBe(0o600);
    expect(statSync(path).uid).toBe(owner);
    expect((await load(path)).epoch).toBe(2);
    chmodSync(path, 0o640);
    await save(path, { model, epoch: 3 });
    expect(statSync(path).mode & 0o7777).toBe(0o640);
  });

  it('a symlink is followed: the file it points to gets the new checkpoint, the link stays a link', async () => {
    mkdirSync(join(dir, 'real'));
    const target = join(dir, 'real', 'ck.safetensors');
    await save(target, { model, epoch: 1 });
    const link = join(dir, 'latest.safetensors');
    symlinkSync(target, link);
    await save(link, { model, epoch: 5 });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect((await load(target)).epoch).toBe(5);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('temporaries left by a process that no longer runs are removed by the next save; a live one is kept', async () => {
    const path = join(dir, 'c.safetensors');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited and reaped
    const stale = join(dir, `.c.safetensors.${dead}.0123456789ab.tmp`);
    const live = join(dir, `.c.safetensors.${process.ppid}.0123456789ab.tmp`); // a running process (a concurrent writer)
    const other = join(dir, `.d.safetensors.${dead}.0123456789ab.tmp`); // another file's: not ours to judge
    for (const f of [stale, live, other]) {
      writeFileSync(f, 'partial');
      utimesSync(f, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }
    await save(path, { model });
    const left = readdirSync(dir).filter((f) => f.endsWith('.tmp')).sort();
    expect(left).toEqual([`.c.safetensors.${process.ppid}.0123456789ab.tmp`, `.d.safetensors.${dead}.0123456789ab.tmp`]);
    for (const f of [live, other]) rmSync(f);
  });

  it('load refuses a FIFO, a folder and a device with a DataError, without blocking', async () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    await expect(load(fifo)).rejects.toThrow(/pipe\.safetensors: not a regular file \(a FIFO\); a checkpoint is read from a file/);
    await expect(load(dir)).rejects.toThrow(/not a regular file \(a folder\)/);
    await expect(load('/dev/zero')).rejects.toThrow(DataError);
  });
});
