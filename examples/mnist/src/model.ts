import type { Backend, Dataset, Module } from '@neurone/core';
import { Linear, Sequential, TanH } from '@neurone/layers';

/** 784 → 256 → TanH → 10, PyTorch's default initialisation (uniform ±1/√fan_in). */
export function buildNet(backend: Backend): Sequential {
  return new Sequential([new Linear(784, 256, { backend }), new TanH(), new Linear(256, 10, { backend })]);
}

/** Confusion matrix [true][predicted] and accuracy over a dataset, in batches. */
export async function confusionMatrix(net: Module, data: Dataset, batchSize = 1000): Promise<{ matrix: number[][]; accuracy: number }> {
  const backend = net.parameters()[0]!.value.backend;
  const [n, d] = data.x.shape as [number, number];
  const matrix = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let correct = 0;
  net.eval();
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const x = backend.tensor(data.x.data.subarray(s * d, e * d), [e - s, d]);
    const logits = net.forward(x);
    const pred = backend.argmax(logits, 1);
    const p = await pred.data();
    for (let i = 0; i < e - s; i++) {
      const t = data.y.data[s + i]!;
      matrix[t]![p[i]!]!++;
      if (t === p[i]) correct++;
    }
    for (const t of [x, logits, pred]) t.dispose();
  }
  net.train();
  return { matrix, accuracy: correct / n };
}

export function formatConfusion(m: number[][]): string {
  const head = '     ' + m.map((_, j) => String(j).padStart(5)).join('');
  return [head, ...m.map((row, i) => String(i).padStart(5) + row.map((v) => String(v).padStart(5)).join(''))].join('\n');
}
