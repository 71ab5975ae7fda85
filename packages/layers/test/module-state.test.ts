/**
 * The module contract of issue 15: one registry (fields found without registration, buffers),
 * forward saves / backward consumes, train/eval, frozen parameters, no silent options, typed
 * errors for missing arguments. Each case failed on the main branch before it.
 */
import { describe, expect, it } from 'vitest';
import { Module, NeuroneError, Parameter, RNG, StateError, fromBytes, tidy, toBytes } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { gradcheckModule } from '@neurone/core/testing';
import { cpu } from '@neurone/backend-cpu';
import { Conv1D, Conv2D, Flatten, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, TanH } from '../src/index';

const f64 = cpu({ dtype: 'float64' });
const rand = (b: Backend, shape: number[], seed: number): Tensor => b.tensor(new RNG(seed).uniformArray(shape.reduce((a, c) => a * c, 1), -1, 1), shape);

/** A residual block written as a PyTorch user would: children as fields, no registration. */
class Residual extends Module {
  fc1: Linear;
  act = new TanH();
  fc2: Linear;
  constructor(n: number, hidden: number, backend: Backend, rng = new RNG(3)) {
    super();
    this.fc1 = new Linear(n, hidden, { backend, rng });
    this.fc2 = new Linear(hidden, n, { backend, rng });
  }
  forward(x: Tensor): Tensor {
    const { y, h, a } = tidy(() => {
      const h = this.fc1.forward(x);
      const a = this.act.forward(h);
      return { y: x.backend.binary('add', x, this.fc2.forward(a)), h, a };
    });
    this.saveForBackward(x, { h, a }, [h, a]); // y = x + fc2(tanh(fc1(x)))
    return y;
  }
  #dh(x: Tensor, delta: Tensor): { h: Tensor; a: Tensor; dh: Tensor } {
    const s = this.saved<{ h: Tensor; a: Tensor }>(x) ?? { h: this.fc1.forward(x), a: this.act.forward(this.fc1.forward(x)) };
    return { ...s, dh: this.act.backwardDelta(s.h, this.fc2.backwardDelta(s.a, delta)) };
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    tidy(() => {
      const { a, dh } = this.#dh(x, delta);
      this.fc2.backwardUpdateGradient(a, delta);
      this.fc1.backwardUpdateGradient(x, dh);
    });
  }
  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    return tidy(() => x.backend.binary('add', delta, this.fc1.backwardDelta(x, this.#dh(x, delta).dh))); // ∂L/∂x = δ + ∂(fc2∘tanh∘fc1)/∂x
  }
}

/** A module with a buffer and a forward that must be followed by its own backward. */
class CountingScale extends Module {
  scale = new Parameter(f64.tensor([2], [1]));
  constructor() {
    super();
    this.registerBuffer('num_calls', f64.zeros([1]));
  }
  override get statefulForward(): boolean {
    return this.training;
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.setBuffer('num_calls', f64.affine(this.buffer('num_calls'), 1, 1));
    this.saveForBackward(x, { mode: this.training });
    return x.backend.binary('mul', x, this.scale.value);
  }
  override backwardUpdateGradient(x: Tensor, delta: Tensor): void {
    if (this.training) this.savedOrThrow(x, 'backwardUpdateGradient');
    tidy(() => this.scale.accumulateGrad(x.backend.sum(x.backend.binary('mul', x, delta)).reshape([1])));
  }
  backwardDelta(x: Tensor, delta: Tensor): Tensor {
    if (this.training) this.savedOrThrow(x, 'backwardDelta');
    return x.backend.binary('mul', delta, this.scale.value);
  }
}

describe('one registry: children and parameters assigned as fields', () => {
  it('a residual block written with fields lists its 4 parameters under their field names', () => {
    const r = new Residual(4, 5, f64);
    expect(r.namedParameters().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(r.namedChildren().map(([n]) => n)).toEqual(['fc1', 'act', 'fc2']);
    expect(Object.keys(r.stateDict())).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(r.modules()).toHaveLength(4);
    expect(String(r)).toContain('(fc1): Linear(in_features=4');
  });

  it('arrays of modules are children named field.i; a shared parameter is listed once', () => {
    class Stack extends Module {
      layers = [new Linear(2, 2, { backend: f64 }), new ReLU(), new Linear(2, 2, { backend: f64 })];
      forward(x: Tensor): Tensor {
        return this.layers.reduce((h, m) => m.forward(h), x);
      }
      backwardDelta(): Tensor {
        throw new Error('unused');
      }
    }
    const s = new Stack();
    expect(Object.keys(s.stateDict())).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    class Shared extends Module {
      a = new Linear(2, 2, { backend: f64 });
      w = this.a.weight;
      forward(x: Tensor): Tensor {
        return x;
      }
      backwardDelta(_x: Tensor, d: Tensor): Tensor {
        return d;
      }
    }
    expect(new Shared().parameters()).toHaveLength(2);
  });

  it('the residual block saves, loads, moves and passes gradcheckModule (input and parameters)', async () => {
    const r = new Residual(3, 4, f64);
    const x = rand(f64, [5, 3], 1);
    const report = gradcheckModule(r, x);
    expect(Object.keys(report.errors)).toEqual(['input', 'param:fc1.weight', 'param:fc1.bias', 'param:fc2.weight', 'param:fc2.bias']);
    expect(report.maxRelError).toBeLessThan(1e-6);
    const y = Array.from(r.forward(x).dataSync());
    const loaded = new Residual(3, 4, f64, new RNG(99));
    loaded.loadStateDict(fromBytes(await toBytes({ model: r })).weights);
    expect(Array.from(loaded.forward(x).dataSync())).toEqual(y);
    const f32 = cpu();
    loaded.to(f32);
    expect(loaded.parameters().every((p) => p.backend === f32)).toBe(true);
    loaded.to(f64);
    expect(Math.max(...Array.from(loaded.forward(x).dataSync(), (v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-6);
  });

  it('gradcheckModule fails on a module whose parameters the registry cannot find', () => {
    class Hidden extends Module {
      store = { w: new Parameter(f64.tensor([3], [1])) };
      forward(x: Tensor): Tensor {
        return x.backend.binary('mul', x, this.store.w.value);
      }
      backwardDelta(x: Tensor, d: Tensor): Tensor {
        return x.backend.binary('mul', d, this.store.w.value);
      }
    }
    expect(() => gradcheckModule(new Hidden(), rand(f64, [2, 2], 1))).toThrow(/Hidden holds parameters that parameters\(\) does not list \(store\.w\)/);
  });
});

describe('buffers', () => {
  it('are in stateDict under their name, load, move and are freed by dispose', async () => {
    const m = new CountingScale();
    m.forward(rand(f64, [2, 2], 1));
    m.forward(rand(f64, [2, 2], 2));
    expect(Object.keys(m.stateDict())).toEqual(['scale', 'num_calls']);
    expect(m.namedBuffers().map(([n, t]) => [n, Array.from(t.dataSync())])).toEqual([['num_calls', [2]]]);
    const back = new CountingScale();
    back.loadStateDict(fromBytes(await toBytes({ model: m })).weights);
    expect(Array.from(back.buffer('num_calls').dataSync())).toEqual([2]);
    const f32 = cpu();
    back.to(f32);
    expect(back.buffer('num_calls').backend).toBe(f32);
    const before = f32.memory().tensors;
    back.dispose();
    expect(f32.memory().tensors).toBe(before - 2);
    expect(() => m.setBuffer('num_calls', f64.zeros([2]))).toThrow(/buffer 'num_calls' keeps its shape/);
    expect(() => m.buffer('nope')).toThrow(/no buffer named 'nope' \(buffers: num_calls\)/);
  });
});

describe('forward saves, backward consumes', () => {
  it('a stateful forward refuses a backward for an input it did not see, in either order', () => {
    const m = new CountingScale();
    const x = rand(f64, [2, 2], 1);
    const d = rand(f64, [2, 2], 2);
    expect(() => m.backwardDelta(x, d)).toThrow(StateError);
    expect(() => m.backwardDelta(x, d)).toThrow(/CountingScale\.backwardDelta: no forward was run/);
    m.forward(x);
    m.backwardDelta(x, d);
    m.backwardUpdateGradient(x, d);
    expect(() => m.backwardUpdateGradient(rand(f64, [2, 2], 3), d)).toThrow(/this input is not the one the last forward saw/);
    const seq = new Sequential(new Linear(2, 2, { backend: f64 }), m);
    seq.forward(x);
    expect(Array.from(seq.backwardDelta(x, d).dataSync())).toHaveLength(4);
    // a Sequential holding a stateful child never re-runs a forward for another input
    const calls = Array.from(m.buffer('num_calls').dataSync())[0];
    expect(() => seq.backwardDelta(rand(f64, [2, 2], 4), d)).toThrow(StateError);
    expect(Array.from(m.buffer('num_calls').dataSync())[0]).toBe(calls);
    // state freed with the scope that ran the forward
    const y = rand(f64, [2, 2], 5);
    tidy(() => {
      seq.forward(y);
    });
    expect(() => seq.backwardDelta(y, d)).toThrow(/saved state was freed/);
    // in eval mode the module is a function of its input: any input is accepted
    seq.eval();
    expect(seq.backwardDelta(rand(f64, [2, 2], 6), d).shape).toEqual([2, 2]);
  });

  it('no module re-runs its forward in backward after the forward on that input', () => {
    const counted = <T extends Module>(m: T): T & { calls: number } => {
      const c = m as T & { calls: number };
      c.calls = 0;
      const f = m.forward.bind(m);
      c.forward = (x: Tensor) => (c.calls++, f(x));
      return c;
    };
    const conv = counted(new Conv2D(3, 1, 2, { backend: f64 }));
    const tanh = counted(new TanH());
    const sig = counted(new Sigmoid());
    const soft = counted(new Softmax());
    const net = new Sequential(conv, new Flatten(), new Linear(18, 6, { backend: f64 }), tanh, sig, soft);
    const x = rand(f64, [2, 5, 5, 1], 7);
    const y = net.forward(x);
    net.backwardUpdateGradient(x, rand(f64, y.shape as number[], 8));
    net.backwardDelta(x, rand(f64, y.shape as number[], 9));
    expect([conv.calls, tanh.calls, sig.calls, soft.calls]).toEqual([1, 1, 1, 1]);
  });
});

describe('train() / eval() and frozen parameters', () => {
  it('train and eval reach every descendant, fields included', () => {
    const r = new Residual(2, 2, f64);
    const outer = new Sequential(r);
    outer.eval();
    expect(r.modules().map((m) => m.training)).toEqual([false, false, false, false]);
    outer.train();
    expect(r.act.training).toBe(true);
  });

  it('requiresGrad = false: no gradient, and updateParameters leaves the value', () => {
    const lin = new Linear(3, 2, { backend: f64 });
    lin.weight.requiresGrad = false;
    const w = Array.from(lin.weight.value.dataSync());
    const x = rand(f64, [4, 3], 1);
    lin.backwardUpdateGradient(x, rand(f64, [4, 2], 2));
    expect(lin.weight.grad).toBeNull();
    expect(lin.bias!.grad).not.toBeNull();
    lin.updateParameters(0.1);
    expect(Array.from(lin.weight.value.dataSync())).toEqual(w);
    expect(Object.keys(gradcheckModule(lin, x).errors)).toEqual(['input', 'param:bias']);
  });
});

describe('no silent options, typed errors for missing arguments', () => {
  it.each([
    ['Conv2D dilation', () => new Conv2D(3, 1, 8, { dilation: 2 } as object), /Conv2D: unknown option 'dilation'/],
    ['Conv2D groups', () => new Conv2D(3, 1, 8, { groups: 2 } as object), /Conv2D: unknown option 'groups'/],
    ['Conv2D foo', () => new Conv2D(3, 1, 8, { foo: 1 } as object), /unknown option 'foo'/],
    ['Conv1D dilation', () => new Conv1D(3, 1, 8, 1, { dilation: 2 } as object), /Conv1D: unknown option 'dilation'/],
    ['Linear init string', () => new Linear(10, 5, { init: 'kaiming' } as never), /Linear: option 'init' must be a function, got 'kaiming'/],
    ['Linear bias string', () => new Linear(10, 5, { bias: 'no' } as never), /Linear: option 'bias' must be a boolean, got 'no'/],
    ['ReLU inplace', () => new ReLU({ inplace: true } as never), /ReLU: takes no arguments.*no 'inplace'/],
    ['TanH argument', () => new TanH(1 as never), /TanH: takes no arguments/],
    ['Softmax dim 0 on rows', () => new Softmax(0).forward(f64.zeros([2, 3])), /Softmax\(dim=0\)\.forward: normalises over the last axis only/],
    ['Softmax({ dim: 0 }) on rows', () => new Softmax({ dim: 0 }).forward(f64.zeros([2, 3])), /last axis only/],
    ['LogSoftmax({ axis })', () => new LogSoftmax({ axis: 1 } as never), /LogSoftmax: unknown option 'axis'/],
    ['Flatten unknown option', () => new Flatten({ start: 1 } as never), /Flatten: unknown option 'start'/],
    ['loadStateDict option', () => new Linear(2, 2, { backend: f64 }).loadStateDict({}, { foo: 1 } as never), /loadStateDict: unknown option 'foo'/],
    ['cpu device', () => cpu({ device: 'cpu' } as never), /cpu: unknown option 'device'/],
    ['Sequential.backward()', () => new Sequential(new ReLU()).backward(undefined as never), /backward: delta must be a Tensor, got nothing/],
    ['Linear.backwardDelta(x)', () => new Linear(2, 2, { backend: f64 }).backwardDelta(f64.zeros([1, 2]), undefined as never), /backwardDelta: delta must be a Tensor/],
    ['Linear.forward()', () => new Linear(2, 2, { backend: f64 }).forward(undefined as never), /Linear\(2, 2\)\.forward: input must be a Tensor, got nothing/],
    ['TanH.forward(3)', () => new TanH().forward(3 as never), /TanH\.forward: x must be a Tensor, got 3 \(number\)/],
  ])('%s is a typed error', (_what, f, message) => {
    expect(f).toThrow(NeuroneError);
    expect(f).toThrow(message);
  });

  it('dims PyTorch accepts work as PyTorch: Softmax over the last axis by number, Flatten(startDim, endDim)', () => {
    expect(new Softmax(1).forward(f64.tensor([0, 0], [1, 2])).dataSync()).toEqual(new Float64Array([0.5, 0.5]));
    expect(new Flatten({ startDim: 2 }).forward(f64.zeros([2, 3, 4, 5])).shape).toEqual([2, 3, 20]);
    expect(new Flatten({ startDim: 0, endDim: 1 }).forward(f64.zeros([2, 3, 4])).shape).toEqual([6, 4]);
  });
});
