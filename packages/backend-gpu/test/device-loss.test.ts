/** A lost device must surface as a BackendError naming the op, never as garbage (own file: it kills the shared device). */
import { expect, it } from 'vitest';
import { BackendError } from '@neurone/core';
import * as gpujs from 'gpu.js';
import { gpu } from '../src/index';
import { requireMode } from './helpers';

requireMode('webgpu');

it('after the WebGPU device is lost, reading an op throws a BackendError naming the op', async () => {
  const G = await gpu({ mode: 'webgpu' }).ready();
  const x = G.tensor([1, 2, 3], [3]);
  expect(Array.from(await G.unary('square', x).data())).toEqual([1, 4, 9]);
  const ctx = await (gpujs as unknown as { WebGPUContext: { acquire(): Promise<{ device: { destroy(): void; lost: Promise<unknown> } }> } }).WebGPUContext.acquire();
  ctx.device.destroy();
  await ctx.device.lost;
  const y = G.unary('tanh', x);
  await expect(y.data()).rejects.toThrow(BackendError);
  const err = await y.data().then(() => undefined, (e: unknown) => e as Error);
  console.log(String(err));
  expect(err?.message).toMatch(/^tanh: the WebGPU device was lost/);
  // a new backend gets a new device
  const G2 = await gpu({ mode: "webgpu" }).ready();
  expect(Array.from(await G2.unary("square", G2.tensor([3], [1])).data())).toEqual([9]);
});
