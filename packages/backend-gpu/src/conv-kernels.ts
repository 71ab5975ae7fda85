import type { ConvGeometry, PoolKind } from '@neurone/core';

/**
 * gpu.js sources of the window kernels (Conv1D, Conv2D, the pools) on channels-last tensors
 * [batch, H, W, C], stored flat. Gather form: one thread per output element, every geometry
 * number baked in as a literal. Flat indices split into coordinates with
 * q = floor((r + 0.5) / d), exact below the backend's 2²⁴-element limit (see kernels.ts).
 */

const lit = (v: number): string => {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

/** Declares `q` and `r` as quotient and remainder of `t` by d. */
const divmod = (q: string, r: string, t: string, d: number): string =>
  d === 1 ? `const ${q} = ${t};\nconst ${r} = 0.0;` : `const ${q} = Math.floor((${t} + 0.5) / ${lit(d)});\nconst ${r} = ${t} - ${q} * ${lit(d)};`;

/** Splits the flat index t of [batch, H, W, C] into b, y, xx, c. */
function split4(t: string, H: number, W: number, C: number, [b, y, x, c]: string[]): string {
  return [divmod('q_c', c!, t, C), divmod('q_x', x!, 'q_c', W), divmod(b!, y!, 'q_x', H)].join('\n');
}

/**
 * Enumerates the windows (oy, ox) whose kernel cell (ky, kx) lands on input position (y, xx):
 * oy·sh − ph + ky = y, likewise columns; `body` runs for each with oy, ox, ky, kx defined.
 */
function windowsOver(g: ConvGeometry, body: string): string {
  const { kh, kw, sh, sw, ph, pw, outH, outW } = g;
  return `for (let ky = 0; ky < ${kh}; ky++) {
  const ty = y + ${lit(ph)} - ky;
  const oy = Math.floor((ty + 0.5) / ${lit(sh)});
  if (ty >= 0.0 && oy * ${lit(sh)} == ty && oy < ${lit(outH)}) {
    for (let kx = 0; kx < ${kw}; kx++) {
      const tx = xx + ${lit(pw)} - kx;
      const ox = Math.floor((tx + 0.5) / ${lit(sw)});
      if (tx >= 0.0 && ox * ${lit(sw)} == tx && ox < ${lit(outW)}) {
${body}
      }
    }
  }
}`;
}

export const convSrc = {
  /** Output [batch·outH·outW, kh·kw·C]: element (row, (ky, kx, c)) reads x or 0 in the padding. */
  im2col(g: ConvGeometry): string {
    const { inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
    const K = kh * kw * C;
    return `function (x) {
const t = this.thread.x;
${divmod('row', 'j', 't', K)}
${divmod('q1', 'ox', 'row', outW)}
${divmod('b', 'oy', 'q1', outH)}
${divmod('q2', 'c', 'j', C)}
${divmod('ky', 'kx', 'q2', kw)}
const y = oy * ${lit(sh)} - ${lit(ph)} + ky;
const xx = ox * ${lit(sw)} - ${lit(pw)} + kx;
if (y >= 0.0 && y < ${lit(inH)} && xx >= 0.0 && xx < ${lit(inW)}) {
  return x[((b * ${lit(inH)} + y) * ${lit(inW)} + xx) * ${lit(C)} + c];
}
return 0.0;
}`;
  },

  /** Output [batch, H, W, C]: Σ of the patch elements (cols) that read each position. */
  col2im(g: ConvGeometry): string {
    const { inH, inW, chan: C, outH, outW, kh, kw } = g;
    const K = kh * kw * C;
    return `function (cols) {
const t = this.thread.x;
${split4('t', inH, inW, C, ['b', 'y', 'xx', 'c'])}
let s = 0.0;
${windowsOver(g, `s += cols[((b * ${lit(outH)} + oy) * ${lit(outW)} + ox) * ${lit(K)} + (ky * ${lit(kw)} + kx) * ${lit(C)} + c];`)}
return s;
}`;
  },

  /** Output [batch, outH, outW, C]: the max (padding ignored) or mean (padding as zeros) of each window. */
  pool(kind: PoolKind, g: ConvGeometry): string {
    const { inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
    const acc =
      kind === 'max'
        ? `if (have < 0.5) { best = v; have = 1.0; }
      if (v > best) { best = v; }`
        : 'best += v;';
    return `function (x) {
const t = this.thread.x;
${split4('t', outH, outW, C, ['b', 'oy', 'ox', 'c'])}
let best = 0.0;
${kind === 'max' ? 'let have = 0.0;' : ''}
for (let ky = 0; ky < ${kh}; ky++) {
  const y = oy * ${lit(sh)} - ${lit(ph)} + ky;
  for (let kx = 0; kx < ${kw}; kx++) {
    const xx = ox * ${lit(sw)} - ${lit(pw)} + kx;
    if (y >= 0.0 && y < ${lit(inH)} && xx >= 0.0 && xx < ${lit(inW)}) {
      const v = x[((b * ${lit(inH)} + y) * ${lit(inW)} + xx) * ${lit(C)} + c];
      ${acc}
    }
  }
}
${kind === 'max' ? 'return best;' : `return best / ${lit(kh * kw)};`}
}`;
  },

  /**
   * Output [batch, H, W, C]: for each window over the position, its delta if this position is
   * the window's first arg-max in row-major order (max), or delta/(kh·kw) (avg).
   */
  poolGrad(kind: PoolKind, g: ConvGeometry): string {
    const { inH, inW, chan: C, outH, outW, kh, kw, sh, sw, ph, pw } = g;
    const dAt = `d[((b * ${lit(outH)} + oy) * ${lit(outW)} + ox) * ${lit(C)} + c]`;
    const body =
      kind === 'avg'
        ? `s += ${dAt};`
        : `let best = 0.0;
let have = 0.0;
let at = -1.0;
for (let wy = 0; wy < ${kh}; wy++) {
  const y2 = oy * ${lit(sh)} - ${lit(ph)} + wy;
  for (let wx = 0; wx < ${kw}; wx++) {
    const x2 = ox * ${lit(sw)} - ${lit(pw)} + wx;
    if (y2 >= 0.0 && y2 < ${lit(inH)} && x2 >= 0.0 && x2 < ${lit(inW)}) {
      const v = x[((b * ${lit(inH)} + y2) * ${lit(inW)} + x2) * ${lit(C)} + c];
      if (have < 0.5 || v > best) { best = v; have = 1.0; at = y2 * ${lit(inW)} + x2; }
    }
  }
}
if (at == y * ${lit(inW)} + xx) { s += ${dAt}; }`;
    return `function (x, d) {
const t = this.thread.x;
${split4('t', inH, inW, C, ['b', 'y', 'xx', 'c'])}
let s = 0.0;
${windowsOver(g, body)}
${kind === 'avg' ? `return s / ${lit(kh * kw)};` : 'return s;'}
}`;
  },
};
