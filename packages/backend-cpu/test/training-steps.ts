/** Training steps of the bench's W2 and W4 shapes written with the primitives, for the thread tests (here and in relaxed-simd/). */
import { RNG, col2im, im2col, pool, poolGrad, tidy } from '@neurone/core';
import type { Tensor } from '@neurone/core';
import type { cpu } from '../src/index';

type B = ReturnType<typeof cpu>;

/** W2's MLP (784→256→tanh→10, cross-entropy, SGD) written with the primitives: `steps` steps, then every loss and weight. */
export function mlp(B: B, steps: number): number[] {
  const rng = new RNG(2);
  let W1 = B.tensor(rng.uniformArray(256 * 784, -1 / 28, 1 / 28), [256, 784]);
  let b1 = B.tensor(rng.uniformArray(256, -1 / 28, 1 / 28), [256]);
  let W2 = B.tensor(rng.uniformArray(10 * 256, -1 / 16, 1 / 16), [10, 256]);
  const x = B.tensor(rng.uniformArray(64 * 784, 0, 1), [64, 784]);
  const y = B.oneHot(B.tensor(Array.from({ length: 64 }, (_, i) => (i * 7) % 10), [64]), 10);
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    const next = tidy(() => {
      const z1 = B.unary('tanh', B.matmul(x, W1, false, true, b1)); // 64×784·784×256: above the GEMM floor, tanh over 16,384
      const logits = B.matmul(z1, W2, false, true);
      out.push(B.sum(B.binary('mul', B.logSoftmax(logits), y)).dataSync()[0]! / -64);
      const d2 = B.affine(B.binary('sub', B.softmax(logits), y), 1 / 64, 0);
      const d1 = B.activationGrad('tanh', z1, B.matmul(d2, W2));
      return [B.axpby(1, W1, -0.1, B.matmul(d1, x, true, false)), B.axpby(1, b1, -0.1, B.sum(d1, 0)), B.axpby(1, W2, -0.1, B.matmul(d2, z1, true, false))];
    });
    [W1, b1, W2].forEach((t) => t.dispose());
    [W1, b1, W2] = next as [Tensor, Tensor, Tensor];
  }
  return [...out, ...W1.dataSync(), ...b1.dataSync(), ...W2.dataSync()];
}

/** W4's convolution (28×28×1 → 3×3×8, ReLU, 2×2 max pool above the window floor) forward and backward with the primitives, batch 64. */
export function conv(B: B): number[] {
  const rng = new RNG(4);
  const x = B.tensor(rng.uniformArray(64 * 28 * 28, 0, 1), [64, 28, 28, 1]);
  const W = B.tensor(rng.uniformArray(9 * 8, -1 / 3, 1 / 3), [9, 8]);
  const win = { kernel: [3, 3], stride: [1, 1], padding: [1, 1] } as const;
  return tidy(() => {
    const cols = im2col(x, win);
    const h = B.unary('relu', B.matmul(cols, W)).reshape([64, 28, 28, 8]);
    const p = pool('max', h, { kernel: [2, 2], stride: [2, 2] });
    const dh = poolGrad('max', h, B.affine(p, 0.5, -0.25), { kernel: [2, 2], stride: [2, 2] });
    const dW = B.matmul(cols, dh.reshape([64 * 28 * 28, 8]), true, false);
    const dx = col2im(B.matmul(dh.reshape([64 * 28 * 28, 8]), W, false, true), win, x.shape);
    return [...p.dataSync(), ...dW.dataSync(), ...dx.dataSync()];
  });
}
