import { describe, expect, it } from 'vitest';
import { planSlabs } from '../lib/core/bands';
import { canvasPathOf, levelChunk, levelPath, levelShape, levelShapes, levelsToFit, maxLevels, pyramidLevels, slabRowUnit } from '../lib/core/pyramid';

describe('pyramid layout rules (core/pyramid)', () => {
  it('halves each level, rounding up', () => {
    expect(levelShapes([1001, 513], 4)).toEqual([[1001, 513], [501, 257], [251, 129], [126, 65]]);
    expect(levelShape([5, 3], 3)).toEqual([1, 1]);
  });

  it('counts levels until the coarsest fits in 512 px, or until 1x1', () => {
    expect(levelsToFit([512, 100])).toBe(1);
    expect(levelsToFit([513, 100])).toBe(2);
    expect(levelsToFit([30000, 30000])).toBe(7); // 30000 / 64 = 469
    expect(maxLevels([1, 1])).toBe(1);
    expect(maxLevels([5, 3])).toBe(4); // 5, 3, 2, 1
    expect(pyramidLevels([1000, 1000], { pyramid: true })).toBe(2);
    expect(pyramidLevels([1000, 1000], {})).toBe(1);
    expect(pyramidLevels([1000, 1000], { levels: 5 })).toBe(5);
    expect(() => pyramidLevels([5, 3], { levels: 5 })).toThrow(/--levels 5 is more than the 5x3 canvas has/);
  });

  it('names each level in both layouts', () => {
    expect(levelPath('hdf5', 2)).toBe('/multiscale/s2');
    expect(levelPath('bdv', 0)).toBe('/t00000/s00/0/cells');
    expect(canvasPathOf('hdf5')).toBe('/stitched');
    expect(canvasPathOf('bdv', '/ignored')).toBe('/t00000/s00/0/cells');
  });

  it('aligns slabs so no level row or chunk straddles two ranks', () => {
    expect(slabRowUnit(1)).toBe(1);
    expect(slabRowUnit(4)).toBe(8);
    expect(slabRowUnit(4, 100)).toBe(200);
    expect(slabRowUnit(7, 256)).toBe(256);
    const unit = slabRowUnit(7, 256);
    for (let k = 1; k < 7; k++) {
      const [rows, cols] = levelChunk([256, 256], [100000, 100000], k, unit);
      expect((unit / 2 ** k) % rows).toBe(0);
      expect(rows * cols).toBe(256 * 256);
    }
    expect(levelChunk([256, 256], [3, 5], 6, unit)).toEqual([3, 5]);
    expect(levelChunk([100, 30], [1000, 1000], 1, slabRowUnit(4, 100))).toEqual([100, 30]);
  });
});

describe('slabs for a pyramid (core/bands planSlabs slabUnit)', () => {
  it('start every slab at a multiple of the slab unit, bands still whole chunk rows', () => {
    const { slabs } = planSlabs({ height: 1001, width: 10 }, 3, { chunkRows: 20, slabUnit: slabRowUnit(4, 20), bytesPerRow: 40, memPerRank: 40 * 30 });
    expect(slabs.map((s) => [s.y0, s.y1])).toEqual([[0, 320], [320, 680], [680, 1001]]);
    for (const s of slabs) for (const b of s.bands) expect(b.y0 % 20).toBe(0);
    expect(() => planSlabs({ height: 100, width: 10 }, 2, { chunkRows: 20, slabUnit: 30, bytesPerRow: 40, memPerRank: 4000 })).toThrow(/multiple of chunkRows/);
  });
});
