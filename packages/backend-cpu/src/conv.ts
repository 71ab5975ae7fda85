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

/** Max (padding ignored) or mean (padding counted as zeros) of each window, per channel: [batch, outH, outW, C]. */
export function pool(kind: PoolKind, x: TypedArray, out: TypedArray, g: ConvGeometry): void {
  const { batch, inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const rowW = inW * C;
  const max = kind === 'max';
  const scale = 1 / (kh * kw);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * inH * rowW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      const ya = Math.max(y0, 0);
      const yz = Math.min(y0 + kh, inH);
      for (let ox = 0; ox < outW; ox++, o += C) {
        const x0 = ox * sw - pw;
        const xa = Math.max(x0, 0);
        const xz = Math.min(x0 + kw, inW);
        out.fill(max ? -Infinity : 0, o, o + C);
        for (let y = ya; y < yz; y++)
          for (let xx = xa; xx < xz; xx++) {
            const s = xb + y * rowW + xx * C;
            if (max) {
              for (let c = 0; c < C; c++) {
                const v = x[s + c]!;
                // NaN propagates, as in a max that compares v > best or v is NaN
                if (v > out[o + c]! || v !== v) out[o + c] = v;
              }
            } else for (let c = 0; c < C; c++) out[o + c]! += x[s + c]!;
          }
        if (!max) for (let c = 0; c < C; c++) out[o + c] = out[o + c]! * scale;
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
  const { batch, inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
  const rowW = inW * C;
  const scale = 1 / (kh * kw);
  out.fill(0);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * inH * rowW;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * sh - ph;
      const ya = Math.max(y0, 0);
      const yz = Math.min(y0 + kh, inH);
      for (let ox = 0; ox < outW; ox++, o += C) {
        const x0 = ox * sw - pw;
        const xa = Math.max(x0, 0);
        const xz = Math.min(x0 + kw, inW);
        if (kind === 'avg') {
          for (let y = ya; y < yz; y++)
            for (let xx = xa; xx < xz; xx++) {
              const s = xb + y * rowW + xx * C;
              for (let c = 0; c < C; c++) out[s + c]! += delta[o + c]! * scale;
            }
          continue;
        }
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let at = -1;
          for (let y = ya; y < yz; y++)
            for (let xx = xa; xx < xz; xx++) {
              const s = xb + y * rowW + xx * C + c;
              const v = x[s]!;
              if (at < 0 || v > best) {
                best = v;
                at = s;
              }
            }
          out[at]! += delta[o + c]!;
        }
      }
    }
  }
}
