import { assertAllClose, randomTensor } from '@neurone/core/testing';

/** A tensor of uniform values in [lo, hi), from a seeded generator. */
export const rand = randomTensor;

export const expectClose = assertAllClose;

/** Row-major matrix [rows, cols] as nested arrays. */
export function rows(v: ArrayLike<number>, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => v[i * c + j]!));
}

/** Plain-loop transpose of a row-major [r, c] matrix. */
export function transpose(v: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j]!;
  return out;
}

export type Act = 'tanh' | 'sigmoid' | 'relu' | 'none';

const apply = (a: Act, v: number): number =>
  a === 'tanh' ? Math.tanh(v) : a === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : a === 'relu' ? Math.max(v, 0) : v;

/**
 * One dense layer by plain loops: out[n][o] = act(Σ_i x[n][i]·W[o][i] + b[o]), W given
 * row-major [out, in].
 */
export function denseRef(x: number[][], W: ArrayLike<number>, b: ArrayLike<number>, outF: number, act: Act): number[][] {
  const inF = x[0]!.length;
  return x.map((row) =>
    Array.from({ length: outF }, (_, o) => {
      let s = b[o]!;
      for (let i = 0; i < inF; i++) s += row[i]! * W[o * inF + i]!;
      return apply(act, s);
    }),
  );
}
