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
  /**
   * float64 [M, 2]: the input's files as the stitch found them, one row per file (an HDF5 input:
   * one row; a directory of .npy tiles: row i is i.npy); columns below. Its attributes (inputAttr)
   * hold the kind and the tiles' shape and dtype.
   */
  inputs: '/h5stitch/inputs',
  inputColumns: ['size', 'mtime_ms'] as const,
  inputAttr: {
    kind: 'kind',
    /** [N, H, W] */
    tilesShape: 'tiles_shape',
    tilesDtype: 'tiles_dtype',
    /** HDF5 input: the tiles dataset or group. */
    tilesPath: 'tiles_path',
  },
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
    /** Multi-channel input written with --channels-as datasets: the channel each 2-D dataset holds. */
    channel: 'channel',
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
  /** The input's fingerprint when it was stitched; null for outputs written before 0.2. */
  inputs: InputFingerprint | null;
}

/** One input file as stat(2) saw it. */
export interface FileStamp {
  size: number;
  /** Modification time, ms since the epoch (as Node's stat reports it). */
  mtimeMs: number;
}

/** What an input held when it was opened: its files' sizes and times and its tiles' shape and dtype. */
export interface InputFingerprint {
  kind: 'hdf5' | 'npy' | 'tiff';
  /** hdf5: the file itself; npy: files[i] is i.npy; tiff: the tile files by tile index (channel by channel). */
  files: FileStamp[];
  /** [N, H, W] */
  tilesShape: [number, number, number];
  tilesDtype: string;
  /** hdf5: the tiles dataset or group; npy, tiff: ''. */
  tilesPath: string;
}

/** The name of input file `i` in messages: the HDF5 file, i.npy, or TIFF tile file i. */
export function inputFileName(fp: Pick<InputFingerprint, 'kind'>, i: number): string {
  return fp.kind === 'npy' ? `${i}.npy` : fp.kind === 'tiff' ? `TIFF tile file ${i}` : 'the input file';
}

const KIND_NAMES: Record<InputFingerprint['kind'], string> = { hdf5: 'an HDF5 file', npy: 'a directory of .npy tiles', tiff: 'TIFF tiles' };

/**
 * How an input differs from its fingerprint `then`, one phrase per difference (empty when it
 * matches): what `verify` warns about when the tiles changed after the stitch.
 */
export function fingerprintChanges(then: InputFingerprint, now: InputFingerprint): string[] {
  const changes: string[] = [];
  if (then.kind !== now.kind) return [`the input was ${KIND_NAMES[then.kind]} and is now ${KIND_NAMES[now.kind]}`];
  const shape = (s: number[]) => s.join('x');
  if (shape(then.tilesShape) !== shape(now.tilesShape) || then.tilesDtype !== now.tilesDtype) {
    changes.push(`tiles were ${shape(then.tilesShape)} ${then.tilesDtype} and are ${shape(now.tilesShape)} ${now.tilesDtype}`);
  }
  if (then.tilesPath !== now.tilesPath) changes.push(`tiles were at ${then.tilesPath} and are read from ${now.tilesPath}`);
  if (then.files.length !== now.files.length) changes.push(`${then.files.length} files then, ${now.files.length} now`);
  const date = (ms: number) => new Date(ms).toISOString();
  const files = Math.min(then.files.length, now.files.length);
  let listed = 0, more = 0;
  for (let i = 0; i < files; i++) {
    const a = then.files[i], b = now.files[i];
    if (a.size === b.size && a.mtimeMs === b.mtimeMs) continue;
    // A few named, the rest counted: a re-exported directory of 10,000 tiles is one warning.
    if (listed++ >= 5) { more++; continue; }
    const what = a.size !== b.size ? `size ${a.size} -> ${b.size} bytes` : `modified ${date(a.mtimeMs)} -> ${date(b.mtimeMs)}`;
    changes.push(`${inputFileName(then, i)}: ${what}`);
  }
  if (more > 0) changes.push(`and ${more} more files changed`);
  return changes;
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
