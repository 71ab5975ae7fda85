/**
 * The error function in float64 (JavaScript has none), to ~1e-15 relative: for |x| < 3 the series
 * erf(x) = 2/√π · e^{−x²} · Σₙ 2ⁿx^{2n+1} / (1·3·…·(2n+1)) (all terms positive: no cancellation),
 * beyond it 1 − erfc(x) with erfc's continued fraction. GELU's Φ(x) = ½(1 + erf(x/√2)) on the CPU.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 3)) {
    if (Number.isNaN(a)) return NaN;
    if (a > 6) return Math.sign(x); // erfc(6) ≈ 2e-17
    // erfc(a) = e^{−a²}/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated from the tail
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    return Math.sign(x) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
  }
  let term = a;
  let sum = a;
  for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

/** c = √(2/π) and k = 0.044715 of GELU's tanh form: ½x(1 + tanh(c(x + k·x³))). */
export const GELU_TANH = { c: Math.sqrt(2 / Math.PI), k: 0.044715 } as const;

/**
 * f′(a) of the activations whose backward is a function of their input: leakyRelu (p: the
 * negative slope), elu (p: α), gelu, geluTanh — the CPU backends' activationGrad is δ·f′(a).
 */
export function activationSlope(op: 'leakyRelu' | 'elu' | 'gelu' | 'geluTanh' | string, a: number, p: number): number {
  if (op === 'leakyRelu') return a > 0 ? 1 : p;
  if (op === 'elu') return a > 0 ? 1 : p * Math.exp(a);
  if (op === 'gelu') return 0.5 * (1 + erf(a * Math.SQRT1_2)) + (a * Math.exp(-0.5 * a * a)) / Math.sqrt(2 * Math.PI); // Φ(a) + a·φ(a)
  const { c, k } = GELU_TANH;
  const t = Math.tanh(c * (a + k * a * a * a));
  return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * c * (1 + 3 * k * a * a);
}
