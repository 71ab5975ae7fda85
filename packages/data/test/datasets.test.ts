import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataError, ValueError } from '@neurone/core';
import { FASHION_MNIST_SYSTEM_DIR, loadFashionMnist } from '../src/index';

/** The official Fashion-MNIST files come from Debian's dataset-fashion-mnist (scripts/system-deps.sh). */
describe('loadFashionMnist(): the official IDX files and split', () => {
  it(`reads Zalando's four IDX files from ${FASHION_MNIST_SYSTEM_DIR} (pnpm system-deps installs them)`, () => {
    expect(existsSync(FASHION_MNIST_SYSTEM_DIR), `${FASHION_MNIST_SYSTEM_DIR} is missing: run pnpm system-deps`).toBe(true);
    const { train, test } = loadFashionMnist({ normalize: false });
    expect(train.x.shape).toEqual([60_000, 784]);
    expect(test.x.shape).toEqual([10_000, 784]);
    const hist = (y: Float32Array): number[] => {
      const h = new Array<number>(10).fill(0);
      for (const v of y) h[v]!++;
      return h;
    };
    // the official split has 6,000 / 1,000 images per class
    expect(hist(train.y.data)).toEqual(new Array(10).fill(6000));
    expect(hist(test.y.data)).toEqual(new Array(10).fill(1000));
    // official file order (not interleaved by class): the first test labels are 9, 2, 1, 1, 6 and
    // the first training labels 9, 0, 0, 3, 0, as in Zalando's t10k/train label files
    expect([...test.y.data.subarray(0, 5)]).toEqual([9, 2, 1, 1, 6]);
    expect([...train.y.data.subarray(0, 5)]).toEqual([9, 0, 0, 3, 0]);
  });

  it('is not the npm package layout split: most of its "test" images are official training images', () => {
    const official = loadFashionMnist({ normalize: false });
    const fromPackage = loadFashionMnist({ from: 'fashion-mnist', normalize: false });
    const key = (x: Float32Array, i: number): string => Array.from(x.subarray(i * 784, (i + 1) * 784)).join(',');
    const officialTest = new Set<string>();
    for (let i = 0; i < 10_000; i++) officialTest.add(key(official.test.x.data, i));
    let shared = 0;
    for (let i = 0; i < 10_000; i++) if (officialTest.has(key(fromPackage.test.x.data, i))) shared++;
    expect(shared).toBeLessThan(2_000);
  });

  it('bad options throw typed errors', () => {
    expect(() => loadFashionMnist({ from: 'fashion-mnist', dir: '/tmp' })).toThrow(ValueError);
    expect(() => loadFashionMnist({ from: 'nope' as never })).toThrow(/from must be 'idx' or 'fashion-mnist'/);
    expect(() => loadFashionMnist({ dir: '/nowhere' })).toThrow(DataError);
  });
});
