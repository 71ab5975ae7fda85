import type { ConformanceOptions } from '@neurone/core/testing';

/**
 * Tolerances of the conformance suite on the GPU backend, against its float64 references.
 *
 * rtol = atol = 2e-6 — core's default for float32, not loosened. Why it holds:
 * - storage is float32: every input is rounded once (relative 6e-8) and every result once more;
 * - elementary ops (add, mul, div, sqrt) are correctly rounded in WGSL, GLSL ES 3.00 highp and
 *   WebAssembly alike, so they land within a few ulps (≈ 2.4e-7) of the reference;
 * - exp, log and tanh are not correctly rounded on GPUs: WGSL allows exp/log errors of
 *   3 + 2·|x| ulp, tanh is derived from exp. For the suite's inputs (|x| ≤ 20 after clamping)
 *   this stays below ~1e-6 relative, measured on Mesa llvmpipe (Dawn GLES), SwiftShader
 *   (Chromium WebGL2 and WebGPU) and WebAssembly;
 * - sums accumulate in float32 (error ≤ n·eps·Σ|x|): the suite scales matmul tolerances by 4·√k
 *   and sum tolerances by 8 itself, which covers k ≤ 784 with this backend's 4-way split loops.
 */
export const CONFORMANCE_TOLERANCE: ConformanceOptions = { rtol: 2e-6, atol: 2e-6 };

/** W2 parity: the loss curves of cpu() and the GPU backend agree within this relative gap at every step (brief: 1e-3). */
export const PARITY_RTOL = 1e-3;
