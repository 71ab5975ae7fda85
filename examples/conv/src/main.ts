/**
 * Convolutions on MNIST (parts 6–7 of the course). Trains the Conv2D network (default) or the
 * course's Conv1D network on 784×1 sequences, prints the test accuracy after every epoch, and
 * writes the loss/accuracy curves (SVG), a picture of the first layer's filters (PNG, conv2d),
 * the metrics (JSON) and the weights (safetensors).
 *
 *   pnpm conv                          # Conv2D net, Adam lr 1e-3 (cosine to 0), batch 64, 10 epochs on cpu()
 *   pnpm conv --model conv1d           # the course's Conv1D net on 784×1 sequences, 2 epochs
 *   pnpm conv --backend gpu:webgpu     # another backend
 *   pnpm conv --help                   # every option with its default
 */
import { join } from 'node:path';
import { manualSeed, toSafetensors } from '@neurone/core';
import { loadMnist, take } from '@neurone/data';
import type { Conv2D } from '@neurone/layers';
import { CrossEntropyLoss } from '@neurone/losses';
import { Adam, AdamW, CosineAnnealingLR, OneCycleLR, fit } from '@neurone/optim';
import { backendFromFlag, backendOption, imageGrid, lineChart, mnistTrainingOptions, outDir, outOption, progressOption, runApp, shownPath, writeFile } from '@example/common';
import { accuracy, buildBn, buildConv1d, buildConv2d, filterImages, reshapeMnist } from './model';

await runApp(
  {
    name: 'conv',
    command: 'pnpm conv',
    summary: `Trains a convolutional network on MNIST with Adam (lr annealed to 0 by a cosine over the epochs),
prints the test accuracy after every epoch, and writes curves.svg, filters.png (the first layer's
filters, conv2d), metrics.json and weights.safetensors to --out.
  conv2d: Conv2D(5, 1→16) → ReLU → MaxPool 2 → Conv2D(3, 16→32) → ReLU → MaxPool 2 → Flatten →
          Linear(800, 128) → ReLU → Linear(128, 10), on 28×28×1 images
  conv1d: the course's Conv1D(3, 1, 32) → MaxPool1D(2, 2) → Flatten → Linear(391·32, 100) → ReLU →
          Linear(100, 10), on 784×1 sequences
  bn:     (Conv2D(3, pad 1) → BatchNorm2d → ReLU → MaxPool 2) × 2 (32, 64 channels) → Flatten →
          Dropout(0.25) → Linear(3136, 128) → ReLU → Dropout(0.5) → Linear(128, 10), trained with AdamW
          and OneCycleLR (max lr = --lr × 10)`,
    options: {
      model: { type: 'string', arg: 'NAME', choices: ['conv2d', 'conv1d', 'bn'], default: 'conv2d', description: 'which network' },
      backend: backendOption('cpu'),
      epochs: { type: 'int', min: 1, max: 1000, defaultText: '10 for conv2d and bn, 2 for conv1d', description: 'passes over the training set' },
      lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, default: 1e-3, description: "Adam's initial learning rate" },
      ...mnistTrainingOptions(),
      out: outOption('out/conv'),
      progress: progressOption(),
    },
    examples: ['pnpm conv', 'pnpm conv --model conv1d', 'pnpm conv --epochs 1 --limit 5000 --out /tmp/conv', 'pnpm conv --backend gpu:webgpu --epochs 1'],
  },
  async (args) => {
    const model = args.model as 'conv2d' | 'conv1d' | 'bn';
    const epochs = args.epochs ?? (model === 'conv1d' ? 2 : 10);
    const { lr, seed } = args;
    const batchSize = args['batch-size'];
    const out = outDir(args.out);

    const backend = await backendFromFlag(args.backend);
    await backend.ready();
    manualSeed(seed);
    const t0 = performance.now();
    const mnist = loadMnist();
    const as = model === 'conv1d' ? 'sequences' : 'images';
    const train = reshapeMnist(args.limit ? take(mnist.train, args.limit) : mnist.train, as);
    const test = reshapeMnist(args.limit ? take(mnist.test, args.limit) : mnist.test, as);
    console.log(`MNIST: ${train.y.shape[0]} training and ${test.y.shape[0]} test images as [n, ${train.x.shape.slice(1).join(', ')}]`);
    const net = model === 'conv2d' ? buildConv2d(backend) : model === 'bn' ? buildBn(backend) : buildConv1d(backend);
    const bn = model === 'bn';
    console.log(`${net}\nbackend ${backend.name}; ${bn ? `AdamW, OneCycleLR to ${lr * 10}` : `Adam lr ${lr} (cosine to 0)`}, batch ${batchSize}, ${epochs} epochs, seed ${seed}`);

    const adam = bn ? new AdamW(net.parameters(), { lr }) : new Adam(net.parameters(), { lr });
    const scheduler = bn
      ? new OneCycleLR(adam, { maxLr: lr * 10, epochs, stepsPerEpoch: Math.ceil(train.y.shape[0]! / batchSize), cycleMomentum: false })
      : new CosineAnnealingLR(adam, { tMax: epochs });
    const history = await fit(net, new CrossEntropyLoss(), adam, train, {
      epochs,
      batchSize,
      seed,
      scheduler,
      validation: test,
      validationBatchSize: 500,
      progress: args.progress,
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

    const logs = history.epochs;
    const ep = logs.map((h) => h.epoch);
    const written = ['curves.svg'];
    writeFile(
      join(out, 'curves.svg'),
      lineChart([
        { title: `${model}: cross-entropy loss`, xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: ep, y: logs.map((h) => h.loss) }, { name: 'test', x: ep, y: logs.map((h) => h.valLoss ?? NaN) }] },
        { title: 'test accuracy (%)', xlabel: 'epoch', ylabel: 'accuracy (%)', series: [{ name: 'test', x: ep, y: logs.map((h) => 100 * (h.valAccuracy ?? 0)) }] },
      ]),
    );
    if (model === 'conv2d') {
      const first = net.at(0) as Conv2D;
      writeFile(join(out, 'filters.png'), imageGrid(await filterImages(first), 8, first.kernel[0], 12).toPng());
      written.push('filters.png');
    }
    writeFile(join(out, 'weights.safetensors'), await toSafetensors(net.stateDict(), { network: model, accuracy: acc.toFixed(4) }));
    const samples = { train: train.y.shape[0], test: test.y.shape[0] };
    writeFile(join(out, 'metrics.json'), JSON.stringify({ model, backend: backend.name, lr, batchSize, epochs, seed, samples, accuracy: acc, seconds, history: logs }, null, 2));
    written.push('weights.safetensors', 'metrics.json');
    const o = shownPath(out);
    console.log(`wrote ${written.map((f) => `${o}/${f}`).join(', ')}`);
  },
);
