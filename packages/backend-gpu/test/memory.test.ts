/** No growth over 500 training-like steps: live tensors, and (webgpu) live Dawn buffers. */
import { expect, it } from 'vitest';
import { gpu } from '../src/index';
import { countGpuBuffers, requireMode } from './helpers';
import { SMALL, memoryProbe } from './workloads';

requireMode('webgpu');

it('webgpu: tensors, buffers and Dawn GPUBuffers are flat from step 10 to step 500', async () => {
  const count = countGpuBuffers();
  const B = await gpu({ mode: 'webgpu' }).ready();
  const r = await memoryProbe(B, SMALL, () => ({ ...B.memory(), gpuBuffers: count() }));
  console.log(`gpu(webgpu) memory after 10 steps ${JSON.stringify(r.warm)}, after 500 ${JSON.stringify(r.end)}`);
  expect(r.end).toEqual(r.warm);
  expect(r.warm.gpuBuffers).toBeGreaterThan(0);
  expect(Number.isFinite(r.lastLoss)).toBe(true);
  expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
}, 300_000);

it('webasm: tensors and buffers are flat from step 10 to step 500', async () => {
  const B = gpu({ mode: 'webasm' });
  const r = await memoryProbe(B, SMALL, () => ({ ...B.memory() }));
  expect(r.end).toEqual(r.warm);
  expect(B.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
}, 300_000);

it('a leak shows: one undisposed tensor per step is counted', async () => {
  const B = gpu({ mode: 'webgpu' });
  const x = B.tensor([1, 2, 3, 4], [4]);
  const before = B.memory().tensors;
  for (let i = 0; i < 20; i++) B.unary('tanh', x);
  expect(B.memory().tensors).toBe(before + 20);
  B.destroy();
});
