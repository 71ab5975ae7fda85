/**
 * Part 2 of the course: Linear → TanH → Linear → Sigmoid with BCE on 2-D data (two Gaussians,
 * four Gaussians in XOR layout, a checkerboard); plots the decision frontier over the points.
 *
 *   pnpm --filter @example/classify2d start
 */
import { RNG, manualSeed, tidy } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Linear, Sequential, Sigmoid, TanH } from '@neurone/layers';
import { BCELoss } from '@neurone/losses';
import { Optim, SGD } from '@neurone/optim';
import { Image, writeFile } from '@example/common';

type Data = { x: Float64Array; y: Float64Array; n: number };

function make(kind: 'gaussians' | 'xor' | 'checkerboard', n: number, rng: RNG): Data {
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

const backend = cpu();
const rng = new RNG(3);
const summary: string[] = [];
for (const [kind, hidden, iters] of [['gaussians', 4, 600], ['xor', 8, 1500], ['checkerboard', 64, 6000]] as const) {
  manualSeed(11);
  const train = make(kind, 1000, rng);
  const test = make(kind, 1000, rng);
  const net = new Sequential([new Linear(2, hidden, { backend }), new TanH(), new Linear(hidden, 1, { backend }), new Sigmoid()]);
  const optim = new Optim(net, new BCELoss(), new SGD(net.parameters(), { lr: kind === 'checkerboard' ? 0.5 : 0.3, momentum: 0.9 }));
  let last = 0;
  for (let it = 0; it < iters; it++) {
    // mini-batches of 100, cycling through the shuffled training set
    const s = (it * 100) % train.n;
    last = tidy(() => optim.step(backend.tensor(train.x.subarray(2 * s, 2 * s + 200), [100, 2]), backend.tensor(train.y.subarray(s, s + 100), [100, 1])).item());
  }
  const accuracy = (d: Data) =>
    tidy(() => {
      const p = net.forward(backend.tensor(d.x, [d.n, 2])).dataSync();
      let ok = 0;
      for (let i = 0; i < d.n; i++) ok += (p[i]! > 0.5 ? 1 : 0) === d.y[i] ? 1 : 0;
      return ok / d.n;
    });
  const accTrain = accuracy(train);
  const accTest = accuracy(test);
  // decision frontier: the predicted probability on a grid, points on top
  const size = 400;
  const grid = new Float64Array(size * size * 2);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) {
      grid[2 * (r * size + c)] = -2.5 + (5 * c) / size;
      grid[2 * (r * size + c) + 1] = 2.5 - (5 * r) / size;
    }
  const prob = tidy(() => net.forward(backend.tensor(grid, [size * size, 2])).dataSync());
  const img = new Image(size, size);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) {
      const p = prob[r * size + c]!;
      const edge = Math.abs(p - 0.5) < 0.02;
      img.set(c, r, edge ? [0, 0, 0] : [Math.round(255 - 90 * p), Math.round(200 + 30 * Math.abs(p - 0.5)), Math.round(165 + 90 * p)]);
    }
  for (let i = 0; i < test.n; i += 2) {
    const px = ((test.x[2 * i]! + 2.5) / 5) * size;
    const py = ((2.5 - test.x[2 * i + 1]!) / 5) * size;
    img.dot(px, py, 2, test.y[i] ? [20, 60, 200] : [210, 40, 30]);
  }
  writeFile(`out/classify2d/${kind}.png`, img.toPng());
  const line = `${kind.padEnd(13)} hidden ${String(hidden).padStart(2)}  final BCE ${last.toFixed(4)}  train acc ${(accTrain * 100).toFixed(1)} %  test acc ${(accTest * 100).toFixed(1)} %  → out/classify2d/${kind}.png`;
  console.log(line);
  summary.push(line);
}
