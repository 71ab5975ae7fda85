import { RNG, manualSeed } from '@neurone/core';
import { cpu } from '@neurone/backend-cpu';
import { Autoencoder, encodeAll, reconstructionDataset } from '@neurone/autoencoder';
import { loadMnist } from '@neurone/data';
import { BCELoss } from '@neurone/losses';
import { Adam, fit } from '@neurone/optim';
import { clusterScores, pickRows } from './analysis';
const backend = cpu();
const { train, test } = loadMnist();
const sub = new RNG(2).permutation(10000).subarray(0, 5000);
const labels = Array.from(sub, (i) => test.y.data[i]!);
manualSeed(1);
const m = Autoencoder.dense([784, 128, 32], { activation: 'relu', codeActivation: 'tanh', init: 'kaiming', output: 'sigmoid', backend });
await fit(m, new BCELoss(), new Adam(m, { lr: 3e-3 }), reconstructionDataset(train), {
  epochs: 10, batchSize: 128, seed: 1, validation: reconstructionDataset(test), validationBatchSize: 1000, progress: false,
  onEpoch: async (e) => {
    const s = clusterScores(pickRows(await encodeAll(m, test.x), sub), labels, 10, 1, 5);
    console.log(`epoch ${e.epoch} valBCE ${e.valLoss!.toFixed(4)} purity ${s.purity.toFixed(4)} ari ${s.ari.toFixed(4)}`);
  },
});
