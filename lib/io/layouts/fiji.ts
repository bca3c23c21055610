/**
 * Fiji's Grid/Collection stitching tile configuration (TileConfiguration.txt and the
 * TileConfiguration.registered.txt it writes after registration):
 *
 *   # Define the number of dimensions we are working on
 *   dim = 2
 *   # Define the image coordinates
 *   tile_00.tif; ; (0.0, 0.0)
 *   tile_01.tif; ; (921.6, -2.5)
 *
 * Read with the rules of Fiji's own reader (Stitching_Grid.getLayoutFromFile): lines are trimmed;
 * lines starting with '#' or of 3 characters or fewer are skipped; `dim = n` comes before the
 * first tile; a tile line is `file; image; (x, y)` with exactly dim coordinates. The middle field
 * (an open ImageJ image, or a series number in multi-series files) is not used here.
 * Pure: no file access.
 */
import { UsageError } from '../../errors';

export interface ListedTile {
  /** As written in the file (relative to the file's directory unless absolute). */
  file: string;
  /** Pixels, as in the file (may be fractional and negative). */
  x: number;
  y: number;
  /** 1-based line in the file, for messages. */
  line: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Splits text into lines whatever the line endings (\n, \r\n, \r), without a leading BOM. */
export function textLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
}

export function parseTileConfiguration(text: string, where: string): ListedTile[] {
  const tiles: ListedTile[] = [];
  let dim = -1;
  textLines(text).forEach((raw, i) => {
    const line = raw.trim();
    const at = `${where} line ${i + 1}`;
    if (line.startsWith('#') || line.length <= 3) return;
    if (line.startsWith('dim')) {
      const parts = line.split('=');
      if (parts.length !== 2 || !/^\d+$/.test(parts[1].trim())) throw new UsageError(`${at}: expected "dim = 2" but found "${line}"`);
      dim = Number(parts[1].trim());
      if (dim !== 2) throw new UsageError(`${at}: dim = ${dim}; h5stitch stitches 2-D tiles only (dim = 2)`);
      return;
    }
    if (/^multiseries\s*=/.test(line)) throw new UsageError(`${at}: multi-series files (${line}) are not supported; list one image file per tile`);
    if (dim < 0) throw new UsageError(`${at}: the "dim = 2" header must come before the first tile, found "${line}"`);
    const entries = line.split(';');
    if (entries.length !== 3) throw new UsageError(`${at}: expected "file; ; (x, y)" (3 fields separated by ';') but found "${line}"`);
    const file = entries[0].trim();
    if (!file) throw new UsageError(`${at}: no file name (tiles given as open ImageJ images cannot be read here)`);
    const point = entries[2].trim();
    if (!point.startsWith('(') || !point.endsWith(')')) throw new UsageError(`${at}: expected coordinates "(x, y)" but found "${point}"`);
    const coords = point.slice(1, -1).split(',').map((s) => s.trim());
    if (coords.length !== dim || !coords.every((c) => NUMBER.test(c))) {
      throw new UsageError(`${at}: expected ${dim} numbers "(x, y)" but found "${point}"`);
    }
    tiles.push({ file, x: Number(coords[0]), y: Number(coords[1]), line: i + 1 });
  });
  if (dim < 0) throw new UsageError(`${where}: no "dim = 2" line; not a Fiji tile configuration`);
  if (tiles.length === 0) throw new UsageError(`${where}: lists no tiles`);
  return tiles;
}

/** Whether text looks like a Fiji tile configuration (a `dim =` line among the first lines). */
export function looksLikeTileConfiguration(head: string): boolean {
  return textLines(head).some((l) => /^\s*dim\s*=\s*\d+\s*$/.test(l));
}
