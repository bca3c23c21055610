/** Turns what a tile set says about itself plus options into the geometry every rank agrees on. */
import { UsageError } from '../errors';
import { explicitPositions, gridPositions, type Canvas, type PlacedTile, type PlannedTile } from './geometry';
import { csrRow, type Csr } from './overlap';
import { planRoundsWithGraph } from './rounds';
import type { BlendMode } from './weights';

/** What a tile source knows about its tiles before any pixel is read. */
export interface TileSetInfo {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** Layout, positions and overlap found next to the tiles (HDF5 input), if any. */
  readonly layout?: number[][];
  readonly positions?: Array<[number, number]>;
  readonly overlap?: [number, number];
}

export interface StitchPlan {
  canvas: Canvas;
  /** Sorted by canonical order: planned[k].order === k. */
  planned: PlannedTile[];
  /**
   * The tiles overlapping planned[k], itself included, as canonical orders, ascending:
   * csrRow(covering, k) (coveringRects packs them for the kernel). One flat table, not N arrays.
   */
  covering: Csr;
  overlap: [number, number] | null;
  blend: BlendMode;
}

export interface PlanOptions {
  layout?: number[][];
  positions?: Array<[number, number]>;
  overlap?: [number, number];
  blend: BlendMode;
}

export function planStitch(source: TileSetInfo, options: PlanOptions): StitchPlan {
  const positions = options.positions ?? (options.layout ? undefined : source.positions);
  let placement;
  let overlap: [number, number] | null = null;
  try {
    if (positions) {
      if (positions.length !== source.count) {
        throw new UsageError(`positions give ${positions.length} tiles but the input has ${source.count}`);
      }
      placement = explicitPositions(positions, source.height, source.width);
    } else {
      const layout = options.layout ?? source.layout;
      if (!layout) throw new UsageError('no layout: the input has no /tile_array dataset; pass --layout FILE.json or --positions');
      overlap = options.overlap ?? source.overlap ?? null;
      if (!overlap) throw new UsageError('no overlap: pass --overlap P (or --overlap-y/--overlap-x), or store an "overlap" attribute on the tiles');
      placement = gridPositions({
        layout, tileCount: source.count, tileHeight: source.height, tileWidth: source.width, overlapY: overlap[0], overlapX: overlap[1],
      });
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message);
  }
  return planFromPlacement(placement.tiles, placement.canvas, overlap, options.blend);
}

/** Rounds, canonical order and neighbours for placed tiles: the plan every rank (and verify) derives alike. */
export function planFromPlacement(tiles: PlacedTile[], canvas: Canvas, overlap: [number, number] | null, blend: BlendMode): StitchPlan {
  const { planned, graph, orderOf } = planRoundsWithGraph(tiles);
  return { canvas, planned, covering: coveringTable(graph, orderOf), overlap, blend };
}

/** The tiles overlapping planned[order] (itself included), in canonical order, packed as [order, y, x, height, width] each (the kernel's form). */
export function coveringRects(plan: Pick<StitchPlan, 'planned' | 'covering'>, order: number): Int32Array {
  const { offsets, targets } = plan.covering;
  const out = new Int32Array(5 * (offsets[order + 1] - offsets[order]));
  for (let e = offsets[order], i = 0; e < offsets[order + 1]; e++) {
    const t = plan.planned[targets[e]];
    out[i++] = t.order; out[i++] = t.y; out[i++] = t.x; out[i++] = t.height; out[i++] = t.width;
  }
  return out;
}

/** The overlap graph (by input position) as covering lists by canonical order: self plus neighbours, ascending. */
function coveringTable(graph: Csr, orderOf: Int32Array): Csr {
  const n = orderOf.length;
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[orderOf[i] + 1] = graph.offsets[i + 1] - graph.offsets[i] + 1;
  for (let k = 0; k < n; k++) offsets[k + 1] += offsets[k];
  const targets = new Int32Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    const start = offsets[orderOf[i]];
    targets[start] = orderOf[i];
    let end = start + 1;
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
      // Insertion sort: lists are short (8 neighbours on a grid).
      const v = orderOf[graph.targets[e]];
      let p = end++;
      while (p > start && targets[p - 1] > v) { targets[p] = targets[p - 1]; p--; }
      targets[p] = v;
    }
  }
  return { offsets, targets };
}
