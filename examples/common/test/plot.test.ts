import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { Image, imageGrid, lineChart } from '../src/plot';

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
    const grid = imageGrid([new Float32Array(4).fill(1)], 1, 2, 1);
    expect([grid.width, grid.height]).toEqual([6, 6]);
  });
});
