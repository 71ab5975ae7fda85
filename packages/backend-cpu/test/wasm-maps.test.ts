import { describe, expect, it } from 'vitest';
import { cpu } from '../src/index';
import { withoutWasm } from './without-wasm';
import { tanh32, unaryRange } from '../src/kernels';
import { colsumWasm, scalarWasm, im2colWasm, mapOnWasm, maxPool2Fits, maxPool2GradWasm, maxPool2Wasm, passWasm } from '../src/wasm-gemm';
import { im2col, pool, poolGrad } from '../src/conv';
import { optimizerUpdate } from '@neurone/core';
import type { ConvGeometry, Tensor, UpdateRule } from '@neurone/core';

const tanhWasm = (x: Float32Array, out: Float32Array): boolean => mapOnWasm('tanh', [x], out);

/** Random float32 values in [−scale, scale) from a fixed seed. */
function rnd(n: number, seed: number, scale = 4): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}


const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function firstDiff(got: Float32Array, want: ArrayLike<number>): string | null {
  for (let i = 0; i < want.length; i++) if (!same(got[i]!, want[i]!)) return `[${i}]: got ${got[i]}, want ${want[i]}`;
  return null;
}

/** Inputs where tanh32 changes branch or saturates, and the IEEE specials. */
const EDGES = [0, -0, 1e-45, -1e-45, 1e-30, 0.0624999, 0.0625, -0.0625, 0.0625001, 0.5, 1, -1, 3, 8.9, 9.01, 18.99, 19, 19.01, 40, -40, 88.7, 1e30, Infinity, -Infinity, NaN];

describe('element-wise maps on WebAssembly (tanh, relu, the activations\' backward, axpby)', () => {
  it('tanh: the wasm kernel gives tanh32 bit for bit, on every length (lanes past n never leak) and on the edge values', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 63, 64, 65, 1001]) {
      const x = rnd(n, n);
      const out = new Float32Array(n).fill(7);
      expect(tanhWasm(x, out)).toBe(true);
      expect(firstDiff(out, Array.from(x, (v) => Math.fround(tanh32(v)))), `n = ${n}`).toBeNull();
    }
    const x = Float32Array.from(EDGES);
    const out = new Float32Array(x.length);
    expect(tanhWasm(x, out)).toBe(true);
    expect(firstDiff(out, Array.from(x, (v) => Math.fround(tanh32(v))))).toBeNull();
    expect(firstDiff(out, Array.from(x, (v) => Math.fround(Math.tanh(v))))).toBeNull(); // ±0, ±1, NaN as Math.tanh
  });

  it('tanh32 rounds to float32 as Math.tanh does on a sweep of 4 million float32 inputs (|x| from 1e-9 to 30)', () => {
    const x = new Float32Array(1 << 22);
    const bits = new Uint32Array(x.buffer);
    const lo = 0x30800000; // ≈ 9.3e-10
    const hi = 0x41f00000; // 30
    for (let i = 0; i < x.length; i++) bits[i] = (lo + Math.floor(((hi - lo) * i) / x.length)) | (i & 1 ? 0x80000000 : 0);
    const out = new Float32Array(x.length);
    expect(tanhWasm(x, out)).toBe(true);
    let diff = 0;
    for (let i = 0; i < x.length; i++) if (out[i] !== Math.fround(Math.tanh(x[i]!))) diff++;
    expect(diff).toBe(0);
  });

  it('axpby: the wasm kernel gives the JavaScript loop (float64 arithmetic, then float32) bit for bit', () => {
    for (const n of [1, 3, 4, 5, 65, 1001]) {
      const x = rnd(n, 10 + n);
      const y = rnd(n, 20 + n, 1e-3);
      const out = new Float32Array(n);
      for (const [alpha, beta] of [[1, -0.1], [0.9, 0.1], [-3.5, 1e-7]] as const) {
        expect(passWasm('axpby', [x, y, out], [alpha, beta])).toBe(true);
        expect(firstDiff(out, Array.from(x, (v, i) => Math.fround(alpha * v + beta * y[i]!))), `n = ${n}`).toBeNull();
      }
    }
  });

  it('optimizerUpdate: gemm.wat\'s adam (Adam, AdamW, L2; RMSprop plain, centered, with momentum) gives the chain of primitives bit for bit (wasm off), with zeros, tiny moments and specials; SGD and the first step on the chain, wasm on and off', () => {
    const B = cpu({ threads: 1 });
    const cases: [UpdateRule, number, number[]][] = [
      ['sgd', 0, [0.1, 0, 0, 0, 0]], ['sgd', 0, [0.1, 0, 0, 0.01, 0]], ['sgd', 1, [0.1, 0.9, 0, 0, 0]], ['sgd', 1, [0.05, 0.8, 0.3, 1e-3, 0]], ['sgd', 1, [0.1, 0.9, 0, 0.02, 1]],
      ['adam', 2, [1e-3, 0.9, 0.999, 1.0005, 1e-8, 0, 0, 1e-3]], ['adam', 2, [0.05, 0.8, 0.99, 31.6, 1e-10, 0.1, 1, 0.01]], ['adam', 2, [0.02, 0.9, 0.999, 3.2, 0, 0.01, 2, 0.02]],
      ['rmsprop', 1, [0.01, 0.99, 1e-8, 0, 0, 0]], ['rmsprop', 1, [0.01, 0.9, 1e-8, 0, 0.01, 0]], ['rmsprop', 3, [0.01, 0.9, 1e-8, 0.5, 0.01, 1]], ['rmsprop', 2, [0.01, 0.9, 1e-8, 0.5, 0, 0]],
      ['rmsprop', 2, [0.02, 0.9, 0, 0, 0, 1]], ['rmsprop', 3, [0.01, 0.8, 1e-6, 0.9, 0, 1]],
    ];
    // the kernel is there (Adam's step; RMSprop's centered with momentum)
    const out = (): Float32Array => new Float32Array(64);
    expect(passWasm('adam', [rnd(64, 1), rnd(64, 2), rnd(64, 3), rnd(64, 4), null, out(), out(), out(), null], [0.9, 0.1, 0.999, 0.001, -1e-3, 1, 1e-8, 0, 0, 0])).toBe(true);
    expect(passWasm('adam', [rnd(64, 1), rnd(64, 2), rnd(64, 3), rnd(64, 4), rnd(64, 5), out(), out(), out(), out()], [0.9, 0.1, 0.9, 0.1, -1e-3, 1, 1e-8, 0, 0.5, 4 | 16 | 32])).toBe(true);
    for (const n of [64, 65, 67, 131, 1001]) {
      const p = rnd(n, 60 + n, 2);
      const gs = [rnd(n, 70 + n, 1e-2), rnd(n, 80 + n, 1e-3), rnd(n, 90 + n, 1)];
      p.set([0, -0, 1e-45, Infinity, -3]);
      gs[1]!.set([-0, 0, 1e-30, 2, NaN, 1e-45, 0, -0]);
      gs[0]!.set([0, -0], 6); // v = 0 at 6 and 7 in the second step: √0, and 0/0 where ε = 0
      for (const [rule, count, h] of cases) {
        // three steps (the first without state), each output compared as bits, wasm on and off
        const run = (): Float32Array[] => {
          let [pt, st] = [B.tensor(p, [n]), Array.from({ length: count }, () => null) as (Tensor | null)[]];
          const seen: Float32Array[] = [];
          for (const g of gs) {
            const o = optimizerUpdate(rule, pt, B.tensor(g, [n]), st, h);
            [pt, st] = [o[0]!, o.slice(1)];
            seen.push(...[pt, ...st].map((x) => x!.dataSync() as Float32Array));
          }
          return seen;
        };
        const [wasm, loop] = [run(), withoutWasm(run)];
        wasm.forEach((out, j) => expect(firstDiff(out, loop[j]!), `${rule} ${h}, n = ${n}, output ${j}`).toBeNull());
      }
    }
  });

  it('gemm.wat\'s exp (V8\'s) is Math.exp bit for bit: every 61st float32 of both signs, doubles over [−750, 750], the thresholds, specials', () => {
    const f = new Float32Array(1);
    const fb = new Uint32Array(f.buffer);
    let s = 777;
    const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    const xs: number[] = [0, -0, 1, -1, 2, 0.5, NaN, Infinity, -Infinity, 709.782712893384, 709.7827128933841, 709.79, -745.1332191019411, -745.1332191019412, -745.2, 1e-300, -1e-300, 2 ** -28, -(2 ** -28), 0.5 * Math.LN2, 1.5 * Math.LN2, -0.5 * Math.LN2, -1.5 * Math.LN2, -708.4, -708.5, -720, 709.5];
    for (let b = 0; b < 0x7f800000; b += 61 * 8) {
      fb[0] = b + (next() & 0x1ff);
      xs.push(f[0]!, -f[0]!);
    }
    for (let i = 0; i < 1 << 20; i++) xs.push((next() / 2 ** 32 - 0.5) * 1500, (next() / 2 ** 32 - 0.5) * 3);
    let diff = 0;
    for (const x of xs) if (!same(scalarWasm('exp', x)!, Math.exp(x))) diff++;
    expect(xs.length).toBeGreaterThan(6e6);
    expect(diff).toBe(0);
  });

  it('sigmoid: the wasm kernel gives the loop (Math.exp) bit for bit on a sweep of float32 inputs of both signs and the specials; float64 keeps the loop', () => {
    const n = 1 << 20;
    const x = new Float32Array(n);
    const bits = new Uint32Array(x.buffer);
    for (let i = 0; i < n; i++) bits[i] = (Math.floor((i >> 1) * (0x42d00000 / (n / 2))) | (i & 1 ? 0x80000000 : 0)) >>> 0; // |x| up to 104
    x.set([0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 88, -88, 104, -104, 20, -20, 2 ** -28, -(2 ** -28), 3e-9]);
    // around ln2/2 (where $exp's k = 0 form ends) and 1.5·ln2, both signs, float32 neighbours
    const around = new Float32Array(1);
    const aroundBits = new Uint32Array(around.buffer);
    [Math.LN2 / 2, 1.5 * Math.LN2].forEach((c, j) => {
      around[0] = c;
      const b0 = aroundBits[0]!;
      for (let d = -16; d <= 16; d++) {
        aroundBits[0] = b0 + d;
        x[100 + j * 70 + 2 * (d + 16)] = around[0]!;
        x[101 + j * 70 + 2 * (d + 16)] = -around[0]!;
      }
    });
    const got = new Float32Array(n);
    expect(mapOnWasm('sigmoid', [x], got)).toBe(true);
    const want = new Float32Array(n);
    unaryRange('sigmoid', x, want, 0, n, 0);
    expect(firstDiff(got, want)).toBeNull();
    const B = cpu({ threads: 1 });
    const t = B.tensor(rnd(300, 11, 30), [3, 100]);
    const on = Array.from(t.sigmoid().dataSync());
    expect(withoutWasm(() => Array.from(t.sigmoid().dataSync()))).toEqual(on);
  });

  it('cpu(): tanh, relu, the tanh / sigmoid / relu backward and axpby give the same bits on the wasm path and the JavaScript loops, and float64 keeps Math.tanh', () => {
    const B = cpu({ threads: 1 });
    const xs = rnd(3 * 97, 5); // 291 elements: past the wasm floor, not a multiple of 4
    xs.set([NaN, -0, 0, Infinity, -Infinity, 1e-45, -1e-45]); // relu keeps NaN and −0 as the loop does
    const x = B.tensor(xs, [3, 97]);
    const y = B.tensor(rnd(3 * 97, 6), [3, 97]);
    const s = B.tensor(rnd(3 * 97, 7, 1), [3, 97]); // saved outputs in (−1, 1)
    const grads = (): number[][] =>
      (['tanh', 'sigmoid', 'relu'] as const).map((op) => Array.from(B.activationGrad(op, s, y).dataSync()));
    const run = (): number[][] => [Array.from(x.tanh().dataSync()), Array.from(x.relu().dataSync()), Array.from(B.axpby(1, x, -0.1, y).dataSync()), ...grads()];
    const wasm = run();
    expect(withoutWasm(run)).toEqual(wasm);
    const js = new Float32Array(291);
    unaryRange('tanh', x.dataSync(), js, 0, 291, 0);
    expect(wasm[0]).toEqual(Array.from(js));
    const B64 = cpu({ dtype: 'float64' });
    const x64 = B64.tensor(Array.from(x.dataSync()), [3, 97]);
    expect(Array.from(x64.tanh().dataSync())).toEqual(Array.from(x64.dataSync(), Math.tanh));
  });

  it('colsum: float64 column sums in row order, the same bits as the loop, on odd and even column counts and several blocks', () => {
    for (const [outer, rows, cols] of [[1, 64, 1], [1, 100, 3], [2, 65, 8], [3, 77, 5], [1, 4, 3], [1, 43264, 16], [1, 128, 784], [2, 9, 33]] as const) {
      const x = rnd(outer * rows * cols, rows + cols, 100);
      const out = new Float64Array(outer * cols);
      expect(colsumWasm(x, outer, rows, cols, out)).toBe(true);
      const want = new Float64Array(outer * cols);
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < cols; j++) {
          let acc = 0;
          for (let r = 0; r < rows; r++) acc += x[(o * rows + r) * cols + j]!;
          want[o * cols + j] = acc;
        }
      expect(Array.from(out), `${outer}×${rows}×${cols}`).toEqual(Array.from(want));
    }
    // through cpu(): a conv bias gradient's shape and a Linear's (wide rows over the batch), wasm on and off
    const B = cpu({ threads: 1 });
    const g = B.tensor(rnd(2 * 100 * 5, 9, 10), [2, 100, 5]);
    const lin = B.tensor(rnd(128 * 257, 10, 10), [128, 257]);
    const sums = (): number[][] => [Array.from(g.sum([1]).dataSync()), Array.from(lin.sum([0]).dataSync()), Array.from(g.sum([0, 1]).dataSync())];
    const on = sums();
    expect(withoutWasm(sums)).toEqual(on);
  });

  it('max pool 2×2 stride 2 and its backward: the loops\' bits, with ties, NaN, −0 and odd sizes (uncovered cells stay 0)', () => {
    for (const [batch, inH, inW, chan] of [[1, 2, 2, 4], [3, 5, 7, 8], [2, 26, 26, 8], [1, 4, 6, 12]] as const) {
      const outH = Math.floor(inH / 2);
      const outW = Math.floor(inW / 2);
      const g: ConvGeometry = { batch, inH, inW, chan, outH, outW, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 };
      expect(maxPool2Fits(g)).toBe(true);
      const x = rnd(batch * inH * inW * chan, inH * 31 + chan);
      for (let i = 0; i < x.length; i += 7) x[i] = Math.round(x[i]!); // ties inside windows
      x.set([NaN, -0, 0, 0], 0);
      x.set([-0, -0, 0, -0], chan * 2);
      const want = new Float32Array(batch * outH * outW * chan);
      const got = new Float32Array(want.length).fill(9);
      pool('max', x, want, g);
      expect(maxPool2Wasm(x, got, g)).toBe(true);
      expect(firstDiff(got, want), `${batch}×${inH}×${inW}×${chan}`).toBeNull();
      const d = rnd(want.length, 77);
      d[1] = -0;
      const gw = new Float32Array(x.length);
      const gg = new Float32Array(x.length).fill(9);
      poolGrad('max', x, d, gw, g);
      expect(maxPool2GradWasm(x, d, gg, g)).toBe(true);
      expect(firstDiff(gg, gw), `grad ${batch}×${inH}×${inW}×${chan}`).toBeNull();
    }
    expect(maxPool2Fits({ batch: 1, inH: 4, inW: 4, chan: 3, outH: 2, outW: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0 })).toBe(false);
  });

  it('im2col: the loop\'s values with padding, strides, one and several channels', () => {
    const cases: ConvGeometry[] = [
      { batch: 2, inH: 28, inW: 28, chan: 1, outH: 26, outW: 26, kh: 3, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0 },
      { batch: 2, inH: 7, inW: 9, chan: 3, outH: 4, outW: 5, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1 },
      { batch: 1, inH: 5, inW: 5, chan: 8, outH: 7, outW: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 2, pw: 2 },
      { batch: 3, inH: 1, inW: 30, chan: 2, outH: 1, outW: 14, kh: 1, kw: 4, sh: 1, sw: 2, ph: 0, pw: 0 },
      // kernel rows of ≤ 16 bytes (the one-load path) beside windows in the padding, on one row
      { batch: 2, inH: 9, inW: 10, chan: 1, outH: 9, outW: 10, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 },
      { batch: 2, inH: 11, inW: 12, chan: 1, outH: 6, outW: 6, kh: 3, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1 },
      { batch: 1, inH: 6, inW: 6, chan: 4, outH: 4, outW: 6, kh: 3, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0 },
    ];
    for (const g of cases) {
      const x = rnd(g.batch * g.inH * g.inW * g.chan, g.inW);
      const want = new Float32Array(g.batch * g.outH * g.outW * g.kh * g.kw * g.chan);
      const got = new Float32Array(want.length).fill(9);
      im2col(x, want, g);
      expect(im2colWasm(x, got, g)).toBe(true);
      expect(firstDiff(got, want), JSON.stringify(g)).toBeNull();
    }
  });

  it('matmul with a bias: the wasm kernel adds it (4 lanes and the ragged end) with the loop\'s rounding', () => {
    const B = cpu({ threads: 1 });
    for (const [m, k, n] of [[100, 9, 8], [7, 13, 10], [64, 30, 3], [5, 4, 257]] as const) {
      const ints = (len: number, seed: number): Float32Array => rnd(len, seed, 8).map(Math.round); // exact products and sums
      const a = B.tensor(ints(m * k, m), [m, k]);
      const w = B.tensor(ints(n * k, n), [n, k]);
      const bias = B.tensor(rnd(n, k, 3), [n]);
      const run = (): number[] => Array.from(a.matmul(w, { transposeB: true, bias }).dataSync());
      const wasm = run();
      expect(withoutWasm(run), `${m}×${k}×${n}`).toEqual(wasm);
    }
  });
});
