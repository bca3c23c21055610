/**
 * What every output records about how it was made, and the one place its names are spelled.
 * Scalars are attributes of the output dataset; the per-tile table is a dataset (HDF5 caps an
 * attribute at 64 KiB, which held only ~8,190 tiles).
 */
import type { PlacedTile } from './geometry';
import type { BlendMode } from './weights';

/** HDF5 names of the provenance. */
export const PROVENANCE = {
  /** Group beside the output that holds the tables. */
  group: '/h5stitch',
  /** int32 [N, 5]: one row per placed tile, sorted by tile index; columns below. */
  tiles: '/h5stitch/tiles',
  tileColumns: ['index', 'y', 'x', 'grid_row', 'grid_col'] as const,
  /** Attributes of the output dataset. */
  attr: {
    complete: 'complete',
    blend: 'blend',
    strategy: 'strategy',
    io: 'io',
    ranks: 'ranks',
    version: 'h5stitch_version',
    input: 'input',
    tileShape: 'tile_shape',
    overlap: 'overlap',
    columns: 'columns',
  },
  /** Per-tile attributes written by h5stitch before 0.2 (read for old outputs only). */
  legacyTileAttrs: ['tile_index', 'tile_y', 'tile_x', 'tile_grid_row', 'tile_grid_col'] as const,
} as const;

export interface Provenance {
  /** Placed tiles, sorted by index. */
  tiles: PlacedTile[];
  tileShape: [number, number];
  blend: BlendMode;
  /** 1 only after every byte was flushed. */
  complete: boolean;
  input: string;
  overlap: [number, number] | null;
  strategy: string;
  io: string;
  ranks: number;
  version: string;
}

const COLUMNS = PROVENANCE.tileColumns.length;

/** The tile table's rows (index, y, x, grid_row, grid_col), sorted by tile index. */
export function tileTable(tiles: readonly PlacedTile[]): Int32Array {
  const sorted = [...tiles].sort((a, b) => a.index - b.index);
  const table = new Int32Array(sorted.length * COLUMNS);
  sorted.forEach((t, i) => table.set([t.index, t.y, t.x, t.gridRow, t.gridCol], i * COLUMNS));
  return table;
}

/** Placed tiles back from a tile table (or from the legacy per-column attributes). */
export function tilesFromColumns(columns: ArrayLike<number>[], tileShape: [number, number]): PlacedTile[] {
  const [index, ys, xs, rows, cols] = columns;
  return Array.from({ length: index.length }, (_, i) => ({
    index: index[i], y: ys[i], x: xs[i], height: tileShape[0], width: tileShape[1], gridRow: rows[i], gridCol: cols[i],
  }));
}

/** Splits a tile table into its columns. */
export function tableColumns(table: Int32Array): Int32Array[] {
  const n = table.length / COLUMNS;
  return Array.from({ length: COLUMNS }, (_, c) => Int32Array.from({ length: n }, (_, i) => table[i * COLUMNS + c]));
}
