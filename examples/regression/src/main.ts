/**
 * Part 1 of the course: linear regression with the seed's Linear module and MSELoss, trained by
 * explicit forward / backward / updateParameters. Recovers the weights that generated the data.
 *
 *   pnpm --filter @example/regression start
 */
import { RNG, manualSeed, tidy } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { lineChart, writeFile } from '@example/common';

const backend = cpu({ dtype: 'float64' });
const rng = new RNG(7);
manualSeed(7);
const [n, d, k] = [500, 3, 2];
const wTrue = [
  [2, -1, 0.5],
  [-0.5, 3, 1.5],
]; // [k, d]: the seed's W, one row per output
const bTrue = [0.7, -1.2];
const noise = 0.05;
const X = rng.uniformArray(n * d, -1, 1);
const Y = new Float64Array(n * k);
for (let i = 0; i < n; i++)
  for (let o = 0; o < k; o++) {
    let s = bTrue[o]!;
    for (let j = 0; j < d; j++) s += X[i * d + j]! * wTrue[o]![j]!;
    Y[i * k + o] = s + noise * rng.normal();
  }
const x = backend.tensor(X, [n, d]);
const y = backend.tensor(Y, [n, k]);

const lin = new Linear(d, k, { backend });
const mse = new MSELoss(); // the seed's per-sample ‖ŷ − y‖², averaged over the batch
const losses: number[] = [];
for (let it = 0; it < 300; it++) {
  const l = tidy(() => {
    const yhat = lin.forward(x);
    const loss = mse.forward(y, yhat).dataSync()[0]!;
    lin.zeroGrad();
    lin.backwardUpdateGradient(x, mse.backward(y, yhat)); // ∂L/∂W = δᵀ·x
    lin.updateParameters(0.1); // W ← W − ε ∂L/∂W
    return loss;
  });
  losses.push(l);
}
const W = lin.weight.value.arraySync() as number[][];
const b = Array.from(lin.bias!.value.dataSync());
let maxErr = 0;
W.forEach((row, o) => row.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - wTrue[o]![j]!)))));
b.forEach((v, o) => (maxErr = Math.max(maxErr, Math.abs(v - bTrue[o]!))));
console.log('true W   ', JSON.stringify(wTrue), ' b', JSON.stringify(bTrue));
console.log('learned W', JSON.stringify(W.map((r) => r.map((v) => +v.toFixed(3)))), ' b', JSON.stringify(b.map((v) => +v.toFixed(3))));
console.log(`final loss ${losses.at(-1)!.toFixed(5)} (noise floor k·σ² = ${(k * noise * noise).toFixed(5)}); max |learned − true| = ${maxErr.toFixed(4)}`);
writeFile('out/regression/loss.svg', lineChart([{ title: 'MSE (per sample)', xlabel: 'iteration', ylabel: 'loss', series: [{ name: 'train', x: losses.map((_, i) => i), y: losses }] }]));
console.log('wrote out/regression/loss.svg');
if (maxErr > 0.05) process.exitCode = 1;
