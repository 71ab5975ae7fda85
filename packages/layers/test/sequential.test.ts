import { describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, LogSoftmax, ReLU, Sequential, Sigmoid, TanH } from '../src/index';
import { expectClose, rand } from './helpers';

const be = cpu({ dtype: 'float64' });

function mlp(backend: Backend = be, seed = 1): Sequential {
  const r = new RNG(seed);
  return new Sequential(
    new Linear(5, 4, { backend, rng: r }),
    new TanH(),
    new Linear(4, 3, { backend, rng: r }),
    new Sigmoid(),
    new Linear(3, 2, { backend, rng: r }),
  );
}

const grads = (m: Sequential): number[][] => m.parameters().map((p) => [...p.grad!.dataSync()]);

/** The seed's manual loop: forward module by module, then back, gradient and delta per module. */
function manualBackward(m: Sequential, x: Tensor, delta: Tensor): { grads: number[][]; dx: number[] } {
  const mods = [...m];
  const inputs = [x];
  for (const mod of mods.slice(0, -1)) inputs.push(mod.forward(inputs[inputs.length - 1]!));
  m.zeroGrad();
  let d = delta;
  for (let i = mods.length - 1; i >= 0; i--) {
    mods[i]!.backwardUpdateGradient(inputs[i]!, d);
    d = mods[i]!.backwardDelta(inputs[i]!, d);
  }
  const g = grads(m);
  m.zeroGrad();
  return { grads: g, dx: [...d.dataSync()] };
}

describe('Sequential backward', () => {
  const x = rand(be, [6, 5], 1);
  const delta = rand(be, [6, 2], 2);

  it('backwardUpdateGradient and backwardDelta match the per-module loop (cached and recomputed)', () => {
    const m = mlp();
    const ref = manualBackward(m, x, delta);
    // recomputed: no forward of x yet
    m.backwardUpdateGradient(x, delta);
    grads(m).forEach((g, i) => expectClose(g, ref.grads[i]!));
    expectClose(m.backwardDelta(x, delta).dataSync(), ref.dx);
    // cached: after forward(x)
    m.zeroGrad();
    m.forward(x).dispose();
    m.backwardUpdateGradient(x, delta);
    grads(m).forEach((g, i) => expectClose(g, ref.grads[i]!));
    expectClose(m.backwardDelta(x, delta).dataSync(), ref.dx);
  });

  it('backward(delta) does both in one sweep; inputGrad: false skips dL/dinput', () => {
    const m = mlp();
    const ref = manualBackward(m, x, delta);
    m.forward(x).dispose();
    const dx = m.backward(delta);
    grads(m).forEach((g, i) => expectClose(g, ref.grads[i]!));
    expectClose(dx.dataSync(), ref.dx);
    m.zeroGrad();
    m.forward(x).dispose();
    expect(m.backward(delta, { inputGrad: false })).toBeNull();
    grads(m).forEach((g, i) => expectClose(g, ref.grads[i]!));
  });

  it('inputGrad: false never calls the first module backwardDelta', () => {
    const m = mlp();
    const first = m.at(0);
    let calls = 0;
    const orig = first.backwardDelta.bind(first);
    first.backwardDelta = (i, d) => {
      calls++;
      return orig(i, d);
    };
    m.forward(x).dispose();
    m.backward(delta, { inputGrad: false });
    expect(calls).toBe(0);
    m.forward(x).dispose();
    m.backward(delta).dispose();
    expect(calls).toBe(1);
  });

  it('never reuses intermediates computed with parameters that changed since', () => {
    const m = mlp();
    m.forward(x).dispose();
    m.backward(delta, { inputGrad: false });
    m.updateParameters(0.5); // new parameter tensors: the cache of the forward above is stale
    m.zeroGrad();
    const ref = manualBackward(m, x, delta);
    m.backwardUpdateGradient(x, delta);
    grads(m).forEach((g, i) => expectClose(g, ref.grads[i]!));
    expectClose(m.backwardDelta(x, delta).dataSync(), ref.dx);
    // and backward() from the last forward, too
    m.zeroGrad();
    m.forward(x).dispose();
    m.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: v.dataSync().map((u) => u * 0.5) }])));
    const ref2 = manualBackward(m, x, delta);
    expectClose(m.backward(delta).dataSync(), ref2.dx);
    grads(m).forEach((g, i) => expectClose(g, ref2.grads[i]!));
  });

  it('backward before any forward, or after its input was disposed, is a clear error', () => {
    const m = mlp();
    expect(() => m.backward(delta)).toThrow(/Sequential\.backward.*forward/);
    const t = rand(be, [6, 5], 3);
    m.forward(t).dispose();
    t.dispose();
    expect(() => m.backward(delta)).toThrow(ValueError);
  });

  it('shape errors from a module inside name that module', () => {
    const m = mlp();
    expect(() => m.forward(be.zeros([2, 4]))).toThrow(ShapeError);
    expect(() => m.forward(be.zeros([2, 4]))).toThrow(/Linear\(5, 4\)/);
  });
});

describe('Sequential memory', () => {
  it('frees the previous intermediates on the next forward, never the input or the output', () => {
    const m = mlp();
    const x = rand(be, [3, 5], 1);
    const before = be.memory().tensors;
    const y1 = m.forward(x);
    // output + 4 kept intermediates (inputs of modules 1..4)
    expect(be.memory().tensors - before).toBe(5);
    const y2 = m.forward(x);
    expect(be.memory().tensors - before).toBe(6); // y1 still alive (the caller's), y2 + 4
    expect(x.isDisposed).toBe(false);
    expect(y1.isDisposed).toBe(false);
    y1.dispose();
    y2.dispose();
    m.clearCache();
    expect(be.memory().tensors).toBe(before);
  });

  it('keeps its intermediates alive through a tidy scope (it owns them)', () => {
    const m = mlp();
    const x = rand(be, [3, 5], 1);
    const d = rand(be, [3, 2], 2);
    const ref = manualBackward(m, x, d);
    tidy(() => {
      m.forward(x);
    });
    expectClose(m.backward(d).dataSync(), ref.dx);
  });

  it('in eval mode keeps nothing but the output, and backward still works', () => {
    const m = mlp().eval();
    const x = rand(be, [3, 5], 1);
    const d = rand(be, [3, 2], 2);
    const ref = manualBackward(m, x, d);
    const before = be.memory().tensors;
    const y = m.forward(x);
    expect(be.memory().tensors - before).toBe(1);
    const dx = m.backward(d);
    expectClose(dx.dataSync(), ref.dx);
    y.dispose();
    dx.dispose();
    m.zeroGrad();
    expect(be.memory().tensors).toBe(before);
  });

  it('stays flat over 1,000 training steps without tidy', () => {
    const b32 = cpu();
    const r = new RNG(3);
    const m = new Sequential(new Linear(8, 16, { backend: b32, rng: r }), new TanH(), new Linear(16, 4, { backend: b32, rng: r }), new ReLU(), new Linear(4, 3, { backend: b32, rng: r }), new LogSoftmax());
    const x = rand(b32, [10, 8], 1);
    const target = rand(b32, [10, 3], 2);
    const counts: Record<number, number> = {};
    for (let step = 1; step <= 1000; step++) {
      const y = m.forward(x);
      const g = b32.binary('sub', y, target); // d(½‖y − t‖²)/dy
      m.backward(g, { inputGrad: step % 2 === 0 ? false : true })?.dispose();
      m.updateParameters(0.01);
      m.zeroGrad();
      // the seed's separate calls too, on alternate steps
      if (step % 3 === 0) {
        m.backwardUpdateGradient(x, g);
        m.backwardDelta(x, g).dispose();
        m.zeroGrad();
      }
      g.dispose();
      y.dispose();
      if (step === 10 || step === 1000) counts[step] = b32.memory().tensors;
    }
    console.log(`live tensors after 10 steps: ${counts[10]}, after 1000 steps: ${counts[1000]}`);
    expect(counts[1000]).toBe(counts[10]);
  });
});

describe('Sequential state', () => {
  it('stateDict keys are PyTorch-style and loadStateDict copies values', () => {
    const a = mlp(be, 1);
    const b = mlp(be, 2);
    expect(Object.keys(a.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(a.loadStateDict(b.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const x = rand(be, [2, 5], 7);
    expectClose(a.forward(x).dataSync(), b.forward(x).dataSync(), 0);
  });

  it('strict loading rejects missing, unexpected and mis-shaped keys and changes nothing', () => {
    const m = mlp(be, 1);
    const snapshot = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, [...v.dataSync()]]));
    const other = mlp(be, 2).stateDict();
    const unchanged = () => {
      for (const [k, v] of Object.entries(m.stateDict())) expect([...v.dataSync()]).toEqual(snapshot[k]);
    };
    const missing = { ...other };
    delete missing['4.bias'];
    expect(() => m.loadStateDict(missing)).toThrow(/missing keys: 4\.bias/);
    unchanged();
    expect(() => m.loadStateDict({ ...other, '6.weight': be.zeros([1]) })).toThrow(/unexpected keys: 6\.weight/);
    unchanged();
    expect(() => m.loadStateDict({ ...other, '2.weight': be.zeros([4, 3]) })).toThrow(/2\.weight: shape \[4, 3\].*\[3, 4\]/);
    unchanged();
    expect(() => m.loadStateDict({ ...other, '0.bias': { shape: [4], data: [1, 2, 3] } })).toThrow(ValueError);
    unchanged();
  });

  it('non-strict loading returns missing and unexpected keys and loads the rest', () => {
    const m = mlp(be, 1);
    const other = mlp(be, 2).stateDict();
    const partial: Record<string, Tensor> = { '0.weight': other['0.weight']!, extra: be.zeros([2]) };
    const before = [...m.stateDict()['2.weight']!.dataSync()];
    const res = m.loadStateDict(partial, { strict: false });
    expect(res.missingKeys).toEqual(['0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(res.unexpectedKeys).toEqual(['extra']);
    expect([...m.stateDict()['0.weight']!.dataSync()]).toEqual([...other['0.weight']!.dataSync()]);
    expect([...m.stateDict()['2.weight']!.dataSync()]).toEqual(before);
    // mis-shaped values are refused even when not strict
    expect(() => m.loadStateDict({ '0.weight': be.zeros([5, 4]) }, { strict: false })).toThrow(/0\.weight/);
  });

  it('to(backend) moves between float64 and float32 CPU backends, outputs agree', () => {
    const b32 = cpu();
    const m = mlp(be, 4);
    const x64 = rand(be, [4, 5], 8);
    const y64 = m.forward(x64).dataSync();
    m.to(b32);
    for (const p of m.parameters()) expect(p.backend).toBe(b32);
    const x32 = b32.tensor(x64.dataSync(), x64.shape);
    const y32 = m.forward(x32);
    expect(y32.dtype).toBe('float32');
    expectClose(y32.dataSync(), y64, 1e-6);
    // backward works on the new backend (no stale cache from the old one)
    const d32 = b32.full([4, 2], 1);
    const dx = m.backward(d32);
    expect(dx.backend).toBe(b32);
    m.to(be);
    expectClose(m.forward(x64).dataSync(), y64, 1e-6);
    expect(() => m.forward(x32)).toThrow(/different backends/);
  });
});
