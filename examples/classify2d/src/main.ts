/**
 * Part 2 of the course (with part 3's Sequential and Optim): Linear → TanH → Linear → Sigmoid with
 * BCE on 2-D data (two Gaussians, four Gaussians in XOR layout, a checkerboard); plots the decision
 * frontier over the test points.
 *
 *   pnpm classify2d
 *   pnpm classify2d --help        # every option with its default
 */
import { join } from 'node:path';
import { RNG, manualSeed, tidy } from '@neurone/core';
import type { Backend } from '@neurone/core';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { Optim, SGD } from '@neurone/optim';
import { Image, backendFromFlag, backendOption, lossValue, outDir, outOption, progressOption, runApp, shownPath, stepProgress, writeFile } from '@example/common';

type Kind = 'gaussians' | 'xor' | 'checkerboard';
type Data = { x: Float64Array; y: Float64Array; n: number };

/** Each dataset's network width, training steps and learning rate. */
const SETUPS: Record<Kind, { hidden: number; iterations: number; lr: number }> = {
  gaussians: { hidden: 4, iterations: 600, lr: 0.3 },
  xor: { hidden: 8, iterations: 1500, lr: 0.3 },
  checkerboard: { hidden: 64, iterations: 6000, lr: 0.5 },
};
const KINDS = Object.keys(SETUPS) as Kind[];
const BATCH = 100;

function make(kind: Kind, n: number, rng: RNG): Data {
  const x = new Float64Array(n * 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let a: number, b: number, c: number;
    if (kind === 'gaussians') {
      c = i % 2;
      a = rng.normal(c ? 1 : -1, 0.6);
      b = rng.normal(c ? 1 : -1, 0.6);
    } else if (kind === 'xor') {
      const q = i % 4;
      const [cx, cy] = [q & 1 ? 1 : -1, q & 2 ? 1 : -1];
      a = rng.normal(cx, 0.35);
      b = rng.normal(cy, 0.35);
      c = cx * cy > 0 ? 1 : 0;
    } else {
      a = rng.uniform(-2, 2);
      b = rng.uniform(-2, 2);
      c = (Math.floor(a + 2) + Math.floor(b + 2)) % 2;
    }
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = c;
  }
  return { x, y, n };
}

async function predict(net: Sequential, backend: Backend, x: Float64Array, n: number): Promise<Float32Array | Float64Array> {
  const p = tidy(() => net.forward(backend.tensor(x, [n, 2])));
  const v = (await p.data()) as Float32Array | Float64Array;
  p.dispose();
  return v;
}

await runApp(
  {
    name: 'classify2d',
    command: 'pnpm classify2d',
    summary: `Part 2 of the course: Linear(2, h) → TanH → Linear(h, 1) → Sigmoid trained with BCELoss through
Optim (SGD momentum 0.9, mini-batches of ${BATCH}) on three 2-D problems: two Gaussians, four Gaussians
in XOR layout and a 4×4 checkerboard. Prints the train and test accuracy of each and writes
<dataset>.png (the predicted probability over the plane, the 0.5 frontier in black, the test
points on top) and results.json to --out.`,
    options: {
      backend: backendOption('cpu'),
      dataset: { type: 'string', arg: 'NAME', choices: [...KINDS, 'all'], default: 'all', description: 'which problem to train' },
      hidden: { type: 'int', min: 1, max: 4096, arg: 'N', defaultText: 'gaussians 4, xor 8, checkerboard 64', description: 'hidden units h' },
      iterations: { type: 'int', min: 1, max: 1_000_000, arg: 'N', defaultText: 'gaussians 600, xor 1500, checkerboard 6000', description: 'SGD steps' },
      lr: { type: 'number', min: 0, exclusiveMin: true, max: 100, defaultText: 'gaussians 0.3, xor 0.3, checkerboard 0.5', description: 'learning rate' },
      samples: { type: 'int', min: BATCH, max: 1_000_000, arg: 'N', default: 1000, description: 'training points, and as many test points' },
      seed: { type: 'int', min: 0, default: 3, description: 'seed of the data' },
      'init-seed': { type: 'int', min: 0, arg: 'N', default: 11, description: 'seed of the initialisation' },
      out: outOption('out/classify2d'),
      progress: progressOption('progress of the training steps'),
    },
    examples: ['pnpm classify2d', 'pnpm classify2d --dataset xor --hidden 2', 'pnpm classify2d --dataset checkerboard --iterations 20000'],
  },
  async (args) => {
    const backend = await backendFromFlag(args.backend);
    const out = outDir(args.out);
    const rng = new RNG(args.seed);
    const results = [];
    for (const kind of KINDS) {
      // every dataset draws its points, so that one dataset's data do not depend on --dataset
      const train = make(kind, args.samples, rng);
      const test = make(kind, args.samples, rng);
      if (args.dataset !== 'all' && args.dataset !== kind) continue;
      const hidden = args.hidden ?? SETUPS[kind].hidden;
      const iterations = args.iterations ?? SETUPS[kind].iterations;
      const lr = args.lr ?? SETUPS[kind].lr;
      manualSeed(args['init-seed']);
      const net = new Sequential([new Linear(2, hidden, { backend }), new TanH(), new Linear(hidden, 1, { backend }), new Sigmoid()]);
      const optim = new Optim(net, new BCELoss(), new SGD(net.parameters(), { lr, momentum: 0.9 }));
      let last = NaN;
      const progress = stepProgress(args.progress, kind, iterations);
      for (let it = 0; it < iterations; it++) {
        // mini-batches cycling through the training set, in order
        const s = (it * BATCH) % (train.n - (train.n % BATCH));
        const loss = tidy(() => optim.step(backend.tensor(train.x.subarray(2 * s, 2 * (s + BATCH)), [BATCH, 2]), backend.tensor(train.y.subarray(s, s + BATCH), [BATCH, 1])));
        if (it === iterations - 1) last = await lossValue(loss);
        else loss.dispose();
        progress(it + 1);
      }
      if (!Number.isFinite(last)) throw new Error(`${kind}: the loss became ${last} (--lr ${lr} is too large for this problem?)`);
      const accuracy = async (d: Data) => {
        const p = await predict(net, backend, d.x, d.n);
        let ok = 0;
        for (let i = 0; i < d.n; i++) ok += (p[i]! > 0.5 ? 1 : 0) === d.y[i] ? 1 : 0;
        return ok / d.n;
      };
      const accTrain = await accuracy(train);
      const accTest = await accuracy(test);
      // decision frontier: the predicted probability on a grid over [-2.5, 2.5]², points on top
      const size = 400;
      const grid = new Float64Array(size * size * 2);
      for (let r = 0; r < size; r++)
        for (let c = 0; c < size; c++) {
          grid[2 * (r * size + c)] = -2.5 + (5 * c) / size;
          grid[2 * (r * size + c) + 1] = 2.5 - (5 * r) / size;
        }
      const prob = await predict(net, backend, grid, size * size);
      const img = new Image(size, size);
      for (let r = 0; r < size; r++)
        for (let c = 0; c < size; c++) {
          // the background in 11 bands of probability (0, 0.1, …, 1): a contour map, and a small PNG
          const p = Math.round(prob[r * size + c]! * 10) / 10;
          const raw = prob[r * size + c]!;
          const edge = Math.abs(raw - 0.5) < 0.02;
          img.set(c, r, edge ? [0, 0, 0] : [Math.round(255 - 90 * p), Math.round(200 + 30 * Math.abs(p - 0.5)), Math.round(165 + 90 * p)]);
        }
      for (let i = 0; i < test.n; i += 2) {
        const px = ((test.x[2 * i]! + 2.5) / 5) * size;
        const py = ((2.5 - test.x[2 * i + 1]!) / 5) * size;
        img.dot(px, py, 2, test.y[i] ? [20, 60, 200] : [210, 40, 30]);
      }
      const file = join(out, `${kind}.png`);
      writeFile(file, img.toPng());
      console.log(`${kind.padEnd(13)} hidden ${String(hidden).padStart(2)}  final BCE ${last.toFixed(4)}  train acc ${(accTrain * 100).toFixed(1)} %  test acc ${(accTest * 100).toFixed(1)} %  → ${shownPath(file)}`);
      results.push({ dataset: kind, hidden, iterations, lr, finalBce: last, trainAccuracy: accTrain, testAccuracy: accTest });
    }
    writeFile(join(out, 'results.json'), JSON.stringify({ backend: backend.name, samples: args.samples, seed: args.seed, initSeed: args['init-seed'], batchSize: BATCH, results }, null, 2));
    console.log(`wrote ${shownPath(join(out, 'results.json'))}`);
  },
);
