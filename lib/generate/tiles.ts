/**
 * Synthetic tile sets cut from a known smooth-but-nonrepeating image, with the ground truth stored
 * next to them, so a stitch can be checked end to end. Written in parallel: each rank computes the
 * canvas rows of its share of grid rows once and cuts its tiles and its ground-truth rows from them.
 */
import { newArray, type Dtype, type NumericArray } from '../core/dtype';
import { gridPositions, type PlacedTile } from '../core/geometry';
import { H5StitchError, UsageError } from '../errors';
import { arraySplit } from '../core/rounds';
import { openFile, type Dataset, type H5File } from '../runtime/hdf5';
import { defaultHints } from '../runtime/hints';
import type { Mpi } from '../runtime/mpi';

/** A generated tile set's grid: rows × cols tiles of tileHeight × tileWidth, overlapping as given. */
export interface GridSetShape {
  rows: number;
  cols: number;
  tileHeight: number;
  tileWidth: number;
  overlapY: number;
  overlapX: number;
  dtype: Dtype;
}

export interface GenerateOptions extends GridSetShape {
  /** Shuffle which tile index sits at which grid position. */
  permute?: boolean;
  /** Grid positions left empty (-1). */
  holes?: Array<[number, number]>;
  seed?: number;
  /** Canvas memory per rank in bytes (the image rows computed at once; default 16 MiB). */
  memPerRank?: number;
}

const SCALE: Partial<Record<Dtype, number>> = { uint8: 250, uint16: 60000, int16: 30000, int32: 1e6, uint32: 1e6 };

/** The image all tiles are cut from: smooth, in [0, 1], with no period that lines up with a tile grid. */
function imageAt(y: number, x: number): number {
  return 0.5 + 0.2 * Math.sin(x * 0.031 + 1.3 * Math.sin(y * 0.0071)) + 0.2 * Math.cos(y * 0.027 + 0.9 * Math.sin(x * 0.0053)) +
    0.1 * Math.sin((x + y) * 0.011);
}

/** The image value as stored in a tile of `dtype` (integers are scaled and rounded). */
export function quantized(y: number, x: number, dtype: Dtype): number {
  const scale = SCALE[dtype];
  return scale ? Math.round(imageAt(y, x) * scale) : dtype === 'float32' ? Math.fround(imageAt(y, x)) : imageAt(y, x);
}

/**
 * quantized(y, x, dtype) for x in [0, width) of rows [y0, y1), row-major, bit for bit: the same
 * Math calls on the same arguments, with the terms that depend on y alone, on x alone or on x + y
 * computed once per row, column or diagonal instead of once per pixel (2 trig calls a pixel, not 5).
 */
export class ImageRows {
  private readonly x031: Float64Array;
  private readonly cosTerm: Float64Array;
  private readonly diagonal: Float64Array;

  constructor(readonly width: number, height: number, readonly dtype: Dtype) {
    this.x031 = Float64Array.from({ length: width }, (_, x) => x * 0.031);
    this.cosTerm = Float64Array.from({ length: width }, (_, x) => 0.9 * Math.sin(x * 0.0053));
    this.diagonal = Float64Array.from({ length: width + height }, (_, s) => 0.1 * Math.sin(s * 0.011));
  }

  /** Fills `out` (at least (y1 - y0) * width values) with rows [y0, y1). */
  fill(y0: number, y1: number, out: Float64Array): Float64Array {
    const { width, x031, cosTerm, diagonal } = this;
    const scale = SCALE[this.dtype], float32 = this.dtype === 'float32';
    for (let y = y0, i = 0; y < y1; y++) {
      const sinTerm = 1.3 * Math.sin(y * 0.0071), y027 = y * 0.027;
      for (let x = 0; x < width; x++, i++) {
        const v = 0.5 + 0.2 * Math.sin(x031[x] + sinTerm) + 0.2 * Math.cos(y027 + cosTerm[x]) + diagonal[x + y];
        out[i] = scale ? Math.round(v * scale) : float32 ? Math.fround(v) : v;
      }
    }
    return out;
  }
}

function shuffle(values: number[], seed: number): number[] {
  let s = seed >>> 0 || 1;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  return values;
}

/** The layout (tile index per cell, -1 for holes) and the tiles placed on it. */
export function generatedLayout(o: GenerateOptions) {
  const holes = new Set((o.holes ?? []).map(([r, c]) => `${r},${c}`));
  const cells: Array<[number, number]> = [];
  for (let r = 0; r < o.rows; r++) for (let c = 0; c < o.cols; c++) if (!holes.has(`${r},${c}`)) cells.push([r, c]);
  const indices = cells.map((_, i) => i);
  if (o.permute) shuffle(indices, o.seed ?? 1);
  const layout = Array.from({ length: o.rows }, () => new Array<number>(o.cols).fill(-1));
  cells.forEach(([r, c], i) => (layout[r][c] = indices[i]));
  const placement = gridPositions({ layout, tileHeight: o.tileHeight, tileWidth: o.tileWidth, overlapY: o.overlapY, overlapX: o.overlapX });
  return { layout, ...placement };
}

/** A grid row's tiles as runs of consecutive indices: each run is one contiguous block of /tiles. */
function indexRuns(tiles: PlacedTile[]): PlacedTile[][] {
  const sorted = [...tiles].sort((a, b) => a.index - b.index);
  const runs: PlacedTile[][] = [];
  for (const t of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1].index === t.index - 1) last.push(t);
    else runs.push([t]);
  }
  return runs;
}

/** Merged [x0, x1) column spans the tiles of one grid row cover. */
function coveredSpans(tiles: PlacedTile[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const t of [...tiles].sort((a, b) => a.x - b.x)) {
    const last = spans[spans.length - 1];
    if (last && t.x <= last[1]) last[1] = Math.max(last[1], t.x + t.width);
    else spans.push([t.x, t.x + t.width]);
  }
  return spans;
}

/**
 * Writes /tiles [N,H,W], /tile_array, the overlap attribute and /ground_truth (0 where no tile
 * covers). Collective: every rank calls it with the same arguments (one rank is fine); each rank
 * computes and writes the tiles of its share of grid rows and the ground-truth rows they start.
 */
export function generateTiles(mpi: Mpi, path: string, o: GenerateOptions, overwrite = false): { tiles: number; canvas: [number, number] } {
  const { layout, tiles, canvas } = generatedLayout(o);
  const H = o.tileHeight, W = o.tileWidth, stepY = H - o.overlapY;
  const byRow: PlacedTile[][] = Array.from({ length: o.rows }, () => []);
  for (const t of tiles) byRow[t.gridRow].push(t);

  const file = createGeneratedFile(mpi, path, overwrite);
  try {
    // Every byte of both datasets is written below: no fill pass first.
    const tilesDs = file.createDataset('/tiles', { shape: [tiles.length, H, W], dtype: o.dtype, fillTime: 'never' });
    tilesDs.setAttr('overlap', [o.overlapY, o.overlapX]);
    const layoutDs = file.createDataset('/tile_array', { shape: [o.rows, o.cols], dtype: 'int32' });
    const mine = mpi.rank === 0 ? o.rows : 0;
    layoutDs.write([0, 0], [mine, o.cols], Int32Array.from(mine ? layout.flat() : []), { transfer: 'collective' });
    layoutDs.close();
    const truthDs = file.createDataset('/ground_truth', { shape: [canvas.height, canvas.width], dtype: 'float64', fillTime: 'never' });
    truthDs.setAttr('description', 'the image the tiles were cut from; 0 where no tile covers');

    // This rank's grid rows, and the canvas rows whose ground truth it writes: from its first grid
    // row's top to the next rank's first grid row's top (the last rank: to the bottom).
    const gridRows = arraySplit(Array.from({ length: o.rows }, (_, r) => r), mpi.size)[mpi.rank];
    if (gridRows.length > 0) {
      const first = gridRows[0], last = gridRows[gridRows.length - 1];
      const truthRows: [number, number] = [first * stepY, last === o.rows - 1 ? canvas.height : (last + 1) * stepY];
      writeRows(o, { tilesDs, truthDs, byRow, canvas, gridRows, truthRows });
    }
    tilesDs.close();
    truthDs.close();
  } finally {
    file.close();
  }
  return { tiles: tiles.length, canvas: [canvas.height, canvas.width] };
}

interface RowsJob {
  tilesDs: Dataset;
  truthDs: Dataset;
  byRow: PlacedTile[][];
  canvas: { height: number; width: number };
  gridRows: number[];
  truthRows: [number, number];
}

/** Computes canvas rows band by band and writes the tile parts and ground-truth rows in them (independent writes). */
function writeRows(o: GenerateOptions, job: RowsJob): void {
  const { tilesDs, truthDs, byRow, canvas, gridRows, truthRows } = job;
  const H = o.tileHeight, W = o.tileWidth, stepY = H - o.overlapY, width = canvas.width;
  const first = gridRows[0], last = gridRows[gridRows.length - 1];
  const y0 = first * stepY, y1 = last * stepY + H;
  const bandRows = Math.max(1, Math.floor((o.memPerRank ?? 16 * 1024 ** 2) / (width * 8)));
  const image = new ImageRows(width, canvas.height, o.dtype);
  const values = new Float64Array(Math.min(bandRows, y1 - y0) * width);
  const truth = new Float64Array(values.length);
  const runs = gridRows.map((r) => indexRuns(byRow[r]));
  const spans = byRow.map(coveredSpans);
  let tileBuffer: NumericArray = newArray(o.dtype, 0);
  const independent = { transfer: 'independent' } as const;

  for (let b0 = y0; b0 < y1; b0 += bandRows) {
    const b1 = Math.min(b0 + bandRows, y1);
    image.fill(b0, b1, values);
    // Tile parts: each run of consecutive indices of a grid row is one block [run, rows, W].
    gridRows.forEach((r, g) => {
      const top = r * stepY, t0 = Math.max(b0, top), t1 = Math.min(b1, top + H);
      if (t1 <= t0) return;
      const rows = t1 - t0;
      for (const run of runs[g]) {
        const size = run.length * rows * W;
        if (tileBuffer.length < size) tileBuffer = newArray(o.dtype, size);
        const block = tileBuffer.subarray(0, size) as Float64Array;
        run.forEach((t, k) => {
          for (let y = t0; y < t1; y++) {
            const from = (y - b0) * width + t.x;
            block.set(values.subarray(from, from + W), (k * rows + (y - t0)) * W);
          }
        });
        tilesDs.write([run[0].index, t0 - top, 0], [run.length, rows, W], block, independent);
      }
    });
    // Ground truth: this rank's rows of the band, the image where a tile covers it, else 0.
    const g0 = Math.max(b0, truthRows[0]), g1 = Math.min(b1, truthRows[1]);
    if (g1 <= g0) continue;
    const out = truth.subarray(0, (g1 - g0) * width);
    out.fill(0);
    for (let y = g0; y < g1; y++) {
      // Grid rows whose tiles cover canvas row y.
      for (let r = Math.max(0, Math.ceil((y - H + 1) / stepY)); r <= Math.min(o.rows - 1, Math.floor(y / stepY)); r++) {
        for (const [x0, x1] of spans[r]) out.set(values.subarray((y - b0) * width + x0, (y - b0) * width + x1), (y - g0) * width + x0);
      }
    }
    truthDs.write([g0, 0], [g1 - g0, width], out, independent);
  }
}

/**
 * Creates a generated set's file, collectively. A file that cannot be created is the caller's to
 * fix (UsageError, agreed by every rank); a later failure on one rank ends the job (the others
 * may be waiting in a collective call).
 */
export function createGeneratedFile(mpi: Mpi, path: string, overwrite: boolean): H5File {
  return mpi.runOnAll(() => {
    try {
      return openFile(path, { mode: 'create', overwrite, parallel: true, hints: defaultHints() });
    } catch (error) {
      throw error instanceof H5StitchError && !(error instanceof UsageError) ? new UsageError(error.message) : error;
    }
  });
}
