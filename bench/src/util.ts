export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times fn `reps` times after at least `warm` warm-up calls lasting at least `warmMs` in all (a
 * WebAssembly kernel starts on V8's baseline compiler and is optimised once hot); returns the
 * median in ms.
 */
export async function time(fn: () => unknown, reps = 5, warm = 2, warmMs = 0): Promise<number> {
  const w0 = performance.now();
  for (let i = 0; i < warm || performance.now() - w0 < warmMs; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

export function table(rows: (string | number)[][]): string {
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => String(r[j]).length)));
  return rows.map((r) => r.map((c, j) => String(c).padStart(w[j]!)).join('  ')).join('\n');
}

/** One library of a run: ours (with a thread count), a TF.js backend, or PyTorch (with a thread count). */
export type Lib = { kind: 'neurone'; threads: number; forwardOnly?: boolean; relaxedSimd?: boolean } | { kind: 'tfjs'; backend: 'cpu' | 'wasm' } | { kind: 'torch'; threads: number };

export function libName(lib: Lib): string {
  if (lib.kind === 'tfjs') return `tfjs-${lib.backend}`;
  const t = `${lib.threads} thread${lib.threads === 1 ? '' : 's'}`;
  return lib.kind === 'neurone' ? `neurone cpu() ${t}${lib.forwardOnly ? ', forward-only module' : ''}${lib.relaxedSimd ? ', --experimental-wasm-relaxed-simd' : ''}` : `pytorch ${t}`;
}

/** What one workload measured for one library (the fields that apply to it). */
export interface Result {
  /** W1: GFLOP/s per case ('A·B 512' …). */
  gflops?: Record<string, number>;
  samplesPerSecond?: number;
  /** Ours: whether float32 products fused their multiply-adds (relaxed SIMD). */
  fma?: boolean;
  /** W2, W4: test accuracy in [0, 1]. */
  accuracy?: number;
  /** W3: mean test BCE per pixel. */
  bce?: number;
  /** Over how many batches samplesPerSecond was measured, when not a whole epoch. */
  batches?: number;
  /** Why the library could not run the workload. */
  error?: string;
  /** Peak resident memory of the process that ran it, MB. */
  peakRssMB?: number;
}

/** W1's cases: [N, transposeA, transposeB]. */
export const W1_CASES: [number, boolean, boolean][] = [[256, false, false], [512, false, false], [1024, false, false], [512, false, true], [512, true, false]];
export const w1Label = ([n, ta, tb]: [number, boolean, boolean]): string => `${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} ${n}`;
