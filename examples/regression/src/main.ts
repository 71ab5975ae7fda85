/**
 * Part 1 of the course: linear regression with the seed's Linear module and MSELoss, trained by
 * explicit forward / backward / updateParameters. Recovers the weights that generated the data.
 *
 *   pnpm regression
 *   pnpm regression --help        # every option with its default
 */
import { join } from 'node:path';
import { RNG, manualSeed, tidy } from '@neurone/core';
import { Linear } from '@neurone/layers';
import { MSELoss } from '@neurone/losses';
import { backendFromFlag, backendOption, lineChart, outDir, outOption, progressOption, runApp, shownPath, stepProgress, writeFile } from '@example/common';

const wTrue = [
  [2, -1, 0.5],
  [-0.5, 3, 1.5],
]; // [k, d]: the seed's W, one row per output
const bTrue = [0.7, -1.2];

await runApp(
  {
    name: 'regression',
    command: 'pnpm regression',
    summary: `Part 1 of the course: fits y = x·Wᵀ + b + noise (3 inputs, 2 outputs, known W and b) with one
Linear module and MSELoss by explicit forward / backward / updateParameters steps on the whole
batch, prints the learned W and b beside the true ones, and writes loss.svg and result.json to
--out. Exits with code 1 when a learned value is further than --tolerance from the true one.`,
    options: {
      backend: backendOption('cpu:float64'),
      samples: { type: 'int', min: 2, max: 10_000_000, arg: 'N', default: 500, description: 'training samples, x uniform in [-1, 1]³' },
      noise: { type: 'number', min: 0, max: 1000, arg: 'X', default: 0.05, description: 'standard deviation of the Gaussian noise on y' },
      iterations: { type: 'int', min: 1, max: 1_000_000, arg: 'N', default: 300, description: 'gradient steps (full batch)' },
      lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, default: 0.1, description: 'learning rate ε of W ← W − ε ∂L/∂W' },
      seed: { type: 'int', min: 0, default: 7, description: 'seed of the data and the initialisation' },
      tolerance: { type: 'number', min: 0, exclusiveMin: true, default: 0.05, description: 'largest accepted |learned − true| of a weight or bias' },
      out: outOption('out/regression'),
      progress: progressOption('progress of the gradient steps'),
    },
    examples: ['pnpm regression', 'pnpm regression --noise 0.5 --samples 5000', 'pnpm regression --backend gpu:webasm'],
  },
  async (args) => {
    const backend = await backendFromFlag(args.backend);
    const rng = new RNG(args.seed);
    manualSeed(args.seed);
    const [n, d, k] = [args.samples, 3, 2];
    const noise = args.noise;
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
    console.log(`${n} samples, ${d} inputs, ${k} outputs, noise σ = ${noise}; backend ${backend.name}; ${args.iterations} full-batch steps of lr ${args.lr}`);

    const lin = new Linear(d, k, { backend });
    const mse = new MSELoss(); // the seed's per-sample ‖ŷ − y‖², averaged over the batch
    const losses: number[] = [];
    const progress = stepProgress(args.progress, 'regression', args.iterations);
    for (let it = 0; it < args.iterations; it++) {
      const loss = tidy(() => {
        const yhat = lin.forward(x);
        const l = mse.forward(y, yhat);
        lin.zeroGrad();
        lin.backwardUpdateGradient(x, mse.backward(y, yhat)); // ∂L/∂W = δᵀ·x
        lin.updateParameters(args.lr); // W ← W − ε ∂L/∂W
        return l;
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
      if (!Number.isFinite(losses.at(-1))) throw new Error(`the loss became ${losses.at(-1)} at step ${it + 1}: --lr ${args.lr} is too large (the steps diverge; try 0.1)`);
      progress(it + 1);
    }
    const wFlat = Array.from(await lin.weight.value.data());
    const W = wTrue.map((row, o) => row.map((_, j) => wFlat[o * d + j]!));
    const b = Array.from(await lin.bias!.value.data());
    let maxErr = 0;
    W.forEach((row, o) => row.forEach((v, j) => (maxErr = Math.max(maxErr, Math.abs(v - wTrue[o]![j]!)))));
    b.forEach((v, o) => (maxErr = Math.max(maxErr, Math.abs(v - bTrue[o]!))));
    const round = (v: number) => +v.toFixed(3);
    console.log('true W   ', JSON.stringify(wTrue), ' b', JSON.stringify(bTrue));
    console.log('learned W', JSON.stringify(W.map((r) => r.map(round))), ' b', JSON.stringify(b.map(round)));
    console.log(`final loss ${losses.at(-1)!.toFixed(5)} (noise floor k·σ² = ${(k * noise * noise).toFixed(5)}); max |learned − true| = ${maxErr.toFixed(4)}`);
    const out = outDir(args.out);
    writeFile(join(out, 'loss.svg'), lineChart([{ title: 'MSE per sample (log scale)', xlabel: 'iteration', ylabel: 'loss', logY: true, series: [
      { name: 'train', x: losses.map((_, i) => i + 1), y: losses },
      // what noise alone costs: the loss of the true W and b, in expectation
      ...(noise > 0 ? [{ name: 'noise floor k·σ²', x: [1, losses.length], y: [k * noise * noise, k * noise * noise], color: '#999' }] : []),
    ] }]));
    writeFile(join(out, 'result.json'), JSON.stringify({ backend: backend.name, samples: n, noise, iterations: args.iterations, lr: args.lr, seed: args.seed, trueW: wTrue, trueB: bTrue, learnedW: W, learnedB: b, maxError: maxErr, finalLoss: losses.at(-1), losses }, null, 2));
    console.log(`wrote ${shownPath(out)}/loss.svg, ${shownPath(out)}/result.json`);
    [x, y].forEach((t) => t.dispose());
    if (!(maxErr <= args.tolerance)) throw new Error(`the learned weights are off by up to ${maxErr.toFixed(4)}, more than --tolerance ${args.tolerance} (more iterations or a larger --lr?)`);
  },
);
