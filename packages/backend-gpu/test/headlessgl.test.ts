/**
 * headless-gl (npm `gl`, WebGL 1 through ANGLE) in Node: the conformance and module conformance suites, W2 parity with
 * cpu() and flat memory over 500 steps. Without a display the test starts its own Xvfb (Debian
 * package `xvfb`), so on a machine without a GPU this runs on Mesa llvmpipe through GLX.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backend } from '@neurone/core';
import { referenceKernels, runConformance, runModuleConformance } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { CONFORMANCE_TOLERANCE, PARITY_RTOL } from './tolerances';
import { SMALL, W2, curveGap, memoryProbe, trainCurve } from './workloads';
import { MODULE_LIBRARY, MODULE_TOLERANCE } from './modules';

let xvfb: ChildProcess | undefined;

/** Sets DISPLAY, starting Xvfb on a free display number when none is set. */
async function ensureDisplay(): Promise<void> {
  if (process.env.DISPLAY) return;
  for (let n = 91; n < 120; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const proc = spawn('Xvfb', [`:${n}`, '-screen', '0', '64x64x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    const failed = new Promise<Error>((resolve) => proc.once('error', resolve));
    for (let i = 0; i < 100; i++) {
      const err = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(r, 100, undefined))]);
      if (err) throw new Error(`cannot start Xvfb (${err.message}): apt-get install -y xvfb xauth`);
      if (existsSync(`/tmp/.X11-unix/X${n}`)) {
        xvfb = proc;
        process.env.DISPLAY = `:${n}`;
        return;
      }
    }
    proc.kill();
  }
  throw new Error('no free X display number for Xvfb in :91–:119');
}

await ensureDisplay();
// gpu.js looks for a headless-gl context when first asked: import it only once DISPLAY is set
const { gpu } = await import('../src/index');
const { requireMode } = await import('./helpers');
requireMode('headlessgl');

afterAll(() => {
  xvfb?.kill();
});

runConformance('gpu(headlessgl) in Node under X', () => gpu({ mode: 'headlessgl' }), { describe, it }, CONFORMANCE_TOLERANCE);
runModuleConformance('gpu(headlessgl) in Node under X', () => gpu({ mode: 'headlessgl' }), () => new Backend(referenceKernels()), MODULE_LIBRARY, { describe, it }, MODULE_TOLERANCE);

describe('headlessgl training', () => {
  let ref: number[] = [];
  beforeAll(async () => {
    ref = (await trainCurve(cpu(), W2)).losses;
  }, 120_000);

  it(`W2: 200 steps follow the cpu loss curve within ${PARITY_RTOL} relative`, async () => {
    const B = gpu({ mode: 'headlessgl' });
    const { losses, ms } = await trainCurve(B, W2);
    const gap = curveGap(losses, ref);
    console.log(`${B.name}: W2 ${W2.steps} steps in ${(ms / 1000).toFixed(1)} s; max relative loss gap ${gap.maxRel.toExponential(2)} at step ${gap.at}`);
    expect(losses).toHaveLength(W2.steps);
    expect(gap.maxRel).toBeLessThanOrEqual(PARITY_RTOL);
    expect(losses[W2.steps - 1]!).toBeLessThan(losses[0]!);
    expect(B.memory().tensors).toBe(0);
  }, 300_000);

  it('tensors and their textures are flat from step 10 to step 500', async () => {
    const B = gpu({ mode: 'headlessgl' });
    const r = await memoryProbe(B, SMALL, () => ({ ...B.memory() }));
    console.log(`gpu(headlessgl) memory after 10 steps ${JSON.stringify(r.warm)}, after 500 ${JSON.stringify(r.end)}`);
    expect(r.end).toEqual(r.warm);
    expect(Number.isFinite(r.lastLoss)).toBe(true);
    expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
  }, 300_000);
});

describe('headlessgl device errors', () => {
  // Last in this file: a GL error retires the shared context, and the next backend starts afresh.
  it('a GL error flag raised on the context makes the next read throw a BackendError naming the op, never values', () => {
    const B = gpu({ mode: 'headlessgl' });
    const x = B.tensor([1, 2, 3], [3]);
    expect(Array.from(B.unary('square', x).dataSync())).toEqual([1, 4, 9]);
    const gl = B.glContext as { bindTexture(target: number, t: null): void; getError(): number };
    gl.bindTexture(0x1234, null); // an invalid target: the context raises GL_INVALID_ENUM
    const y = B.unary('tanh', x);
    expect(() => y.dataSync()).toThrow(/^tanh: gpu\(headlessgl\) reported GL_INVALID_ENUM at or before this op; its results cannot be trusted/);
    // the context is retired: later ops on this backend fail too, naming themselves
    expect(() => B.unary('abs', x)).toThrow(/^abs: the headlessgl context failed earlier \(GL_INVALID_ENUM\); create a new backend/);
    // a new backend gets a new context
    const B2 = gpu({ mode: 'headlessgl' });
    expect(Array.from(B2.unary('square', B2.tensor([3], [1])).dataSync())).toEqual([9]);
  });
});
