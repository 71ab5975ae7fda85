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

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (lo === hi) return [lo];
  const step0 = (hi - lo) / n;
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

/** An SVG line chart; one panel per entry of `panels`, side by side. */
export function lineChart(panels: { title: string; xlabel: string; ylabel: string; series: Series[] }[], width = 480, height = 320): string {
  const parts: string[] = [];
  panels.forEach((p, k) => {
    const ox = k * width;
    const L = 60, R = 20, T = 30, B = 45;
    const xs = p.series.flatMap((s) => s.x);
    const ys = p.series.flatMap((s) => s.y).filter(Number.isFinite);
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
    for (const t of niceTicks(x0, x1)) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${height - B}" y2="${height - B + 4}" stroke="#333"/><text x="${sx(t)}" y="${height - B + 16}" font-size="10" text-anchor="middle">${t}</text>`);
    for (const t of niceTicks(y0, y1)) parts.push(`<line x1="${ox + L - 4}" x2="${ox + L}" y1="${sy(t)}" y2="${sy(t)}" stroke="#333"/><text x="${ox + L - 6}" y="${sy(t) + 3}" font-size="10" text-anchor="end">${t}</text>`);
    parts.push(`<text x="${ox + L + (width - L - R) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">${esc(p.xlabel)}</text>`);
    parts.push(`<text transform="translate(${ox + 14},${T + (height - T - B) / 2}) rotate(-90)" font-size="11" text-anchor="middle">${esc(p.ylabel)}</text>`);
    p.series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const pts = s.x.map((x, j) => `${sx(x).toFixed(1)},${sy(s.y[j]!).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
      for (const pt of pts.split(' ')) {
        const [cx, cy] = pt.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      }
      parts.push(`<rect x="${ox + width - R - 120}" y="${T + 8 + i * 16}" width="10" height="10" fill="${color}"/><text x="${ox + width - R - 105}" y="${T + 17 + i * 16}" font-size="11">${esc(s.name)}</text>`);
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width * panels.length}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`;
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
  toPng(): Uint8Array {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data);
    return PNG.sync.write(png);
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
