import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@neurone/core';
import { expectHelp, expectUsageError, pngSize, runAppProcess, tempDir } from '@example/common/testing';

/** The app run as a user runs it: `node --import tsx src/main.ts` in examples/conv. */
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('conv-cli');
afterAll(tmp.remove);

describe('pnpm conv, the command line', () => {
  it('--help prints the usage and every option with its default', async () => {
    await expectHelp(app, ['--', '--help'], 'conv', ['--model NAME', '--backend KIND', '--epochs N', '--lr X', '--batch-size N', '--limit N', '--out DIR', '--progress'], /--model NAME +which network \(conv2d \| conv1d \| bn\) \[default: conv2d\]/);
  });

  it('a bad option: exit code 2, one line on stderr, nothing done before', async () => {
    await expectUsageError(app, ['--model', 'conv3d'], 'conv: --model conv3d: expected one of conv2d, conv1d, bn (see --help)');
  });

  it('a short conv2d run writes curves.svg, filters.png, metrics.json and weights.safetensors', async () => {
    const out = join(tmp.dir, 'conv2d');
    const r = await runAppProcess(app, ['--epochs', '1', '--limit', '2000', '--no-progress', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('MNIST: 2000 training and 2000 test images as [n, 28, 28, 1]');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ model: 'conv2d', epochs: 1, batchSize: 64, samples: { train: 2000, test: 2000 } });
    expect(metrics.accuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(r.stdout).toContain(`conv2d: test accuracy ${(metrics.accuracy * 100).toFixed(2)} % after 1 epochs`);
    // 16 filters of 5×5 in 8 columns, each 5·12 pixels plus a 2-pixel gutter
    expect(pngSize(join(out, 'filters.png'))).toEqual([8 * 62 + 2, 2 * 62 + 2]);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8').match(/<polyline/g)).toHaveLength(3);
    const weights = decodeSafetensors(readFileSync(join(out, 'weights.safetensors')));
    expect(Object.values(weights).map((t) => t.shape)).toEqual([[5, 5, 1, 16], [16], [3, 3, 16, 32], [32], [128, 800], [128], [10, 128], [10]]);
  });

  it('--model conv1d trains the course network on 784×1 sequences', async () => {
    const out = join(tmp.dir, 'conv1d');
    const r = await runAppProcess(app, ['--model', 'conv1d', '--epochs', '1', '--limit', '3000', '--no-progress', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[n, 784, 1]');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ model: 'conv1d', samples: { train: 3000, test: 3000 } });
    expect(metrics.accuracy).toBeGreaterThan(0.4); // chance is 0.1
  });

  it('--model bn trains Conv → BatchNorm2d → ReLU → pool ×2, Dropout, AdamW + OneCycleLR', async () => {
    const out = join(tmp.dir, 'bn');
    const r = await runAppProcess(app, ['--model', 'bn', '--epochs', '1', '--limit', '2000', '--no-progress', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('AdamW, OneCycleLR');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ model: 'bn', samples: { train: 2000, test: 2000 } });
    expect(metrics.accuracy).toBeGreaterThan(0.5); // chance is 0.1; 88.40 % measured
  });
});
