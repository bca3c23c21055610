/**
 * The O(N log N) planner (overlap graph, rounds, covering lists, band lookup) against the O(N²)
 * reference it replaced, on random grids and positions: the plans must be identical.
 */
import { describe, it, expect } from 'vitest';
import { prng } from './helpers/prng';
import { referenceCovering, referenceGreedyRounds, referencePlanRounds, referenceTilesInBand } from './helpers/reference-plan';
import { explicitPositions, gridPositions, overlaps, type PlacedTile } from '../lib/core/geometry';
import { csrRow, overlapGraph } from '../lib/core/overlap';
import { greedyRounds, planRounds } from '../lib/core/rounds';
import { tilesInBand } from '../lib/core/bands';
import { coveringRects, planFromPlacement } from '../lib/core/plan';
import { neighbourIndex } from '../lib/core/weights';

type Rand = () => number;
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** A random grid: any overlap (above and below half a tile), holes, permuted indices. */
function randomGrid(rand: Rand): PlacedTile[] {
  const rows = int(rand, 1, 9), cols = int(rand, 1, 9);
  const tileHeight = int(rand, 1, 12), tileWidth = int(rand, 1, 12);
  const holeRate = rand() < 0.5 ? 0 : rand() * 0.5;
  const cells: Array<[number, number]> = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (rand() >= holeRate) cells.push([r, c]);
  if (cells.length === 0) cells.push([0, 0]);
  const indices = cells.map((_, i) => i);
  if (rand() < 0.5) for (let i = indices.length - 1; i > 0; i--) { const j = int(rand, 0, i); [indices[i], indices[j]] = [indices[j], indices[i]]; }
  const layout = Array.from({ length: rows }, () => new Array<number>(cols).fill(-1));
  cells.forEach(([r, c], i) => (layout[r][c] = indices[i]));
  return gridPositions({ layout, tileHeight, tileWidth, overlapY: int(rand, 0, tileHeight - 1), overlapX: int(rand, 0, tileWidth - 1) }).tiles;
}

/** Random explicit positions: sparse, dense (most pairs overlap by more than half), or stacked on each other. */
function randomPositions(rand: Rand): PlacedTile[] {
  const n = int(rand, 1, 90);
  const h = int(rand, 1, 16), w = int(rand, 1, 16);
  const spread = [0.5, 2, 8][int(rand, 0, 2)] * Math.sqrt(n) * Math.max(h, w);
  const pos = Array.from({ length: n }, () => [rand() * spread - spread / 3, rand() * spread * (rand() < 0.2 ? 0.01 : 1)] as [number, number]);
  if (rand() < 0.2) pos.push(...pos.slice(0, int(rand, 1, n))); // exact duplicates
  return explicitPositions(pos, h, w).tiles;
}

/** Tiles of different sizes, some with grid positions (so parity is tried and often rejected). */
function randomSizes(rand: Rand): PlacedTile[] {
  const n = int(rand, 1, 70);
  const grid = rand() < 0.5;
  return Array.from({ length: n }, (_, index) => ({
    index, y: int(rand, -20, 60), x: int(rand, 0, 80), height: int(rand, 1, 25), width: int(rand, 1, 25),
    gridRow: grid ? int(rand, 0, 5) : -1, gridCol: grid ? int(rand, 0, 5) : -1,
  }));
}

const GENERATORS = { grid: randomGrid, positions: randomPositions, sizes: randomSizes };

describe.each(Object.entries(GENERATORS))('fast planner = O(N²) reference on random %s', (_, make) => {
  it('overlap graph: exactly the overlapping pairs', () => {
    const rand = prng(11);
    for (let s = 0; s < 150; s++) {
      const tiles = make(rand);
      const graph = overlapGraph(tiles);
      tiles.forEach((a, i) => {
        const expected = tiles.map((b, j) => j).filter((j) => j !== i && overlaps(a, tiles[j]));
        expect([...csrRow(graph, i)].sort((x, y) => x - y)).toEqual(expected);
      });
    }
  });

  it('rounds, canonical order, covering lists and band lookups', () => {
    const rand = prng(22);
    for (let s = 0; s < 150; s++) {
      const tiles = make(rand);
      const planned = planRounds(tiles);
      expect(planned).toEqual(referencePlanRounds(tiles));
      expect(greedyRounds(tiles)).toEqual(referenceGreedyRounds(tiles));
      const plan = planFromPlacement(tiles, { height: 1, width: 1 }, null, 'linear');
      expect(plan.planned).toEqual(planned);
      const covering = referenceCovering(planned);
      planned.forEach((_, k) => {
        expect([...csrRow(plan.covering, k)]).toEqual(covering[k]);
        expect([...coveringRects(plan, k)]).toEqual(covering[k].flatMap((o) => [o, planned[o].y, planned[o].x, planned[o].height, planned[o].width]));
      });
      expect(neighbourIndex(planned).map((list) => list.map((t) => t.order))).toEqual(covering);
      // Bands anywhere: before, across and beyond the tiles, one row to all rows.
      const bottom = Math.max(...tiles.map((t) => t.y + t.height));
      for (let b = 0; b < 12; b++) {
        const y0 = int(rand, -5, bottom + 2), band = { y0, y1: y0 + int(rand, 1, bottom + 5) };
        expect(tilesInBand(plan.planned, band)).toEqual(referenceTilesInBand(plan.planned, band));
      }
      // The input order of the tiles does not matter to band lookups of an unsorted list.
      const shuffled = [...planned].reverse();
      expect(tilesInBand(shuffled, { y0: 0, y1: bottom })).toEqual(referenceTilesInBand(planned, { y0: 0, y1: bottom }));
    }
  });
});

describe('fast planner at scale', () => {
  it('plans a 300x334 grid (100,200 tiles) with parity rounds and 8-neighbour covering lists', () => {
    const rows = 300, cols = 334;
    const layout = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));
    const { tiles, canvas } = gridPositions({ layout, tileHeight: 4, tileWidth: 4, overlapY: 1, overlapX: 1 });
    const plan = planFromPlacement(tiles, canvas, [1, 1], 'linear');
    expect(plan.planned.length).toBe(100_200);
    expect(new Set(plan.planned.map((t) => t.round)).size).toBe(4);
    // An interior tile overlaps its 8 neighbours.
    const inner = plan.planned.find((t) => t.gridRow === 150 && t.gridCol === 150)!;
    expect(csrRow(plan.covering, inner.order).length).toBe(9);
    expect(plan.covering.targets.length).toBe(9 * (rows - 2) * (cols - 2) + 6 * 2 * (rows - 2 + cols - 2) + 4 * 4);
  });
});
