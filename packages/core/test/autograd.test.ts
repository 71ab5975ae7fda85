/**
 * Derived gradients (issue 17): a float64 gradcheck of every differentiable op and tensor method
 * (broadcasting included), grad/valueAndGrad, noGrad, and the typed errors.
 */
import { describe, expect, it } from 'vitest';
import { Backend, Module, Parameter, ShapeError, ValueError, col2im, concat, grad, im2col, noGrad, pool, stack, tidy, valueAndGrad, where } from '../src/index';
import type { Tensor, UnaryOp } from '../src/index';
import { gradcheck, randomTensor, referenceKernels } from '../src/testing/index';

const B = new Backend(referenceKernels());
let seed = 1;
const rand = (shape: number[], lo = -1, hi = 1): Tensor => randomTensor(B, shape, seed++, lo, hi);
const pos = (shape: number[]): Tensor => rand(shape, 0.5, 2);

function check(name: string, f: (...xs: Tensor[]) => Tensor, inputs: () => Tensor[], tol = 1e-6): void {
  it(name, () => {
    const before = B.memory().tensors;
    const xs = inputs();
    const r = gradcheck(f, xs);
    expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(tol);
    xs.forEach((x) => x.dispose());
    expect(B.memory().tensors).toBe(before); // every temporary freed
  });
}

describe('gradcheck (float64) of every differentiable op', () => {
  const unary: [UnaryOp, () => Tensor, number?][] = [
    ['tanh', () => rand([3, 4])],
    ['sigmoid', () => rand([3, 4])],
    ['relu', () => rand([3, 4])],
    ['leakyRelu', () => rand([3, 4]), 0.1],
    ['elu', () => rand([3, 4]), 0.7],
    ['gelu', () => rand([3, 4])],
    ['geluTanh', () => rand([3, 4])],
    ['exp', () => rand([3, 4])],
    ['log', () => pos([3, 4])],
    ['sqrt', () => pos([3, 4])],
    ['square', () => rand([3, 4])],
    ['softplus', () => rand([3, 4])],
    ['abs', () => rand([3, 4])],
  ];
  for (const [op, x, p] of unary) check(`unary ${op}`, (t) => B.unary(op, t, p), () => [x()]);
  const shapes: [number[], number[]][] = [
    [[2, 3], [2, 3]],
    [[2, 3], [3]],
    [[2, 1], [1, 3]],
    [[], [2, 3]],
    [[4, 1, 3], [2, 1]],
  ];
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const) {
    for (const [sa, sb] of shapes) {
      const [a, b] = op === 'pow' || op === 'div' ? [() => pos(sa), () => (op === 'pow' ? rand(sb) : pos(sb))] : [() => rand(sa), () => rand(sb)];
      check(`binary ${op} [${sa}] with [${sb}] (broadcasting)`, (x, y) => B.binary(op, x!, y!), () => [a(), b()]);
    }
  }
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      check(`matmul transposeA=${tA} transposeB=${tB} with a bias`, (a, b, c) => B.matmul(a!, b!, tA, tB, c), () => [rand(tA ? [4, 3] : [3, 4]), rand(tB ? [5, 4] : [4, 5]), rand([5])]);
    }
  }
  check('affine, axpby, clamp', (x, y) => B.axpby(0.3, B.affine(x!, -2, 1), -1.5, B.clamp(y!, -0.5, 0.6)), () => [rand([3, 4]), rand([3, 4])]);
  check('sum over axes, keepDims', (x) => B.sum(x!, [0, 2], true).mul(B.sum(x!, 1).sum()), () => [rand([2, 3, 4])]);
  check('softmax, logSoftmax (rows)', (x) => B.softmax(x!).add(B.logSoftmax(x!)), () => [rand([3, 5])]);

  check('Tensor: add/sub/mul/div/pow/maximum/minimum with numbers, neg', (x) => x!.add(2).sub(0.5).mul(3).div(4).neg().pow(3).add(x!.pow(2)).maximum(0.1).minimum(1.5), () => [rand([3, 4])]);
  check('Tensor: pow(0.5) of a positive base, pow by a tensor exponent', (x, e) => x!.pow(0.5).add(x!.pow(e!)), () => [pos([2, 3]), rand([3])]);
  check('Tensor: the unary methods', (x) => x!.exp().add(x!.abs()).add(x!.tanh()).add(x!.sigmoid()).add(x!.relu()).add(x!.softplus()).add(x!.square()), () => [rand([3, 4])]);
  check('Tensor: log, sqrt', (x) => x!.log().add(x!.sqrt()), () => [pos([3, 4])]);
  check('Tensor: clamp with one bound, clone', (x) => x!.clamp(-0.3).add(x!.clamp(undefined, 0.4)).mul(x!.clone()), () => [rand([3, 4])]);
  check('Tensor: mean over all, over axes with keepDims', (x) => x!.mean([1], true).mul(x!.mean()), () => [rand([3, 4])]);
  check('Tensor: max, min over axes (one and several, adjacent and not)', (x) => x!.max(1).sum().add(x!.min([0, 2], true).sum()).add(x!.max().mul(x!.min([1, 2]).sum())), () => [rand([3, 4, 5])]);
  check('Tensor: logsumexp over axes, keepDims', (x) => x!.logsumexp(1).sum().add(x!.logsumexp([0, 2], true).sum()).add(x!.logsumexp()), () => [rand([3, 4, 2])]);
  check('Tensor: softmax and logSoftmax along a middle axis', (x) => x!.softmax(1).mul(x!.logSoftmax(0)), () => [rand([3, 4, 2])]);
  check('Tensor: transpose, permute', (x) => x!.transpose().matmul(x!.exp()).sum(1).add(x!.permute(1, 0).square().sum(1)), () => [rand([3, 4])]);
  check('Tensor: permute of rank 3', (x) => x!.permute(2, 0, 1).mul(x!.permute(2, 0, 1).exp()), () => [rand([2, 3, 4])]);
  check('Tensor: narrow (positive and negative start)', (x) => x!.narrow(1, 1, 2).mul(x!.narrow(1, -3, 2)).add(x!.narrow(0, 0, 3).narrow(1, 0, 2)), () => [rand([3, 4])]);
  check('Tensor: expand, unsqueeze, squeeze, reshape', (x) => x!.unsqueeze(0).expand([2, 3, 4]).mul(x!.reshape([3, 4, 1]).squeeze(2).unsqueeze(-1).expand([-1, -1, 4]).transpose(1, 2).transpose(1, 2).sum(2).unsqueeze(0)), () => [rand([3, 4])]);
  check('Tensor: expand a size-1 axis', (x) => x!.expand([3, 4]).mul(x!.expand([2, 3, 4]).sum(0)), () => [rand([3, 1])]);
  check('Tensor: gather (an index shorter than x on another axis, repeats)', (x) => x!.gather(1, B.tensor([2, 0, 0, 1, 3, 3], [2, 3])).exp(), () => [rand([3, 4])]);
  check('Tensor: gather along axis 0', (x) => x!.gather(0, B.tensor([2, 0, 1, 1, 0, 2, 2, 2], [2, 4])).square(), () => [rand([3, 4])]);
  check('Tensor: indexSelect (repeats) along axes 0 and 1', (x) => x!.indexSelect(0, B.tensor([2, 0, 2], [3])).sum(1).add(x!.indexSelect(1, B.tensor([3, 1], [2])).square().sum(1)), () => [rand([3, 4])]);
  check('where (broadcasting) and Tensor.where', (a, b) => where(B.tensor([1, 0, 1], [3]), a!, b!).add(a!.where(B.tensor([0, 1, 1, 0, 0, 1], [2, 3]), b!)), () => [rand([2, 3]), rand([1])]);
  check('concat and stack', (a, b) => concat([a!, b!, a!], 1).sum(0).sum().add(stack([a!.exp(), b!.narrow(1, 0, 3)], 1).square().sum([0, 1])), () => [rand([2, 3]), rand([2, 4])], 1e-6);
  const win = { kernel: [2, 2] as const, stride: [1, 2] as const, padding: [1, 1] as const };
  check('im2col and its adjoint col2im', (x, c) => im2col(x!, win).mul(im2col(col2im(c!, win, [2, 3, 4, 2]), win)), () => [rand([2, 3, 4, 2]), rand([2 * 4 * 3, 8])]);
  check('pool max and avg', (x) => pool('max', x!, { kernel: [2, 2], stride: [2, 2] }).add(pool('avg', x!, { kernel: [2, 2], stride: [1, 1], padding: [1, 1] }).sum([1, 2], true)), () => [rand([2, 4, 4, 3])]);
});

describe('grad and valueAndGrad', () => {
  it('differentiate a function of several tensors: argnums picks which (jax style)', () => {
    const x = B.tensor([1, 2, 3], [3]);
    const w = B.tensor([0.5, -1, 2], [3]);
    const f = (a: Tensor, b: Tensor, scale: number): Tensor => a.mul(b).sum().mul(scale); // Σ a·b·s
    const gx = grad(f)(x, w, 2);
    expect([...gx.dataSync()]).toEqual([1, -2, 4]);
    const [value, [ga, gb]] = valueAndGrad(f, { argnums: [0, 1] })(x, w, 2);
    expect(value.item()).toBe(2 * (0.5 - 2 + 6));
    expect([...ga!.dataSync()]).toEqual([1, -2, 4]);
    expect([...gb!.dataSync()]).toEqual([2, 4, 6]);
  });

  it('a tensor used twice gets both contributions; an unused argument gets zeros', () => {
    const x = B.tensor([3], []);
    const [, [gx, gy]] = valueAndGrad((a: Tensor, _b: Tensor) => a.mul(a).add(a), { argnums: [0, 1] })(x, B.tensor([1, 2], [2]));
    expect(gx!.item()).toBe(7); // 2x + 1
    expect([...gy!.dataSync()]).toEqual([0, 0]);
  });

  it('frees every temporary: only the value and the gradients are left', () => {
    const x = rand([8, 5]);
    const before = B.memory().tensors;
    const [v, g] = valueAndGrad((a: Tensor) => a.tanh().logSoftmax().max(1).mean())(x);
    expect(B.memory().tensors).toBe(before + 2);
    v.dispose();
    g.dispose();
    const g2 = grad((a: Tensor) => a.square().sum())(x);
    expect(B.memory().tensors).toBe(before + 1);
    g2.dispose();
  });

  it('typed errors: a non-scalar result, a non-tensor result, a non-tensor argument, a read inside', () => {
    const x = B.tensor([1, 2], [2]);
    expect(() => grad((a: Tensor) => a.exp())(x)).toThrow(ShapeError);
    expect(() => grad((a: Tensor) => a.exp())(x)).toThrow(/grad: f must return a scalar.*value: \[2\]/);
    expect(() => grad((() => 3) as unknown as (a: Tensor) => Tensor)(x)).toThrow(/grad: f must return a Tensor, got number/);
    expect(() => grad((a: Tensor, _n: number) => a.sum(), { argnums: 1 })(x, 3)).toThrow(/argument 1 must be a Tensor/);
    expect(() => grad((a: Tensor) => B.tensor([a.sum().item()], []))(x)).toThrow(ValueError);
    expect(() => grad((a: Tensor) => B.tensor([a.sum().item()], []))(x)).toThrow(/must not read the device/);
    expect(() => grad((a: Tensor) => a.add(new Backend(referenceKernels()).zeros([2])).sum())(x)).toThrow(/^grad: add: tensors live on different backends/);
  });

  it('noGrad records nothing: reading inside it is allowed', () => {
    const x = B.tensor([1, 2], [2]);
    const g = grad((a: Tensor) => {
      const n = noGrad(() => a.sum().item()); // a host value: a constant for the gradient
      return a.mul(n).sum();
    })(x);
    expect([...g.dataSync()]).toEqual([3, 3]);
  });
});

/** A forward-only module: y = tanh(x·Wᵀ + b)·s, s a parameter broadcast over the rows. */
class Dense extends Module {
  w = new Parameter(randomTensor(B, [4, 3], 11));
  b = new Parameter(randomTensor(B, [4], 12));
  s = new Parameter(randomTensor(B, [4], 13));
  override forward(x: Tensor): Tensor {
    return x.matmul(this.w.value, { transposeB: true }).add(this.b.value).tanh().mul(this.s.value);
  }
}

describe('derived backward of a forward-only module (core only)', () => {
  it('matches finite differences in the input and every parameter, in train and eval mode', async () => {
    const { gradcheckModule } = await import('../src/testing/index');
    for (const mode of [true, false]) {
      const m = new Dense().train(mode);
      const r = gradcheckModule(m, randomTensor(B, [5, 3], 14));
      expect(r.maxRelError, JSON.stringify(r.errors)).toBeLessThan(1e-6);
      expect(Object.keys(r.errors)).toEqual(['input', 'param:w', 'param:b', 'param:s']);
    }
  });

  it('records in train mode only: a read inside forward is refused then, allowed in eval and in noGrad', () => {
    class Reads extends Module {
      override forward(x: Tensor): Tensor {
        return x.mul(x.sum().item());
      }
    }
    const m = new Reads();
    const x = B.tensor([1, 2], [2]);
    expect(() => m.forward(x)).toThrow(ValueError);
    expect(() => m.forward(x)).toThrow(/^Reads\.forward: dataSync: a forward whose gradient is recorded must not read the device/);
    expect([...noGrad(() => m.forward(x)).dataSync()]).toEqual([3, 6]);
    expect([...m.eval().forward(x).dataSync()]).toEqual([3, 6]);
  });

  it('typed errors naming the module: a non-tensor result, mixed backends', () => {
    class Bad extends Module {
      override forward(x: Tensor): Tensor {
        return x.sum().item() as unknown as Tensor;
      }
    }
    class NotTensor extends Module {
      override forward(_x: Tensor): Tensor {
        return [1, 2] as unknown as Tensor;
      }
    }
    const other = new Backend(referenceKernels());
    class Mixed extends Module {
      w = new Parameter(other.zeros([2]));
      override forward(x: Tensor): Tensor {
        return x.mul(this.w.value);
      }
    }
    const x = B.tensor([1, 2], [2]);
    expect(() => new NotTensor().forward(x)).toThrow(/^NotTensor\.forward must return a Tensor to derive its backward, got object/);
    expect(() => new Bad().forward(x)).toThrow(/^Bad\.forward: dataSync/);
    expect(() => new Mixed().forward(x)).toThrow(/^Mixed\.forward: mul: tensors live on different backends/);
  });

  it('tidy inside a recorded forward keeps what the tape needs, and frees it with the step', () => {
    class Tidy extends Module {
      w = new Parameter(B.tensor([2, 3], [2]));
      override forward(x: Tensor): Tensor {
        return tidy(() => x.mul(this.w.value).exp().sum());
      }
    }
    const m = new Tidy();
    const x = B.tensor([0.1, 0.2], [2]);
    const before = B.memory().tensors;
    const d = tidy(() => {
      m.forward(x);
      m.backwardUpdateGradient(x, B.full([], 1));
      return m.backwardDelta(x, B.full([], 1));
    });
    expect(B.memory().tensors).toBe(before + 2); // the delta and w's gradient
    const e = [Math.exp(0.2), Math.exp(0.6)];
    [...d.dataSync()].forEach((v, i) => expect(v).toBeCloseTo([2, 3][i]! * e[i]!, 14));
    [...m.w.grad!.dataSync()].forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.2][i]! * e[i]!, 14));
  });
});
