import type { ConvGeometry, PoolKind, TypedArray } from '@neurone/core';

/**
 * The window kernels (Conv1D, Conv2D, the pools) on channels-last typed arrays
 * [batch, H, W, C]. Each writes every element of `out`; the geometry is checked by the op layer.
 */

/** Patches of x as rows [batch·outH·outW, kh·kw·C]: row (b, oy, ox), column (ky, kx, c); zeros in the padding. */
export function im2col(x: TypedArray, out: TypedArray, g: ConvGeometry): void {
  const { batch, inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const rowW = inW * C;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * inH * rowW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - pw;
        if (C === 1 && y0 >= 0 && x0 >= 0 && y0 + kh <= inH && x0 + kw <= inW) {
          // one channel, window inside: kw consecutive values per kernel row
          for (let ky = 0; ky < kh; ky++) {
            let s = xb + (y0 + ky) * inW + x0;
            for (let kx = 0; kx < kw; kx++) out[o++] = x[s++]!;
          }
          continue;
        }
        for (let ky = 0; ky < kh; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= inH) {
            out.fill(0, o, o + kw * C);
            o += kw * C;
            continue;
          }
          for (let kx = 0; kx < kw; kx++) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= inW) {
              out.fill(0, o, o + C);
              o += C;
              continue;
            }
            let s = xb + y * rowW + xx * C;
            for (let c = 0; c < C; c++) out[o++] = x[s++]!;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: out [batch, inH, inW, C] = Σ of the patch elements that read each position. */
export function col2im(cols: TypedArray, out: TypedArray, g: ConvGeometry): void {
  const { batch, inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const rowW = inW * C;
  out.fill(0);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * inH * rowW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - pw;
        for (let ky = 0; ky < kh; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= inH) {
            o += kw * C;
            continue;
          }
          for (let kx = 0; kx < kw; kx++) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= inW) {
              o += C;
              continue;
            }
            let d = xb + y * rowW + xx * C;
            for (let c = 0; c < C; c++) out[d++]! += cols[o++]!;
          }
        }
      }
    }
  }
}

/**
 * The windows of one image, shared by every image of the batch: for output position p (row-major
 * over outH×outW), base[p] is the offset of its first in-bounds cell within the image, and its
 * in-bounds cells are cells[start[p] .. start[p + 1]) (offsets from base, row-major). A window
 * inside the input lists all kh·kw cells; one that overhangs the padding lists fewer.
 */
interface WindowTable {
  base: Int32Array;
  start: Int32Array;
  cells: Int32Array;
}

export function windowTable(g: ConvGeometry): WindowTable {
  const { inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const rowW = inW * C;
  const P = outH * outW;
  const base = new Int32Array(P);
  const start = new Int32Array(P + 1);
  const cells: number[] = [];
  for (let oy = 0, p = 0; oy < outH; oy++) {
    const y0 = oy * sh - ph;
    const ya = Math.max(y0, 0);
    const yz = Math.min(y0 + kh, inH);
    for (let ox = 0; ox < outW; ox++, p++) {
      const x0 = ox * sw - pw;
      const xa = Math.max(x0, 0);
      const xz = Math.min(x0 + kw, inW);
      base[p] = ya * rowW + xa * C;
      start[p] = cells.length;
      for (let y = ya; y < yz; y++) for (let xx = xa; xx < xz; xx++) cells.push((y - ya) * rowW + (xx - xa) * C);
    }
  }
  start[P] = cells.length;
  return { base, start, cells: Int32Array.from(cells) };
}

/** Max (padding ignored) or mean (padding counted as zeros) of each window, per channel: [batch, outH, outW, C]. */
export function pool(kind: PoolKind, x: TypedArray, out: TypedArray, g: ConvGeometry): void {
  const { batch, inH, inW, chan: C, outH, outW } = g;
  const { base, start, cells } = windowTable(g);
  const P = outH * outW;
  const max = kind === 'max';
  const scale = 1 / (g.kh * g.kw);
  const [R, D] = [inW * C, inW * C + C]; // the 2×2 window's cells below and below-right
  if (max && g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0) {
    // the common 2×2 window of stride 2: the table's cells by hand (the same maxima: Math.max is order-free)
    for (let b = 0, o = 0; b < batch; b++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0, s = b * inH * R + 2 * oy * R; ox < outW; ox++, s += C)
          for (let c = 0; c < C; c++, o++, s++) out[o] = Math.max(Math.max(x[s]!, x[s + C]!), Math.max(x[s + R]!, x[s + D]!));
    return;
  }
  for (let b = 0, o = 0; b < batch; b++) {
    const xb = b * inH * inW * C;
    for (let p = 0; p < P; p++) {
      const k0 = start[p]!;
      const k1 = start[p + 1]!;
      for (let c = 0; c < C; c++, o++) {
        const s = xb + base[p]! + c;
        if (max) {
          let best = x[s]!;
          for (let k = k0 + 1; k < k1; k++) best = Math.max(best, x[s + cells[k]!]!);
          out[o] = best;
        } else {
          let sum = 0;
          for (let k = k0; k < k1; k++) sum += x[s + cells[k]!]!;
          out[o] = sum * scale;
        }
      }
    }
  }
}

/**
 * The pools' backward into out [batch, inH, inW, C]: each delta element goes to the first
 * arg-max of its window in row-major order (max), or scaled by 1/(kh·kw) to every input
 * position of its window (avg).
 */
export function poolGrad(kind: PoolKind, x: TypedArray, delta: TypedArray, out: TypedArray, g: ConvGeometry): void {
  const { batch, inH, inW, chan: C, outH, outW } = g;
  const { base, start, cells } = windowTable(g);
  const P = outH * outW;
  const max = kind === 'max';
  const scale = 1 / (g.kh * g.kw);
  out.fill(0);
  const [R, D] = [inW * C, inW * C + C];
  if (max && g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0) {
    // the common 2×2 window of stride 2 by hand: the first arg-max in row-major order, as below
    for (let b = 0, o = 0; b < batch; b++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0, s = b * inH * R + 2 * oy * R; ox < outW; ox++, s += C)
          for (let c = 0; c < C; c++, o++, s++) {
            const v0 = x[s]!;
            const v1 = x[s + C]!;
            const v2 = x[s + R]!;
            const v3 = x[s + D]!;
            const best = Math.max(Math.max(v0, v1), Math.max(v2, v3));
            out[v0 === best ? s : v1 === best ? s + C : v2 === best ? s + R : v3 === best ? s + D : s]! += delta[o]!;
          }
    return;
  }
  for (let b = 0, o = 0; b < batch; b++) {
    const xb = b * inH * inW * C;
    for (let p = 0; p < P; p++) {
      const k0 = start[p]!;
      const k1 = start[p + 1]!;
      for (let c = 0; c < C; c++, o++) {
        const s = xb + base[p]! + c;
        if (max) {
          // the max without branches, then its first cell (one branch taken per window)
          let best = x[s]!;
          for (let k = k0 + 1; k < k1; k++) best = Math.max(best, x[s + cells[k]!]!);
          let at = s;
          for (let k = k0; k < k1; k++) {
            if (x[s + cells[k]!]! === best) {
              at = s + cells[k]!;
              break;
            }
          }
          out[at]! += delta[o]!;
        } else {
          const d = delta[o]! * scale;
          for (let k = k0; k < k1; k++) out[s + cells[k]!]! += d;
        }
      }
    }
  }
}
