/**
 * bench/README.md's W3 autoencoder on MNIST (784 → 128 → act → k → act → 128 → act → 784 → Sigmoid,
 * BCE, Adam, batch 128), with a study of what the codes hold:
 *  1. test digits beside their reconstructions for code sizes 32, 8 and 2 (PNG);
 *  2. the 2-D code map of the test set, and a UMAP embedding of the 32-d codes (SVG, axes labelled);
 *  3. k-means (k = 10) on the 32-d codes and on raw pixels: purity and adjusted Rand index;
 *  4. denoising: per-pixel error against the clean image at Gaussian σ = 0.2 and 0.5, for the
 *     plain model and for one trained on noisy inputs;
 *  5. a small classifier trained on the codes, and its test accuracy;
 * printed as a table and written to out/autoencoder/results.json (--out).
 *
 *   pnpm autoencoder                       # the tuned setup (see --preset), CPU backend
 *   pnpm autoencoder --preset w3           # exactly W3: PyTorch init, tanh, Adam lr 1e-3
 *   pnpm autoencoder --backend gpu:webgpu  # the same on another backend
 *   pnpm autoencoder --quick               # a smoke run on 2,000 training images
 *   pnpm autoencoder --help                # every option with its default
 */
import { join } from 'node:path';
import { UMAP } from 'umap-js';
import { RNG, manualSeed, toSafetensors } from '@neurone/core';
import type { Backend, HostTensor } from '@neurone/core';
import { Autoencoder, addNoise, denoising, encodeAll, reconstructAll, pixelError, reconstructionDataset } from '@neurone/autoencoder';
import type { DenseOptions } from '@neurone/autoencoder';
import { loadMnist, subset } from '@neurone/data';
import type { ImageDataset } from '@neurone/data';
import { Linear, ReLU, Sequential } from '@neurone/layers';
import { BCELoss, CrossEntropyLoss } from '@neurone/losses';
import { Adam, fit } from '@neurone/optim';
import { backendFromFlag, backendOption, imageGrid, lineChart, outDir, outOption, progressOption, runApp, scatterChart, shownPath, writeFile } from '@example/common';
import { classMeans, clusterScores, pickRows } from './analysis';

const DIGITS = Array.from({ length: 10 }, (_, c) => String(c));

/**
 * W3 exactly, and the changes that make it converge faster. Both keep W3's widths
 * (784 → 128 → k → 128 → 784), its Sigmoid output, BCE, Adam and batch 128.
 */
const presets = {
  w3: {
    activation: 'tanh',
    codeActivation: true,
    init: 'pytorch',
    lr: 1e-3,
    epochs: 10,
    smallEpochs: 5,
    denoiseEpochs: 5,
    note: 'exactly W3: TanH everywhere (code included), PyTorch default init U(±1/√fan_in), Adam lr 1e-3',
  },
  tuned: {
    activation: 'relu',
    codeActivation: false,
    init: 'kaiming',
    lr: 3e-3,
    epochs: 5,
    smallEpochs: 4,
    denoiseEpochs: 4,
    note: 'W3 with ReLU instead of TanH in the hidden layers, a linear code (no activation on it), Kaiming-uniform init (gain √2, zero biases) and Adam lr 3e-3',
  },
} as const;
await runApp(
  {
    name: 'autoencoder',
    command: 'pnpm autoencoder',
    summary: `The W3 autoencoder of bench/README.md on MNIST at code sizes 32, 8 and 2, and what the codes hold:
reconstructions, the 2-D code map, a UMAP of the 32-d codes, k-means on codes and pixels, denoising,
and a small classifier on the codes. Prints a table of the results and writes reconstructions.png,
denoising.png, latent2d.svg, umap32.svg, curves.svg, weights32.safetensors and results.json to --out.`,
    options: {
      backend: backendOption('cpu'),
      preset: { type: 'string', arg: 'NAME', choices: Object.keys(presets), default: 'tuned', description: 'tuned: ReLU, linear code, Kaiming init, Adam 3e-3, 5/4/4 epochs; w3: exactly W3, 10/5/5 epochs' },
      epochs: { type: 'int', min: 1, max: 1000, defaultText: 'from --preset (1 with --quick)', description: 'epochs of the code-32 model' },
      'small-epochs': { type: 'int', min: 1, max: 1000, arg: 'N', defaultText: 'from --preset (1 with --quick)', description: 'epochs of the code-8 and code-2 models' },
      'denoise-epochs': { type: 'int', min: 1, max: 1000, arg: 'N', defaultText: 'from --preset (1 with --quick)', description: 'epochs of the denoising model' },
      lr: { type: 'number', min: 0, exclusiveMin: true, max: 10, defaultText: 'from --preset', description: 'Adam learning rate' },
      seed: { type: 'int', min: 0, default: 1, description: 'seed of everything random' },
      quick: { type: 'boolean', description: 'a smoke run: 2,000 training and 1,000 test images (seeded random choice), 1 epoch per model' },
      limit: { type: 'int', min: 100, arg: 'N', defaultText: 'all (2000 with --quick)', description: 'train on N random training images (and test on at most N / 2)' },
      subset: { type: 'int', min: 20, max: 70_000, arg: 'N', default: 5000, description: 'test codes used by UMAP and k-means (at most the test set)' },
      'kmeans-restarts': { type: 'int', min: 1, max: 100, arg: 'N', default: 5, description: 'k-means++ starts; the lowest inertia is kept' },
      out: outOption('out/autoencoder'),
      progress: progressOption('progress bars'),
    },
    examples: ['pnpm autoencoder', 'pnpm autoencoder --preset w3', 'pnpm autoencoder --quick --out /tmp/ae', 'pnpm autoencoder --backend gpu:webgpu'],
  },
  async (args) => {
    const preset = presets[args.preset as keyof typeof presets];
    const quick = args.quick;
    const epochs = args.epochs ?? (quick ? 1 : preset.epochs);
    const smallEpochs = args['small-epochs'] ?? (quick ? 1 : preset.smallEpochs);
    const denoiseEpochs = args['denoise-epochs'] ?? (quick ? 1 : preset.denoiseEpochs);
    const lr = args.lr ?? preset.lr;
    const seed = args.seed;
    const nSub = args.subset;
    const restarts = args['kmeans-restarts'];
    const out = outDir(args.out);
    const limit = args.limit ?? (quick ? 2000 : undefined);
    const batchSize = 128;
    const SIGMAS = [0.2, 0.5] as const;
    const TRAIN_SIGMA = 0.5;

    const tStart = performance.now();
    const elapsed = () => ((performance.now() - tStart) / 1000).toFixed(0);
    const backend: Backend = await backendFromFlag(args.backend);
    manualSeed(seed);
    const mnist = loadMnist();
    const rng0 = new RNG(seed);
    const train: ImageDataset = limit ? (subset(mnist.train, rng0.permutation(60_000).subarray(0, Math.min(limit, 60_000))) as ImageDataset) : mnist.train;
    const test: ImageDataset = limit ? (subset(mnist.test, rng0.permutation(10_000).subarray(0, Math.min(Math.ceil(limit / 2), 10_000))) as ImageDataset) : mnist.test;
    const nTrain = train.y.shape[0]!;
    const nTest = test.y.shape[0]!;
    console.log(`MNIST: ${nTrain} training and ${nTest} test images; backend ${backend.name}; preset ${args.preset} (${preset.note})`);
    const A = preset.activation === 'tanh' ? 'TanH' : 'ReLU';
    console.log(`784 → 128 → ${A} → k${preset.codeActivation ? ` → ${A}` : ''} → 128 → ${A} → 784 → Sigmoid, BCE, Adam lr ${lr}, batch ${batchSize}, seed ${seed}\n`);
    /** The layer chain for code size k, as the weights file's metadata records it. */
    const act = preset.activation;
    const networkOf = (k: number) => `784-128-${act}-${k}${preset.codeActivation ? `-${act}` : ''}-128-${act}-784-sigmoid`;

    const bce = new BCELoss();
    const modelOptions = (): DenseOptions => ({ activation: preset.activation, codeActivation: preset.codeActivation, output: 'sigmoid', init: preset.init, backend });

    interface Trained {
      latent: number;
      model: Autoencoder;
      testBce: number[];
      trainBce: number[];
      samplesPerSecond: number[];
      seconds: number;
    }

    async function trainAutoencoder(latent: number, nEpochs: number, data = reconstructionDataset(train), onEpoch?: () => void, label = `code ${latent}`): Promise<Trained> {
      const model = Autoencoder.dense([784, 128, latent], modelOptions());
      const t0 = performance.now();
      const h = await fit(model, bce, new Adam(model, { lr }), data, {
        epochs: nEpochs,
        batchSize,
        seed,
        validation: reconstructionDataset(test),
        validationBatchSize: 1000,
        progress: args.progress,
        onEpoch: (e) => {
          onEpoch?.();
          console.log(
            `  [${label}] epoch ${String(e.epoch).padStart(2)}  train BCE ${e.loss.toFixed(4)}  test BCE/pixel ${e.valLoss!.toFixed(4)}  ` +
              `${e.samplesPerSecond.toFixed(0)} samples/s  (${elapsed()} s)`,
          );
        },
      });
      return { latent, model, testBce: h.valLoss, trainBce: h.loss, samplesPerSecond: h.epochs.map((e) => e.samplesPerSecond), seconds: (performance.now() - t0) / 1000 };
    }

    // ---- 1. three code sizes ----------------------------------------------------------------------
    const runs: Trained[] = [];
    for (const [latent, n] of [[32, epochs], [8, smallEpochs], [2, smallEpochs]] as const) {
      console.log(`training code size ${latent} (${(784 / latent).toFixed(1)}× compression), ${n} epochs`);
      runs.push(await trainAutoencoder(latent, n));
    }
    const byLatent = (k: number) => runs.find((r) => r.latent === k)!;
    const ae32 = byLatent(32).model;

    // reconstruction grid: row 1 originals, then codes 32, 8, 2; two test digits per class
    const shown: number[] = [];
    for (let c = 0; c < 10; c++) {
      let found = 0;
      for (let i = 0; i < nTest && found < 2; i++) {
        if (test.y.data[i] !== c) continue;
        shown.push(i);
        found++;
      }
    }
    const shownX: HostTensor = { data: new Float32Array(shown.flatMap((i) => Array.from(test.x.data.subarray(i * 784, (i + 1) * 784)))), shape: [shown.length, 784] };
    const gridRows: ArrayLike<number>[] = [];
    const rowOf = (h: HostTensor) => shown.map((_, k) => h.data.subarray(k * 784, (k + 1) * 784));
    gridRows.push(...rowOf(shownX));
    for (const k of [32, 8, 2]) gridRows.push(...rowOf(await reconstructAll(byLatent(k).model, shownX)));
    writeFile(join(out, 'reconstructions.png'), imageGrid(gridRows, shown.length, 28, 2).toPng());

    // ---- 2. latent maps ---------------------------------------------------------------------------
    const legend = classMeans(test.x, test.y.data);
    const codes2 = await encodeAll(byLatent(2).model, test.x);
    const pts2 = Array.from({ length: nTest }, (_, i) => [codes2.data[2 * i]!, codes2.data[2 * i + 1]!]);
    writeFile(join(out, 'latent2d.svg'), scatterChart(pts2, test.y.data, { title: `2-d codes of the ${nTest} test digits (code size 2)`, xlabel: 'code unit 1', ylabel: 'code unit 2', classNames: DIGITS, classImages: legend }));

    const sub = new RNG(seed + 1).permutation(nTest).subarray(0, Math.min(nSub, nTest));
    const subLabels = Array.from(sub, (i) => test.y.data[i]!);
    const codes32Test = await encodeAll(ae32, test.x);
    const subCodes = pickRows(codes32Test, sub);
    const umapRng = new RNG(seed + 2);
    const tU = performance.now();
    const umap = new UMAP({ nComponents: 2, nNeighbors: 15, minDist: 0.1, random: () => umapRng.random() });
    const embedding = umap.fit(subCodes);
    const umapSeconds = (performance.now() - tU) / 1000;
    writeFile(join(out, 'umap32.svg'), scatterChart(embedding, subLabels, { title: `UMAP of the 32-d codes of ${sub.length} test digits`, xlabel: 'UMAP 1', ylabel: 'UMAP 2', classNames: DIGITS, classImages: legend }));
    console.log(`\nsubset: UMAP and k-means use ${sub.length} of the ${nTest} test images (seeded random choice), to fit a 2-core machine`);
    console.log(`UMAP (umap-js, 15 neighbours, min_dist 0.1) of ${sub.length} test codes (32-d → 2-d) in ${umapSeconds.toFixed(1)} s (${elapsed()} s)`);

    // ---- 3. k-means ---------------------------------------------------------------------------------
    const kmCodes = clusterScores(subCodes, subLabels, 10, seed, restarts);
    const kmPixels = clusterScores(pickRows(test.x, sub), subLabels, 10, seed, restarts);
    const kmCodes8 = clusterScores(pickRows(await encodeAll(byLatent(8).model, test.x), sub), subLabels, 10, seed, restarts);
    const kmCodes2 = clusterScores(pickRows(codes2, sub), subLabels, 10, seed, restarts);
    console.log(
      `k-means (k = 10, best inertia of ${restarts} k-means++ starts) on ${sub.length} test samples: ` +
        `${kmCodes.seconds.toFixed(1)} s on 32-d codes, ${kmPixels.seconds.toFixed(1)} s on pixels (${elapsed()} s)`,
    );

    // ---- 4. denoising -------------------------------------------------------------------------------
    console.log(`\ntraining code size 32 on noisy inputs (Gaussian σ = ${TRAIN_SIGMA}, clipped to [0, 1], fresh noise every epoch), ${denoiseEpochs} epochs`);
    const noisyTrain = denoising(train, { kind: 'gaussian', sigma: TRAIN_SIGMA }, { seed: seed + 3 });
    const den = await trainAutoencoder(32, denoiseEpochs, noisyTrain.dataset, () => noisyTrain.resample(), 'denoising');
    const kmCodesDen = clusterScores(pickRows(await encodeAll(den.model, test.x), sub), subLabels, 10, seed, restarts);
    const denoise: { sigma: number; noisyInput: number; plain: number; denoiser: number; plainMse: number; denoiserMse: number }[] = [];
    const noisyImages: HostTensor[] = [];
    for (const sigma of SIGMAS) {
      const noisy = addNoise(test.x, { kind: 'gaussian', sigma }, new RNG(seed + 10 + sigma * 10));
      noisyImages.push(noisy);
      const p = await reconstructAll(ae32, noisy);
      const d = await reconstructAll(den.model, noisy);
      denoise.push({
        sigma,
        noisyInput: pixelError(test.x.data, noisy.data.map((v) => Math.min(1 - 1e-7, Math.max(1e-7, v))), 'bce'),
        plain: pixelError(test.x.data, p.data, 'bce'),
        denoiser: pixelError(test.x.data, d.data, 'bce'),
        plainMse: pixelError(test.x.data, p.data, 'mse'),
        denoiserMse: pixelError(test.x.data, d.data, 'mse'),
      });
    }
    // picture: clean / noisy σ=0.5 / plain model / denoiser
    {
      const noisy = noisyImages[1]!;
      const noisyShown: HostTensor = { data: new Float32Array(shown.flatMap((i) => Array.from(noisy.data.subarray(i * 784, (i + 1) * 784)))), shape: [shown.length, 784] };
      const rows = [...rowOf(shownX), ...rowOf(noisyShown), ...rowOf(await reconstructAll(ae32, noisyShown)), ...rowOf(await reconstructAll(den.model, noisyShown))];
      writeFile(join(out, 'denoising.png'), imageGrid(rows, shown.length, 28, 2).toPng());
    }

    // ---- 5. classifiers on the codes ---------------------------------------------------------------
    async function probe(latent: number, model: Autoencoder): Promise<{ latent: number; accuracy: number; epochs: number }> {
      const codesTrain = await encodeAll(model, train.x);
      const codesTest = latent === 32 && model === ae32 ? codes32Test : await encodeAll(model, test.x);
      const clf = new Sequential(new Linear(latent, 64, { backend }), new ReLU(), new Linear(64, 10, { backend }));
      const n = quick ? 2 : 10;
      const h = await fit(clf, new CrossEntropyLoss(), new Adam(clf, { lr: 3e-3 }), { x: codesTrain, y: train.y }, {
        epochs: n,
        batchSize: 128,
        seed,
        validation: { x: codesTest, y: test.y },
        progress: false,
      });
      return { latent, accuracy: h.valAccuracy[h.valAccuracy.length - 1]!, epochs: n };
    }
    console.log(`\nclassifiers ${'k'} → 64 → ReLU → 10 on the codes (Adam lr 3e-3, batch 128)`);
    const probes = [];
    for (const k of [32, 8, 2]) probes.push(await probe(k, byLatent(k).model));

    // ---- report ---------------------------------------------------------------------------------------
    const firstBelow = (xs: number[], t: number) => {
      const i = xs.findIndex((v) => v <= t);
      return i < 0 ? null : i + 1;
    };
    const r32 = byLatent(32);
    const table: [string, string][] = [
      ['preset', `${args.preset}: ${preset.note}`],
      ...runs.map((r): [string, string] => [`test BCE/pixel, code ${r.latent} (${(784 / r.latent).toFixed(1)}×)`, r.testBce.map((v, i) => `ep${i + 1} ${v.toFixed(4)}`).join('  ')]),
      ['code 32: first epoch with test BCE ≤ 0.10', String(firstBelow(r32.testBce, 0.1) ?? `not within ${epochs} epochs`)],
      ['training speed, code 32 (samples/s per epoch)', r32.samplesPerSecond.map((v) => v.toFixed(0)).join(', ')],
      [`k-means purity / ARI, 32-d codes (${sub.length} test)`, `${kmCodes.purity.toFixed(3)} / ${kmCodes.ari.toFixed(3)}`],
      [`k-means purity / ARI, 8-d codes (${sub.length} test)`, `${kmCodes8.purity.toFixed(3)} / ${kmCodes8.ari.toFixed(3)}`],
      [`k-means purity / ARI, 2-d codes (${sub.length} test)`, `${kmCodes2.purity.toFixed(3)} / ${kmCodes2.ari.toFixed(3)}`],
      [`k-means purity / ARI, 32-d codes of the denoiser`, `${kmCodesDen.purity.toFixed(3)} / ${kmCodesDen.ari.toFixed(3)}`],
      [`k-means purity / ARI, raw pixels (${sub.length} test)`, `${kmPixels.purity.toFixed(3)} / ${kmPixels.ari.toFixed(3)}`],
      ...denoise.map((d): [string, string] => [
        `denoising σ = ${d.sigma}: BCE/pixel vs clean (MSE)`,
        `noisy input ${d.noisyInput.toFixed(4)}, plain ${d.plain.toFixed(4)} (${d.plainMse.toFixed(4)}), trained on noise ${d.denoiser.toFixed(4)} (${d.denoiserMse.toFixed(4)})`,
      ]),
      ['denoiser, clean test BCE/pixel', den.testBce[den.testBce.length - 1]!.toFixed(4)],
      ...probes.map((p): [string, string] => [`classifier on ${p.latent}-d codes, test accuracy`, `${(p.accuracy * 100).toFixed(2)} % (${p.epochs} epochs)`]),
    ];
    const w = Math.max(...table.map(([k]) => k.length));
    console.log(`\n${table.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}`);

    const ep = (xs: number[]) => xs.map((_, i) => i + 1);
    writeFile(
      join(out, 'curves.svg'),
      lineChart([
        {
          title: 'test BCE per pixel',
          xlabel: 'epoch',
          ylabel: 'BCE',
          series: [...runs.map((r) => ({ name: `code ${r.latent}`, x: ep(r.testBce), y: r.testBce })), { name: 'denoiser (clean test)', x: ep(den.testBce), y: den.testBce }],
        },
      ]),
    );
    writeFile(join(out, 'weights32.safetensors'), await toSafetensors(ae32.stateDict(), { network: networkOf(32), preset: args.preset }));
    const results = {
      backend: backend.name,
      preset: args.preset,
      note: preset.note,
      lr,
      batchSize,
      seed,
      quick,
      trainSamples: nTrain,
      testSamples: nTest,
      reconstruction: runs.map((r) => ({ latent: r.latent, compression: 784 / r.latent, epochs: r.testBce.length, testBcePerPixel: r.testBce, trainBce: r.trainBce, samplesPerSecond: r.samplesPerSecond, seconds: r.seconds })),
      firstEpochBelow010: firstBelow(r32.testBce, 0.1),
      clustering: {
        subset: sub.length,
        subsetNote: `k-means and UMAP run on ${sub.length} random test samples (seeded), not all ${nTest}, to fit a 2-core machine`,
        method: `ml-kmeans, k = 10, k-means++ initialisation, best inertia of ${restarts} seeded starts`,
        codes32: kmCodes,
        codes8: kmCodes8,
        codes2: kmCodes2,
        denoiserCodes32: kmCodesDen,
        pixels: kmPixels,
      },
      umap: { points: sub.length, seconds: umapSeconds, nNeighbors: 15, minDist: 0.1 },
      denoising: { trainNoise: { kind: 'gaussian', sigma: TRAIN_SIGMA, clip: true, freshEveryEpoch: true }, metric: 'mean per-pixel BCE (and MSE) of the reconstruction against the clean test image', epochs: denoiseEpochs, results: denoise, cleanTestBce: den.testBce },
      classifiers: probes,
      totalSeconds: Number(elapsed()),
    };
    writeFile(join(out, 'results.json'), JSON.stringify(results, null, 2));
    console.log(`\nwrote ${shownPath(out)}/: reconstructions.png, latent2d.svg, umap32.svg, denoising.png, curves.svg, weights32.safetensors, results.json (total ${elapsed()} s)`);
  },
);
