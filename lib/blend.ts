/**
 * Feather weights and the accumulation kernel. Everything a pixel's result depends on is computed
 * per pixel in canonical tile order, so processing any sub-rectangle of a tile yields the same bits
 * as processing the whole tile (slab and rounds strategies must agree exactly).
 */
import { PlannedTile, overlaps } from './geometry';

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
  const byY = [...planned].sort((a, b) => a.y - b.y);
  const out = new Map<PlannedTile, PlannedTile[]>(planned.map((t) => [t, [t]]));
  // Sweep in y: once byY[j] starts below tile i's bottom edge, no later tile can overlap it.
  for (let i = 0; i < byY.length; i++) {
    const a = byY[i];
    for (let j = i + 1; j < byY.length && byY[j].y < a.y + a.height; j++) {
      const b = byY[j];
      if (overlaps(a, b)) { out.get(a)!.push(b); out.get(b)!.push(a); }
    }
  }
  return planned.map((t) => out.get(t)!.sort((a, b) => a.order - b.order));
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

// Scratch rows reused across calls: the kernel runs once per tile (or band) and must not churn the GC.
let wRow = new Float64Array(0);
let earlierRow = new Uint8Array(0);
function scratch(n: number): void {
  if (wRow.length < n) { wRow = new Float64Array(n); earlierRow = new Uint8Array(n); }
}

export interface AccumulateArgs {
  acc: Float32Array | Float64Array;
  /** row stride of acc */
  accWidth: number;
  /** canvas coordinates of acc[0] */
  accY0: number;
  accX0: number;
  tile: PlannedTile;
  /** tiles overlapping `tile` (itself included) in canonical order, from neighbourIndex */
  covering: readonly PlannedTile[];
  /** the tile's pixels for `region`, row-major, row length region.x1 - region.x0 */
  data: ArrayLike<number>;
  /** canvas coordinates, inside the tile and inside acc */
  region: Region;
  blend: BlendMode;
}

export function accumulateRegion(args: AccumulateArgs): void {
  const { acc, accWidth, accY0, accX0, tile, covering, data, region, blend } = args;
  const { y0, y1, x0, x1 } = region;
  if (y0 < tile.y || y1 > tile.y + tile.height || x0 < tile.x || x1 > tile.x + tile.width || y0 > y1 || x0 > x1)
    throw new Error(`region [${y0},${y1})x[${x0},${x1}) is not inside tile ${tile.index}`);
  if (y0 < accY0 || x0 < accX0 || x1 - accX0 > accWidth || (y1 - accY0) * accWidth > acc.length)
    throw new Error(`region [${y0},${y1})x[${x0},${x1}) is not inside the accumulator`);
  // Without the tile itself in `covering`, W would miss its own weight and the blend would be wrong.
  if (!covering.some((c) => c.order === tile.order)) throw new Error(`covering list of tile ${tile.index} does not include it`);
  const w = x1 - x0;
  if (data.length < (y1 - y0) * w) throw new Error(`data has ${data.length} values, region needs ${(y1 - y0) * w}`);
  scratch(w);

  for (let y = y0; y < y1; y++) {
    const accRow = (y - accY0) * accWidth - accX0, dataRow = (y - y0) * w - x0;
    if (blend === 'none') {
      for (let x = x0; x < x1; x++) acc[accRow + x] += data[dataRow + x];
    } else if (blend === 'max') {
      // A pixel's first writer (lowest order) overwrites, so acc need not be pre-filled with -inf.
      earlierRow.fill(0, 0, w);
      for (const c of covering) {
        if (c.order >= tile.order || y < c.y || y >= c.y + c.height) continue;
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++) earlierRow[x - x0] = 1;
      }
      for (let x = x0; x < x1; x++) {
        const v = data[dataRow + x];
        acc[accRow + x] = earlierRow[x - x0] ? Math.max(acc[accRow + x], v) : v;
      }
    } else {
      // Pixels only this tile covers get weight r/r = 1 exactly, so v is added as is: a fast
      // path with the same bits. Elsewhere W = sum of raw weights over covering tiles, added in
      // canonical order per pixel (0 + a is exact, so skipping non-covering tiles keeps the bits).
      let shared = false;
      for (const c of covering) {
        if (c === tile || y < c.y || y >= c.y + c.height) continue;
        if (!shared) earlierRow.fill(0, 0, w);
        shared = true;
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++) earlierRow[x - x0] = 1;
      }
      if (!shared) {
        for (let x = x0; x < x1; x++) acc[accRow + x] += data[dataRow + x];
        continue;
      }
      wRow.fill(0, 0, w);
      for (const c of covering) {
        if (y < c.y || y >= c.y + c.height) continue;
        const ry = tent(y - c.y, c.height);
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++)
          if (earlierRow[x - x0]) wRow[x - x0] += ry * tent(x - c.x, c.width);
      }
      const ry = tent(y - tile.y, tile.height);
      for (let x = x0; x < x1; x++) {
        acc[accRow + x] += earlierRow[x - x0]
          ? data[dataRow + x] * ((ry * tent(x - tile.x, tile.width)) / wRow[x - x0])
          : data[dataRow + x];
      }
    }
  }
}
