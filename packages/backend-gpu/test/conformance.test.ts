/**
 * The conformance suite of @neurone/core on the modes that run in Node: webgpu through Dawn
 * (on a machine without a GPU: Dawn's OpenGL ES backend over Mesa llvmpipe) and webasm.
 * Chromium's WebGL2 and WebGPU run the same suite in browser.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '@neurone/core/testing';
import { gpu } from '../src/index';
import { DAWN_GLES_APT, requireMode } from './helpers';
import { CONFORMANCE_TOLERANCE } from './tolerances';

requireMode('webgpu');
requireMode('webasm');

describe('webgpu device (Dawn)', () => {
  beforeAll(async () => {
    try {
      await gpu({ mode: 'webgpu' }).ready();
    } catch (e) {
      throw new Error(`${(e as Error).message}. Without a GPU, Dawn needs Mesa's EGL/GLES: apt-get install -y ${DAWN_GLES_APT} (EGL_PLATFORM=surfaceless is set by the backend)`);
    }
  }, 60_000);
  it('answers: a product computed on the device comes back, and the mode is the one asked for', async () => {
    const B = await gpu({ mode: 'webgpu' }).ready();
    expect(B.mode).toBe('webgpu');
    expect(B.canReadSync).toBe(false);
    const c = B.matmul(B.tensor([1, 2, 3, 4], [2, 2]), B.tensor([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await c.data())).toEqual([19, 22, 43, 50]);
    expect(() => c.dataSync()).toThrow(/dataSync: gpu\(webgpu\) reads only asynchronously; use await t.data\(\)/);
  });
});

runConformance('gpu(webgpu) in Node (Dawn)', () => gpu({ mode: 'webgpu' }), { describe, it }, CONFORMANCE_TOLERANCE);
runConformance('gpu(webasm) in Node', () => gpu({ mode: 'webasm' }), { describe, it }, CONFORMANCE_TOLERANCE);
