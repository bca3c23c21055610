/** Split canvas rows into per-rank slabs and memory-bounded bands. */
import { UsageError } from '../errors';
import type { Canvas, PlannedTile } from './geometry';
import { sortedBy } from './overlap';

/**
 * Rows [y0, y1) of the canvas; with x0/x1, only columns [x0, x1) of them (whole chunks of a chunk
 * row that two ranks share: see SlabOptions.chunkCols). Without, whole rows.
 */
export interface Band { y0: number; y1: number; x0?: number; x1?: number }

export interface SlabPlan { rank: number; y0: number; y1: number; bands: Band[] }

export interface SlabOptions {
  /** HDF5 chunk height; slab and band edges land on chunk boundaries so no chunk is shared by two writers */
  chunkRows?: number;
  /** The chunks are compressed: a band must be whole chunk rows (refuse rather than rewrite chunks). */
  compressed?: boolean;
  /** bytes of one accumulator row */
  bytesPerRow: number;
  /** band memory in bytes */
  memPerRank: number;
  /** Most bytes a band of one chunk row may take when one chunk row does not fit memPerRank (default MAX_CHUNK_ROW_BAND). */
  maxChunkRowBytes?: number;
  /** Bands held at once (2 when pipelined: memPerRank is then half of --mem-per-rank); for messages. */
  bandsHeld?: number;
  /**
   * Rows every slab starts at a multiple of (a multiple of chunkRows; default chunkRows, else 1):
   * a pyramid's row pairs and level chunks stay inside one rank (core/pyramid slabRowUnit).
   */
  slabUnit?: number;
  /**
   * The chunk width of compressed output, to split the chunks themselves (row-major) evenly over
   * the ranks instead of whole chunk rows: a chunk row may then be shared by two ranks, each
   * blending and writing whole chunks of its own columns (a band with x0/x1). Compression is
   * most of the work there, and whole chunk rows split unevenly: 11 rows over 2 ranks give one
   * rank 6 (54 %, which alone caps 2 ranks at 1.85x one), 121 chunks give it 61. Ignored with a
   * slabUnit (a pyramid's levels are made from whole rows) and without compression.
   */
  chunkCols?: number;
}

/**
 * The most memory a band may take to be one whole chunk row when --mem-per-rank holds less (a
 * compressed chunk written in pieces is compressed again for each piece, and the space of the
 * earlier versions stays dead in the file).
 */
export const MAX_CHUNK_ROW_BAND = 1024 ** 3;

/**
 * Rows per band. Chunked output: whole chunk rows, as many as memPerRank holds, at least one
 * (up to maxChunkRowBytes). Beyond that, compressed output is refused; uncompressed chunks are
 * written in place, so bands fall back to rows within memPerRank.
 */
export function bandRowsOf(opts: SlabOptions): number {
  const { chunkRows, bytesPerRow, memPerRank, compressed } = opts;
  const maxRows = Math.floor(memPerRank / bytesPerRow);
  if (chunkRows !== undefined) {
    if (maxRows >= chunkRows) return Math.floor(maxRows / chunkRows) * chunkRows;
    const chunkRowBytes = chunkRows * bytesPerRow;
    const limit = Math.max(opts.maxChunkRowBytes ?? MAX_CHUNK_ROW_BAND, memPerRank);
    if (chunkRowBytes <= limit) return chunkRows;
    if (compressed) {
      const held = opts.bandsHeld ?? 1;
      throw new UsageError(`compressed output is written in whole chunk rows: one chunk row (${chunkRows} rows) needs ${chunkRowBytes} bytes ` +
        `per band, more than the ${limit} a band may grow to; use --chunk with fewer rows or --mem-per-rank ${held * chunkRowBytes}` +
        (held > 1 ? ` (${held} bands when pipelined)` : ''));
    }
  }
  if (!(maxRows >= 1))
    throw new Error(`mem-per-rank ${memPerRank} bytes is less than one canvas row (${bytesPerRow} bytes); raise --mem-per-rank`);
  return maxRows;
}

export function planSlabs(canvas: Canvas, ranks: number, opts: SlabOptions): { slabs: SlabPlan[]; bandCount: number } {
  const { chunkRows, bytesPerRow } = opts;
  const H = canvas.height;
  if (!Number.isInteger(ranks) || ranks < 1) throw new Error(`ranks must be a positive integer, got ${ranks}`);
  if (!Number.isInteger(H) || H < 0) throw new Error(`canvas height must be a non-negative integer, got ${H}`);
  if (chunkRows !== undefined && (!Number.isInteger(chunkRows) || chunkRows < 1))
    throw new Error(`chunkRows must be a positive integer, got ${chunkRows}`);
  if (!(bytesPerRow > 0)) throw new Error(`bytesPerRow must be positive, got ${bytesPerRow}`);
  const bandRows = bandRowsOf(opts);

  // Split whole chunks (or rows) evenly, then convert unit counts back to row boundaries.
  const unit = opts.slabUnit ?? chunkRows ?? 1;
  if (!Number.isInteger(unit) || unit < 1 || (chunkRows !== undefined && unit % chunkRows !== 0))
    throw new Error(`slabUnit must be a positive multiple of chunkRows, got ${unit}`);
  const { chunkCols } = opts;
  if (chunkCols !== undefined && (!Number.isInteger(chunkCols) || chunkCols < 1))
    throw new Error(`chunkCols must be a positive integer, got ${chunkCols}`);
  if (chunkCols !== undefined && chunkRows !== undefined && opts.compressed && opts.slabUnit === undefined && ranks > 1 && H > 0 && canvas.width > 0) {
    return slabsOfChunks(canvas, ranks, chunkRows, chunkCols, bandRows);
  }
  const counts = evenCounts(Math.ceil(H / unit), ranks);
  const slabs: SlabPlan[] = [];
  let start = 0;
  counts.forEach((n, rank) => {
    const y0 = Math.min(start * unit, H), y1 = Math.min((start + n) * unit, H);
    start += n;
    slabs.push({ rank, y0, y1, bands: rowBands(y0, y1, bandRows) });
  });
  return { slabs, bandCount: slabs.reduce((m, s) => Math.max(m, s.bands.length), 0) };
}

/**
 * `units` split over `ranks` as evenly as numpy's array_split. When every rank has a unit, the
 * extra units go to the last ranks: the last unit may be short (the canvas ends inside it), so its
 * rank is the one that can best take one more. With fewer units than ranks, the last ranks are
 * the empty ones.
 */
function evenCounts(units: number, ranks: number): number[] {
  const base = Math.floor(units / ranks), extra = units % ranks;
  return Array.from({ length: ranks }, (_, r) => base + ((base > 0 ? r >= ranks - extra : r < extra) ? 1 : 0));
}

function rowBands(y0: number, y1: number, bandRows: number): Band[] {
  const bands: Band[] = [];
  for (let b = y0; b < y1; b += bandRows) bands.push({ y0: b, y1: Math.min(b + bandRows, y1) });
  return bands;
}

/**
 * Compressed output: the chunks, row-major, split evenly over the ranks. A rank's whole chunk
 * rows are banded as usual; a chunk row it shares with a neighbour is a band of its columns,
 * after its whole rows: HDF5 writes filtered chunks collectively, one call per band on every
 * rank, so the ranks compress in step, and a partial band beside a whole one would leave a rank
 * idle. bandRows is whole chunk rows here (bandRowsOf refuses compressed output otherwise).
 */
function slabsOfChunks(canvas: Canvas, ranks: number, chunkRows: number, chunkCols: number, bandRows: number) {
  const H = canvas.height, W = canvas.width;
  const cols = Math.ceil(W / chunkCols);
  const counts = evenCounts(Math.ceil(H / chunkRows) * (W > 0 ? cols : 0), ranks);
  const slabs: SlabPlan[] = [];
  let start = 0;
  counts.forEach((n, rank) => {
    const u0 = start, u1 = (start += n);
    const bands: Band[] = [], shared: Band[] = [];
    let wholeFrom = -1; // the first chunk row of the whole rows being gathered, or -1
    const endWhole = (row: number) => {
      if (wholeFrom >= 0) bands.push(...rowBands(wholeFrom * chunkRows, Math.min(row * chunkRows, H), bandRows));
      wholeFrom = -1;
    };
    for (let row = Math.floor(u0 / cols); n > 0 && row * cols < u1; row++) {
      const c0 = Math.max(u0 - row * cols, 0), c1 = Math.min(u1 - row * cols, cols);
      if (c0 === 0 && c1 === cols) {
        if (wholeFrom < 0) wholeFrom = row;
        continue;
      }
      endWhole(row);
      shared.push({ y0: row * chunkRows, y1: Math.min((row + 1) * chunkRows, H), x0: c0 * chunkCols, x1: Math.min(c1 * chunkCols, W) });
    }
    endWhole(Math.ceil(u1 / cols));
    bands.push(...shared);
    const y0 = bands.length ? Math.min(...bands.map((b) => b.y0)) : Math.min(Math.ceil(u0 / cols) * chunkRows, H);
    slabs.push({ rank, y0, y1: bands.length ? Math.max(...bands.map((b) => b.y1)) : y0, bands });
  });
  return { slabs, bandCount: slabs.reduce((m, s) => Math.max(m, s.bands.length), 0) };
}

/** Tiles sorted by top edge, to find a band's tiles by binary search instead of a pass over all tiles. */
interface RowIndex {
  /** positions in `planned`, by y */
  byY: Int32Array;
  ys: Float64Array;
  tallest: number;
}

// Built on the first band of a tile list (lists are not changed once planned).
const rowIndexes = new WeakMap<readonly PlannedTile[], RowIndex>();

function rowIndex(planned: readonly PlannedTile[]): RowIndex {
  let index = rowIndexes.get(planned);
  if (!index) {
    const byY = sortedBy(Float64Array.from(planned, (t) => t.y), new Float64Array(planned.length));
    const ys = Float64Array.from(byY, (i) => planned[i].y);
    let tallest = 0;
    for (const t of planned) tallest = Math.max(tallest, t.height);
    rowIndexes.set(planned, (index = { byY, ys, tallest }));
  }
  return index;
}

/**
 * Tiles intersecting rows [band.y0, band.y1), in canonical order. O(log N + tiles near the band)
 * after an O(N log N) index built on the first call for `planned`.
 */
export function tilesInBand(planned: readonly PlannedTile[], band: Band): PlannedTile[] {
  const { byY, ys, tallest } = rowIndex(planned);
  // Tiles that start more than one tallest tile above the band end above it.
  let lo = 0, hi = ys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ys[mid] <= band.y0 - tallest) lo = mid + 1;
    else hi = mid;
  }
  const out: PlannedTile[] = [];
  for (let p = lo; p < ys.length && ys[p] < band.y1; p++) {
    const t = planned[byY[p]];
    if (t.y + t.height > band.y0) out.push(t);
  }
  return out.sort((a, b) => a.order - b.order);
}
