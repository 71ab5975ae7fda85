/**
 * Plot helpers shared by the example apps: SVG line charts and scatter plots written as text,
 * PNG images through pngjs (a well-kept encoder).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PNG } from 'pngjs';

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Writes a file atomically (temporary file in the same folder, fsync, rename): a failed write
 * (full disk) leaves the previous file intact instead of a truncated one.
 */
export function writeFile(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`${path}: could not write the file (${(e as Error).message}); the previous file, if any, is unchanged`);
  }
}

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Round tick values covering [lo, hi], about n of them. */
export function niceTicks(lo: number, hi: number, n = 5, integer = false): number[] {
  if (lo === hi) return [lo];
  const step0 = integer ? Math.max(1, (hi - lo) / n) : (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toPrecision(12));
  return out;
}

export interface Series {
  name: string;
  x: number[];
  y: number[];
  color?: string;
}

/** Rough width of `text` in pixels at an 11 px sans-serif font (for laying out legends). */
export const textWidth = (text: string, fontSize = 11): number => text.length * fontSize * 0.6;

/**
 * An SVG line chart; one panel per entry of `panels`, side by side. Each panel's legend sits in a
 * column to the right of its plot area, so it never covers the data; `width` is the width of a
 * panel without its legend.
 */
export function lineChart(panels: { title: string; xlabel: string; ylabel: string; series: Series[]; logY?: boolean }[], width = 480, height = 320): string {
  const parts: string[] = [];
  let ox = 0;
  for (const p of panels) {
    const legendW = 28 + Math.max(...p.series.map((s) => textWidth(s.name)));
    const L = 60, R = 20, T = 30, B = 45;
    const xs = p.series.flatMap((s) => s.x);
    // on a log scale the y values are drawn as log10(y); ticks at the powers of ten
    const fy = (v: number) => (p.logY ? Math.log10(v) : v);
    const ys = p.series.flatMap((s) => s.y.map(fy)).filter(Number.isFinite);
    let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
    if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
    const sx = (v: number) => ox + L + ((v - x0) / (x1 - x0)) * (width - L - R);
    const sy = (v: number) => T + (1 - (v - y0) / (y1 - y0)) * (height - T - B);
    parts.push(`<text x="${ox + width / 2}" y="18" text-anchor="middle" font-size="14">${esc(p.title)}</text>`);
    parts.push(`<rect x="${ox + L}" y="${T}" width="${width - L - R}" height="${height - T - B}" fill="none" stroke="#333"/>`);
    // epochs and iterations: whole-number ticks
    for (const t of niceTicks(x0, x1, 5, xs.every(Number.isInteger))) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${height - B}" y2="${height - B + 4}" stroke="#333"/><text x="${sx(t)}" y="${height - B + 16}" font-size="10" text-anchor="middle">${t}</text>`);
    const yTicks = p.logY ? niceTicks(y0, y1, 5, true) : niceTicks(y0, y1);
    for (const t of yTicks) parts.push(`<line x1="${ox + L - 4}" x2="${ox + L}" y1="${sy(t)}" y2="${sy(t)}" stroke="#333"/><text x="${ox + L - 6}" y="${sy(t) + 3}" font-size="10" text-anchor="end">${p.logY ? +(10 ** t).toPrecision(6) : t}</text>`);
    parts.push(`<text x="${ox + L + (width - L - R) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">${esc(p.xlabel)}</text>`);
    parts.push(`<text transform="translate(${ox + 14},${T + (height - T - B) / 2}) rotate(-90)" font-size="11" text-anchor="middle">${esc(p.ylabel)}</text>`);
    p.series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const pts = s.x.map((x, j) => `${sx(x).toFixed(1)},${sy(fy(s.y[j]!)).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
      // markers on short series only (epochs), not on hundreds of iterations
      if (s.x.length <= 60) for (const pt of pts.split(' ')) {
        const [cx, cy] = pt.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      }
      // the legend: right of the plot area, outside it
      const lx = ox + width - R + 8;
      parts.push(`<rect class="legend" x="${lx}" y="${T + 4 + i * 16}" width="10" height="10" fill="${color}"/><text x="${lx + 15}" y="${T + 13 + i * 16}" font-size="11">${esc(s.name)}</text>`);
    });
    ox += width + legendW;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(ox)}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}

/** An RGBA image; `set` paints one pixel. */
export class Image {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, background: [number, number, number] = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([...background, 255], i * 4);
  }
  set(x: number, y: number, [r, g, b]: readonly [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set([r, g, b, 255], (y * this.width + x) * 4);
  }
  /** A filled disc, for scatter points. */
  dot(cx: number, cy: number, radius: number, color: readonly [number, number, number]): void {
    for (let y = -radius; y <= radius; y++) for (let x = -radius; x <= radius; x++) if (x * x + y * y <= radius * radius) this.set(Math.round(cx + x), Math.round(cy + y), color);
  }
  /** PNG bytes: grayscale when every pixel is gray, RGB otherwise (pixels are always opaque), so files stay small. */
  toPng(): Uint8Array {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data);
    let gray = true;
    for (let i = 0; i < this.data.length && gray; i += 4) gray = this.data[i] === this.data[i + 1] && this.data[i] === this.data[i + 2];
    return PNG.sync.write(png, { colorType: gray ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  }
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Grayscale images (values in [0, 1], `side`×`side`) in a grid with 2-pixel gutters, scaled up. */
export function imageGrid(images: ArrayLike<number>[], cols: number, side = 28, scale = 2): Image {
  const rows = Math.ceil(images.length / cols);
  const cell = side * scale + 2;
  const img = new Image(cols * cell + 2, rows * cell + 2, [40, 40, 40]);
  images.forEach((pix, k) => {
    const ox = 2 + (k % cols) * cell;
    const oy = 2 + Math.floor(k / cols) * cell;
    for (let y = 0; y < side * scale; y++)
      for (let x = 0; x < side * scale; x++) {
        const v = Math.max(0, Math.min(255, Math.round(255 * pix[Math.floor(y / scale) * side + Math.floor(x / scale)]!)));
        img.set(ox + x, oy + y, [v, v, v]);
      }
  });
  return img;
}

export interface ScatterOptions {
  title: string;
  xlabel: string;
  ylabel: string;
  /** Legend entry of each class, by label. */
  classNames: string[];
  /** Optional picture beside each class's legend entry: a `side`×`side` grayscale image in [0, 1], drawn in the class colour. */
  classImages?: ArrayLike<number>[];
  imageSide?: number;
  /** Side of the square plot area in pixels. */
  size?: number;
}

const pngDataUri = (img: Image) => `data:image/png;base64,${Buffer.from(img.toPng()).toString('base64')}`;

/**
 * A scatter plot of many 2-D points coloured by class, as SVG: the points are drawn into a PNG
 * embedded in the SVG (ten thousand circles would make a heavy file), the frame, ticks, axis labels
 * and the legend are SVG. The axes span the 0.5th to 99.5th percentiles of each coordinate, so a
 * few outliers do not squash the cloud; points outside are left out.
 */
export function scatterChart(points: ArrayLike<number>[], labels: ArrayLike<number>, o: ScatterOptions): string {
  const size = o.size ?? 520;
  const side = o.imageSide ?? 28;
  const L = 60, T = 34, B = 46;
  const legendW = 34 + (o.classImages ? side + 8 : 0) + Math.max(...o.classNames.map((n) => textWidth(n)));
  const width = L + size + 16 + legendW;
  const height = T + size + B;
  const range = (k: number): [number, number] => {
    const v = Array.from(points, (p) => p[k]!).sort((a, b) => a - b);
    const lo = v[Math.floor(0.005 * (v.length - 1))]!;
    const hi = v[Math.ceil(0.995 * (v.length - 1))]!;
    const m = 0.03 * (hi - lo || 1);
    return [lo - m, hi + m];
  };
  const [x0, x1] = range(0);
  const [y0, y1] = range(1);
  const px = (v: number) => ((v - x0) / (x1 - x0)) * size;
  const py = (v: number) => size - ((v - y0) / (y1 - y0)) * size;
  const raster = new Image(size, size);
  points.forEach((p, i) => {
    const x = px(p[0]!);
    const y = py(p[1]!);
    if (x >= 0 && x < size && y >= 0 && y < size) raster.dot(x, y, 1, hexToRgb(PALETTE[labels[i]! % PALETTE.length]!));
  });
  const parts: string[] = [];
  parts.push(`<text x="${L + size / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  parts.push(`<image x="${L}" y="${T}" width="${size}" height="${size}" href="${pngDataUri(raster)}"/>`);
  parts.push(`<rect x="${L}" y="${T}" width="${size}" height="${size}" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(x0, x1)) {
    const x = L + px(t);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${T + size}" y2="${T + size + 4}" stroke="#333"/><text x="${x.toFixed(1)}" y="${T + size + 16}" font-size="10" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    const y = T + py(t);
    parts.push(`<line x1="${L - 4}" x2="${L}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#333"/><text x="${L - 6}" y="${(y + 3).toFixed(1)}" font-size="10" text-anchor="end">${t}</text>`);
  }
  parts.push(`<text x="${L + size / 2}" y="${height - 10}" font-size="12" text-anchor="middle">${esc(o.xlabel)}</text>`);
  parts.push(`<text transform="translate(16,${T + size / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(o.ylabel)}</text>`);
  // legend, right of the plot area
  const lx = L + size + 16;
  const row = Math.max(20, Math.min(side + 6, Math.floor(size / o.classNames.length)));
  o.classNames.forEach((name, c) => {
    const color = PALETTE[c % PALETTE.length]!;
    const y = T + c * row;
    parts.push(`<circle cx="${lx + 6}" cy="${y + row / 2}" r="5" fill="${color}"/>`);
    let tx = lx + 18;
    const pic = o.classImages?.[c];
    if (pic) {
      const [r, g, b] = hexToRgb(color);
      const img = new Image(side, side);
      for (let yy = 0; yy < side; yy++)
        for (let xx = 0; xx < side; xx++) {
          const v = Math.min(1, pic[yy * side + xx]! * 1.6);
          img.set(xx, yy, [Math.round(255 - v * (255 - r)), Math.round(255 - v * (255 - g)), Math.round(255 - v * (255 - b))]);
        }
      parts.push(`<image x="${tx}" y="${y + (row - side) / 2}" width="${side}" height="${side}" href="${pngDataUri(img)}"/>`);
      tx += side + 6;
    }
    parts.push(`<text x="${tx}" y="${y + row / 2 + 4}" font-size="12">${esc(name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
}
