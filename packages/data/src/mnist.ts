import { DataError, ValueError, checkOptions } from '@neurone/core';
import type { IdxData } from './idx';
import type { Dataset } from '@neurone/core';
import type { FloatDataset } from './dataset';

/** The ten Fashion-MNIST classes, by label index. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Side of an MNIST / Fashion-MNIST image, in pixels. */
export const IMAGE_SIDE = 28;
/** Pixels per image (28 × 28). */
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
/** Classes of MNIST and Fashion-MNIST (labels 0..9). */
export const NUM_CLASSES = 10;
/** Samples in the training split. */
export const TRAIN_SIZE = 60_000;
/** Samples in the test split. */
export const TEST_SIZE = 10_000;

/** An image dataset as the loaders return it: x [n, 784] float32, y [n] float32 class indices. */
export interface ImageDataset extends FloatDataset {
  x: { data: Float32Array; shape: number[] };
  y: { data: Float32Array; shape: number[] };
}

/**
 * An image dataset with its pixels kept as bytes (LoadOptions `bytes`): x [n, 784] uint8 with
 * `scale` 1/255 (1 without normalize), a quarter of the float32 memory. fit, evaluate, predict,
 * batches, subset and the transforms read it through `scale`: float32 batches identical to the
 * float32 dataset's.
 */
export interface ByteImageDataset extends Dataset {
  x: { data: Uint8Array; shape: number[]; scale: number };
  y: { data: Float32Array; shape: number[] };
}

/** What a loader returns for options `O`: byte pixels with `{ bytes: true }`, float32 without `bytes` or with false, either for a `bytes` known only at run time. */
export type ImageSplits<O> = 'bytes' extends keyof O
  ? O extends { bytes: true }
    ? { train: ByteImageDataset; test: ByteImageDataset }
    : O extends { bytes?: false }
      ? { train: ImageDataset; test: ImageDataset }
      : { train: ImageDataset; test: ImageDataset } | { train: ByteImageDataset; test: ByteImageDataset }
  : { train: ImageDataset; test: ImageDataset };

/** Options of the dataset loaders. */
export interface LoadOptions {
  /** Scale pixels from 0..255 to [0, 1] (default true); false keeps the raw values as floats. */
  normalize?: boolean;
  /** Keep the pixels as bytes (a ByteImageDataset: MNIST's train split in 47 MB instead of 188 MB); default false. */
  bytes?: boolean;
  /** Keep only the first `limit` samples of each split (all are still read and checked). */
  limit?: number;
}

export function checkLoadOptions(fn: string, options: LoadOptions, validKeys: readonly string[] = ['normalize', 'limit', 'bytes']): { normalize: boolean; limit: number; bytes: boolean } {
  checkOptions(fn, options ?? undefined, validKeys);
  const { normalize = true, limit = Infinity, bytes = false } = options ?? {};
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) {
    throw new ValueError(`${fn}: limit must be a positive integer, got ${String(limit)}`);
  }
  if (typeof normalize !== 'boolean') throw new ValueError(`${fn}: normalize must be a boolean, got ${String(normalize)}`);
  if (typeof bytes !== 'boolean') throw new ValueError(`${fn}: bytes must be a boolean, got ${String(bytes)}`);
  return { normalize, limit, bytes };
}

/** pixel value → float32 value, exact (v / 255 or v). */
function pixelTable(normalize: boolean): Float32Array {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = normalize ? v / 255 : v;
  return t;
}

/**
 * Builds one split from parsed IDX images ([n, 28, 28] uint8) and labels ([n] uint8), checking
 * types, shapes, the expected count and the label range; throws a DataError naming the file.
 */
export function splitFromIdx(
  what: string,
  images: { idx: IdxData; source: string },
  labels: { idx: IdxData; source: string },
  expected: number,
  options: { normalize: boolean; limit: number; bytes?: boolean },
): ImageDataset | ByteImageDataset {
  const im = images.idx;
  const lb = labels.idx;
  const shape = (s: number[]): string => `[${s.join(', ')}]`;
  if (im.dtype !== 'uint8' || im.shape.length !== 3 || im.shape[1] !== IMAGE_SIDE || im.shape[2] !== IMAGE_SIDE) {
    throw new DataError(`${images.source}: ${what} images must be uint8 of shape [n, 28, 28], the file holds ${im.dtype} ${shape(im.shape)}`);
  }
  if (im.shape[0] !== expected) {
    throw new DataError(`${images.source}: ${what} images must number ${expected}, the file holds ${im.shape[0]!}`);
  }
  if (lb.dtype !== 'uint8' || lb.shape.length !== 1) {
    throw new DataError(`${labels.source}: ${what} labels must be uint8 of shape [n], the file holds ${lb.dtype} ${shape(lb.shape)}`);
  }
  if (lb.shape[0] !== expected) {
    throw new DataError(`${labels.source}: ${what} labels must number ${expected}, the file holds ${lb.shape[0]!}`);
  }
  for (let i = 0; i < expected; i++) {
    if (lb.data[i]! >= NUM_CLASSES) {
      throw new DataError(`${labels.source}: label ${lb.data[i]!} at index ${i} is outside 0..${NUM_CLASSES - 1}`);
    }
  }
  return toImageDataset(im.data as Uint8Array, lb.data as Uint8Array, Math.min(expected, options.limit), options.normalize, options.bytes);
}

/** The first n images (bytes, 784 per image) and labels as an ImageDataset of float32, or with `bytes` a ByteImageDataset (a copy of the pixels). */
export function toImageDataset(pixels: Uint8Array, labels: ArrayLike<number>, n: number, normalize: boolean, bytes = false): ImageDataset | ByteImageDataset {
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = labels[i]!;
  const shape = [n, IMAGE_PIXELS];
  if (bytes) return { x: { data: pixels.slice(0, n * IMAGE_PIXELS), shape, scale: normalize ? 1 / 255 : 1 }, y: { data: y, shape: [n] } };
  const table = pixelTable(normalize);
  const x = new Float32Array(n * IMAGE_PIXELS);
  for (let i = 0; i < x.length; i++) x[i] = table[pixels[i]!]!;
  return { x: { data: x, shape }, y: { data: y, shape: [n] } };
}

/** One Fashion-MNIST class file of the fashion-mnist package, parsed. */
export interface FashionClassImages {
  /** 784 bytes per image, row-major. */
  pixels: Uint8Array;
  count: number;
  /** Indices of the empty rows that were skipped. */
  emptyRows: number[];
}

/**
 * Parses one class file of the fashion-mnist package, `{"data":[[784 ints 0..255], ...]}`, straight
 * from its bytes into a Uint8Array (much faster and lighter than JSON.parse into nested arrays).
 * Empty rows `[]` are skipped and reported; anything else that is not such a row throws a
 * DataError naming `source`, the row and the byte offset.
 */
export function parseFashionClassJson(bytes: Uint8Array, source: string): FashionClassImages {
  const n = bytes.length;
  const bad = (what: string, at: number): DataError => new DataError(`${source}: ${what} at byte ${at}`);
  // p is a plain local (no closure captures it), so the hot loop below stays in registers
  let p = skipWs(bytes, 0);
  const expect = (at: number, ch: number): number => {
    at = skipWs(bytes, at);
    if (bytes[at] !== ch) {
      const want = String.fromCharCode(ch);
      throw bad(at >= n ? `unexpected end of data, expected '${want}'` : `expected '${want}', found '${String.fromCharCode(bytes[at]!)}'`, at);
    }
    return at + 1;
  };
  p = expect(p, 0x7b); // {
  p = expect(p, 0x22); // "
  const keyStart = p;
  while (p < n && bytes[p] !== 0x22) p++;
  const key = new TextDecoder().decode(bytes.subarray(keyStart, p));
  if (key !== 'data') throw bad(`expected the key "data", found "${key}"`, keyStart);
  p = expect(p + 1, 0x3a); // :
  p = expect(p, 0x5b); // [
  // every value takes at least two bytes (a digit and a separator): an upper bound on the pixel count
  const out = new Uint8Array(Math.floor(n / 2));
  let count = 0;
  let row = 0;
  const emptyRows: number[] = [];
  p = skipWs(bytes, p);
  if (bytes[p] === 0x5d) p++;
  else {
    for (;;) {
      p = expect(p, 0x5b); // [ opens a row
      const base = count * IMAGE_PIXELS;
      let values = 0;
      p = skipWs(bytes, p);
      if (bytes[p] === 0x5d) p++;
      else {
        for (;;) {
          let c = bytes[p]!;
          if (c < 0x30 || c > 0x39) {
            p = skipWs(bytes, p);
            c = bytes[p]!;
            if (!(c >= 0x30 && c <= 0x39)) throw bad(`row ${row}: expected a pixel value 0..255`, p);
          }
          let v = c - 0x30;
          c = bytes[++p]!;
          while (c >= 0x30 && c <= 0x39) {
            v = v * 10 + c - 0x30;
            c = bytes[++p]!;
          }
          if (v > 255 || c === 0x2e || c === 0x65 || c === 0x45) throw bad(`row ${row}: pixel ${values} is not an integer in 0..255`, p);
          if (values === IMAGE_PIXELS) throw bad(`row ${row}: more than ${IMAGE_PIXELS} values`, p);
          out[base + values++] = v;
          if (c !== 0x2c && c !== 0x5d) {
            p = skipWs(bytes, p);
            c = bytes[p]!;
          }
          p++;
          if (c === 0x5d) break;
          if (c !== 0x2c) throw bad(`row ${row}: expected ',' or ']'`, p - 1);
        }
      }
      if (values === 0) emptyRows.push(row);
      else if (values !== IMAGE_PIXELS) throw bad(`row ${row}: ${values} values, an image has ${IMAGE_PIXELS}`, p);
      else count++;
      row++;
      p = skipWs(bytes, p);
      const c = bytes[p];
      p++;
      if (c === 0x5d) break;
      if (c !== 0x2c) throw bad(`after row ${row - 1}: expected ',' or ']'`, p - 1);
    }
  }
  p = expect(p, 0x7d); // }
  p = skipWs(bytes, p);
  if (p < n) throw bad(`${n - p} trailing bytes after the JSON object`, p);
  return { pixels: out.slice(0, count * IMAGE_PIXELS), count, emptyRows };
}

/** The index of the first byte at or after `p` that is not JSON whitespace. */
function skipWs(bytes: Uint8Array, p: number): number {
  let c = bytes[p];
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++p];
  return p;
}

/**
 * Assembles Fashion-MNIST from the ten class files of the fashion-mnist package (index = label).
 * The package stores 7,000 images per class with no train/test marker; in class 0 the two empty
 * rows, at positions 1000 and 7001, end two concatenated sources of 1,000 and 6,000 images. So the
 * first 1,000 images of each class form the test set and the next 6,000 the training set (the
 * official 10,000 / 60,000 split sizes, but not the official split: compared with Zalando's IDX
 * files, 1,291 of these 10,000 test images are official test images). Within a split, samples are interleaved by class
 * (labels 0, 1, ..., 9, 0, 1, ...), so any prefix (`limit`, `take`) is class-balanced.
 */
export function fashionFromClasses(
  classes: readonly { images: FashionClassImages; source: string }[],
  options: { normalize: boolean; limit: number; bytes?: boolean },
): { train: ImageDataset | ByteImageDataset; test: ImageDataset | ByteImageDataset } {
  if (classes.length !== NUM_CLASSES) throw new DataError(`fashion-mnist: expected ${NUM_CLASSES} class files, got ${classes.length}`);
  const perTest = TEST_SIZE / NUM_CLASSES;
  const perTrain = TRAIN_SIZE / NUM_CLASSES;
  classes.forEach(({ images, source }) => {
    if (images.count !== perTest + perTrain) {
      throw new DataError(`${source}: expected ${perTest + perTrain} images of 784 pixels, found ${images.count}`);
    }
  });
  const build = (first: number, per: number): { pixels: Uint8Array; labels: Uint8Array } => {
    const total = per * NUM_CLASSES;
    const pixels = new Uint8Array(total * IMAGE_PIXELS);
    const labels = new Uint8Array(total);
    for (let c = 0; c < NUM_CLASSES; c++) {
      const src = classes[c]!.images.pixels;
      for (let i = 0; i < per; i++) {
        const at = i * NUM_CLASSES + c;
        labels[at] = c;
        pixels.set(src.subarray((first + i) * IMAGE_PIXELS, (first + i + 1) * IMAGE_PIXELS), at * IMAGE_PIXELS);
      }
    }
    return { pixels, labels };
  };
  const test = build(0, perTest);
  const train = build(perTest, perTrain);
  return {
    train: toImageDataset(train.pixels, train.labels, Math.min(TRAIN_SIZE, options.limit), options.normalize, options.bytes),
    test: toImageDataset(test.pixels, test.labels, Math.min(TEST_SIZE, options.limit), options.normalize, options.bytes),
  };
}
