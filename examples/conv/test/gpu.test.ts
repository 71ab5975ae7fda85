/**
 * A small CNN — Conv2D(3, 1→4, pad 1) → ReLU → MaxPool2D(2) → Conv2D(3, 4→6) → ReLU →
 * AvgPool2D(2) → Flatten → Linear(24, 5) — trained 50 SGD steps from the same weights and data on
 * cpu() and on gpu({ mode: 'webgpu' }) (Dawn; on a machine without a GPU, over Mesa llvmpipe):
 * the two loss curves agree within float32 tolerance at every step.
 */
import { describe, expect, it } from 'vitest';
import { RNG, tidy } from '@neurone/core';
import type { Backend, Tensor } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { gpu } from '@neurone/backend-gpu';
import { AvgPool2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { Optim, SGD } from '@neurone/optim';

const STEPS = 50;
const [N, SIDE, CLASSES] = [16, 12, 5];

/**
 * Images whose class is the quadrant holding a faint blob (or none), a quarter of the labels
 * drawn at random: learnable, but the loss stays well above zero (where a relative gap would be
 * ill-conditioned).
 */
function data(seed: number): { xs: Float64Array[]; ys: number[][] } {
  const rng = new RNG(seed);
  const xs: Float64Array[] = [];
  const ys: number[][] = [];
  for (let b = 0; b < 5; b++) {
    const x = rng.uniformArray(N * SIDE * SIDE, 0, 0.3);
    const y: number[] = [];
    for (let i = 0; i < N; i++) {
      const c = rng.int(CLASSES);
      y.push(rng.random() < 0.25 ? rng.int(CLASSES) : c);
      if (c < 4) {
        const [oy, ox] = [(c >> 1) * 6 + 1, (c & 1) * 6 + 1];
        for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) x[i * SIDE * SIDE + (oy + dy) * SIDE + ox + dx]! += 0.7;
      }
    }
    xs.push(x);
    ys.push(y);
  }
  return { xs, ys };
}

function build(B: Backend): Sequential {
  const rng = new RNG(3);
  return new Sequential([
    new Conv2D(3, 1, 4, { padding: 1, backend: B, rng }),
    new ReLU(),
    new MaxPool2D(2),
    new Conv2D(3, 4, 6, { backend: B, rng }),
    new ReLU(),
    new AvgPool2D(2),
    new Flatten(),
    new Linear(2 * 2 * 6, CLASSES, { backend: B, rng }),
  ]);
}

async function curve(B: Backend): Promise<number[]> {
  const { xs, ys } = data(11);
  const net = build(B);
  const sgd = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  const optim = new Optim(net, new CrossEntropyLoss(), sgd);
  const X = xs.map((x) => B.tensor(x, [N, SIDE, SIDE, 1]));
  const Y = ys.map((y) => B.tensor(y, [N]));
  const losses: Tensor[] = [];
  for (let s = 0; s < STEPS; s++) losses.push(optim.step(X[s % X.length]!, Y[s % Y.length]!));
  const values = await Promise.all(losses.map(async (l) => (await l.data())[0]!));
  tidy(() => [...losses, ...X, ...Y].forEach((t) => t.dispose()));
  net.dispose();
  sgd.dispose();
  return values;
}

describe('a small CNN trains on gpu({ mode: "webgpu" }) as on cpu()', () => {
  it(`${STEPS} SGD steps: the same loss curve within float32 tolerance`, async () => {
    const ref = await curve(cpu());
    const B = await gpu({ mode: 'webgpu' }).ready();
    const got = await curve(B);
    let worst = 0;
    let at = 0;
    got.forEach((v, i) => {
      const rel = Math.abs(v - ref[i]!) / Math.abs(ref[i]!);
      if (rel > worst) [worst, at] = [rel, i];
    });
    console.log(`CNN ${STEPS} steps, loss ${ref[0]!.toFixed(4)} → ${ref[STEPS - 1]!.toFixed(4)} on cpu(); max relative gap of ${B.name}: ${worst.toExponential(2)} at step ${at}`);
    expect(got).toHaveLength(STEPS);
    expect(ref[STEPS - 1]!).toBeLessThan(0.8 * ref[0]!); // it learns
    // float32 on both sides with different summation orders (measured: ~3e-7 on Dawn over llvmpipe)
    expect(worst).toBeLessThanOrEqual(1e-5);
    expect(B.memory().tensors).toBe(0);
  }, 600_000);
});
