import { ValueError } from './errors';
import { show } from './values';

/** An RNG's whole state, JSON-friendly: the four xoshiro128** words and Box–Muller's spare normal. */
export interface RNGState {
  s: [number, number, number, number];
  spare: number | null;
}

/**
 * A seeded random number generator (xoshiro128**, seeded through splitmix32). Numbers are
 * generated in JavaScript and uploaded, so the same seed gives the same values on every backend.
 */
export class RNG {
  #s = new Uint32Array(4);
  #spare: number | undefined;

  constructor(seed = 0) {
    let x = (seed >>> 0) ^ Math.floor(seed / 0x100000000);
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** The generator's whole state (a copy): `RNG.fromState(rng.getState())` continues the same sequence. */
  getState(): RNGState {
    const [a, b, c, d] = this.#s;
    return { s: [a!, b!, c!, d!], spare: this.#spare ?? null };
  }

  /** Restores a state from getState(); throws a ValueError (and changes nothing) on a malformed one. */
  setState(state: RNGState): this {
    const ok =
      state != null &&
      typeof state === 'object' &&
      Array.isArray(state.s) &&
      state.s.length === 4 &&
      state.s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      state.s.some((w) => w !== 0) &&
      (state.spare === null || state.spare === undefined || (typeof state.spare === 'number' && Number.isFinite(state.spare)));
    if (!ok) throw new ValueError(`RNG.setState: expected { s: four uint32 words (not all 0), spare: number | null }, got ${show(state)}`);
    this.#s.set(state.s);
    this.#spare = state.spare ?? undefined;
    return this;
  }

  /** A generator in the given state (see getState). */
  static fromState(state: RNGState): RNG {
    return new RNG(0).setState(state);
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Normal by Box–Muller. */
  normal(mean = 0, std = 1): number {
    if (this.#spare !== undefined) {
      const z = this.#spare;
      this.#spare = undefined;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** Fills a new Float64Array with uniform values in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float64Array {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.uniform(low, high);
    return a;
  }

  /** Fills a new Float64Array with normal values. */
  normalArray(n: number, mean = 0, std = 1): Float64Array {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal(mean, std);
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let globalRng = new RNG(0);

/** Reseeds the generator that modules use when none is passed. */
export function manualSeed(seed: number): void {
  globalRng = new RNG(seed);
}

/** The generator modules use when none is passed. */
export function defaultRng(): RNG {
  return globalRng;
}
