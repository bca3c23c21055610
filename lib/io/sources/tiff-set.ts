/**
 * Microscope tile sets of TIFF files, recognised from INPUT itself:
 *  - a file-name pattern (INPUT contains '{'): `raw/tile_r{row}_c{col}.tif` (see layouts/pattern.ts);
 *  - a Fiji tile configuration (TileConfiguration.txt, TileConfiguration.registered.txt);
 *  - a MIST global positions file (global-positions-<t>.txt).
 * File names in a position file are relative to the position file's directory. Positions in these
 * files are (x, y); h5stitch's are (y, x), rounded to whole pixels (Math.round).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../errors';
import { native } from '../../runtime/addon';
import { looksLikeTileConfiguration, parseTileConfiguration, type ListedTile } from '../layouts/fiji';
import { looksLikeMistPositions, parseMistPositions } from '../layouts/mist';
import { isPattern, matchPattern } from '../layouts/pattern';
import type { TileSource } from './source';
import { openTiffTiles, type TiffTileSet } from './tiff';

/** How many bytes of a text file are enough to tell its format. */
const HEAD_BYTES = 16 * 1024;

/** The tile set INPUT describes, or undefined when INPUT is none of these (an HDF5 file, a .npy directory). */
export function describeTiffSet(input: string): TiffTileSet | undefined {
  if (isPattern(input)) return fromPattern(input);
  if (!fs.existsSync(input) || !fs.statSync(input).isFile()) return undefined;
  if (/\.tiff?$/i.test(input)) {
    throw new UsageError(`input ${input} is a single TIFF; give the tiles as a file-name pattern ('raw/tile_r{row}_c{col}.tif') or a position file (TileConfiguration.txt, global-positions-0.txt)`);
  }
  const head = readHead(input);
  if (head === undefined) return undefined;
  if (looksLikeTileConfiguration(head)) return fromListed(input, parseTileConfiguration(readText(input), input), 'Fiji tile configuration');
  if (looksLikeMistPositions(head)) return fromListed(input, parseMistPositions(readText(input), input), 'MIST positions file');
  // No NUL byte: a text file, so not HDF5 either.
  throw new UsageError(`input ${input} is not an HDF5 file but text, and neither a Fiji tile configuration (no "dim = 2" line) nor a MIST positions file (no "file: NAME; ... position: (x, y);" line)`);
}

/** Opens INPUT as a TIFF tile set when it describes one; undefined otherwise. */
export function openTiffSet(input: string): TileSource | undefined {
  const set = describeTiffSet(input);
  if (!set) return undefined;
  const mpi = native().mpi;
  // Under MPI, each rank checks a share of the headers (the caller agrees on failures).
  const share: [number, number] = mpi.state() === 'running' ? [mpi.rank(), mpi.size()] : [0, 1];
  return openTiffTiles(set, share);
}

function readHead(file: string): string | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const n = fs.readSync(fd, buffer, 0, HEAD_BYTES, 0);
    // Binary files (HDF5, TIFF) hold NUL bytes early on; text position files do not.
    if (buffer.subarray(0, n).includes(0)) return undefined;
    return buffer.toString('utf8', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function fromPattern(pattern: string): TiffTileSet {
  const slash = Math.max(pattern.lastIndexOf('/'), pattern.lastIndexOf('\\'));
  const dir = slash >= 0 ? pattern.slice(0, slash) || '/' : '.';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    throw new UsageError(`tile pattern ${pattern}: cannot list directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const tiles = matchPattern(pattern, names);
  const join = (names: string[]) => names.map((n) => path.join(dir, n));
  return {
    files: join(tiles.files), channelFiles: tiles.channels?.files.map(join), layout: tiles.layout, describedBy: `tile pattern ${pattern}`,
  };
}

function fromListed(positionFile: string, tiles: ListedTile[], kind: string): TiffTileSet {
  const dir = path.dirname(positionFile);
  const seen = new Map<string, number>();
  const files = tiles.map((t) => {
    const file = path.resolve(dir, t.file);
    const earlier = seen.get(file);
    if (earlier !== undefined) throw new UsageError(`${positionFile} line ${t.line}: ${t.file} is already listed on line ${earlier}`);
    seen.set(file, t.line);
    return file;
  });
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((f) => path.relative(dir, f)).join(', ');
    throw new UsageError(`${kind} ${positionFile}: ${missing.length} tile file${missing.length > 1 ? 's' : ''} missing in ${dir}: ${shown}${missing.length > 5 ? ', ...' : ''}`);
  }
  // (x, y) in the file, (y, x) here; sub-pixel positions are rounded to whole pixels.
  const positions = tiles.map((t): [number, number] => [Math.round(t.y), Math.round(t.x)]);
  return { files, positions, describedBy: `${kind} ${positionFile}` };
}
