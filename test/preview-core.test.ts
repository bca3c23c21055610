/** The preview's and the tile map's arithmetic (lib/core/preview.ts, lib/core/tile-map.ts), alone. */
import { describe, expect, it } from 'vitest';
import { addToBlockSums, blockSumsToMeans, levelThatFits, percentiles, previewFactor, previewShape, stretchLimits, stretchTo8Bit } from '../lib/core/preview';
import { mapLayout, tileMapRgb, tileMapSvg, type MapTile } from '../lib/core/tile-map';

describe('preview arithmetic', () => {
  it('the smallest integer factor within 2048 px, edge blocks partial', () => {
    expect(previewFactor(2048, 100)).toBe(1);
    expect(previewFactor(2049, 100)).toBe(2);
    expect(previewFactor(100, 47000)).toBe(23);
    expect(previewShape(47000, 47000, 23)).toEqual([2044, 2044]);
    expect(previewShape(5, 7, 2)).toEqual([3, 4]);
  });

  it('the finest level within the limit, or -1', () => {
    expect(levelThatFits([[5000, 4000], [2000, 1600], [1000, 800]])).toBe(1);
    expect(levelThatFits([[5000, 4000], [2500, 2000], [1250, 1000]])).toBe(2);
    expect(levelThatFits([[2048, 10], [1024, 5]])).toBe(0);
    expect(levelThatFits([[5000, 4000]])).toBe(-1);
  });

  it('block means of a 5 x 7 image by 2: partial blocks divided by the pixels they cover; NaN spreads to its block', () => {
    const image = Float64Array.from({ length: 35 }, (_, i) => i);
    image[0] = NaN;
    const sums = new Float64Array(3 * 4);
    addToBlockSums(sums, 0, 2, 0, 3, 7, image.subarray(0, 21)); // rows in two bands, as read
    addToBlockSums(sums, 0, 2, 3, 2, 7, image.subarray(21));
    blockSumsToMeans(sums, 0, 2, 5, 7);
    expect(sums[0]).toBeNaN();
    expect(sums[1]).toBe((2 + 3 + 9 + 10) / 4);
    expect(sums[3]).toBe((6 + 13) / 2); // last column: one pixel wide
    expect(sums[8]).toBe((28 + 29) / 2); // last row: one pixel tall
    expect(sums[11]).toBe(34);
  });

  it('percentiles by linear interpolation at q/100*(n-1), over finite values', () => {
    const shuffled = Float64Array.from({ length: 1001 }, (_, i) => (i * 389) % 1001);
    const [p01, p999] = percentiles(shuffled, [0.1, 99.9]);
    expect(p01).toBe(1);
    expect(p999).toBeCloseTo(999, 10);
    expect(percentiles(Float64Array.of(10, 0), [25, 25, 100])).toEqual([2.5, 2.5, 10]);
    expect(percentiles(new Float64Array(0), [50])).toEqual([NaN]);
    expect(percentiles(Float64Array.of(7), [0.1, 99.9])).toEqual([7, 7]);
    // Selection gives what sorting gives, with many equal values (integer images, empty background).
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const values = Float64Array.from({ length: 20000 }, () => (random() < 0.3 ? 0 : Math.floor(random() * 50)));
    const sorted = Float64Array.from(values).sort();
    const bySort = [0.1, 99.9].map((q) => { const i = (q / 100) * (sorted.length - 1), k = Math.floor(i); return sorted[k] + (sorted[k + 1] - sorted[k]) * (i - k); });
    expect(percentiles(values, [0.1, 99.9])).toEqual(bySort);
    const [lo, hi] = stretchLimits([NaN, Infinity, 3, -Infinity, 1, 2]);
    expect(lo).toBeCloseTo(1.002, 12);
    expect(hi).toBeCloseTo(2.998, 12);
  });

  it('the stretch: rounds half up, clamps, NaN to 0, a flat image to 0', () => {
    expect(Array.from(stretchTo8Bit([0, 10, 5, -1, 11, NaN, Infinity, 0.01 * 0.5 / 0.51], 0, 10))).toEqual([0, 255, 128, 0, 255, 0, 255, 0]);
    expect(Array.from(stretchTo8Bit([1, 1, 2], 1, 1))).toEqual([0, 0, 255]);
  });
});

describe('tile map', () => {
  const tiles: MapTile[] = [
    { index: 0, y: 0, x: 0, height: 100, width: 100, status: 'wrong' },
    { index: 1, y: 0, x: 90, height: 100, width: 100, status: 'ok' },
    { index: 2, y: 90, x: 0, height: 100, width: 100, status: 'missing' },
  ];

  it('scales the longer side to 1600 px and keeps room for the legend', () => {
    const layout = mapLayout(tiles, [190, 190]);
    expect(layout.scale).toBeCloseTo(1600 / 190);
    expect([layout.width, layout.mapHeight, layout.height]).toEqual([1600, 1600, 1632]);
    expect(layout.rects[1]).toEqual([758, 0, 1600, 842]);
    expect(mapLayout(tiles, [190, 20000]).rects[0][3]).toBe(8); // a thin canvas: tiles at least a pixel
  });

  it('draws failures over ok neighbours (SVG order, PNG pixels)', () => {
    const svg = tileMapSvg(tiles, [190, 190], 'a <title> & "quotes"');
    expect(svg).toContain('<title>a &lt;title&gt; &amp; &quot;quotes&quot;</title>');
    const order = [...svg.matchAll(/data-tile="(\d+)"/g)].map((m) => m[1]);
    expect(order).toEqual(['1', '2', '0']);
    const { width, rgb } = tileMapRgb(tiles, [190, 190]);
    const at = (x: number, y: number) => Array.from(rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
    expect(at(800, 400)).toEqual([222, 45, 38]); // in the overlap: the wrong tile 0 on top of ok tile 1
    expect(at(1200, 400)).toEqual([49, 163, 84]);
    expect(at(400, 1200)).toEqual([37, 37, 37]);
  });
});
