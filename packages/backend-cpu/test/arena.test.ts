import { afterAll, describe, expect, it } from 'vitest';
import { cpu } from '../src/index';
import { Arena, MAX_TENSOR_FLOATS, sizeClass } from '../src/arena';
import { ThreadPool, setFloors, sharedWasm } from '../src/threads';
import { gemm } from '../src/gemm';
import { mapOnWasm } from '../src/wasm-gemm';
import { BCE_LOG_FLOOR, binaryCrossEntropy, im2col, pool, poolGrad } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { rnd } from './rnd';

describe('arena: float32 storage in the shared WebAssembly memory', () => {
  it('a size class holds the length rounded up to 4 plus 4, at most 1/8 more above 64 floats, in multiples of 4, never shrinking as n grows', () => {
    let prev = 0;
    for (let n = 1; n < 300_000; n += n < 200 ? 1 : 97) {
      const c = sizeClass(n);
      const base = ((n + 3) & ~3) + 4;
      expect(c).toBeGreaterThanOrEqual(base);
      expect(c % 4).toBe(0);
      if (base > 64) expect(c).toBeLessThanOrEqual(base * 1.125);
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
  });

  it('take and give: a block given back serves the next array of its class; other arrays are refused, a block is given back once', () => {
    const arena = Arena.make()!;
    const a = arena.take(10)!;
    const at = arena.at(a);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(arena.at(new Float32Array(10))).toBe(-1);
    expect(arena.give(a.subarray(1))).toBe(false); // a view into a block
    expect(arena.give(new Float32Array(10))).toBe(false); // a heap array
    expect(arena.give(a)).toBe(true);
    expect(arena.give(a)).toBe(false); // twice
    const b = arena.take(11)!; // the same class (16 floats)
    expect(arena.at(b)).toBe(at);
    expect(arena.take(0)).toBeNull();
    expect(arena.take(MAX_TENSOR_FLOATS + 1)).toBeNull(); // too large: the caller uses a heap array
    expect(arena.bytes.live).toBe(sizeClass(11) * 4);
  });

  it('arrays taken before the memory grows keep their values and stay recognised after', () => {
    const arena = Arena.make()!;
    const first = arena.take(1000)!;
    first.set(rnd(1000, 1));
    const pages = arena.memory.buffer.byteLength;
    const big = Array.from({ length: 8 }, () => arena.take(2 ** 20)!);
    expect(arena.memory.buffer.byteLength).toBeGreaterThan(pages + 8 * 4 * 2 ** 20 - 1);
    expect(Array.from(first)).toEqual(Array.from(rnd(1000, 1)));
    expect(arena.at(first)).toBeGreaterThanOrEqual(0);
    for (const b of big) expect(arena.give(b)).toBe(true);
  });

  it("cpu()'s float32 tensors live in the arena and give their block back when disposed; large and float64 ones are heap arrays", () => {
    const arena = sharedWasm()!.arena;
    const B = cpu({ threads: 1 });
    const before = arena.bytes.live;
    const t = B.zeros([1000]);
    expect(arena.bytes.live - before).toBe(sizeClass(1000) * 4);
    expect(t.dataSync().buffer).not.toBeInstanceOf(SharedArrayBuffer); // reads are plain copies, never views on the shared memory
    t.dispose();
    expect(arena.bytes.live).toBe(before);
    const huge = B.zeros([MAX_TENSOR_FLOATS + 1]);
    expect(arena.bytes.live).toBe(before);
    huge.dispose();
    const d = cpu({ dtype: 'float64' }).zeros([1000]);
    expect(arena.bytes.live).toBe(before);
    d.dispose();
  });

  it('a kernel reading heap arrays (copied through scratch) gives the same bits as on arena arrays (read in place)', () => {
    const arena = sharedWasm()!.arena;
    const [m, n, k] = [37, 29, 301];
    for (const [ta, tb] of [[false, false], [true, true], [false, true], [true, false]] as const) {
      const [a, b] = [rnd(m * k, 2), rnd(k * n, 3)];
      const heapC = new Float32Array(m * n);
      gemm(a, b, heapC, m, n, k, ta, tb);
      const [wa, wb, wc] = [arena.take(m * k)!, arena.take(k * n)!, arena.take(m * n)!];
      wa.set(a);
      wb.set(b);
      gemm(wa, wb, wc, m, n, k, ta, tb);
      expect(Array.from(wc)).toEqual(Array.from(heapC));
      for (const x of [wa, wb, wc]) arena.give(x);
    }
  });

  it("the pool splits gemm.wat's maps over arrays in the arena only: the single-thread bits there, heap arrays left to the caller", async () => {
    const pool = ThreadPool.get(3)!;
    for (let i = 0; i < 600 && pool.ready < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const { arena } = sharedWasm()!;
    const n = 40_003;
    const [x, d] = [rnd(n, 5), rnd(n, 6)];
    const [xa, da, ya, pa, out] = [arena.take(n)!, arena.take(n)!, arena.take(n)!, arena.take(n)!, arena.take(n)!];
    xa.set(x);
    da.set(d);
    ya.set(d.map((v, i) => (i % 5 < 3 ? 0 : i % 5 === 3 ? 1 : Math.abs(v) / 4))); // BCE's targets, mostly 0 (image-like), and its predictions
    pa.set(x.map((v, i) => (i % 97 === 1 ? NaN : i % 89 === 2 ? 0 : i % 83 === 3 ? 1 : (v + 4) / 8)));
    const maps = [['tanh', [xa]], ['sigmoid', [xa]], ['tanhGrad', [xa, da]], ['sigmoidGrad', [xa, da]], ['bce', [ya, pa], [BCE_LOG_FLOOR]]] as const;
    for (const [op, ins, extra] of maps) {
      const want = new Float32Array(n + 4);
      expect(mapOnWasm(op, ins.map((a) => a.slice()), want.subarray(0, n), extra)).toBe(true);
      expect(pool.pass(op, [...ins, out], extra)).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(want.subarray(0, n)));
      expect(pool.pass(op, [...ins.map((a) => a.slice()), new Float32Array(n)], extra)).toBe(false); // heap arrays: the caller's own path
    }
    for (const a of [xa, da, ya, pa, out]) arena.give(a);
  });

  describe('kernels writing in place leave the tensors beside their output untouched', () => {
    const was = setFloors({ gemm: 0, intensity: 0, unary: 0, map: 0, window: 0 }); // small odd jobs split across the threads too
    afterAll(() => setFloors(was));

    for (const threads of [1, 2, 3]) {
      it(`${threads} thread(s): products (with bias), maps, their backward, axpby, pools, im2col, column sums`, async () => {
        if (threads > 1) {
          const pool = ThreadPool.get(threads)!;
          for (let i = 0; i < 600 && pool.ready < threads - 1; i++) await new Promise((r) => setTimeout(r, 50));
        }
        /** Every op on `B`, each output in a block between sentinels; the sentinels and the outputs. */
        const run = (B: Backend): { sentinels: [Tensor, Float32Array][]; out: Tensor[] } => {
          const sentinels: [Tensor, Float32Array][] = [];
          let seed = 1;
          const sentinel = (): void => {
            const v = rnd(1 + (seed * 7919) % 61, seed++);
            sentinels.push([B.tensor(v, [v.length]), v]);
          };
          /** A tensor of `shape` between two sentinel tensors of random sizes. */
          const guarded = (shape: readonly number[]): Tensor => {
            sentinel();
            const t = B.tensor(rnd(shape.reduce((p, q) => p * q, 1), seed++), shape);
            sentinel();
            return t;
          };
          /** `op`'s output, which takes a block freed between two sentinels (a block of its size class, given back last). */
          const between = (size: number, op: () => Tensor): Tensor => {
            guarded([size]).dispose();
            return op();
          };
          const out: Tensor[] = [];
          for (const [m, k, n] of [[1, 1, 1], [5, 3, 7], [13, 17, 9], [33, 65, 31], [3, 257, 2]] as const) {
            const [a, b, bias, d] = [guarded([m, k]), guarded([n, k]), guarded([n]), guarded([m, n])];
            const y = between(m * n, () => a.matmul(b, { transposeB: true, bias }));
            const t = between(m * n, () => y.tanh());
            out.push(y, t, between(m * n, () => y.sigmoid()), between(m * n, () => y.relu()), between(m * n, () => B.axpby(0.5, y, 2, t)), between(n, () => y.sum(0)));
            out.push(between(m * k, () => a.exp()), between(m * k, () => a.sigmoid()), between(m * k, () => a.log()));
            for (const op of ['tanh', 'sigmoid', 'relu'] as const) out.push(between(m * n, () => B.activationGrad(op, t, d)));
            const [q, target] = [between(m * n, () => t.sigmoid()), between(m * n, () => t.abs())]; // BCE's prediction (in [0.26, 0.74]) and target
            out.push(between(m * n, () => binaryCrossEntropy(target, q, false)), between(m * n, () => binaryCrossEntropy(target, q, true, 0.25)));
          }
          for (const [n, h, w, c] of [[3, 6, 6, 4], [2, 5, 7, 3], [5, 4, 4, 8]] as const) {
            const img = guarded([n, h, w, c]);
            const win = { kernel: [2, 2], stride: [2, 2] } as const;
            const pooled = n * Math.floor(h / 2) * Math.floor(w / 2) * c;
            const p = between(pooled, () => pool('max', img, win));
            const delta = guarded(p.shape);
            out.push(p, between(img.size, () => poolGrad('max', img, delta, win)), between(pooled, () => pool('avg', img, win)));
            out.push(between(img.size * 9, () => im2col(img, { kernel: [3, 3], stride: [1, 1], padding: [1, 1] })));
          }
          return { sentinels, out };
        };
        const got = run(cpu({ threads }));
        const want = run(cpu({ dtype: 'float64' }));
        for (const [t, v] of got.sentinels) expect(Array.from(t.dataSync())).toEqual(Array.from(v));
        got.out.forEach((t, i) => {
          const [g, w] = [t.dataSync(), want.out[i]!.dataSync()];
          for (let j = 0; j < w.length; j++) if (!(Number.isNaN(w[j]!) && Number.isNaN(g[j]!))) expect(Math.abs(g[j]! - w[j]!), `output ${i}, element ${j}`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(w[j]!)));
        });
        for (const r of [got, want]) for (const t of [...r.out, ...r.sentinels.map(([x]) => x)]) t.dispose();
      });
    }
  });
});
