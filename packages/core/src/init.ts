import { ValueError } from './errors';
import { show } from './values';
import type { Shape } from './shape';
import { sizeOf } from './shape';
import type { RNG} from './random';
import { defaultRng } from './random';

/**
 * A weight initialiser: values for a tensor of `shape`, given its fan-in and fan-out.
 * For a Linear weight [out, in], fanIn = in and fanOut = out.
 */
export type Initializer = (shape: Shape, fan: { fanIn: number; fanOut: number }, rng?: RNG) => Float64Array;

/** fan-in and fan-out of a weight shape, as PyTorch computes them ([out, in, ...kernel]). */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

const gains = { linear: 1, sigmoid: 1, tanh: 5 / 3, relu: Math.SQRT2 } as const;
/** A nonlinearity whose recommended gain the initialisers know (linear 1, sigmoid 1, tanh 5/3, relu √2). */
export type Nonlinearity = keyof typeof gains;

function check(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`init.${name}: expected a finite non-negative number, got ${describe(v)}`);
}

function describe(v: unknown): string {
  return typeof v === 'object' && v !== null ? show(v) : typeof v === 'string' ? `'${v}'` : String(v);
}

function finite(name: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`init.${name}: ${what} must be a finite number, got ${describe(v)}`);
}

function checkNonlinearity(name: string, v: unknown): Nonlinearity {
  if (typeof v !== 'string' || !Object.hasOwn(gains, v)) {
    throw new ValueError(`init.${name}: nonlinearity must be one of ${Object.keys(gains).map((k) => `'${k}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as Nonlinearity;
}

/** fanIn (or fanIn + fanOut) must be positive for a tensor with values: else the scale is Infinity. */
function checkFan(name: string, shape: Shape, fan: number): void {
  if (sizeOf(shape) > 0 && !(fan > 0 && Number.isFinite(fan))) {
    throw new ValueError(`init.${name}: the fan of shape [${shape.join(', ')}] is ${fan}; it must be positive`);
  }
}

/**
 * U(±1/√fanIn): PyTorch's default for Linear and Conv weights and biases (its kaiming_uniform
 * with a = √5); also `init.fanInUniform`. A standalone function so that a bundle using only
 * the layers' default carries none of the other initialisers.
 */
export function fanInUniform(): Initializer {
  return (shape, { fanIn }, rng = defaultRng()) => {
    checkFan('fanInUniform', shape, fanIn);
    const a = 1 / Math.sqrt(fanIn);
    return rng.uniformArray(sizeOf(shape), -a, a);
  };
}

/** Parameter initialisers: each returns an `Initializer` (shape, fan, rng) → values. */
export const init = {
  /** Uniform in [low, high). */
  uniform(low: number, high: number): Initializer {
    finite('uniform', 'low', low);
    finite('uniform', 'high', high);
    if (!(high >= low)) throw new ValueError(`init.uniform: high (${high}) must be ≥ low (${low})`);
    return (shape, _fan, rng = defaultRng()) => rng.uniformArray(sizeOf(shape), low, high);
  },
  /** Normal N(mean, std²). */
  normal(mean = 0, std = 1): Initializer {
    finite('normal', 'mean', mean);
    check('normal', std);
    return (shape, _fan, rng = defaultRng()) => rng.normalArray(sizeOf(shape), mean, std);
  },
  /** Constant value. */
  constant(value: number): Initializer {
    finite('constant', 'value', value);
    return (shape) => new Float64Array(sizeOf(shape)).fill(value);
  },
  zeros(): Initializer {
    return (shape) => new Float64Array(sizeOf(shape));
  },
  /** Glorot & Bengio: U(±gain·√(6 / (fanIn + fanOut))). */
  xavierUniform(gain = 1): Initializer {
    check('xavierUniform', gain);
    return (shape, { fanIn, fanOut }, rng = defaultRng()) => {
      checkFan('xavierUniform', shape, fanIn + fanOut);
      const a = gain * Math.sqrt(6 / (fanIn + fanOut));
      return rng.uniformArray(sizeOf(shape), -a, a);
    };
  },
  /** Glorot & Bengio: N(0, gain²·2 / (fanIn + fanOut)). */
  xavierNormal(gain = 1): Initializer {
    check('xavierNormal', gain);
    return (shape, { fanIn, fanOut }, rng = defaultRng()) => {
      checkFan('xavierNormal', shape, fanIn + fanOut);
      return rng.normalArray(sizeOf(shape), 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
    };
  },
  /** He et al.: U(±gain·√(3 / fanIn)), gain √2 for ReLU. */
  kaimingUniform(nonlinearity: Nonlinearity = 'relu'): Initializer {
    checkNonlinearity('kaimingUniform', nonlinearity);
    return (shape, { fanIn }, rng = defaultRng()) => {
      checkFan('kaimingUniform', shape, fanIn);
      const a = gains[nonlinearity] * Math.sqrt(3 / fanIn);
      return rng.uniformArray(sizeOf(shape), -a, a);
    };
  },
  /** He et al.: N(0, gain² / fanIn). */
  kaimingNormal(nonlinearity: Nonlinearity = 'relu'): Initializer {
    checkNonlinearity('kaimingNormal', nonlinearity);
    return (shape, { fanIn }, rng = defaultRng()) => {
      checkFan('kaimingNormal', shape, fanIn);
      return rng.normalArray(sizeOf(shape), 0, gains[nonlinearity] / Math.sqrt(fanIn));
    };
  },
  /**
   * U(±1/√fanIn): PyTorch's default for Linear and Conv weights and biases (its
   * kaiming_uniform with a = √5). Not LeCun uniform, which is U(±√(3/fanIn)).
   */
  fanInUniform,
  /** @deprecated the old, misleading name of `fanInUniform()` (U(±1/√fanIn), not LeCun's U(±√(3/fanIn))). */
  lecunUniform: fanInUniform,
};

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain). */
export function gain(nonlinearity: Nonlinearity): number {
  return gains[checkNonlinearity('gain', nonlinearity)];
}
