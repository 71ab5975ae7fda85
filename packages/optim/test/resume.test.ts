import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

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
