/**
 * Convolutions on MNIST. Trains the Conv2D network (default) or the course's Conv1D network on
 * 784×1 sequences, prints test accuracy per epoch, and writes the loss/accuracy curves (SVG),
 * a picture of the first layer's filters (PNG, Conv2D), the metrics (JSON) and the weights.
 *
 *   pnpm conv                          # Conv2D net, Adam lr 1e-3 (cosine to 0), batch 64, 10 epochs on cpu()
 *   pnpm conv --model conv1d           # the course's Conv1D net on 784×1 sequences, 2 epochs
 *   pnpm conv --backend gpu:webgpu     # another backend
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { manualSeed, toSafetensors } from '@neurone/core';
import { loadMnist } from '@neurone/data';
import type { Conv2D } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { Adam, CosineAnnealingLR, fit } from '@neurone/optim';
import { backendFromFlag, imageGrid, lineChart, writeFile } from '@example/common';
import { accuracy, buildConv1d, buildConv2d, filterImages, reshapeMnist } from './model';

const HELP = `usage: pnpm conv [--model conv2d|conv1d] [--epochs N] [--out DIR] [--backend cpu|cpu:float64|gpu|gpu:<mode>]

  --model    conv2d (default): Conv2D(5, 1→16) → ReLU → MaxPool 2 → Conv2D(3, 16→32) → ReLU → MaxPool 2 →
             Flatten → Linear(800, 128) → ReLU → Linear(128, 10), on 28×28×1 images;
             conv1d: the course's Conv1D(3, 1, 32) → MaxPool1D(2, 2) → Flatten → Linear(391·32, 100) → ReLU →
             Linear(100, 10), on 784×1 sequences
  --epochs   epochs of Adam (lr 1e-3 annealed to 0 by a cosine, batch 64); default 10 (conv2d), 2 (conv1d)
  --out      output folder (default out/conv); writes curves.svg, filters.png (conv2d), metrics.json, weights.safetensors
  --backend  default cpu
`;

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'conv2d' },
    epochs: { type: 'string' },
    out: { type: 'string', default: 'out/conv' },
    backend: { type: 'string', default: 'cpu' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const model = args.model;
if (model !== 'conv2d' && model !== 'conv1d') throw new Error(`--model ${model}: expected conv2d or conv1d\n\n${HELP}`);
const epochs = Number(args.epochs ?? (model === 'conv2d' ? 10 : 2));
if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs ${args.epochs}: expected a positive integer`);
const [lr, batchSize, seed] = [1e-3, 64, 1];

const backend = await backendFromFlag(args.backend);
await backend.ready();
manualSeed(seed);
const t0 = performance.now();
const mnist = loadMnist();
const as = model === 'conv2d' ? 'images' : 'sequences';
const train = reshapeMnist(mnist.train, as);
const test = reshapeMnist(mnist.test, as);
const net = model === 'conv2d' ? buildConv2d(backend) : buildConv1d(backend);
console.log(`${net}\nbackend ${backend.name}; Adam lr ${lr} (cosine to 0), batch ${batchSize}, ${epochs} epochs, seed ${seed}; input [n, ${train.x.shape.slice(1).join(', ')}]`);

const adam = new Adam(net.parameters(), { lr });
const history = await fit(net, new CrossEntropyLoss(), adam, train, {
  epochs,
  scheduler: new CosineAnnealingLR(adam, { tMax: epochs }),
  batchSize,
  seed,
  validation: test,
  validationBatchSize: 500,
  progress: process.stdout.isTTY,
  onEpoch: (e) => {
    console.log(
      `epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  test loss ${e.valLoss?.toFixed(4)}  ` +
        `test accuracy ${((e.valAccuracy ?? 0) * 100).toFixed(2)} %  ${e.samplesPerSecond.toFixed(0)} samples/s  ${e.seconds.toFixed(1)} s  ` +
        `(${((performance.now() - t0) / 1000).toFixed(0)} s in all)`,
    );
  },
});

const acc = await accuracy(net, test);
const seconds = (performance.now() - t0) / 1000;
console.log(`\n${model}: test accuracy ${(acc * 100).toFixed(2)} % after ${epochs} epochs, ${seconds.toFixed(0)} s in all on ${backend.name}`);

const out = args.out;
const logs = history.epochs;
const ep = logs.map((h) => h.epoch);
const written = ['curves.svg'];
writeFile(
  join(out, 'curves.svg'),
  lineChart([
    { title: `${model}: cross-entropy loss`, xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: ep, y: logs.map((h) => h.loss) }, { name: 'test', x: ep, y: logs.map((h) => h.valLoss ?? NaN) }] },
    { title: 'test accuracy (%)', xlabel: 'epoch', ylabel: 'accuracy', series: [{ name: 'test', x: ep, y: logs.map((h) => 100 * (h.valAccuracy ?? 0)) }] },
  ]),
);
if (model === 'conv2d') {
  const filters = await filterImages(net.at(0) as Conv2D);
  writeFile(join(out, 'filters.png'), imageGrid(filters, 8, 3, 16).toPng());
  written.push('filters.png');
}
writeFile(join(out, 'weights.safetensors'), await toSafetensors(net.stateDict(), { network: model, accuracy: acc.toFixed(4) }));
writeFile(join(out, 'metrics.json'), JSON.stringify({ model, backend: backend.name, lr, batchSize, epochs, seed, accuracy: acc, seconds, history: logs }, null, 2));
written.push('weights.safetensors', 'metrics.json');
console.log(`wrote ${written.map((f) => join(out, f)).join(', ')}`);
