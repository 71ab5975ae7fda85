/** n float32 values in [−1, 1) from a fixed seed (a linear congruential generator): the thread, arena and fused-kernel tests' operands. */
export function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
