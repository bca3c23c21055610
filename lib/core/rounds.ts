/** Partition tiles into write rounds such that no two tiles in a round overlap. */
import type { PlacedTile, PlannedTile } from './geometry';
import { overlapGraph, type Csr } from './overlap';

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
  const dense = [-1, -1, -1, -1];
  for (const r of raw) dense[r] = 0;
  for (let r = 0, next = 0; r < 4; r++) if (dense[r] === 0) dense[r] = next++;
  return raw.map((r) => dense[r]);
}

/**
 * Round per tile (input order) from greedy colouring of the overlap graph, visiting tiles by
 * (y, x, index) so the result does not depend on input order: each tile gets the smallest round
 * none of its already-visited neighbours has.
 */
export function greedyRounds(tiles: readonly PlacedTile[], graph: Csr = overlapGraph(tiles)): number[] {
  const n = tiles.length;
  const visit = Int32Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => tiles[a].y - tiles[b].y || tiles[a].x - tiles[b].x || tiles[a].index - tiles[b].index);
  const rounds = new Array<number>(n).fill(-1);
  let degree = 0;
  for (let i = 0; i < n; i++) degree = Math.max(degree, graph.offsets[i + 1] - graph.offsets[i]);
  // taken[r] === k: round r is used by a neighbour of the k-th visited tile (rounds <= degree).
  const taken = new Int32Array(degree + 2).fill(-1);
  for (let k = 0; k < n; k++) {
    const i = visit[k];
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
      const r = rounds[graph.targets[e]];
      if (r >= 0) taken[r] = k; // visited before tile i
    }
    let r = 0;
    while (taken[r] === k) r++;
    rounds[i] = r;
  }
  return rounds;
}

function roundIsDisjoint(rounds: number[], graph: Csr): boolean {
  for (let i = 0; i < rounds.length; i++)
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) if (rounds[graph.targets[e]] === rounds[i]) return false;
  return true;
}

/**
 * Rounds and canonical order (see planRounds) with the overlap graph they were derived from
 * (by position in `tiles`), which the plan reuses for covering lists.
 */
export function planRoundsWithGraph(tiles: readonly PlacedTile[]): { planned: PlannedTile[]; graph: Csr; orderOf: Int32Array } {
  const graph = overlapGraph(tiles);
  let rounds: number[] | undefined;
  if (tiles.every((t) => t.gridRow >= 0 && t.gridCol >= 0)) {
    const parity = parityRounds(tiles);
    if (roundIsDisjoint(parity, graph)) rounds = parity;
  }
  rounds ??= greedyRounds(tiles, graph);
  // Canonical order: by (round, input order), a stable counting sort by round.
  let roundCount = 0;
  for (const r of rounds) roundCount = Math.max(roundCount, r + 1);
  const start = new Int32Array(roundCount + 1);
  for (const r of rounds) start[r + 1]++;
  for (let r = 0; r < roundCount; r++) start[r + 1] += start[r];
  const orderOf = new Int32Array(tiles.length);
  const planned = new Array<PlannedTile>(tiles.length);
  for (let i = 0; i < tiles.length; i++) {
    const t = tiles[i], round = rounds[i], order = start[round]++;
    orderOf[i] = order;
    planned[order] = { index: t.index, y: t.y, x: t.x, height: t.height, width: t.width, gridRow: t.gridRow, gridCol: t.gridCol, round, order };
  }
  return { planned, graph, orderOf };
}

/**
 * Assign rounds (parity for grids when valid, i.e. overlap <= half a tile; greedy otherwise) and
 * the canonical order. Returned sorted by canonical order, so result[k].order === k.
 */
export function planRounds(tiles: readonly PlacedTile[]): PlannedTile[] {
  return planRoundsWithGraph(tiles).planned;
}

/** Tiles grouped by round (index = round number), each group in canonical order. */
export function roundsOf(planned: readonly PlannedTile[]): PlannedTile[][] {
  const groups: PlannedTile[][] = [];
  for (const t of [...planned].sort((a, b) => a.order - b.order)) (groups[t.round] ??= []).push(t);
  return Array.from(groups, (g) => g ?? []);
}
