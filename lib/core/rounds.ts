/** Partition tiles into write rounds such that no two tiles in a round overlap. */
import { overlaps, type PlacedTile, type PlannedTile } from './geometry';

/** numpy.array_split: exactly `parts` pieces, the first items.length % parts get one extra item. */
export function arraySplit<T>(items: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`parts must be a positive integer, got ${parts}`);
  const base = Math.floor(items.length / parts), extra = items.length % parts;
  const out: T[][] = [];
  for (let p = 0, start = 0; p < parts; p++) {
    const n = base + (p < extra ? 1 : 0);
    out.push(items.slice(start, start + n));
    start += n;
  }
  return out;
}

/** Round per tile (input order) from grid parity, renumbered densely so empty rounds vanish. */
export function parityRounds(tiles: readonly PlacedTile[]): number[] {
  const raw = tiles.map((t) => {
    if (t.gridRow < 0 || t.gridCol < 0) throw new Error(`tile ${t.index} has no grid position; parity rounds need a grid`);
    return (t.gridRow % 2) * 2 + (t.gridCol % 2);
  });
  const dense = new Map([...new Set(raw)].sort((a, b) => a - b).map((r, i) => [r, i] as [number, number]));
  return raw.map((r) => dense.get(r)!);
}

/**
 * Round per tile (input order) from greedy colouring of the overlap graph, visiting tiles by
 * (y, x, index) so the result does not depend on input order.
 */
export function greedyRounds(tiles: readonly PlacedTile[]): number[] {
  const visit = tiles.map((_, i) => i)
    .sort((a, b) => tiles[a].y - tiles[b].y || tiles[a].x - tiles[b].x || tiles[a].index - tiles[b].index);
  const rounds = new Array<number>(tiles.length).fill(-1);
  for (let k = 0; k < visit.length; k++) {
    const t = tiles[visit[k]];
    const used = new Set<number>();
    // Earlier-visited tiles have y <= t.y; scan back, all of them (tile heights may differ).
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

/**
 * Assign rounds (parity for grids when valid, i.e. overlap <= half a tile; greedy otherwise) and
 * the canonical order. Returned sorted by canonical order, so result[k].order === k.
 */
export function planRounds(tiles: readonly PlacedTile[]): PlannedTile[] {
  let rounds: number[] | undefined;
  if (tiles.every((t) => t.gridRow >= 0 && t.gridCol >= 0)) {
    const parity = parityRounds(tiles);
    if (roundIsDisjoint(tiles, parity)) rounds = parity;
  }
  rounds ??= greedyRounds(tiles);
  const r = rounds;
  return tiles.map((_, i) => i).sort((a, b) => r[a] - r[b] || a - b)
    .map((i, order) => ({ ...tiles[i], round: r[i], order }));
}

/** Tiles grouped by round (index = round number), each group in canonical order. */
export function roundsOf(planned: readonly PlannedTile[]): PlannedTile[][] {
  const groups: PlannedTile[][] = [];
  for (const t of [...planned].sort((a, b) => a.order - b.order)) (groups[t.round] ??= []).push(t);
  return Array.from(groups, (g) => g ?? []);
}
