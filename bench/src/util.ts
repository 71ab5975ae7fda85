export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times fn `reps` times after `warm` warm-up calls; returns the median in ms. */
export async function time(fn: () => unknown, reps = 5, warm = 2): Promise<number> {
  for (let i = 0; i < warm; i++) await fn();
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
