/**
 * A drawing → an MNIST-like input, the way the MNIST digits were made: the ink's bounding box
 * scaled (aspect kept) to fit a 20×20 box, placed in a 28×28 image, then shifted so that its
 * centre of mass sits at the centre.
 */
export const SIDE = 28;
const BOX = 20;
/** Sub-samples per axis when averaging the source over one target pixel. */
const SS = 4;

/** `ink`: width·height intensities in [0, 1], row-major. Returns 784 values in [0, 1] (all 0 for an empty drawing). */
export function toMnist(ink: ArrayLike<number>, width: number, height: number): Float32Array {
  let [x0, y0, x1, y1] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > 0.05) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  const out = new Float32Array(SIDE * SIDE);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh); // target pixels per source pixel
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  // the box, each target pixel the mean of SS×SS samples of the source area it covers
  const box = new Float32Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    for (let tx = 0; tx < w; tx++) {
      let s = 0;
      for (let j = 0; j < SS; j++) {
        for (let i = 0; i < SS; i++) {
          const sx = Math.min(x1, Math.floor(x0 + (tx + (i + 0.5) / SS) / scale));
          const sy = Math.min(y1, Math.floor(y0 + (ty + (j + 0.5) / SS) / scale));
          s += ink[sy * width + sx]!;
        }
      }
      box[ty * w + tx] = s / (SS * SS);
    }
  }
  // centre of mass of the box, then the shift that brings it to the image centre
  let [m, mx, my] = [0, 0, 0];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) [m, mx, my] = [m + box[y * w + x]!, mx + x * box[y * w + x]!, my + y * box[y * w + x]!];
  const ox = Math.round((SIDE - 1) / 2 - mx / m);
  const oy = Math.round((SIDE - 1) / 2 - my / m);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [X, Y] = [x + ox, y + oy];
      if (X >= 0 && X < SIDE && Y >= 0 && Y < SIDE) out[Y * SIDE + X] = Math.min(1, box[y * w + x]!);
    }
  }
  return out;
}

/** Centre of mass (x, y) and the ink's bounding box of a 28×28 image (for tests and display). */
export function moments(img: ArrayLike<number>): { cx: number; cy: number; width: number; height: number } {
  let [m, mx, my, x0, y0, x1, y1] = [0, 0, 0, SIDE, SIDE, -1, -1];
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = img[y * SIDE + x]!;
      [m, mx, my] = [m + v, mx + x * v, my + y * v];
      if (v > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  return { cx: mx / m, cy: my / m, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}
