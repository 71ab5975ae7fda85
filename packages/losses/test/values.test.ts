import { describe, expect, it } from 'vitest';
import { RNG, ShapeError, ValueError } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { LogSoftmax } from '@neurone/layers';
import { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss } from '../src/index';
import type { Reduction } from '../src/index';

const be = cpu({ dtype: 'float64' });
const t = (rows: number[][]): Tensor => be.tensor(rows.flat(), [rows.length, rows[0]!.length]);
const vals = (x: Tensor): number[] => [...x.dataSync()];

function close(actual: number[] | number, expected: number[] | number, tol = 1e-12): void {
  const a = Array.isArray(actual) ? actual : [actual];
  const e = Array.isArray(expected) ? expected : [expected];
  expect(a.length).toBe(e.length);
  a.forEach((v, i) => expect(Math.abs(v - e[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e[i]!))));
}

/** Applies a reduction to per-sample (or per-element) values, as each loss documents. */
function reduce(per: number[], reduction: Reduction, divisor: number): number[] | number {
  const total = per.reduce((a, b) => a + b, 0);
  return reduction === 'none' ? per : reduction === 'sum' ? total : total / divisor;
}

const rng = new RNG(21);
const Y = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.uniform(-1, 1)));
const P = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.uniform(-1, 1)));
const LABELS = [2, 0, 3];

describe('MSELoss (the seed: ‖ŷ − y‖² per sample)', () => {
  it('hand-worked literal', () => {
    // ‖[2, 4] − [1, 2]‖² = 1 + 4 = 5; ‖[0, 0] − [1, 1]‖² = 2; mean over the 2 samples = 3.5
    expect(new MSELoss().forward(t([[1, 2], [1, 1]]), t([[2, 4], [0, 0]])).item()).toBe(3.5);
    expect(vals(new MSELoss({ reduction: 'none' }).forward(t([[1, 2], [1, 1]]), t([[2, 4], [0, 0]])))).toEqual([5, 2]);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`forward and backward, reduction ${reduction}`, () => {
      const per = Y.map((y, i) => y.reduce((s, v, j) => s + (P[i]![j]! - v) ** 2, 0));
      const loss = new MSELoss({ reduction });
      const out = loss.forward(t(Y), t(P));
      expect(out.shape).toEqual(reduction === 'none' ? [3] : []);
      close(vals(out), reduce(per, reduction, 3));
      const c = reduction === 'mean' ? 1 / 3 : 1;
      close(vals(loss.backward(t(Y), t(P))), Y.flatMap((y, i) => y.map((v, j) => -2 * (v - P[i]![j]!) * c)));
    });
  }
});

describe('NLLLoss (the seed: −ŷ_y on log-probabilities)', () => {
  const logp = P.map((row) => {
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    return row.map((v) => v - lse);
  });
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`forward and backward with index and one-hot targets, reduction ${reduction}`, () => {
      const per = LABELS.map((c, i) => -logp[i]![c]!);
      const c = reduction === 'mean' ? 1 / 3 : 1;
      const grad = LABELS.flatMap((l) => [0, 1, 2, 3].map((j) => (j === l ? -c : 0)));
      for (const y of [be.tensor(LABELS, [3]), be.oneHot(be.tensor(LABELS, [3]), 4)]) {
        const loss = new NLLLoss({ reduction });
        close(vals(loss.forward(y, t(logp))), reduce(per, reduction, 3));
        close(vals(loss.backward(y, t(logp))), grad);
      }
    });
  }
  it('literal: the seed example, ŷ = (0.2, 0.4, 0.3, 0.1) with class 3 gives −0.3', () => {
    close(new NLLLoss().forward(be.tensor([2], [1]), t([[0.2, 0.4, 0.3, 0.1]])).item(), -0.3);
  });
});

describe('CrossEntropyLoss (the seed: −ŷ_y + log Σ e^{ŷ_i} on logits)', () => {
  it('literal: logits [1, 2, 3] with label 2 = log(e + e² + e³) − 3', () => {
    const expected = Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3;
    close(new CrossEntropyLoss().forward(be.tensor([2], [1]), t([[1, 2, 3]])).item(), expected);
    // gradient softmax − y
    const z = Math.E + Math.E ** 2 + Math.E ** 3;
    close(vals(new CrossEntropyLoss().backward(be.tensor([2], [1]), t([[1, 2, 3]]))), [Math.E / z, Math.E ** 2 / z, Math.E ** 3 / z - 1]);
  });

  it('is stable for huge logits', () => {
    const v = new CrossEntropyLoss().forward(be.tensor([0, 1], [2]), t([[1000, 0], [-1000, 1000]])).item();
    expect(Number.isFinite(v)).toBe(true);
    close(v, 0);
    close(new CrossEntropyLoss().forward(be.tensor([1], [1]), t([[1000, 0]])).item(), 1000);
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`forward and backward with index and one-hot targets, reduction ${reduction}`, () => {
      const per = LABELS.map((l, i) => -P[i]![l]! + Math.log(P[i]!.reduce((s, v) => s + Math.exp(v), 0)));
      const c = reduction === 'mean' ? 1 / 3 : 1;
      const grad = P.flatMap((row, i) => {
        const z = row.reduce((s, v) => s + Math.exp(v), 0);
        return row.map((v, j) => (Math.exp(v) / z - (j === LABELS[i] ? 1 : 0)) * c);
      });
      for (const y of [be.tensor(LABELS, [3]), be.oneHot(be.tensor(LABELS, [3]), 4)]) {
        const loss = new CrossEntropyLoss({ reduction });
        const out = loss.forward(y, t(P));
        expect(out.shape).toEqual(reduction === 'none' ? [3] : []);
        close(vals(out), reduce(per, reduction, 3));
        close(vals(loss.backward(y, t(P))), grad);
      }
    });
  }

  it('probability targets: −Σ_j y_j log softmax(ŷ)_j', () => {
    const probs = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0, 0.5, 0.5, 0]];
    const per = probs.map((y, i) => {
      const lse = Math.log(P[i]!.reduce((s, v) => s + Math.exp(v), 0));
      return -y.reduce((s, v, j) => s + v * (P[i]![j]! - lse), 0);
    });
    close(new CrossEntropyLoss().forward(t(probs), t(P)).item(), per.reduce((a, b) => a + b) / 3);
  });
});

describe('BCELoss (the seed: −(y log ŷ + (1 − y) log(1 − ŷ)))', () => {
  const yh = [[0.9, 0.2, 0.5], [0.01, 0.7, 0.35]];
  const yt = [[1, 0, 1], [0, 1, 0.3]];
  const elem = yt.flatMap((r, i) => r.map((y, j) => -(y * Math.log(yh[i]![j]!) + (1 - y) * Math.log(1 - yh[i]![j]!))));

  it('literal: −log 0.8 for ŷ = 0.8, y = 1', () => {
    close(new BCELoss().forward(t([[1]]), t([[0.8]])).item(), -Math.log(0.8));
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`forward per element and backward, reduction ${reduction} ('mean' over every element)`, () => {
      const loss = new BCELoss({ reduction });
      const out = loss.forward(t(yt), t(yh));
      expect(out.shape).toEqual(reduction === 'none' ? [2, 3] : []);
      close(vals(out), reduce(elem, reduction, 6));
      const c = reduction === 'mean' ? 1 / 6 : 1;
      const grad = yt.flatMap((r, i) => r.map((y, j) => -(y / yh[i]![j]! + (y - 1) / (1 - yh[i]![j]!)) * c));
      close(vals(loss.backward(t(yt), t(yh))), grad, 1e-10);
    });
  }

  it('clamps each log at −100 as PyTorch does, so ŷ ∈ {0, 1} stays finite', () => {
    const loss = new BCELoss({ reduction: 'none' });
    // PyTorch: BCELoss(none)([0, 1, 0, 1], [1, 0, 0, 1]) = [100, 100, 0, 0]
    expect(vals(loss.forward(t([[1, 0, 0, 1]]), t([[0, 1, 0, 1]])))).toEqual([100, 100, 0, 0]);
    // a log below −100 is clamped too: ŷ = e^{−150}, y = 1 gives 100, not 150
    close(loss.forward(t([[1]]), t([[Math.exp(-150)]])).item(), 100);
    // the gradient stays finite: PyTorch divides by max(ŷ(1 − ŷ), 1e-12)
    const g = vals(loss.backward(t([[1, 0]]), t([[0, 1]])));
    expect(g).toEqual([-1e12, 1e12]);
  });
});

describe('BCEWithLogitsLoss (max(x, 0) − x·y + log(1 + e^{−|x|}))', () => {
  const x = [[2.5, -1, 0], [-3, 0.3, 7]];
  const yt = [[1, 0, 1], [0.2, 1, 0]];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const elem = yt.flatMap((r, i) => r.map((y, j) => -(y * Math.log(sig(x[i]![j]!)) + (1 - y) * Math.log(1 - sig(x[i]![j]!)))));

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`equals BCE of σ(x), gradient σ(x) − y, reduction ${reduction}`, () => {
      const loss = new BCEWithLogitsLoss({ reduction });
      close(vals(loss.forward(t(yt), t(x))), reduce(elem, reduction, 6), 1e-10);
      const c = reduction === 'mean' ? 1 / 6 : 1;
      close(vals(loss.backward(t(yt), t(x))), yt.flatMap((r, i) => r.map((y, j) => (sig(x[i]![j]!) - y) * c)));
    });
  }

  it('is stable for huge logits', () => {
    expect(vals(new BCEWithLogitsLoss({ reduction: 'none' }).forward(t([[0, 1, 1, 0]]), t([[1000, -1000, 1000, -1000]])))).toEqual([
      1000, 1000, 0, 0,
    ]);
  });
});

describe('errors', () => {
  it('rejects targets and predictions of different shapes, naming the loss and both shapes', () => {
    for (const L of [MSELoss, BCELoss, BCEWithLogitsLoss]) {
      const loss = new L();
      for (const call of [() => loss.forward(be.zeros([2, 3]), be.full([3, 2], 0.5)), () => loss.backward(be.zeros([2, 3]), be.full([3, 2], 0.5))]) {
        expect(call).toThrow(ShapeError);
        expect(call).toThrow(new RegExp(`${L.name}.*y: \\[2, 3\\].*yhat: \\[3, 2\\]`));
      }
    }
    for (const L of [NLLLoss, CrossEntropyLoss]) {
      const loss = new L();
      expect(() => loss.forward(be.zeros([3]), be.zeros([2, 4]))).toThrow(new RegExp(`${L.name}.*y: \\[3\\].*yhat: \\[2, 4\\]`));
      expect(() => loss.forward(be.zeros([2, 3]), be.zeros([2, 4]))).toThrow(new RegExp(`${L.name}.*y: \\[2, 3\\].*yhat: \\[2, 4\\]`));
      expect(() => loss.backward(be.zeros([2, 3]), be.zeros([2, 4]))).toThrow(ShapeError);
      expect(() => loss.forward(be.zeros([4]), be.zeros([4]))).toThrow(ShapeError);
    }
  });

  it('checkTargets rejects labels out of range or not integers on the host, naming the loss, the label, its position and K', () => {
    for (const L of [NLLLoss, CrossEntropyLoss]) {
      const loss = new L();
      const host = (v: number[]) => ({ data: new Float64Array(v), shape: [v.length] });
      expect(() => loss.checkTargets(host([0, 4, 1]), [3, 4])).toThrow(ValueError);
      expect(() => loss.checkTargets(host([0, 4, 1]), [3, 4])).toThrow(new RegExp(`${L.name}: label 4 at position 1 .*K = 4`));
      expect(() => loss.checkTargets(host([0, 1, -1]), [3, 4])).toThrow(/label -1 at position 2/);
      expect(() => loss.checkTargets(host([1.5, 1, 1]), [3, 4])).toThrow(new RegExp(`${L.name}: label 1.5 at position 0`));
      expect(() => loss.checkTargets(host([0, NaN, 1]), [3, 4])).toThrow(/label NaN at position 1/);
      expect(() => loss.checkTargets(host([0, 1]), [3, 4])).toThrow(ShapeError);
      expect(() => loss.checkTargets({ data: new Float64Array(12), shape: [3, 4] }, [3, 4])).not.toThrow();
    }
  });

  it('forward and backward never read the device: an out-of-range label reaching them gives a zero one-hot row', () => {
    const reads: string[] = [];
    const spy = cpu({ dtype: 'float64' });
    const readSync = spy.readSync.bind(spy);
    spy.readSync = (x) => (reads.push('readSync'), readSync(x));
    const loss = new CrossEntropyLoss({ reduction: 'none' });
    const yhat = spy.tensor([0, 0, 0, 0, 0, 0], [2, 3]);
    const l = loss.forward(spy.tensor([0, 7], [2]), yhat);
    loss.backward(spy.tensor([0, 7], [2]), yhat);
    expect(reads).toEqual([]);
    // the bad row sees no target: −Σ 0 · log p = 0 (the good row: log 3)
    expect(vals(l)).toEqual([Math.log(3), 0]);
  });

  it('BCELoss does not read predictions back: one outside [0, 1] gives a NaN loss (fit reports it)', () => {
    const loss = new BCELoss();
    const y = be.zeros([2, 2]);
    expect(Number.isNaN(loss.forward(y, t([[0.5, 0.5], [1.5, 0.5]])).item())).toBe(true);
  });

  it('rejects an unknown reduction', () => {
    expect(() => new MSELoss({ reduction: 'avg' as Reduction })).toThrow(/MSELoss: reduction must be/);
    expect(() => new CrossEntropyLoss({ reduction: 'batchmean' as Reduction })).toThrow(ValueError);
  });

  it('prints its settings', () => {
    expect(String(new BCELoss({ reduction: 'sum' }))).toBe('BCELoss(reduction=sum)');
  });
});

describe('memory', () => {
  it('forward and backward free every temporary', () => {
    const b32 = cpu();
    const cases: [{ forward(y: Tensor, p: Tensor): Tensor; backward(y: Tensor, p: Tensor): Tensor }, Tensor, Tensor][] = [
      [new MSELoss(), b32.zeros([4, 3]), b32.full([4, 3], 0.3)],
      [new NLLLoss(), b32.tensor([0, 1, 2, 1], [4]), b32.full([4, 3], -1)],
      [new CrossEntropyLoss({ reduction: 'none' }), b32.tensor([0, 1, 2, 1], [4]), b32.full([4, 3], 0.2)],
      [new CrossEntropyLoss(), b32.full([4, 3], 1 / 3), b32.full([4, 3], 0.2)],
      [new BCELoss(), b32.zeros([4, 3]), b32.full([4, 3], 0.3)],
      [new BCEWithLogitsLoss({ reduction: 'sum' }), b32.zeros([4, 3]), b32.full([4, 3], 0.3)],
    ];
    for (const [loss, y, p] of cases) {
      const before = b32.memory().tensors;
      for (let i = 0; i < 5; i++) {
        loss.forward(y, p).dispose();
        loss.backward(y, p).dispose();
      }
      expect(b32.memory().tensors).toBe(before);
    }
  });
});

describe('consistency between losses', () => {
  it('CrossEntropyLoss(x) = NLLLoss(LogSoftmax(x)), and LogSoftmax backward of NLL gradient = CE gradient', () => {
    const x = t(P);
    const y = be.tensor(LABELS, [3]);
    const ls = new LogSoftmax();
    const logp = ls.forward(x);
    close(new NLLLoss().forward(y, logp).item(), new CrossEntropyLoss().forward(y, x).item());
    close(vals(ls.backwardDelta(x, new NLLLoss().backward(y, logp))), vals(new CrossEntropyLoss().backward(y, x)));
  });

  it('BCEWithLogitsLoss(x) = BCELoss(σ(x)) for moderate logits', () => {
    const x = t(P);
    const y = t(P.map((r) => r.map((v) => (v > 0 ? 1 : 0))));
    close(new BCEWithLogitsLoss().forward(y, x).item(), new BCELoss().forward(y, be.unary('sigmoid', x)).item(), 1e-12);
  });
});
