import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { fromOnnx } from '@neurone/onnx';
import { expectHelp, expectUsageError, runAppProcess, tempDir } from '@example/common/testing';

/** The app run as a user runs it: `node --import tsx src/main.ts` in examples/mnist. */
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('mnist-cli');
afterAll(tmp.remove);

describe('pnpm mnist, the command line', () => {
  it('--help (also after the `--` that pnpm passes through) prints the usage and every option with its default', async () => {
    for (const args of [['--help'], ['--', '--help']]) await expectHelp(app, args, 'mnist', ['--backend KIND', '--preset NAME', '--epochs N', '--lr X', '--batch-size N', '--limit N', '--out DIR', '--onnx FILE', '--progress', '--verbose'], /--batch-size N +mini-batch size \[default: 64\]/);
  });

  it('a bad option: exit code 2, one line on stderr, no stack trace, and nothing done before', async () => {
    await expectUsageError(app, ['--epochs', 'abc'], 'mnist: --epochs "abc": expected an integer (see --help)'); // MNIST was not loaded, no model was built
  });

  it('a short real run writes curves.svg, metrics.json and weights.safetensors to --out, and the model as ONNX to --onnx', async () => {
    const out = join(tmp.dir, 'run');
    const r = await runAppProcess(app, ['--epochs', '1', '--limit', '3000', '--no-progress', '--out', out, '--onnx', join(out, 'mnist.onnx')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('MNIST: 3000 training and 3000 test images');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ epochs: 1, batchSize: 64, samples: { train: 3000, test: 3000 } });
    expect(metrics.history).toHaveLength(1);
    expect(metrics.accuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(metrics.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3000);
    expect(r.stdout).toContain(`test accuracy ${(metrics.accuracy * 100).toFixed(2)} % after 1 epochs`);
    const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    const weights = decodeSafetensors(readFileSync(join(out, 'weights.safetensors')));
    expect(Object.values(weights).map((t) => t.shape)).toEqual([[256, 784], [256], [10, 256], [10]]);
    // the ONNX file holds the same weights, bit for bit
    const back = fromOnnx(readFileSync(join(out, 'mnist.onnx')), { backend: cpu() });
    expect(back.parameters().map((p) => Array.from(p.value.dataSync()))).toEqual(Object.values(weights).map((t) => Array.from(t.data)));
  });
});
