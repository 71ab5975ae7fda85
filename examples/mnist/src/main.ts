/**
 * The main job: trains 784 → 256 → TanH → 10 on MNIST with CrossEntropyLoss (log-softmax fused
 * with cross-entropy) and SGD; prints test accuracy per epoch and a confusion matrix, writes a
 * loss/accuracy plot, the metrics as JSON and the trained weights as safetensors (and, with
 * --onnx FILE, the model as ONNX for ONNX Runtime and friends).
 *
 *   pnpm mnist                                  # SGD momentum 0.9, lr 0.05, batch 64, 10 epochs
 *   pnpm mnist --preset w2 --epochs 5           # exactly bench/README.md's W2: plain SGD, lr 0.1
 *   pnpm mnist --backend gpu:webgpu             # the same model on another backend
 *   pnpm mnist --onnx mnist.onnx                # also write the trained model as ONNX
 *   pnpm mnist --help                           # every option with its default
 */
import { join, resolve } from 'node:path';
import { manualSeed, toSafetensors } from '@neurone/core';
import { loadMnist, take } from '@neurone/data';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { toOnnx } from '@neurone/onnx';
import { backendFromFlag, backendOption, lineChart, mnistTrainingOptions, outDir, outOption, progressOption, runApp, shownPath, writeFile } from '@example/common';
import { buildNet, confusionMatrix, formatConfusion } from './model';

const presets = {
  main: { lr: 0.05, momentum: 0.9, epochs: 10 },
  w2: { lr: 0.1, momentum: 0, epochs: 5 },
} as const;

await runApp(
  {
    name: 'mnist',
    command: 'pnpm mnist',
    summary: `Trains 784 → 256 → TanH → 10 on MNIST (cross-entropy on the logits, SGD), prints the test
accuracy after every epoch and a confusion matrix, and writes curves.svg (loss and accuracy per
epoch), metrics.json and weights.safetensors to --out.`,
    options: {
      backend: backendOption('cpu'),
      preset: { type: 'string', arg: 'NAME', choices: Object.keys(presets), default: 'main', description: 'main: SGD momentum 0.9, lr 0.05, 10 epochs; w2: W2 of bench/README.md, plain SGD lr 0.1, 5 epochs' },
      epochs: { type: 'int', min: 1, max: 1000, defaultText: 'from --preset', description: 'passes over the training set' },
      lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, defaultText: 'from --preset', description: 'learning rate' },
      momentum: { type: 'number', min: 0, max: 0.999, defaultText: 'from --preset', description: 'SGD momentum' },
      ...mnistTrainingOptions(),
      out: outOption('out/mnist'),
      onnx: { type: 'string', arg: 'FILE', description: 'also write the trained model as ONNX to FILE (input [batch, 784], output the 10 logits; see @neurone/onnx)' },
      progress: progressOption(),
    },
    examples: ['pnpm mnist --epochs 3', 'pnpm mnist --preset w2', 'pnpm mnist --backend gpu:webgpu', 'pnpm mnist --onnx mnist.onnx', 'pnpm mnist --epochs 1 --limit 5000 --out /tmp/mnist'],
  },
  async (args) => {
    const preset = presets[args.preset as keyof typeof presets];
    const epochs = args.epochs ?? preset.epochs;
    const lr = args.lr ?? preset.lr;
    const momentum = args.momentum ?? preset.momentum;
    const batchSize = args['batch-size'];
    const seed = args.seed;
    const out = outDir(args.out);

    const backend = await backendFromFlag(args.backend);
    manualSeed(seed);
    const t0 = performance.now();
    const mnist = loadMnist();
    const train = args.limit ? take(mnist.train, args.limit) : mnist.train;
    const test = args.limit ? take(mnist.test, args.limit) : mnist.test;
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

    const logs = history.epochs;
    const ep = logs.map((h) => h.epoch);
    writeFile(
      join(out, 'curves.svg'),
      lineChart([
        { title: 'cross-entropy loss', xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: ep, y: logs.map((h) => h.loss) }, { name: 'test', x: ep, y: logs.map((h) => h.valLoss ?? NaN) }] },
        { title: 'test accuracy (%)', xlabel: 'epoch', ylabel: 'accuracy (%)', series: [{ name: 'test', x: ep, y: logs.map((h) => 100 * (h.valAccuracy ?? 0)) }] },
      ]),
    );
    writeFile(join(out, 'weights.safetensors'), await toSafetensors(net.stateDict(), { network: '784-256-tanh-10', accuracy: accuracy.toFixed(4) }));
    const sizes = { train: train.y.shape[0], test: test.y.shape[0] };
    writeFile(join(out, 'metrics.json'), JSON.stringify({ backend: backend.name, preset: args.preset, lr, momentum, batchSize, epochs, seed, samples: sizes, accuracy, history: logs, confusion: matrix }, null, 2));
    const o = shownPath(out);
    if (args.onnx !== undefined) {
      const file = resolve(process.env.INIT_CWD ?? process.cwd(), args.onnx);
      writeFile(file, await toOnnx(net, { inputShape: [784] }));
      console.log(`\nwrote the model as ONNX to ${shownPath(file)}`);
    }
    console.log(`\nwrote ${o}/curves.svg, ${o}/weights.safetensors, ${o}/metrics.json (total ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  },
);
