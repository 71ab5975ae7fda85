import type { cpu } from '../src/index';

/** 2⁻¹¹ + 2⁻²⁴: (1 + 2⁻¹²)² − 1 rounded once, as a fused multiply-add gives it. */
export const FUSED = 2 ** -11 + 2 ** -24;
/** 2⁻¹¹: the same with the product rounded to float32 first ((1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ is a tie, to even). */
export const UNFUSED = 2 ** -11;

/** [−1, 1 + 2⁻¹²]·[1, 1 + 2⁻¹²]ᵀ in float32 on `B`: FUSED or UNFUSED, by the kernel's rounding. */
export function roundingProbe(B: ReturnType<typeof cpu>): number {
  const u = 1 + 2 ** -12;
  return B.matmul(B.tensor([-1, u], [1, 2]), B.tensor([1, u], [2, 1])).dataSync()[0]!;
}
