import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RNG } from '@neurone/core';
import { load, save } from '@neurone/core/node';
import { cpu } from '@neurone/backend-cpu';
import { Linear } from '@neurone/layers';

/**
 * Resume in a fresh process: 2 epochs, save (weights, Adam state, StepLR, epoch, shuffle RNG),
 * load in a new Node process, 1 more epoch == 3 epochs straight, bit for bit.
 */
const tsx = createRequire(import.meta.url).resolve('tsx');
const script = join(import.meta.dirname, 'resume', 'run.ts');
const run = (...args: string[]): void => {
  execFileSync(process.execPath, ['--conditions=@neurone/source', '--import', tsx, script, ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
};

describe('fit resumes from a checkpoint in a fresh process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-resume-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['float32', 'float64'])('%s: 2 epochs + save + load + 1 epoch is bit-identical to 3 epochs', (dtype) => {
    const ck = join(dir, `${dtype}.safetensors`);
    run(dtype, 'straight', '-', join(dir, `${dtype}-straight.json`));
    run(dtype, 'first', ck);
    run(dtype, 'resume', ck, join(dir, `${dtype}-resumed.json`));
    const straight = JSON.parse(readFileSync(join(dir, `${dtype}-straight.json`), 'utf8')) as { params: Record<string, string[]>; losses: string[]; lr: number };
    const resumed = JSON.parse(readFileSync(join(dir, `${dtype}-resumed.json`), 'utf8')) as typeof straight;
    expect(Object.keys(straight.params)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(resumed.params).toEqual(straight.params);
    expect(resumed.losses).toEqual(straight.losses.slice(2)); // the third epoch's loss, bit for bit
    expect(resumed.lr).toBe(straight.lr);
  });
});

describe('save under a full disk (ulimit -f in a child process) leaves the previous file intact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurone-ulimit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const child = join(import.meta.dirname, 'resume', 'save-big.ts');
  const node = (path: string) =>
    spawnSync(
      'bash',
      ['-c', `ulimit -f 512; exec "$0" --conditions=@neurone/source --import "$1" "$2" "$3"`, process.execPath, tsx, child, path],
      { encoding: 'utf8', timeout: 60_000 },
    );

  // Node ignores SIGXFSZ, so a write past the limit fails with EFBIG (in place, the old file was cut short)
  it('the write fails midway with EFBIG: save throws a DataError saying why, the old file is intact', async () => {
    const path = join(dir, 'good.safetensors');
    const good = new Linear(256, 256, { backend: cpu(), rng: new RNG(2) }); // 256 KiB of float32: fits under the limit
    await save(path, { model: good, epoch: 1 });
    const before = readFileSync(path);
    const r = node(path);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/^DataError: .*good\.safetensors: could not write the file \(EFBIG: file too large/);
    expect(readFileSync(path).equals(before)).toBe(true);
    const back = await load(path);
    expect(back.epoch).toBe(1);
    expect(back.weights.weight!.shape).toEqual([256, 256]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
