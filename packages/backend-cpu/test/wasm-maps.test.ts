import { describe, expect, it } from 'vitest';
import { cpu } from '../src/index';
import { useWasmGemm } from '../src/gemm';
import { tanh32, unaryRange } from '../src/kernels';
import { axpbyWasm, colsumWasm, im2colWasm, mapOnWasm, maxPool2Fits, maxPool2GradWasm, maxPool2Wasm } from '../src/wasm-gemm';
import { im2col, pool, poolGrad } from '../src/conv';
import type { ConvGeometry } from '@neurone/core';

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
        expect(axpbyWasm(alpha, x, beta, y, out)).toBe(true);
        expect(firstDiff(out, Array.from(x, (v, i) => Math.fround(alpha * v + beta * y[i]!))), `n = ${n}`).toBeNull();
      }
    }
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
    const was = useWasmGemm(false);
    try {
      expect(run()).toEqual(wasm);
    } finally {
      useWasmGemm(was);
    }
    const js = new Float32Array(291);
    unaryRange('tanh', x.dataSync(), js, 0, 291, 0);
    expect(wasm[0]).toEqual(Array.from(js));
    const B64 = cpu({ dtype: 'float64' });
    const x64 = B64.tensor(Array.from(x.dataSync()), [3, 97]);
    expect(Array.from(x64.tanh().dataSync())).toEqual(Array.from(x64.dataSync(), Math.tanh));
  });

  it('colsum: float64 column sums in row order, the same bits as the loop, on odd and even column counts and several blocks', () => {
    for (const [outer, rows, cols] of [[1, 64, 1], [1, 100, 3], [2, 65, 8], [3, 77, 5], [1, 4, 3], [1, 43264, 16]] as const) {
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
    // through cpu(): a conv bias gradient's shape, wasm on and off
    const B = cpu({ threads: 1 });
    const g = B.tensor(rnd(2 * 100 * 5, 9, 10), [2, 100, 5]);
    const on = Array.from(g.sum([1]).dataSync());
    const was = useWasmGemm(false);
    try {
      expect(Array.from(g.sum([1]).dataSync())).toEqual(on);
    } finally {
      useWasmGemm(was);
    }
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
      const was = useWasmGemm(false);
      try {
        expect(run(), `${m}×${k}×${n}`).toEqual(wasm);
      } finally {
        useWasmGemm(was);
      }
    }
  });
});
