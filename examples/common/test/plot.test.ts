import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { Image, imageGrid, lineChart, scatterChart } from '../src/plot';
import { embeddedPngSizes } from '../src/testing';

describe('plot helpers', () => {
  it('writes a line chart with one polyline per series', () => {
    const svg = lineChart([{ title: 'loss', xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.25] }, { name: 'test', x: [1, 2, 3], y: [1.1, 0.6, 0.4] }] }]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
  });
  it('encodes images as PNG that decode back to the same pixels', () => {
    const img = new Image(3, 2);
    img.set(1, 1, [10, 20, 30]);
    const back = PNG.sync.read(Buffer.from(img.toPng()));
    expect([back.width, back.height]).toEqual([3, 2]);
    expect([...back.data.subarray((1 * 3 + 1) * 4, (1 * 3 + 1) * 4 + 4)]).toEqual([10, 20, 30, 255]);
    expect(back.colorType).toBe(2); // RGB: the pixels are opaque
    const grid = imageGrid([new Float32Array([0, 0.25, 0.5, 1])], 1, 2, 1);
    expect([grid.width, grid.height]).toEqual([6, 6]);
    const g = PNG.sync.read(Buffer.from(grid.toPng()));
    expect(g.colorType).toBe(0); // grayscale
    expect([...g.data.subarray((3 * 6 + 3) * 4, (3 * 6 + 3) * 4 + 4)]).toEqual([255, 255, 255, 255]);
    expect([...g.data.subarray((2 * 6 + 3) * 4, (2 * 6 + 3) * 4 + 4)]).toEqual([64, 64, 64, 255]);
  });
  it('puts each legend right of its plot area, clear of the data', () => {
    // an accuracy curve that climbs into the top-right corner, where the legend used to sit
    const svg = lineChart([
      { title: 'loss', xlabel: 'epoch', ylabel: 'loss', series: [{ name: 'train', x: [1, 2, 3], y: [1, 0.5, 0.25] }] },
      { title: 'accuracy', xlabel: 'epoch', ylabel: '%', series: [{ name: 'test accuracy', x: [1, 2, 3], y: [90, 97, 98] }] },
    ]);
    const frames = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="none"/g)].map((m) => [Number(m[1]), Number(m[1]) + Number(m[2])]);
    const legends = [...svg.matchAll(/<rect class="legend" x="([\d.]+)"/g)].map((m) => Number(m[1]));
    const points = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(frames).toHaveLength(2);
    expect(legends).toHaveLength(2);
    legends.forEach((x, k) => {
      expect(x).toBeGreaterThan(frames[k]![1]!); // right of its own plot frame
      if (frames[k + 1]) expect(x).toBeLessThan(frames[k + 1]![0]!); // and left of the next panel's
    });
    expect(Math.max(...points)).toBeLessThan(Math.max(...legends));
    const width = Number(/<svg[^>]* width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThan(Math.max(...legends) + 60);
  });

  it('draws a scatter plot with labelled axes, ticks and a legend; the points are an embedded PNG', () => {
    const pts = Array.from({ length: 200 }, (_, i) => [Math.cos(i) * (i % 10), Math.sin(i) * 3]);
    const labels = pts.map((_, i) => i % 10);
    const svg = scatterChart(pts, labels, { title: 'codes', xlabel: 'code unit 1', ylabel: 'code unit 2', classNames: labels.slice(0, 10).map(String), classImages: Array.from({ length: 10 }, () => new Float32Array(4).fill(0.5)), imageSide: 2, size: 100 });
    expect(svg).toContain('>code unit 1</text>');
    expect(svg).toMatch(/rotate\(-90\)" font-size="12" text-anchor="middle">code unit 2<\/text>/);
    expect(svg.match(/<line /g)!.length).toBeGreaterThanOrEqual(6); // ticks on both axes
    expect(embeddedPngSizes(svg)).toEqual([[100, 100], ...Array.from({ length: 10 }, () => [2, 2])]);
  });
  it('draws a log-scale panel with ticks at powers of ten', () => {
    const svg = lineChart([{ title: 'loss', xlabel: 'step', ylabel: 'loss', logY: true, series: [{ name: 'train', x: [1, 2, 3], y: [5, 0.05, 0.004] }] }]);
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0.01', '0.1', '1']); // 0.004 … 5 spans log10 −2.4 … 0.7
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});
