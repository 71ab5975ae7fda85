/**
 * W2 of bench/README.md — Linear(784,256) → TanH → Linear(256,10) → cross-entropy on logits,
 * SGD lr 0.1, batch 64 — trained 200 steps from the same seed and data on cpu() and on the GPU
 * backend (Node: webgpu through Dawn, webasm). The loss curves agree within 1e-3 relative at
 * every step. (Chromium's WebGL2 and WebGPU run it in browser.test.ts at hidden width 32: full
 * width takes minutes on SwiftShader.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { gpu } from '../src/index';
import { requireMode } from './helpers';
import { PARITY_RTOL } from './tolerances';
import { W2, curveGap, trainCurve } from './workloads';

requireMode('webgpu');

describe('W2 parity with cpu(), 200 steps', () => {
  let ref: number[] = [];
  beforeAll(async () => {
    ref = (await trainCurve(cpu(), W2)).losses;
  }, 120_000);

  for (const mode of ['webgpu', 'webasm'] as const) {
    it(`gpu(${mode}) follows the cpu loss curve within ${PARITY_RTOL} relative`, async () => {
      const B = await gpu({ mode }).ready();
      const { losses, ms } = await trainCurve(B, W2);
      const gap = curveGap(losses, ref);
      console.log(`${B.name}: W2 ${W2.steps} steps in ${(ms / 1000).toFixed(1)} s; max relative loss gap ${gap.maxRel.toExponential(2)} at step ${gap.at}`);
      expect(losses).toHaveLength(W2.steps);
      expect(gap.maxRel).toBeLessThanOrEqual(PARITY_RTOL);
      expect(losses[W2.steps - 1]!).toBeLessThan(losses[0]!); // it trains
      expect(B.memory().tensors).toBe(0);
    }, 300_000);
  }
});
