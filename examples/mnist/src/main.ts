/**
 * The main job: trains 784 → 256 → TanH → 10 on MNIST with CrossEntropyLoss (log-softmax fused
 * with cross-entropy) and SGD; prints test accuracy per epoch and a confusion matrix, writes a
 * loss/accuracy plot, the metrics as JSON and the trained weights as safetensors.
 *
 *   pnpm mnist                                  # SGD momentum 0.9, lr 0.05, batch 64, 10 epochs
 *   pnpm mnist --preset w2 --epochs 5           # exactly bench/README.md's W2: plain SGD, lr 0.1
 *   pnpm mnist --backend gpu:webgpu             # the same model on another backend
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { manualSeed, toSafetensors } from '@neurone/core';
import { loadMnist } from '@neurone/data';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { backendFromFlag, lineChart, writeFile } from '@example/common';
import { buildNet, confusionMatrix, formatConfusion } from './model';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cpu' },
    preset: { type: 'string', default: 'main' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    momentum: { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'out/mnist' },
    progress: { type: 'boolean', default: process.stdout.isTTY },
  },
});

const presets = {
  main: { lr: 0.05, momentum: 0.9, epochs: 10 },
  w2: { lr: 0.1, momentum: 0, epochs: 5 },
} as const;
const preset = presets[args.preset as keyof typeof presets];
if (!preset) throw new Error(`--preset ${args.preset}: expected one of ${Object.keys(presets).join(', ')}`);
const epochs = Number(args.epochs ?? preset.epochs);
const lr = Number(args.lr ?? preset.lr);
const momentum = Number(args.momentum ?? preset.momentum);
const batchSize = Number(args['batch-size']);
const seed = Number(args.seed);

const backend = await backendFromFlag(args.backend);
manualSeed(seed);
const t0 = performance.now();
const { train, test } = loadMnist();
console.log(`MNIST: ${train.y.shape[0]} training and ${test.y.shape[0]} test images (${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);
const net = buildNet(backend);
console.log(`${net}\nbackend ${backend.name}; SGD lr ${lr}, momentum ${momentum}, batch ${batchSize}, ${epochs} epochs, seed ${seed}`);

const history = await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr, momentum }), train, {
  epochs,
  batchSize,
  seed,
  validation: test,
  progress: args.progress,
  onEpoch: (e) => {
    console.log(
      `epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  test loss ${e.valLoss?.toFixed(4)}  ` +
        `test accuracy ${((e.valAccuracy ?? 0) * 100).toFixed(2)} %  ${e.samplesPerSecond.toFixed(0)} samples/s  ${e.seconds.toFixed(1)} s`,
    );
  },
});

const { matrix, accuracy } = await confusionMatrix(net, test);
console.log(`\ntest accuracy ${(accuracy * 100).toFixed(2)} % after ${epochs} epochs\n\nconfusion matrix (rows: true digit, columns: predicted)\n${formatConfusion(matrix)}`);

const out = args.out;
const logs = history.epochs;
const ep = logs.map((h) => h.epoch);
writeFile(
  join(out, 'curves.svg'),
  lineChart([
    { title: 'cross-entropy loss', xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: ep, y: logs.map((h) => h.loss) }, { name: 'test', x: ep, y: logs.map((h) => h.valLoss ?? NaN) }] },
    { title: 'test accuracy (%)', xlabel: 'epoch', ylabel: 'accuracy', series: [{ name: 'test', x: ep, y: logs.map((h) => 100 * (h.valAccuracy ?? 0)) }] },
  ]),
);
writeFile(join(out, 'weights.safetensors'), await toSafetensors(net.stateDict(), { network: '784-256-tanh-10', accuracy: accuracy.toFixed(4) }));
writeFile(join(out, 'metrics.json'), JSON.stringify({ backend: backend.name, lr, momentum, batchSize, epochs, seed, accuracy, history: logs, confusion: matrix }, null, 2));
console.log(`\nwrote ${out}/curves.svg, ${out}/weights.safetensors, ${out}/metrics.json (total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
