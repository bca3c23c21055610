import { describe, it, expect } from 'vitest';
import { prng } from './helpers/prng';
import { gridPositions, explicitPositions, overlaps, PlannedTile } from '../lib/core/geometry';
import { parityRounds, greedyRounds, planRounds, roundsOf, arraySplit } from '../lib/core/rounds';


function expectDisjointRounds(planned: PlannedTile[]): void {
  for (const group of roundsOf(planned)) {
    expect(group.length).toBeGreaterThan(0);
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) expect(overlaps(group[i], group[j])).toBe(false);
  }
}

const layout = (rows: number, cols: number) =>
  Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));

describe('rounds', () => {
  it('uses 4 parity rounds for a grid with small overlap', () => {
    const { tiles } = gridPositions({ layout: layout(4, 5), tileHeight: 10, tileWidth: 10, overlapY: 3, overlapX: 5 });
    expect(parityRounds(tiles).slice(0, 6)).toEqual([0, 1, 0, 1, 0, 2]);
    const planned = planRounds(tiles);
    expect(roundsOf(planned).map((g) => g.length)).toEqual([6, 4, 6, 4]);
    expectDisjointRounds(planned);
  });

  it('renumbers parity rounds densely for a single row', () => {
    const { tiles } = gridPositions({ layout: [[0, 1, 2]], tileHeight: 4, tileWidth: 4, overlapY: 0, overlapX: 1 });
    expect(parityRounds(tiles)).toEqual([0, 1, 0]);
  });

  it('falls back to greedy when overlap exceeds half a tile', () => {
    const { tiles } = gridPositions({ layout: layout(4, 4), tileHeight: 10, tileWidth: 10, overlapY: 7, overlapX: 6 });
    const parity = parityRounds(tiles);
    expect(tiles.some((a, i) => tiles.some((b, j) => i < j && parity[i] === parity[j] && overlaps(a, b)))).toBe(true);
    const planned = planRounds(tiles);
    expectDisjointRounds(planned);
    expect(roundsOf(planned).length).toBeGreaterThan(4);
  });

  it('keeps rounds disjoint for 50 random explicit position sets', () => {
    const rand = prng(1234);
    for (let s = 0; s < 50; s++) {
      const n = 1 + Math.floor(rand() * 30);
      const pos = Array.from({ length: n }, () => [rand() * 60 - 10, rand() * 60] as [number, number]);
      const planned = planRounds(explicitPositions(pos, 8 + Math.floor(rand() * 8), 8 + Math.floor(rand() * 8)).tiles);
      expectDisjointRounds(planned);
    }
  });

  it('greedy gives the smallest free round in (y, x, index) order', () => {
    const { tiles } = explicitPositions([[0, 8], [0, 0], [0, 4], [20, 0]], 5, 5);
    // visit order: tile1 (x0) -> 0, tile2 (x4) overlaps 1 -> 1, tile0 (x8) overlaps 2 -> 0, tile3 alone -> 0
    expect(greedyRounds(tiles)).toEqual([0, 0, 1, 0]);
  });

  it('orders canonically by (round, input order)', () => {
    const { tiles } = explicitPositions([[0, 8], [0, 0], [0, 4], [20, 0]], 5, 5);
    const planned = planRounds(tiles);
    expect(planned.map((t) => [t.index, t.round, t.order])).toEqual([[0, 0, 0], [1, 0, 1], [3, 0, 2], [2, 1, 3]]);
    expect(roundsOf(planned).map((g) => g.map((t) => t.index))).toEqual([[0, 1, 3], [2]]);
  });
});

describe('arraySplit', () => {
  const sizes = (n: number, p: number) => arraySplit(Array.from({ length: n }, (_, i) => i), p).map((a) => a.length);
  it('matches numpy.array_split', () => {
    expect(sizes(10, 3)).toEqual([4, 3, 3]);
    expect(sizes(2, 4)).toEqual([1, 1, 0, 0]);
    expect(sizes(0, 2)).toEqual([0, 0]);
    expect(sizes(12, 4)).toEqual([3, 3, 3, 3]);
    expect(arraySplit([1, 2, 3, 4, 5], 2)).toEqual([[1, 2, 3], [4, 5]]);
    expect(() => arraySplit([1], 0)).toThrow();
  });
});
