import { cpu } from '@neurone/backend-cpu';
const gapUs = Number(process.argv[2] ?? 500);
for (const threads of (process.argv[3] ?? "1,2,1,2").split(",").map(Number)) {
  const B = cpu({ threads });
  const x = B.tensor(new Float32Array(64 * 784).map(Math.random), [64, 784]);
  const w = B.tensor(new Float32Array(256 * 784).map(Math.random), [256, 784]);
  const d = B.tensor(new Float32Array(64 * 256).map(Math.random), [64, 256]);
  const times: number[][] = [[], []];
  for (let i = 0; i < 1500; i++) {
    const t0 = performance.now(); while (performance.now() - t0 < gapUs / 1000); // other work
    const t1 = performance.now();
    const y = x.matmul(w, { transposeB: true });
    const t2 = performance.now();
    const g = d.matmul(x, { transposeA: true });
    const t3 = performance.now();
    y.dispose(); g.dispose();
    if (i > 300) { times[0]!.push(t2 - t1); times[1]!.push(t3 - t2); }
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]! * 1000;
  console.log(`threads ${threads} gap ${gapUs}us: x·Wᵀ ${med(times[0]!).toFixed(0)} µs, δᵀ·x ${med(times[1]!).toFixed(0)} µs`);
}
