import { describe, expect, it } from 'vitest';
import { RNG, ValueError } from '@neurone/core';
import type { Backend, Module, Tensor } from '@neurone/core';
import { gradcheckModule } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { Linear, ReLU, Sequential, Sigmoid, TanH } from '../src/index';
import { expectClose, rand } from './helpers';

const be = cpu({ dtype: 'float64' });

/** encoder 5→3 (tanh), decoder 3→4 (sigmoid), as named children of one Sequential. */
function named(backend: Backend = be, seed = 1): Sequential {
  const r = new RNG(seed);
  return new Sequential({
    encoder: new Sequential(new Linear(5, 3, { backend, rng: r }), new TanH()),
    decoder: new Sequential(new Linear(3, 4, { backend, rng: r }), new Sigmoid()),
  });
}

/** The leaf modules, depth first (the seed's flat list of layers). */
function leaves(m: Module): Module[] {
  return m instanceof Sequential ? [...m].flatMap(leaves) : [m];
}

/** The seed's manual loop over the leaves: forward one by one, then back, gradient and delta per module. */
function manualBackward(m: Sequential, x: Tensor, delta: Tensor): { grads: number[][]; dx: number[] } {
  const mods = leaves(m);
  const inputs = [x];
  for (const mod of mods.slice(0, -1)) inputs.push(mod.forward(inputs[inputs.length - 1]!));
  m.zeroGrad();
  let d = delta;
  for (let i = mods.length - 1; i >= 0; i--) {
    mods[i]!.backwardUpdateGradient(inputs[i]!, d);
    d = mods[i]!.backwardDelta(inputs[i]!, d);
  }
  const grads = m.parameters().map((p) => [...p.grad!.dataSync()]);
  m.zeroGrad();
  return { grads, dx: [...d.dataSync()] };
}

/** act(x·Wᵀ + b) with plain loops; W is [out, in] row-major. */
function denseLoops(x: number[][], W: ArrayLike<number>, b: ArrayLike<number>, out: number, act: (v: number) => number): number[][] {
  return x.map((row) =>
    Array.from({ length: out }, (_, j) => {
      let s = b[j]!;
      for (let i = 0; i < row.length; i++) s += row[i]! * W[j * row.length + i]!;
      return act(s);
    }),
  );
}

describe('Sequential with named children', () => {
  it('registers the children under their names: stateDict keys, namedChildren, at, length, iteration', () => {
    const m = named();
    expect(Object.keys(m.stateDict())).toEqual(['encoder.0.weight', 'encoder.0.bias', 'decoder.0.weight', 'decoder.0.bias']);
    expect(m.namedChildren().map(([n]) => n)).toEqual(['encoder', 'decoder']);
    expect(m.length).toBe(2);
    expect(m.at(-1)).toBe(m.namedChildren()[1]![1]);
    expect([...m]).toEqual([m.at(0), m.at(1)]);
    expect(m.toString()).toMatch(/^Sequential\(\n  \(encoder\): Sequential\(\n    \(0\): Linear\(in_features=5/);
    // a flat record of layers works too, and append names the next one by its index
    const flat = new Sequential({ hidden: new Linear(4, 2, { backend: be }), act: new ReLU() });
    flat.append(new Linear(2, 1, { backend: be }));
    expect(Object.keys(flat.stateDict())).toEqual(['hidden.weight', 'hidden.bias', '2.weight', '2.bias']);
  });

  it('forward equals the formula computed with plain loops', () => {
    const m = named(be, 2);
    const p = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.dataSync()]));
    const x = rand(be, [3, 5], 3);
    const xv = x.dataSync();
    const rows = [0, 1, 2].map((n) => Array.from(xv.subarray(n * 5, n * 5 + 5)));
    const code = denseLoops(rows, p['encoder.0.weight']!, p['encoder.0.bias']!, 3, Math.tanh);
    const want = denseLoops(code, p['decoder.0.weight']!, p['decoder.0.bias']!, 4, (v) => 1 / (1 + Math.exp(-v)));
    const y = m.forward(x);
    expect(y.shape).toEqual([3, 4]);
    expectClose(y.dataSync(), want.flat(), 1e-14);
  });

  it('backward(δ), backwardUpdateGradient and backwardDelta match the seed loop over the leaves', () => {
    const m = named(be, 4);
    const x = rand(be, [3, 5], 5);
    const delta = rand(be, [3, 4], 6);
    const ref = manualBackward(m, x, delta);
    m.forward(x).dispose();
    const dx = m.backward(delta);
    m.parameters().forEach((p, i) => expectClose(p.grad!.dataSync(), ref.grads[i]!));
    expectClose(dx.dataSync(), ref.dx);
    // recomputed for another input tensor holding the same numbers
    m.zeroGrad();
    const x2 = be.tensor(x.dataSync(), x.shape);
    m.backwardUpdateGradient(x2, delta);
    m.parameters().forEach((p, i) => expectClose(p.grad!.dataSync(), ref.grads[i]!));
    expectClose(m.backwardDelta(x2, delta).dataSync(), ref.dx);
    // stale cache: parameters changed after forward
    m.zeroGrad();
    m.forward(x).dispose();
    m.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: v.dataSync().map((u) => u * 0.5) }])));
    const ref2 = manualBackward(m, x, delta);
    expectClose(m.backward(delta).dataSync(), ref2.dx);
    m.parameters().forEach((p, i) => expectClose(p.grad!.dataSync(), ref2.grads[i]!));
    expect(m.backward(delta, { inputGrad: false })).toBeNull();
  });

  for (const batch of [1, 3]) {
    it(`gradcheckModule in float64, batch ${batch}`, () => {
      const m = named(be, 7);
      const r = gradcheckModule(m, rand(be, [batch, 5], 8 + batch));
      expect(Object.keys(r.errors)).toEqual(['input', ...m.namedParameters().map(([n]) => `param:${n}`)]);
      expect(r.maxRelError).toBeLessThanOrEqual(1e-6);
    });
  }

  it('backward goes through a child Sequential in one sweep: each layer δ once', () => {
    const m = named(be, 9);
    const last = (m.at(1) as Sequential).at(-1); // the decoder's Sigmoid
    let calls = 0;
    const orig = last.backwardDelta.bind(last);
    last.backwardDelta = (i, d) => {
      calls++;
      return orig(i, d);
    };
    const x = rand(be, [2, 5], 10);
    const delta = rand(be, [2, 4], 11);
    const ref = manualBackward(m, x, delta);
    calls = 0;
    m.forward(x).dispose();
    expectClose(m.backward(delta).dataSync(), ref.dx);
    expect(calls).toBe(1);
  });

  it('dispose frees the caches of the children too', () => {
    const b32 = cpu();
    const before = b32.memory().tensors;
    const m = named(b32, 12);
    const x = rand(b32, [2, 5], 13);
    m.forward(x).dispose();
    x.dispose();
    m.dispose();
    expect(b32.memory().tensors).toBe(before);
  });

  it('rejects a non-Module child, a bad name and a name clash with a ValueError naming it', () => {
    expect(() => new Sequential({ encoder: new TanH(), decoder: 3 as never })).toThrow(ValueError);
    expect(() => new Sequential({ encoder: new TanH(), decoder: 3 as never })).toThrow(/Sequential: expected a Module for 'decoder', got 3/);
    expect(() => new Sequential({ 'a.b': new TanH() })).toThrow(/contain no '\.'.*'a\.b'/);
    const m = new Sequential({ act: new ReLU(), 2: new TanH() }); // JavaScript puts the key 2 first
    expect(m.namedChildren().map(([n]) => n)).toEqual(['2', 'act']);
    expect(() => m.append(new Sigmoid())).toThrow(ValueError);
    expect(() => m.append(new Sigmoid())).toThrow(/Sequential\.append: a child named '2' already exists/);
  });
});
