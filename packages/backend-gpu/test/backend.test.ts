import { describe, expect, it } from 'vitest';
import { BackendError, BackendMismatchError, ValueError } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { GpuBackend, GpuKernels, KERNEL_CACHE_SIZE, availableModes, gpu, modeAvailability } from '../src/index';
import { requireMode } from './helpers';

requireMode('webgpu');

describe('gpu(): choosing a mode', () => {
  it('names the mode actually used; auto picks the best available one (webgpu here) and says so', async () => {
    expect(gpu({ mode: 'webgpu' }).name).toBe('gpu(webgpu)');
    expect(gpu({ mode: 'webasm' }).name).toBe('gpu(webasm)');
    const auto = gpu();
    expect(auto).toBeInstanceOf(GpuBackend);
    expect(auto.name).toBe('gpu(webgpu)');
    expect(auto.mode).toBe('webgpu');
    expect(await availableModes()).toEqual(['webgpu', 'webasm']);
  });

  it('throws a BackendError listing the available modes for a mode that is not available', () => {
    const av = modeAvailability();
    expect(av.webgl2).not.toBe(true);
    expect(() => gpu({ mode: 'webgl2' })).toThrow(BackendError);
    expect(() => gpu({ mode: 'webgl2' })).toThrow(/mode 'webgl2' is not available.*available modes: webgpu, webasm/);
    expect(() => gpu({ mode: 'headlessgl' })).toThrow(/available modes: webgpu, webasm/);
    expect(() => gpu({ mode: 'metal' as never })).toThrow(ValueError);
  });

  it('reads only asynchronously on webgpu, synchronously too on webasm', async () => {
    const G = gpu({ mode: 'webgpu' });
    expect(G.canReadSync).toBe(false);
    expect(G.dtype).toBe('float32');
    const t = G.tensor([1, 2, 3], [3]);
    expect(() => t.dataSync()).toThrow(BackendError);
    expect(() => t.dataSync()).toThrow(/dataSync.*await t\.data\(\)/);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    const k = new GpuKernels('webasm');
    const W = new GpuBackend(k);
    expect(W.canReadSync).toBe(true);
    expect(Array.from(W.tensor([4, 5], [2]).dataSync())).toEqual([4, 5]);
  });

  it('ops are synchronous calls returning handles; a chain of them resolves on read (webgpu)', async () => {
    const G = gpu({ mode: 'webgpu' });
    const x = G.tensor([0.5, -1, 2, 3], [2, 2]);
    // ((x·xᵀ) + 1) → tanh → sum over rows, all issued before any read
    const y = G.sum(G.unary('tanh', G.affine(G.matmul(x, x, false, true), 1, 1)), 1);
    expect(y.shape).toEqual([2]);
    // x·xᵀ = [[1.25, -2], [-2, 13]] → +1 → tanh → row sums
    const expected = [Math.tanh(2.25) + Math.tanh(-1), Math.tanh(-1) + Math.tanh(14)];
    const got = await y.data();
    expect(got[0]).toBeCloseTo(expected[0]!, 6);
    expect(got[1]).toBeCloseTo(expected[1]!, 6);
  });

  it('refuses tensors of another backend with BackendMismatchError (cpu and gpu, two gpu modes)', () => {
    const G = gpu({ mode: 'webgpu' });
    const k = new GpuKernels('webasm');
    const W = new GpuBackend(k);
    const c = cpu().tensor([1, 2], [2]);
    expect(() => G.binary('add', G.tensor([1, 2], [2]), c)).toThrow(BackendMismatchError);
    expect(() => G.matmul(G.zeros([2, 2]), W.zeros([2, 2]))).toThrow(/matmul.*different backends.*gpu\(webgpu\).*gpu\(webasm\)/);
  });

  it('oneHot never reads the device: device-computed indices outside the range give rows of zeros (webgpu)', async () => {
    const G = gpu({ mode: 'webgpu' });
    const idx = G.argmax(G.tensor([0, 9, 1, 7, 3, 2], [2, 3]), 1); // [1, 0], computed on the device
    const ok = G.oneHot(idx, 2);
    expect(Array.from(await ok.data())).toEqual([0, 1, 1, 0]);
    const bad = G.oneHot(G.affine(idx, 1, 2), 3); // [3, 2]: the first is out of range
    expect(Array.from(await bad.data())).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('keeps at most KERNEL_CACHE_SIZE compiled kernels, destroying the least recently used', async () => {
    const k = new GpuKernels('webasm');
    const W = new GpuBackend(k);
    for (let n = 1; n <= KERNEL_CACHE_SIZE + 40; n++) W.unary('relu', W.zeros([n])).dispose();
    expect(k.cachedKernels).toBeLessThanOrEqual(KERNEL_CACHE_SIZE);
    // evicted shapes compile again and still compute
    expect(Array.from(await W.unary('relu', W.tensor([-1, 2], [2])).data())).toEqual([0, 2]);
  });

  it('sums long axes with a tree of passes (float32 accumulation stays accurate)', async () => {
    const G = gpu({ mode: 'webgpu' });
    const n = 100_000;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = ((i * 7919) % 1000) / 1000; // 0 … 0.999, sum known exactly below
    let ref = 0;
    for (let i = 0; i < n; i++) ref += v[i]!;
    const s = (await G.sum(G.tensor(v, [n])).data())[0]!;
    expect(Math.abs(s - ref) / ref).toBeLessThan(1e-6);
  });

  it('memory() counts handles and buffers; destroy() frees what a backend still holds', () => {
    const G = gpu({ mode: 'webgpu' });
    const a = G.tensor([1, 2, 3, 4], [4]);
    const v = G.reshape(a, [2, 2]);
    expect(G.memory()).toEqual({ tensors: 2, buffers: 1, bytes: 16 });
    a.dispose();
    v.dispose();
    expect(G.memory()).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    G.zeros([3]);
    G.destroy();
  });
});
