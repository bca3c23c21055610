/** What every tile source offers: the tile set's description and region reads. */
import * as fs from 'node:fs';
import { TILE_DTYPES, type Dtype, type NumericArray } from '../../core/dtype';
import type { TileSetInfo } from '../../core/plan';
import type { FileStamp, InputFingerprint } from '../../core/provenance';
import { InputError, UsageError } from '../../errors';

export interface TileSource extends TileSetInfo {
  readonly dtype: Dtype;
  /** The input's files as they were when the source was opened, and its tiles' shape and dtype. */
  readonly fingerprint: InputFingerprint;
  /**
   * Reads rows [y0,y1) × cols [x0,x1) of tile `index` into `into` (of the tiles' dtype, exactly
   * that many elements) or else into a reused buffer (valid until the next call). Every byte is
   * checked: a short or failed read, or a file that changed since the source was opened, throws
   * InputError naming the file and tile, and nothing read is returned.
   */
  readRegion(index: number, y0: number, y1: number, x0: number, x1: number, into?: NumericArray): NumericArray;
  /**
   * Where the bytes of readRegion(index, y0, y1, x0, x1) lie in a file, when they lie there just as
   * a typed array of the tiles' dtype holds them (this machine's byte order, uncompressed), for a
   * reader on another thread (plain pread: no HDF5 or other library state). Undefined when they do
   * not (or the source cannot say): read with readRegion then. The fd stays open until close().
   * Throws InputError when the file is no longer the one opened.
   */
  rawRegion?(index: number, y0: number, y1: number, x0: number, x1: number): RawRegion | undefined;
  /** Throws InputError naming the first input file whose size, time or identity changed since the source was opened. */
  checkUnchanged(): void;
  close(): void;
}

/**
 * A tile region's bytes in a file: `rows` runs of `rowBytes` bytes, `strideBytes` apart, the first
 * at byte `offset` of the open file `fd`; `what` names them for errors ("tile 17 from in.h5:/tiles").
 */
export interface RawRegion {
  fd: number;
  offset: number;
  rows: number;
  rowBytes: number;
  strideBytes: number;
  what: string;
}

export interface TileSourceOptions {
  tilesPath?: string;
  layoutPath?: string;
  positionsPath?: string;
}

/** The tiles' dtype, or a UsageError naming `where` when h5stitch does not stitch it. */
export function checkTileDtype(dtype: Dtype | null, where: string): Dtype {
  if (dtype === 'int64' || dtype === 'uint64') {
    throw new UsageError(`tiles in ${where} have dtype ${dtype}, which h5stitch does not stitch: 64-bit integers do not fit the ` +
      `floating-point blend exactly; convert them to float64 (or a 32-bit integer type)`);
  }
  if (!dtype || !TILE_DTYPES.includes(dtype)) {
    throw new UsageError(`tiles in ${where} have dtype ${dtype ?? 'unsupported'}; expected one of ${TILE_DTYPES.join(', ')}`);
  }
  return dtype;
}

/** A file as stat(2) saw it when it was opened: what later reads are checked against. */
export interface OpenedFile extends FileStamp {
  path: string;
  ino: number;
  dev: number;
}

/** Stats an input file; InputError naming it (and `what`, e.g. "tile 3") when it cannot. */
export function statInput(file: string, what: string): OpenedFile {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (error) {
    throw new InputError(`cannot read ${what} (${file}): ${(error as Error).message}`);
  }
  if (!st.isFile()) throw new InputError(`${what} (${file}) is not a regular file`);
  return { path: file, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

/** How `now` differs from the file as opened (`then`), or null when it does not. */
export function fileChange(then: OpenedFile, now: Pick<OpenedFile, 'ino' | 'dev' | 'size' | 'mtimeMs'> | null): string | null {
  if (!now) return 'it no longer exists';
  if (now.ino !== then.ino || now.dev !== then.dev) return 'it was replaced by another file';
  if (now.size !== then.size) return `its size changed from ${then.size} to ${now.size} bytes`;
  if (now.mtimeMs !== then.mtimeMs) return 'it was modified';
  return null;
}

/** Throws InputError when the file at `then.path` differs from when it was opened. */
export function checkFileUnchanged(then: OpenedFile, what: string): void {
  let now: fs.Stats | null = null; // (a local: the declaration keeps Node's types out of the .d.ts)
  try {
    now = fs.statSync(then.path);
  } catch {
    // reported as vanished below
  }
  const change = fileChange(then, now);
  if (change) throw new InputError(`${what} (${then.path}) changed during the run: ${change}`);
}

/**
 * One line from an HDF5 failure for an error message: the call that failed and the innermost
 * cause of HDF5's error stack (which the addon puts on the lines after the first).
 */
export function hdf5Cause(error: unknown): string {
  const lines = String((error as Error)?.message ?? error).split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length <= 1) return lines[0] ?? 'unknown error';
  const first = lines[0].replace(/; HDF5 error stack:$/, '');
  const innermost = lines[lines.length - 1].replace(/^#\d+\s+/, '');
  return `${first}: ${innermost}`;
}
