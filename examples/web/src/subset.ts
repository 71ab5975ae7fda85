/**
 * The MNIST subset the page trains on, as one binary asset packed at build time
 * (scripts/pack-mnist.ts): "NMNS", uint32 LE train and test counts, then the train pixels
 * (n·784 bytes, 0..255), train labels (n bytes), test pixels, test labels.
 */
import { DataError } from '@neurone/core';
import type { Dataset } from '@neurone/core';

export const PIXELS = 784;
const MAGIC = 'NMNS';
const HEADER = 12;

/** Pixels in [0, 1] (any float array) and labels 0..9 of the two splits → the asset's bytes. */
export function packSubset(train: Dataset, test: Dataset): Uint8Array {
  const n = [train.y.data.length, test.y.data.length];
  const out = new Uint8Array(HEADER + (n[0]! + n[1]!) * (PIXELS + 1));
  out.set([...MAGIC].map((c) => c.charCodeAt(0)));
  const view = new DataView(out.buffer);
  view.setUint32(4, n[0]!, true);
  view.setUint32(8, n[1]!, true);
  let at = HEADER;
  for (const d of [train, test]) {
    for (let i = 0; i < d.x.data.length; i++) out[at + i] = Math.round(Math.min(1, Math.max(0, d.x.data[i]!)) * 255);
    at += d.x.data.length;
    for (let i = 0; i < d.y.data.length; i++) out[at + i] = d.y.data[i]!;
    at += d.y.data.length;
  }
  return out;
}

export interface Subset {
  train: { x: { data: Float32Array; shape: number[] }; y: { data: Float32Array; shape: number[] } };
  test: { x: { data: Float32Array; shape: number[] }; y: { data: Float32Array; shape: number[] } };
}

/** The asset's bytes → x [n, 784] in [0, 1] and y [n] class indices; a DataError if malformed. */
export function unpackSubset(bytes: Uint8Array, source = 'mnist-subset.bin'): Subset {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < HEADER || magic !== MAGIC) throw new DataError(`${source}: not an MNIST subset (magic '${magic}', ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counts = [view.getUint32(4, true), view.getUint32(8, true)];
  const expected = HEADER + (counts[0]! + counts[1]!) * (PIXELS + 1);
  if (bytes.length !== expected) throw new DataError(`${source}: ${bytes.length} bytes, expected ${expected} for ${counts[0]} + ${counts[1]} images`);
  let at = HEADER;
  const [train, test] = counts.map((n) => {
    const x = new Float32Array(n * PIXELS);
    for (let i = 0; i < x.length; i++) x[i] = bytes[at + i]! / 255;
    at += x.length;
    const y = Float32Array.from(bytes.subarray(at, at + n));
    at += n;
    if (y.some((v) => v > 9)) throw new DataError(`${source}: a label is outside 0..9`);
    return { x: { data: x, shape: [n, PIXELS] }, y: { data: y, shape: [n] } };
  });
  return { train: train!, test: test! };
}
