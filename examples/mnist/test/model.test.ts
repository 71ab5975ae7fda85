import { describe, expect, it } from 'vitest';
import { cpu } from '@neurone/backend-cpu';
import { manualSeed } from '@neurone/core';
import { loadMnist, take } from '@neurone/data';
import { CrossEntropyLoss } from '@neurone/losses';
import { SGD, fit } from '@neurone/optim';
import { buildNet, confusionMatrix, formatConfusion } from '../src/model';

describe('the main job, small', () => {
  it('learns MNIST digits on a 5,000-image subset and reports a consistent confusion matrix', async () => {
    manualSeed(1);
    const { train, test } = loadMnist();
    const net = buildNet(cpu());
    await fit(net, new CrossEntropyLoss(), new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 }), take(train, 5000), { epochs: 2, batchSize: 64, seed: 1, progress: false });
    const small = take(test, 2000);
    const { matrix, accuracy } = await confusionMatrix(net, small);
    const total = matrix.flat().reduce((a, b) => a + b, 0);
    const diag = matrix.reduce((a, row, i) => a + row[i]!, 0);
    expect(total).toBe(2000);
    expect(accuracy).toBeCloseTo(diag / total, 12);
    expect(accuracy).toBeGreaterThan(0.85);
    expect(formatConfusion(matrix).split('\n')).toHaveLength(11);
  });
});
