import { describe, expect, it, vi } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { BackendError, Module, RNG, ShapeError, keep } from '@neurone/core';
import type { Backend, Loss, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Adam, Optim, SGD, fit } from '../src/index';
import { stepLoss } from './helpers';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { TChain, regressionData, values } from './helpers';

/** The real layers, seeded. */
function mlp(backend: Backend, seed = 1): Sequential {
  return new Sequential(new Linear(4, 8, { backend, rng: new RNG(seed) }), new TanH(), new Linear(8, 2, { backend, rng: new RNG(seed + 1) }));
}

function data(backend: Backend, n = 32) {
  const { x, y } = regressionData(n, 4, 2);
  return { x: backend.tensor(x, [n, 4]), y: backend.tensor(y, [n, 2]) };
}

/** A garbage collector: node's, exposed at run time (same as --expose-gc), else undefined. */
function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

describe('Optim.step', () => {
  it('returns the loss of the batch before the update (checked against loss.forward)', () => {
    const backend = cpu({ dtype: 'float64' });
    const net = mlp(backend);
    const { x, y } = data(backend);
    const loss = new MSELoss();
    const before = loss.forward(y, net.forward(x));
    const expected = before.item();
    const optim = new Optim(net, loss, new SGD(net, { lr: 0.1 }));
    expect(stepLoss(optim, x, y)).toBeCloseTo(expected, 12);
    // the step went downhill
    expect(stepLoss(optim, x, y)).toBeLessThan(expected);
  });

  it('applies exactly one SGD step from a fresh gradient (plain-JS forward/backward of a linear model)', () => {
    const backend = cpu({ dtype: 'float64' });
    const lin = new Linear(3, 2, { backend, rng: new RNG(7) });
    const W = values(lin.weight.value);
    const bias = values(lin.bias!.value);
    const X = [0.5, -1, 2, 1.5, 0.25, -0.75]; // [2, 3]
    const Y = [1, 0, -1, 2]; // [2, 2]
    const x = backend.tensor(X, [2, 3]);
    const y = backend.tensor(Y, [2, 2]);
    const optim = new Optim(lin, new MSELoss(), new SGD(lin, { lr: 0.1 }));
    for (let rep = 0; rep < 2; rep++) stepLoss(optim, x, y); // the second step must not see the first's gradient
    // reference: two steps of gradient descent on MSELoss's mean over the 2 samples of ‖xWᵀ + b − y‖², in loops
    for (let rep = 0; rep < 2; rep++) {
      const gW = [0, 0, 0, 0, 0, 0];
      const gb = [0, 0];
      for (let i = 0; i < 2; i++)
        for (let o = 0; o < 2; o++) {
          let z = bias[o]!;
          for (let k = 0; k < 3; k++) z += X[i * 3 + k]! * W[o * 3 + k]!;
          const d = (2 / 2) * (z - Y[i * 2 + o]!);
          gb[o]! += d;
          for (let k = 0; k < 3; k++) gW[o * 3 + k]! += d * X[i * 3 + k]!;
        }
      gW.forEach((g, j) => (W[j] = W[j]! - 0.1 * g));
      gb.forEach((g, j) => (bias[j] = bias[j]! - 0.1 * g));
    }
    values(lin.weight.value).forEach((v, j) => expect(v).toBeCloseTo(W[j]!, 12));
    values(lin.bias!.value).forEach((v, j) => expect(v).toBeCloseTo(bias[j]!, 12));
  });

  it('decreases the loss on a simple regression (SGD with momentum, and Adam)', () => {
    for (const make of [(n: Sequential) => new SGD(n, { lr: 0.05, momentum: 0.9 }), (n: Sequential) => new Adam(n, { lr: 0.01 })]) {
      const backend = cpu();
      const net = mlp(backend);
      const { x, y } = data(backend, 64);
      const optim = new Optim(net, new MSELoss(), make(net));
      const first = stepLoss(optim, x, y);
      let last = first;
      for (let i = 0; i < 200; i++) last = stepLoss(optim, x, y);
      expect(last).toBeLessThan(first / 10);
    }
  });

  it("uses the net's backward(delta, { inputGrad: false }) when it has one, else backwardUpdateGradient", () => {
    const backend = cpu({ dtype: 'float64' });
    const seq = mlp(backend, 3);
    const chain = new TChain(new Linear(4, 8, { backend, rng: new RNG(3) }), new TanH(), new Linear(8, 2, { backend, rng: new RNG(4) }));
    const whole = vi.spyOn(seq, 'backward');
    const halves = vi.spyOn(seq, 'backwardUpdateGradient');
    const { x, y } = data(backend);
    const a = new Optim(seq, new MSELoss(), new SGD(seq, { lr: 0.1 }));
    const b = new Optim(chain, new MSELoss(), new SGD(chain, { lr: 0.1 }));
    for (let i = 0; i < 3; i++) expect(stepLoss(a, x, y)).toBeCloseTo(stepLoss(b, x, y), 12);
    expect(whole.mock.calls.map((c) => c[1])).toEqual([{ inputGrad: false }, { inputGrad: false }, { inputGrad: false }]);
    expect(halves).not.toHaveBeenCalled();
    expect(chain.calls.backwardUpdateGradient).toBe(3);
    seq.parameters().forEach((p, i) => expect(values(p.value)).toEqual(values(chain.parameters()[i]!.value)));
  });

  it('step never reads the device: it returns the loss tensor, which reads the same on every path', async () => {
    const b1 = cpu({ dtype: 'float64' });
    const b2 = cpu({ dtype: 'float64' });
    let reads = 0;
    const [rs, r] = [b2.readSync.bind(b2), b2.read.bind(b2)];
    b2.readSync = (t) => (reads++, rs(t));
    b2.read = (t) => (reads++, r(t));
    const n1 = mlp(b1);
    const n2 = mlp(b2);
    const d1 = data(b1);
    const d2 = data(b2);
    const o1 = new Optim(n1, new MSELoss(), new Adam(n1, { lr: 0.01 }));
    const o2 = new Optim(n2, new MSELoss(), new Adam(n2, { lr: 0.01 }));
    for (let i = 0; i < 3; i++) {
      const l = o2.step(d2.x, d2.y);
      expect(reads).toBe(0);
      expect(l.shape).toEqual([]);
      expect((await l.data())[0]).toBe(stepLoss(o1, d1.x, d1.y));
      l.dispose();
      reads = 0;
    }
  });

  it('step() works on a backend that reads only asynchronously (the caller awaits the loss)', async () => {
    const backend = cpu();
    const net = mlp(backend);
    const { x, y } = data(backend);
    Object.defineProperty(backend, 'canReadSync', { value: false });
    const optim = new Optim(net, new MSELoss(), new SGD(net, { lr: 0.1 }));
    const l = optim.step(x, y);
    expect(() => l.item()).toThrow(BackendError);
    expect(Number.isFinite((await l.data())[0])).toBe(true);
  });

  it('with backend.debugLeaks, step warns when live tensors grow step after step (losses kept undisposed), not otherwise', () => {
    const backend = cpu();
    const net = mlp(backend);
    const { x, y } = data(backend);
    const msgs: string[] = [];
    backend.debugLeaks = (m) => msgs.push(m);
    const optim = new Optim(net, new MSELoss(), new SGD(net, { lr: 0.01 }));
    for (let i = 0; i < 10; i++) optim.step(x, y).dispose();
    expect(msgs).toEqual([]);
    const kept = Array.from({ length: 6 }, () => optim.step(x, y));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^neurone: live tensors on cpu\(float32\) grew on 5 steps in a row: (\d+ → ){5}\d+ \(\+1 per step\)/);
    kept.forEach((t) => t.dispose());
  });

  it('with backend.debugLeaks, fit warns when a module keeps a tensor on every step, not otherwise', async () => {
    /** An identity that keeps (never disposes) a copy of its input: one leaked tensor per step. */
    class Hoarder extends Module {
      forward(x: Tensor): Tensor {
        keep(x.add(0));
        return x.add(0);
      }
      backwardDelta(_x: Tensor, delta: Tensor): Tensor {
        return delta.add(0);
      }
    }
    const backend = cpu();
    const { x, y } = data(backend);
    const msgs: string[] = [];
    backend.debugLeaks = (m) => msgs.push(m);
    const clean = mlp(backend);
    await fit(clean, new MSELoss(), new SGD(clean, { lr: 0.01 }), { x, y }, { epochs: 3, batchSize: 4, progress: false });
    expect(msgs).toEqual([]);
    const leaky = new Sequential(mlp(backend), new Hoarder());
    await fit(leaky, new MSELoss(), new SGD(leaky, { lr: 0.01 }), { x, y }, { epochs: 2, batchSize: 4, progress: false });
    expect(msgs.length).toBeGreaterThan(1); // 16 steps: the first window spans fit's setup, the next is the leak alone
    expect(msgs.at(-1)).toMatch(/^neurone: live tensors on cpu\(float32\) grew on 5 steps in a row: (\d+ → ){5}\d+ \(\+1 per step\)/);
  });

  it('a loss that does not reduce to one value is a ShapeError naming the shapes', () => {
    const backend = cpu();
    const net = mlp(backend);
    const { x, y } = data(backend);
    const perSample: Loss = { forward: (_y: Tensor, yhat: Tensor) => yhat.clone(), backward: (_y: Tensor, yhat: Tensor) => yhat.clone() };
    const before = backend.memory().tensors;
    expect(() => new Optim(net, perSample, new SGD(net, { lr: 0.1 })).step(x, y)).toThrow(ShapeError);
    expect(() => new Optim(net, perSample, new SGD(net, { lr: 0.1 })).step(x, y)).toThrow(/Optim.step: the loss must reduce to one value \(loss: \[32, 2\]/);
    expect(backend.memory().tensors).toBe(before); // the failed steps leaked nothing
  });
});

describe('Optim memory', () => {
  it.each([
    ['SGD with momentum', (n: Sequential) => new SGD(n, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
    ['Adam', (n: Sequential) => new Adam(n, { lr: 1e-3, weightDecay: 1e-4 })],
  ])('%s: 1,000 steps keep the tensor count and the heap flat', (label, make) => {
    const gc = getGc();
    const backend = cpu();
    const net = mlp(backend);
    const { x, y } = data(backend, 16);
    const optim = new Optim(net, new MSELoss(), make(net));
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    for (let i = 0; i < 10; i++) stepLoss(optim, x, y);
    const tensors10 = backend.memory().tensors;
    const bytes10 = backend.memory().bytes;
    const heap10 = heap();
    for (let i = 10; i < 1000; i++) stepLoss(optim, x, y);
    const heap1000 = heap();
    expect(backend.memory().tensors).toBe(tensors10);
    expect(backend.memory().bytes).toBe(bytes10);
    // parameters (4), their grads (4), the optimizer state (4 or 8), x and y
    expect(tensors10).toBe(4 + 4 + (optim.optimizer instanceof Adam ? 8 : 4) + 2);
    // Three warm windows of 1,000 steps each. A leak grows the heap in every window; JIT
    // compilation and V8's own bookkeeping show up in one window and not the next, so the
    // smallest window is the one that measures leaks.
    const windows: number[] = [];
    let last = heap1000;
    for (let w = 0; w < 3; w++) {
      for (let i = 0; i < 1000; i++) stepLoss(optim, x, y);
      const now = heap();
      windows.push(now - last);
      last = now;
    }
    expect(backend.memory().tensors).toBe(tensors10);
    const early = heap1000 - heap10;
    const steady = Math.min(...windows);
    console.log(
      `[optim memory] ${label}: tensors ${tensors10} at step 10 = ${backend.memory().tensors} at step 4000; ` +
        `heapUsed +${early} B (steps 10→1000, JIT warm-up included), per 1,000 warm steps: ${windows.map((d) => `${d >= 0 ? '+' : ''}${d}`).join(', ')} B, gc ${gc ? 'on' : 'off'}`,
    );
    // Bounds. With gc: 2 MiB over steps 10→1000 (the V8 heap also holds the code JIT-compiled
    // meanwhile), 256 KiB for the quietest of the three warm windows: a leak of 270 bytes or more
    // per step exceeds it in every window (tensor leaks are caught exactly by the counts above).
    // Without gc the heap holds garbage, so the bound is loose: 64 MiB.
    expect(early).toBeLessThan(gc ? 2 * 1024 * 1024 : 64 * 1024 * 1024);
    expect(steady).toBeLessThan(gc ? 256 * 1024 : 64 * 1024 * 1024);
  });
});
