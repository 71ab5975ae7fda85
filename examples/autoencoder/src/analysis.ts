/**
 * Latent-space analysis for the autoencoder example: clustering scores (purity, adjusted Rand
 * index), k-means through ml-kmeans, scatter plots as PNG.
 */
import { kmeans } from 'ml-kmeans';
import { Image, PALETTE, hexToRgb } from '@example/common';
import type { HostTensor } from '@neurone/core';

/** Share of samples whose cluster's majority class is their own class. */
export function purity(labels: ArrayLike<number>, clusters: ArrayLike<number>): number {
  if (labels.length !== clusters.length) throw new Error(`purity: ${labels.length} labels but ${clusters.length} cluster ids`);
  const counts = new Map<number, Map<number, number>>();
  for (let i = 0; i < labels.length; i++) {
    const c = clusters[i]!;
    let m = counts.get(c);
    if (!m) counts.set(c, (m = new Map()));
    m.set(labels[i]!, (m.get(labels[i]!) ?? 0) + 1);
  }
  let majority = 0;
  for (const m of counts.values()) majority += Math.max(...m.values());
  return labels.length ? majority / labels.length : NaN;
}

const pairs = (n: number): number => (n * (n - 1)) / 2;

/**
 * Hubert & Arabie's adjusted Rand index of two partitions:
 * (Σ C(n_ij, 2) − E) / (½(Σ C(a_i, 2) + Σ C(b_j, 2)) − E), E = Σ C(a_i, 2)·Σ C(b_j, 2) / C(n, 2).
 */
export function adjustedRandIndex(labels: ArrayLike<number>, clusters: ArrayLike<number>): number {
  const n = labels.length;
  if (n !== clusters.length) throw new Error(`adjustedRandIndex: ${n} labels but ${clusters.length} cluster ids`);
  const cell = new Map<string, number>();
  const a = new Map<number, number>();
  const b = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = `${labels[i]},${clusters[i]}`;
    cell.set(k, (cell.get(k) ?? 0) + 1);
    a.set(labels[i]!, (a.get(labels[i]!) ?? 0) + 1);
    b.set(clusters[i]!, (b.get(clusters[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const v of cell.values()) index += pairs(v);
  let sa = 0;
  for (const v of a.values()) sa += pairs(v);
  let sb = 0;
  for (const v of b.values()) sb += pairs(v);
  const expected = (sa * sb) / pairs(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

/** Rows `indices` of a host matrix [n, d], as number[][] (what ml-kmeans and umap-js take). */
export function pickRows(x: HostTensor, indices: ArrayLike<number>): number[][] {
  const d = x.shape[1]!;
  return Array.from(indices, (i) => Array.from(x.data.subarray(i * d, (i + 1) * d)));
}

export interface ClusterScores {
  purity: number;
  ari: number;
  /** Σ squared distance to the nearest centroid, of the kept run. */
  inertia: number;
  restarts: number;
  seconds: number;
}

/**
 * k-means (k-means++ initialisation) on the rows, `restarts` times with seeds seed, seed + 1, …;
 * the run with the lowest inertia is kept (scikit-learn's n_init) and scored against the labels.
 */
export function clusterScores(rows: number[][], labels: ArrayLike<number>, k: number, seed: number, restarts = 1): ClusterScores {
  const t0 = performance.now();
  let best: { clusters: number[]; inertia: number } | null = null;
  for (let r = 0; r < restarts; r++) {
    const res = kmeans(rows, k, { seed: seed + r, initialization: 'kmeans++', maxIterations: 100 });
    // ml-kmeans's default distance is the squared Euclidean one: error is the mean of it per cluster
    const inertia = res.computeInformation(rows).reduce((s, c) => s + (c.size > 0 ? c.error * c.size : 0), 0);
    if (!best || inertia < best.inertia) best = { clusters: res.clusters, inertia };
  }
  return { purity: purity(labels, best!.clusters), ari: adjustedRandIndex(labels, best!.clusters), inertia: best!.inertia, restarts, seconds: (performance.now() - t0) / 1000 };
}

/**
 * A scatter plot of 2-D points coloured by class (PALETTE[label]); beside it, a legend of each
 * class's mean image `legend[c]` (28×28, values in [0, 1]) tinted with the class colour.
 */
export function scatterPng(points: ArrayLike<number>[], labels: ArrayLike<number>, legend: Float32Array[], size = 640): Uint8Array {
  const pad = 12;
  const legendW = 28 * 2 + 2 * pad;
  const img = new Image(size + legendW, size);
  // axes span the 0.5th to 99.5th percentiles, so a few outliers do not squash the cloud
  const range = (k: number): [number, number] => {
    const v = Array.from(points, (p) => p[k]!).sort((a, b) => a - b);
    const lo = v[Math.floor(0.005 * (v.length - 1))]!;
    const hi = v[Math.ceil(0.995 * (v.length - 1))]!;
    const m = 0.03 * (hi - lo);
    return [lo - m, hi + m];
  };
  const [x0, x1] = range(0);
  const [y0, y1] = range(1);
  const sx = (v: number) => pad + ((v - x0) / (x1 - x0 || 1)) * (size - 2 * pad);
  const sy = (v: number) => size - pad - ((v - y0) / (y1 - y0 || 1)) * (size - 2 * pad);
  points.forEach((p, i) => {
    const x = sx(p[0]!);
    const y = sy(p[1]!);
    if (x >= 0 && x < size && y >= 0 && y < size) img.dot(x, y, 1, hexToRgb(PALETTE[labels[i]! % PALETTE.length]!));
  });
  // legend: each digit's mean image, drawn in its colour (2× scale)
  const cell = Math.floor((size - 2 * pad) / legend.length);
  legend.forEach((mean, c) => {
    const [r, g, b] = hexToRgb(PALETTE[c % PALETTE.length]!);
    const ox = size + pad;
    const oy = pad + c * cell;
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) {
        const v = Math.min(1, mean[Math.floor(y / 2) * 28 + Math.floor(x / 2)]! * 1.6);
        img.set(ox + x, oy + y, [Math.round(255 - v * (255 - r)), Math.round(255 - v * (255 - g)), Math.round(255 - v * (255 - b))]);
      }
  });
  return img.toPng();
}

/** Mean image of each class (for the scatter legends). */
export function classMeans(x: HostTensor, labels: ArrayLike<number>, classes = 10): Float32Array[] {
  const d = x.shape[1]!;
  const sums = Array.from({ length: classes }, () => new Float32Array(d));
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    counts[c]!++;
    const s = sums[c]!;
    for (let j = 0; j < d; j++) s[j]! += x.data[i * d + j]!;
  }
  return sums.map((s, c) => s.map((v) => v / Math.max(1, counts[c]!)));
}
