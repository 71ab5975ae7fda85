/**
 * A custom module written as a PyTorch user would (children as fields, no registration, a buffer)
 * moves to a GPU backend and back with its parameters and buffer, and trains there.
 */
import { describe, expect, it } from 'vitest';
import { Module, RNG, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, TanH } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { Optim, SGD } from '@neurone/optim';
import { gpu } from '../src/index';
import { requireMode } from './helpers';

requireMode('webasm');

class Residual extends Module {
  fc1: Linear;
  act = new TanH();
  fc2: Linear;
  constructor(backend: Backend) {
    super();
    this.fc1 = new Linear(3, 4, { backend, rng: new RNG(1) });
    this.fc2 = new Linear(4, 3, { backend, rng: new RNG(2) });
    this.registerBuffer('steps', backend.zeros([1]));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.setBuffer('steps', x.backend.affine(this.buffer('steps'), 1, 1));
    const { y, h, a } = tidy(() => {
      const h = this.fc1.forward(x);
      const a = this.act.forward(h);
      return { y: x.backend.binary('add', x, this.fc2.forward(a)), h, a };
    });
    this.saveForBackward(x, { h, a }, [h, a]);
    return y;
  }
  #back(x: Tensor, delta: Tensor, grads: boolean): Tensor {
    const { h, a } = this.savedOrThrow<{ h: Tensor; a: Tensor }>(x, 'backward');
    if (grads) this.fc2.backwardUpdateGradient(a, delta);
    const dh = this.act.backwardDelta(h, this.fc2.backwardDelta(a, delta));
    if (grads) this.fc1.backwardUpdateGradient(x, dh);
    return x.backend.binary('add', delta, this.fc1.backwardDelta(x, dh));
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    tidy(() => this.#back(x, delta, true));
  }
  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    return tidy(() => this.#back(x, delta, false));
  }
}

describe('a custom module with fields and a buffer on gpu()', () => {
  it('moves to gpu(webasm) and back with its 4 parameters and its buffer, and trains there', () => {
    const host = cpu();
    const m = new Residual(host);
    expect(m.parameters()).toHaveLength(4);
    const before = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
    const dev = gpu({ mode: 'webasm' });
    m.to(dev);
    expect([...m.parameters().map((p) => p.backend), ...m.namedBuffers().map(([, t]) => t.backend)].every((b) => b === dev)).toBe(true);
    const x = dev.tensor(new RNG(3).uniformArray(12, -1, 1), [4, 3]);
    const y = dev.tensor(new RNG(4).uniformArray(12, -1, 1), [4, 3]);
    const step = new Optim(m, new MSELoss(), new SGD(m, { lr: 0.1 }));
    const losses = Array.from({ length: 20 }, () => {
      const l = step.step(x, y);
      const v = l.item();
      l.dispose();
      return v;
    });
    expect(losses[19]).toBeLessThan(losses[0]!);
    m.to(host);
    const after = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.dataSync())]));
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after.steps).toEqual([20]);
    expect(after['fc1.weight']).not.toEqual(before['fc1.weight']);
  });
});
