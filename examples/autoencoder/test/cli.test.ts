import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@neurone/core';
import { embeddedPngSizes, expectHelp, expectUsageError, pngSize, runAppProcess, tempDir } from '@example/common/testing';

/** The app run as a user runs it: `node --import tsx src/main.ts` in examples/autoencoder. */
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = tempDir('autoencoder-cli');
afterAll(tmp.remove);

describe('pnpm autoencoder, the command line', () => {
  it('--help prints the usage and every option with its default', async () => {
    await expectHelp(app, ['--help'], 'autoencoder', ['--backend KIND', '--preset NAME', '--epochs N', '--quick', '--limit N', '--subset N', '--kmeans-restarts N', '--out DIR'], /--subset N +.*\[default: 5000\]/);
  });

  it('a bad option: exit code 2, one line on stderr, no stack trace, nothing done before', async () => {
    await expectUsageError(app, ['--preset', 'w4'], 'autoencoder: --preset w4: expected one of w3, tuned (see --help)');
  });

  it('--quick writes every picture, the weights and results.json to --out', async () => {
    const out = join(tmp.dir, 'run');
    const r = await runAppProcess(app, ['--quick', '--limit', '1000', '--subset', '300', '--kmeans-restarts', '1', '--no-progress', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(res).toMatchObject({ quick: true, trainSamples: 1000, testSamples: 500, clustering: { subset: 300 } });
    expect(res.reconstruction.map((x: { latent: number }) => x.latent)).toEqual([32, 8, 2]);
    for (const x of res.reconstruction) expect(x.testBcePerPixel[0]).toBeLessThan(0.5); // ln 2 ≈ 0.69 is a constant 0.5 output
    // 4 rows (originals, codes 32, 8, 2) × 20 digits of 28×2 px, 2 px gutters
    expect(pngSize(join(out, 'reconstructions.png'))).toEqual([20 * 58 + 2, 4 * 58 + 2]);
    expect(pngSize(join(out, 'denoising.png'))).toEqual([20 * 58 + 2, 4 * 58 + 2]);
    for (const [file, x, y] of [['latent2d.svg', 'code unit 1', 'code unit 2'], ['umap32.svg', 'UMAP 1', 'UMAP 2']] as const) {
      const svg = readFileSync(join(out, file), 'utf8');
      expect(svg).toContain(`>${x}</text>`);
      expect(svg).toContain(`>${y}</text>`);
      expect(embeddedPngSizes(svg)).toHaveLength(11); // the points, and the 10 legend digits
    }
    expect(readFileSync(join(out, 'curves.svg'), 'utf8').match(/<polyline/g)).toHaveLength(4);
    const w = decodeSafetensors(readFileSync(join(out, 'weights32.safetensors')));
    expect(Object.values(w).map((t) => t.shape)).toContainEqual([32, 128]);
  });
});
