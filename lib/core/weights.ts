/**
 * Feather weights (pure). The native kernel (runtime/kernel.ts) computes the same weights per pixel
 * in canonical tile order, so processing any sub-rectangle of a tile yields the same bits as
 * processing the whole tile (slab and rounds strategies agree exactly).
 */
import type { PlannedTile } from './geometry';
import { csrRow, overlapGraph } from './overlap';

export type BlendMode = 'linear' | 'none' | 'max';

export interface Region { y0: number; y1: number; x0: number; x1: number }

/** Tent profile along one axis: 1 at the edges, peaking in the middle. */
function tent(i: number, n: number): number {
  return Math.min(i + 1, n - i);
}

/** Raw (unnormalised) feather weight of tile t at canvas pixel (y, x); 0 outside the tile. */
export function rawWeight(t: PlannedTile, y: number, x: number): number {
  const ty = y - t.y, tx = x - t.x;
  if (ty < 0 || ty >= t.height || tx < 0 || tx >= t.width) return 0;
  return tent(ty, t.height) * tent(tx, t.width);
}

/** For each tile of `planned`, the tiles overlapping it (itself included), sorted by order. */
export function neighbourIndex(planned: readonly PlannedTile[]): PlannedTile[][] {
  const graph = overlapGraph(planned);
  return planned.map((t, i) => [t, ...Array.from(csrRow(graph, i), (j) => planned[j])].sort((a, b) => a.order - b.order));
}

/** Sum of the linear-blend weights of all tiles covering (y, x); 1 wherever any tile covers it. */
export function weightSum(planned: readonly PlannedTile[], y: number, x: number): number {
  const sorted = [...planned].sort((a, b) => a.order - b.order);
  let total = 0;
  for (const t of sorted) total += rawWeight(t, y, x);
  let sum = 0;
  for (const t of sorted) { const r = rawWeight(t, y, x); if (r > 0) sum += r / total; }
  return sum;
}
