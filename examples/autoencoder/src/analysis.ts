/**
 * Latent-space analysis for the autoencoder example: clustering scores (purity, adjusted Rand
 * index), k-means through ml-kmeans, class mean images for the scatter plots' legends.
 */
import { kmeans } from 'ml-kmeans';
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
