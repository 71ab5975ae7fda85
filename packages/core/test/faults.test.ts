import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, RNG } from '../src/index';
import { save } from '../src/node';
import { bundleSaver } from './faults/bundle';
import { loadWhole } from './faults/whole';

/**
 * Fault injection on real processes: `save` killed with SIGKILL at random points, a full disk, a
 * read-only folder, concurrent writers. Whatever happens, `path` holds the old file or the new
 * one, whole. The CI runs a few kills; `node packages/core/test/faults/kill-loop.mjs` runs the
 * 50-kill loop and prints what it found. The children run faults/saver.ts, bundled once.
 */
const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'neurone-faults-'));
chmodSync(dir, 0o755); // reachable by the unprivileged child of the read-only test
const saver = bundleSaver(dir);

function start(args: string[], opts: { uid?: number; gid?: number } = {}): { child: ChildProcess; lines: string[]; next: () => Promise<string>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [saver, ...args], { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      lines.push(buf.slice(0, i));
      waiting.shift()?.(buf.slice(0, i));
    }
  });
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))); // exited and reaped
  return { child, lines, next: () => new Promise((resolve) => waiting.push(resolve)), done };
}

const temps = (folder: string): string[] => readdirSync(folder).filter((f) => f.endsWith('.tmp'));
const whole = (epoch: number, n = 1 << 16) => ({ model: { w: { shape: [n], data: new Float32Array(n).fill(epoch) } }, epoch });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('save under faults: the old file or the new one, always whole', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('kill -9 at random points of a save over an existing file (4 kills here; kill-loop.mjs runs 50); the next save leaves no temporary', async () => {
    const path = join(dir, 'killed.safetensors');
    await save(path, whole(0));
    const rng = new RNG(21);
    const seen = new Set<number>();
    for (let k = 1; k <= 4; k++) {
      const s = start([path, String(k * 1000), '1000', String(1 << 18)]); // 1 MiB per save, saving until killed
      await s.next(); // one save done: the child is in its loop
      await sleep(rng.random() * 40);
      s.child.kill('SIGKILL');
      await s.done;
      seen.add(await loadWhole(path)); // throws on a torn file
    }
    expect(seen.size).toBeGreaterThan(0);
    await save(path, whole(7));
    expect(temps(dir)).toEqual([]);
    expect(await loadWhole(path)).toBe(7);
  }, 60_000);

  it('a full disk: save throws a DataError saying why, the old file is intact, no temporary is left', async () => {
    // a real full disk: a 256 KiB tmpfs where this process may mount one, else a file-size limit (EFBIG) in a child
    const mnt = join(dir, 'small');
    mkdirSync(mnt);
    const mounted = isRoot && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status === 0;
    try {
      const path = join(mounted ? mnt : dir, 'full.safetensors');
      await save(path, whole(1, 1 << 14)); // 64 KiB: fits
      const before = readFileSync(path);
      if (mounted) {
        await expect(save(path, whole(2, 1 << 17))).rejects.toThrow(DataError); // 512 KiB: does not
        await expect(save(path, whole(2, 1 << 17))).rejects.toThrow(/full\.safetensors: could not write the file \(ENOSPC: no space left on device/);
      } else {
        const r = spawnSync('bash', ['-c', 'ulimit -f 256; exec "$@"', 'sh', process.execPath, saver, path, '2', '1', String(1 << 17)], { encoding: 'utf8' });
        expect(r.status).toBe(3);
        expect(r.stdout).toMatch(/^DataError: .*full\.safetensors: could not write the file \(EFBIG: file too large/);
      }
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(await loadWhole(path)).toBe(1);
      expect(temps(mounted ? mnt : dir)).toEqual([]);
    } finally {
      if (mounted) spawnSync('umount', [mnt]);
    }
  });

  it('a read-only folder: a DataError naming the path and EACCES, the old file intact', async () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const path = join(ro, 'ck.safetensors');
    await save(path, whole(1));
    chmodSync(path, 0o644);
    chmodSync(ro, 0o555);
    try {
      // root writes anywhere: the child runs as nobody there
      const s = start([path, '2', '1', '1024'], isRoot ? { uid: 65534, gid: 65534 } : {});
      const line = await s.next();
      expect(await s.done).toBe(3);
      expect(line).toMatch(/^DataError: .*ck\.safetensors: could not write the file \(EACCES: permission denied.*\); the previous file, if any, is unchanged$/);
      expect(await loadWhole(path)).toBe(1);
      expect(temps(ro)).toEqual([]);
    } finally {
      chmodSync(ro, 0o755);
    }
  }, 30_000);

  it('three processes saving to one path while this one loads: every load is whole, no temporary is left', async () => {
    const path = join(dir, 'shared.safetensors');
    await save(path, whole(0));
    const writers = [1, 2, 3].map((w) => start([path, String(w * 1000), '12', String(1 << 16)]));
    let running = true;
    void Promise.all(writers.map((w) => w.done)).then(() => (running = false));
    const epochs = new Set<number>();
    let loads = 0;
    while (running) {
      epochs.add(await loadWhole(path)); // throws on a torn file
      loads++;
      await sleep(1);
    }
    expect((await Promise.all(writers.map((w) => w.done))).every((c) => c === 0)).toBe(true);
    expect(writers.map((w) => w.lines.length)).toEqual([12, 12, 12]);
    expect(loads).toBeGreaterThan(0);
    const last = await loadWhole(path);
    expect([1011, 2011, 3011]).toContain(last); // the last rename wins, whole
    expect(temps(dir)).toEqual([]);
  }, 60_000);
});
