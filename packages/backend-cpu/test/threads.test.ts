import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMatmul, runConformance } from '@neurone/core/testing';
import { BCE_LOG_FLOOR, GELU_TANH, UNARY_OPS, ValueError, binaryCrossEntropy, col2im, erf, im2col, optimizerUpdate, pool, poolGrad } from '@neurone/core';
import type { UpdateRule } from '@neurone/core';
import { cpu } from '../src/index';
import { ThreadPool, setFloors } from '../src/threads';
import { pool as poolLoop } from '../src/conv';
import { bceRange, unaryRange } from '../src/kernels';
import { gemm } from '../src/gemm';
import { rnd } from './rnd';

/** The pool of `threads` threads once its workers have started (they start asynchronously). */
async function readyPool(threads: number): Promise<ThreadPool> {
  const pool = ThreadPool.get(threads);
  if (!pool) throw new Error('no thread pool under Node');
  for (let i = 0; i < 600 && pool.ready < threads - 1; i++) await new Promise((r) => setTimeout(r, 50));
  expect(pool.ready).toBe(threads - 1);
  return pool;
}

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
// none a multiple of the SIMD width (4), the tile (4×8), the blocks (KC 256, MC 128) or the thread counts
const SHAPES: [number, number, number][] = [[131, 259, 97], [150, 270, 301], [67, 515, 301], [5, 7, 3], [1, 300, 1001], [1001, 3, 1], [29, 1, 37]];

describe('cpu({ threads })', () => {
  let floors: ReturnType<typeof setFloors>;
  beforeAll(async () => {
    floors = setFloors({ gemm: 0, intensity: 0, unary: 0, window: 0 }); // every product and unary op across the threads
    await readyPool(2);
    await readyPool(3);
  });
  afterAll(() => {
    setFloors(floors);
  });

  it('float32 matmul is bit-identical on 1, 2 and 3 threads, every transpose, sizes off every block', () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    let seed = 1;
    for (const [m, k, n] of SHAPES)
      for (const [ta, tb] of FLAGS) {
        const a = rnd(m * k, seed++);
        const b = rnd(k * n, seed++);
        const [one, ...rest] = backends.map((B) => B.matmul(B.tensor(a, ta ? [k, m] : [m, k]), B.tensor(b, tb ? [n, k] : [k, n]), ta, tb).dataSync());
        for (const [i, r] of rest.entries())
          for (let j = 0; j < one!.length; j++)
            if (!Object.is(r[j], one![j])) expect.fail(`${m}×${k}×${n} ta=${ta} tb=${tb}, ${i + 2} threads [${j}]: ${r[j]} ≠ ${one![j]}`);
        // and within the float32 summation bound of the float64 triple loop
        const want = referenceMatmul(a, b, m, n, k, ta, tb);
        const mag = referenceMatmul(a.map(Math.abs), b.map(Math.abs), m, n, k, ta, tb);
        for (let j = 0; j < want.length; j++)
          if (!(Math.abs(one![j]! - want[j]!) <= k * 2 ** -23 * mag[j]!)) expect.fail(`${m}×${k}×${n} [${j}]: ${one![j]} vs ${want[j]}`);
      }
  });

  it('unary ops are bit-identical on 1, 2 and 3 threads (NaN, ±Infinity, sizes off the thread count)', () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    for (const n of [1, 5, 16387, 100_003]) {
      const x = rnd(n, n).map((v, i) => (i % 97 === 1 ? NaN : i % 89 === 2 ? Infinity : i % 83 === 3 ? -Infinity : v * 30));
      for (const op of UNARY_OPS) {
        const input = op === 'log' || op === 'sqrt' ? x.map(Math.abs) : x;
        const p = op === 'elu' ? 1.3 : 0.2; // the parametric ops' slope or α (others ignore it)
        const [one, ...rest] = backends.map((B) => B.unary(op, B.tensor(input, [n]), p).dataSync());
        for (const [i, r] of rest.entries())
          for (let j = 0; j < n; j++) if (!Object.is(r[j], one![j])) expect.fail(`${op} n=${n}, ${i + 2} threads [${j}]: ${r[j]} ≠ ${one![j]}`);
        // one thread against the float32 rounding of Math's value
        for (let j = 0; j < n; j += 101) {
          const v = input[j]!;
          const want = ({
            abs: Math.abs(v), exp: Math.exp(v), log: Math.log(v), sqrt: Math.sqrt(v), square: v * v, tanh: Math.tanh(v), sigmoid: 1 / (1 + Math.exp(-v)), relu: v < 0 ? 0 : v, softplus: Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))),
            leakyRelu: v > 0 ? v : p * v, elu: v > 0 ? v : p * Math.expm1(v), gelu: 0.5 * v * (1 + erf(v * Math.SQRT1_2)), geluTanh: 0.5 * v * (1 + Math.tanh(GELU_TANH.c * (v + GELU_TANH.k * v ** 3))) } as Record<string, number>)[op]!;
          if (!Object.is(one![j], Math.fround(want)) && !(Math.abs(one![j]! - want) <= 1e-7 * Math.abs(want))) expect.fail(`${op}(${v}) = ${one![j]}, want ${want}`);
        }
      }
    }
  });

  it("the activations' backward (gemm.wat's maps, split over the threads from 2^15 elements) is bit-identical on 1, 2 and 3 threads", () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    for (const n of [5, 32_771, 100_003]) {
      const s = rnd(n, n + 1);
      const d = rnd(n, n + 2).map((v, i) => (i % 97 === 1 ? NaN : v * 3));
      for (const op of ['tanh', 'sigmoid', 'relu'] as const) {
        const [one, ...rest] = backends.map((B) => B.activationGrad(op, B.tensor(s, [n]), B.tensor(d, [n])).dataSync());
        for (const [i, r] of rest.entries())
          for (let j = 0; j < n; j++) if (!Object.is(r[j], one![j])) expect.fail(`${op}Grad n=${n}, ${i + 2} threads [${j}]: ${r[j]} ≠ ${one![j]}`);
        const want = (j: number): number => Math.fround(op === 'tanh' ? d[j]! * (1 - s[j]! * s[j]!) : op === 'sigmoid' ? d[j]! * s[j]! * (1 - s[j]!) : s[j]! > 0 ? d[j]! : 0);
        for (let j = 0; j < n; j += 7) if (!Object.is(one![j], want(j)) && !(Number.isNaN(one![j]) && Number.isNaN(want(j)))) expect.fail(`${op}Grad [${j}] = ${one![j]}, want ${want(j)}`);
      }
    }
  });

  it('pool and poolGrad (and im2col, col2im beside them) are bit-identical on 1, 2 and 3 threads (batches off the thread count, padding, strides)', () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    for (const [batch, h, w, c, k, stride, pad] of [[1, 6, 5, 2, 3, 1, 1], [5, 9, 7, 3, 3, 2, 1], [7, 28, 28, 1, 3, 1, 0], [4, 8, 8, 8, 2, 2, 0]] as const) {
      const x = rnd(batch * h * w * c, batch + h).map((v) => Math.round(v * 4) / 4); // ties, so max picks a first arg-max
      const outs = backends.map((B) => {
        const t = B.tensor(x, [batch, h, w, c]);
        const win = { kernel: [k, k], stride: [stride, stride], padding: [pad, pad] } as const;
        const cols = im2col(t, win);
        const back = col2im(cols, win, t.shape);
        const out = [cols, back];
        for (const kind of ['max', 'avg'] as const) {
          const p = pool(kind, t, { kernel: [2, 2], stride: [2, 2] });
          out.push(p, poolGrad(kind, t, B.tensor(rnd(p.size, 3), p.shape), { kernel: [2, 2], stride: [2, 2] }));
        }
        return out.map((o) => o.dataSync());
      });
      for (const [i, r] of outs.slice(1).entries())
        r.forEach((arr, j) => {
          for (let e = 0; e < arr.length; e++) if (!Object.is(arr[e], outs[0]![j]![e])) expect.fail(`batch ${batch} ${h}×${w}×${c}, output ${j}, ${i + 2} threads [${e}]`);
        });
    }
  });

  it('BCE\'s terms (the fused BCELoss forward) are bit-identical on 1, 2 and 3 threads: targets 0, 1 and between, ŷ at 0, 1, outside [0, 1], NaN', () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    for (const n of [1, 5, 16387, 100_003]) {
      const y = rnd(n, n + 1).map((v, i) => (i % 3 === 0 ? 0 : i % 7 === 1 ? 1 : Math.abs(v)));
      const p = rnd(n, n + 2).map((v, i) => (i % 101 === 5 ? NaN : i % 89 === 2 ? 1 : i % 83 === 3 ? 0 : i % 79 === 4 ? -v - 1.5 : (v + 1) / 2));
      const [one, ...rest] = backends.map((B) => binaryCrossEntropy(B.tensor(y, [n]), B.tensor(p, [n]), false).dataSync());
      for (const [i, r] of rest.entries())
        for (let j = 0; j < n; j++) if (!Object.is(r[j], one![j])) expect.fail(`bce n=${n}, ${i + 2} threads [${j}]: ${r[j]} ≠ ${one![j]}`);
      const want = new Float32Array(n);
      bceRange(y, p, want, BCE_LOG_FLOOR);
      expect(Array.from(one!)).toEqual(Array.from(want));
    }
    const p3 = ThreadPool.get(3)!;
    expect(p3.pass('bce', [new Float64Array(40), new Float64Array(40), new Float64Array(40)], [BCE_LOG_FLOOR])).toBe(false); // float64 stays on the caller
    expect(p3.pass('bceGrad', [rnd(40, 1), rnd(40, 2), new Float32Array(40)], [0.5, 1e-12])).toBe(false); // the gradient too (a pass over memory)
  });

  it('the pool itself takes each kind of job and matches the single-thread loops exactly', () => {
    const p3 = ThreadPool.get(3)!;
    const a = rnd(3 * 17, 1);
    const b = rnd(17 * 5, 2);
    const c = new Float32Array(15);
    const c1 = new Float32Array(15);
    expect(p3.gemm(a, b, c, 3, 5, 17, false, false)).toBe(true);
    gemm(a, b, c1, 3, 5, 17, false, false);
    expect(Array.from(c)).toEqual(Array.from(c1));
    const u = new Float32Array(1001);
    const u1 = new Float32Array(1001);
    const x = rnd(1001, 3);
    // gemm.wat's maps split only over arrays in the arena (arena.test.ts): heap arrays stay on the caller
    expect(p3.pass('tanh', [x, u])).toBe(false);
    expect(p3.unary('sigmoid', x, u)).toBe(true);
    unaryRange('sigmoid', x, u1, 0, 1001, 0);
    expect(Array.from(u)).toEqual(Array.from(u1));
    expect(p3.unary('relu', x, u)).toBe(false); // cheap ops stay on the caller
    expect(p3.unary('tanh', x, u)).toBe(false); // float32 tanh runs on the caller's WebAssembly kernel
    const g = { batch: 5, inH: 4, inW: 4, chan: 2, outH: 2, outW: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 };
    const img = rnd(5 * 32, 4);
    const o = new Float32Array(5 * 8);
    const o1 = new Float32Array(5 * 8);
    expect(p3.window(0, 'max', img, null, o, g)).toBe(true);
    poolLoop('max', img, o1, g);
    expect(Array.from(o)).toEqual(Array.from(o1));
  });

  it("the optimizers' one-pass steps (Adam, AdamW, RMSprop centered with momentum: split from 2^15 elements; SGD's axpby) are bit-identical on 1, 2 and 3 threads", () => {
    const backends = [1, 2, 3].map((threads) => cpu({ threads }));
    const cases: [UpdateRule, number, number[]][] = [
      ['sgd', 0, [0.1, 0, 0, 0, 0]], ['adam', 2, [1e-3, 0.9, 0.999, 1.0005, 1e-8, 0, 0, 1e-3]], ['adam', 2, [0.02, 0.9, 0.999, 3.2, 1e-8, 0.01, 2, 0.02]],
      ['rmsprop', 3, [0.01, 0.9, 1e-8, 0.5, 0.01, 1]],
    ];
    for (const n of [32_771, 100_003])
      for (const [rule, count, h] of cases) {
        const [one, ...rest] = backends.map((B) => {
          let [p, ...state] = [rnd(n, n), ...Array.from({ length: count }, (_, i) => rnd(n, n + i + 1).map((v) => Math.abs(v) * (i === 1 ? 1e-3 : 1e-2)))].map((x) => B.tensor(x, [n]));
          for (let step = 0; step < 2; step++) [p, ...state] = optimizerUpdate(rule, p!, B.tensor(rnd(n, 7 * n + step).map((v) => v * 0.1), [n]), state, h);
          return [p!, ...state].map((t) => t.dataSync());
        });
        for (const [i, r] of rest.entries())
          for (const [s, arr] of r.entries())
            for (let j = 0; j < n; j++)
              if (!Object.is(arr[j], one![s]![j])) expect.fail(`${rule} ${h.join(',')}, n = ${n}, ${i + 2} threads, output ${s} [${j}]: ${arr[j]} ≠ ${one![s]![j]}`);
      }
  });

  it('jobs back to back and after the workers sleep match the single-thread loops exactly (late workers find their chunks taken and join the next job)', async () => {
    // every thread claims chunks of the same job until none is left: a worker that wakes after the
    // caller has done every chunk must take nothing of that job, nor anything of the next one but
    // through its own claim
    const g = { batch: 7, inH: 4, inW: 4, chan: 2, outH: 2, outW: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 };
    const img = rnd(7 * 32, 5);
    const a = rnd(9 * 13, 6);
    const b = rnd(13 * 41, 7);
    const x = rnd(1001, 8);
    const [c1, u1, o1] = [new Float32Array(9 * 41), new Float32Array(1001), new Float32Array(7 * 8)];
    gemm(a, b, c1, 9, 41, 13, false, false);
    unaryRange('exp', x, u1, 0, 1001, 0);
    poolLoop('max', img, o1, g);
    for (const threads of [2, 3]) {
      const p = ThreadPool.get(threads)!;
      for (let round = 0; round < 240; round++) {
        if (round % 7 === 3) await new Promise((r) => setTimeout(r, round % 3)); // the workers spin out and sleep
        const [c, u, o] = [new Float32Array(9 * 41), new Float32Array(1001), new Float32Array(7 * 8)];
        expect(p.gemm(a, b, c, 9, 41, 13, false, false)).toBe(true); // 41 columns: on 2 threads 4 chunks of 16, 16, 9 and 0; on 3, 6 of 8 (the last 1)
        expect(p.unary('exp', x, u)).toBe(true);
        expect(p.window(0, 'max', img, null, o, g)).toBe(true);
        for (const [got, want, what] of [[c, c1, 'gemm'], [u, u1, 'exp'], [o, o1, 'pool']] as const)
          for (let j = 0; j < want.length; j++)
            if (!Object.is(got[j], want[j])) expect.fail(`${threads} threads, round ${round}, ${what} [${j}]: ${got[j]} ≠ ${want[j]}`);
      }
    }
  });

  it('a product whose operands are shorter than its dimensions is refused by the pool (false), never run past their ends', () => {
    // operands lie among other tensors in the arena: the pool's gemm returns false rather than write past c (the caller's path then runs)
    const pool = ThreadPool.get(2)!;
    expect(pool.gemm(new Float32Array(1), new Float32Array(1), new Float32Array(1), 40_000, 40_000, 1, false, false)).toBe(false);
  });

  it('threads must be a positive integer (a ValueError names it)', () => {
    for (const bad of [0, -1, 1.5, NaN, 1000]) expect(() => cpu({ threads: bad })).toThrow(ValueError);
    expect(() => cpu({ threads: 0 })).toThrow(/threads/);
    expect(() => cpu({ threads: 2, thread: 1 } as never)).toThrow(/unknown option 'thread'/);
  });
});

// the whole primitive suite (extremum, where, strided, concat, gather, the tensor API's maps
// included) with every product, costly unary op and pool split across the threads; 1: no pool
for (const threads of [1, 2, 3]) {
  describe(`conformance with every product on ${threads} thread(s)`, () => {
    let floors: ReturnType<typeof setFloors>;
    beforeAll(async () => {
      floors = setFloors({ gemm: 0, intensity: 0, unary: 0, window: 0 });
      if (threads > 1) await readyPool(threads);
    });
    afterAll(() => {
      setFloors(floors);
    });
    runConformance(`cpu float32, ${threads} threads`, () => cpu({ threads }), { describe, it });
  });
}
