import { RNG } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, TanH } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { Optim, SGD } from '@neurone/optim';
import type { Result } from './util';

/** W5: the GPU-sized MLP 784→4096→4096→10, batch 1024 (few batches on the CPU: each is ~126 GFLOP). */
export function w5Neurone(threads: number, batches = 3): Result {
  const B = cpu({ threads });
  const net = new Sequential([new Linear(784, 4096, { backend: B }), new TanH(), new Linear(4096, 4096, { backend: B }), new TanH(), new Linear(4096, 10, { backend: B })]);
  const rng = new RNG(5);
  const x = B.tensor(rng.uniformArray(1024 * 784), [1024, 784]);
  const y = B.tensor(Array.from({ length: 1024 }, () => rng.int(10)), [1024]);
  const step = new Optim(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05 }));
  step.step(x, y).dispose(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) step.step(x, y).dispose();
  const s = (performance.now() - t0) / 1000;
  const flop = batches * 1024 * 6 * (784 * 4096 + 4096 * 4096 + 4096 * 10);
  return { samplesPerSecond: (batches * 1024) / s, gflops: { 'MLP step': flop / s / 1e9 }, batches };
}
