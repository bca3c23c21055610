import { describe, it, expect } from 'vitest';
import { gridPositions, explicitPositions, overlaps, intersect } from '../lib/core/geometry';

const grid = (layout: number[][], extra: Partial<Parameters<typeof gridPositions>[0]> = {}) =>
  gridPositions({ layout, tileHeight: 10, tileWidth: 20, overlapY: 2, overlapX: 5, ...extra });

describe('gridPositions', () => {
  it('places permuted indices and sizes the canvas to the full grid, holes included', () => {
    const { tiles, canvas } = grid([[2, -1, 0], [1, 3, -1]], { tileCount: 4 });
    expect(canvas).toEqual({ height: 10 + 8, width: 20 + 2 * 15 });
    expect(tiles.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    expect(tiles[0]).toEqual({ index: 0, y: 0, x: 30, height: 10, width: 20, gridRow: 0, gridCol: 2 });
    expect(tiles[1]).toMatchObject({ y: 8, x: 0, gridRow: 1, gridCol: 0 });
    expect(tiles[3]).toMatchObject({ y: 8, x: 15 });
  });

  it('keeps the full extent when the last row and column are empty', () => {
    expect(grid([[0, -1], [-1, -1]]).canvas).toEqual({ height: 18, width: 35 });
  });

  it('rejects bad layouts, indices and overlaps with clear messages', () => {
    expect(() => grid([])).toThrow(/non-empty 2-D array of equal-length rows/);
    expect(() => grid([[0, 1], [2]])).toThrow(/equal-length rows/);
    expect(() => grid([[0, 1], [1, 2]])).toThrow(/tile index 1 appears twice.*\[0\]\[1\].*\[1\]\[0\]/);
    expect(() => grid([[0, 4]], { tileCount: 4 })).toThrow(/layout\[0\]\[1\] = 4.*0\.\.3/);
    expect(() => grid([[0, -2]])).toThrow(/-2/);
    expect(() => grid([[0]], { overlapY: 10 })).toThrow(/overlapY.*10/);
    expect(() => grid([[0]], { overlapX: -1 })).toThrow(/overlapX.*-1/);
    expect(() => grid([[-1]])).toThrow(/no tiles/);
  });
});

describe('explicitPositions', () => {
  it('rounds, shifts to the bounding box and accepts flat arrays', () => {
    const a = explicitPositions([[5.4, -3], [12.6, 7]], 10, 10);
    expect(a.tiles.map((t) => [t.y, t.x, t.gridRow])).toEqual([[0, 0, -1], [8, 10, -1]]);
    expect(a.canvas).toEqual({ height: 18, width: 20 });
    expect(explicitPositions(new Float64Array([5.4, -3, 12.6, 7]), 10, 10)).toEqual(a);
  });

  it('names the tile with a non-finite position', () => {
    expect(() => explicitPositions([[0, 0], [NaN, 1]], 4, 4)).toThrow(/tile 1/);
    expect(() => explicitPositions([[0, 0], [0, 0], [1, Infinity]], 4, 4)).toThrow(/tile 2/);
    expect(() => explicitPositions([], 4, 4)).toThrow(/at least one/);
  });
});

describe('overlaps / intersect', () => {
  const a = { y: 0, x: 0, height: 10, width: 10 };
  it('requires positive area', () => {
    expect(overlaps(a, { y: 9, x: 9, height: 5, width: 5 })).toBe(true);
    expect(overlaps(a, { y: 10, x: 0, height: 5, width: 5 })).toBe(false);
    expect(overlaps(a, { y: 0, x: 10, height: 5, width: 5 })).toBe(false);
    expect(intersect(a, { y: 5, x: -2, height: 10, width: 4 })).toEqual({ y: 5, x: 0, height: 5, width: 2 });
    expect(intersect(a, { y: 0, x: 10, height: 1, width: 1 })).toBeNull();
  });
});
