/**
 * Feather weights and the accumulation kernel. Everything a pixel's result depends on is computed
 * per pixel in canonical tile order, so processing any sub-rectangle of a tile yields the same bits
 * as processing the whole tile (slab and rounds strategies must agree exactly).
 */
import { PlannedTile, overlaps } from './geometry';
import { callSite, native, type NumericArray } from './native';

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
  data: Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  /** canvas coordinates, inside the tile and inside acc */
  region: Region;
  blend: BlendMode;
}

/** [order, y, x, height, width] per tile, the form the native kernel takes. */
function packRects(tiles: readonly PlannedTile[]): Int32Array {
  const out = new Int32Array(tiles.length * 5);
  tiles.forEach((t, i) => out.set([t.order, t.y, t.x, t.height, t.width], i * 5));
  return out;
}
// Packed once per covering list (and tile): the kernel runs once per tile or band part.
const packedCovering = new WeakMap<readonly PlannedTile[], Int32Array>();
const packedTile = new WeakMap<PlannedTile, Int32Array>();

function nativeArgs(args: AccumulateArgs) {
  const { acc, accWidth, accY0, accX0, tile, covering, data, region, blend } = args;
  let rects = packedCovering.get(covering);
  if (!rects) packedCovering.set(covering, (rects = packRects(covering)));
  let self = packedTile.get(tile);
  if (!self) packedTile.set(tile, (self = packRects([tile])));
  return { acc, accWidth, accY0, accX0, tile: self, covering: rects, data, region: [region.y0, region.y1, region.x0, region.x1] as [number, number, number, number], blend };
}

/**
 * Adds the tile's pixels of `region` into `acc`, weighted by `blend`: the one kernel every
 * strategy uses (native, monomorphic per dtype; bounds are checked there and throw).
 */
export function accumulateRegion(args: AccumulateArgs): void {
  callSite(() => native().accumulate(nativeArgs(args)));
}

/** A batch of accumulations running on a background thread. */
export interface BackgroundAccumulate {
  /** Blocks until the batch is done; returns the seconds the background thread computed. */
  wait(): number;
}

/**
 * Runs the same kernel as accumulateRegion for each of `jobs` in order, on a second thread, while
 * the caller does I/O. `band` is the jobs' accumulator (whole rows; every job's acc) and may hold
 * anything: the result is as if it had been zeroed first (each pixel's first job sets it; pixels
 * no job covers become 0), without the extra pass over memory. Every job is checked before this
 * returns. `band` and the jobs' data belong to the batch until wait().
 */
export function startAccumulateRegions(band: Float32Array | Float64Array, jobs: readonly AccumulateArgs[]): BackgroundAccumulate {
  const wait = callSite(() => native().startAccumulate({ band, jobs: jobs.map(nativeArgs) }));
  return { wait: () => callSite(wait) };
}
