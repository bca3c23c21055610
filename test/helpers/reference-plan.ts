/**
 * The planner as it was before the O(N log N) rewrite: every pair checked. Slow (O(N²)) and
 * obviously right; the property tests hold the fast planner to it.
 */
import { overlaps, type PlacedTile, type PlannedTile } from '../../lib/core/geometry';
import type { Band } from '../../lib/core/bands';
import { parityRounds } from '../../lib/core/rounds';

export function referenceGreedyRounds(tiles: readonly PlacedTile[]): number[] {
  const visit = tiles.map((_, i) => i)
    .sort((a, b) => tiles[a].y - tiles[b].y || tiles[a].x - tiles[b].x || tiles[a].index - tiles[b].index);
  const rounds = new Array<number>(tiles.length).fill(-1);
  for (let k = 0; k < visit.length; k++) {
    const t = tiles[visit[k]];
    const used = new Set<number>();
    for (let j = 0; j < k; j++) if (overlaps(t, tiles[visit[j]])) used.add(rounds[visit[j]]);
    let r = 0;
    while (used.has(r)) r++;
    rounds[visit[k]] = r;
  }
  return rounds;
}

function roundIsDisjoint(tiles: readonly PlacedTile[], rounds: number[]): boolean {
  for (let i = 0; i < tiles.length; i++)
    for (let j = i + 1; j < tiles.length; j++)
      if (rounds[i] === rounds[j] && overlaps(tiles[i], tiles[j])) return false;
  return true;
}

export function referencePlanRounds(tiles: readonly PlacedTile[]): PlannedTile[] {
  let rounds: number[] | undefined;
  if (tiles.every((t) => t.gridRow >= 0 && t.gridCol >= 0)) {
    const parity = parityRounds(tiles);
    if (roundIsDisjoint(tiles, parity)) rounds = parity;
  }
  rounds ??= referenceGreedyRounds(tiles);
  const r = rounds;
  return tiles.map((_, i) => i).sort((a, b) => r[a] - r[b] || a - b)
    .map((i, order) => ({ ...tiles[i], round: r[i], order }));
}

/** Orders of the tiles overlapping planned[k] (itself included), ascending. */
export function referenceCovering(planned: readonly PlannedTile[]): number[][] {
  return planned.map((a) => planned.filter((b) => b === a || overlaps(a, b)).map((b) => b.order).sort((x, y) => x - y));
}

export function referenceTilesInBand(planned: readonly PlannedTile[], band: Band): PlannedTile[] {
  return planned.filter((t) => t.y < band.y1 && t.y + t.height > band.y0).sort((a, b) => a.order - b.order);
}
