/**
 * MIST's global positions file (global-positions-<t>.txt, one line per tile that exists):
 *
 *   file: img_r001_c001.tif; corr: 0.8913; position: (0, 0); grid: (0, 0);
 *
 * as MIST writes it (Stitching.outputAbsolutePositions: "file: NAME; corr: C; position: (x, y);
 * grid: (col, row);") and reads it back (key: value pairs each ending in ';', keys file, corr,
 * position, grid; positions are integers). corr is not used (MIST writes it with the machine's
 * locale, e.g. "0,8913"). Blank lines and lines starting with '#' are skipped. Pure: no file access.
 */
import { UsageError } from '../../errors';
import { textLines, type ListedTile } from './fiji';

export interface MistTile extends ListedTile {
  gridRow?: number;
  gridCol?: number;
}

const PAIR = /\s*([A-Za-z]+):\s*(\([^)]*\)|[^;]*?)\s*;/y;

function intPair(value: string, at: string, key: string, names: string): [number, number] {
  const m = /^\(\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\)$/.exec(value);
  if (!m) throw new UsageError(`${at}: expected ${key}: (${names}) as two integers but found "${value}"`);
  return [Number(m[1]), Number(m[2])];
}

export function parseMistPositions(text: string, where: string): MistTile[] {
  const tiles: MistTile[] = [];
  textLines(text).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `${where} line ${i + 1}`;
    const fields = new Map<string, string>();
    PAIR.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (PAIR.lastIndex < line.length && (m = PAIR.exec(line))) {
      if (!['file', 'corr', 'position', 'grid'].includes(m[1])) throw new UsageError(`${at}: unknown key "${m[1]}" (expected file, corr, position, grid)`);
      fields.set(m[1], m[2]);
    }
    if (PAIR.lastIndex < line.length) {
      throw new UsageError(`${at}: expected "file: NAME; corr: C; position: (x, y); grid: (col, row);" but found "${line}"`);
    }
    const file = fields.get('file');
    const position = fields.get('position');
    if (!file) throw new UsageError(`${at}: no "file: NAME;" field`);
    if (position === undefined) throw new UsageError(`${at}: no "position: (x, y);" field`);
    const [x, y] = intPair(position, at, 'position', 'x, y');
    const tile: MistTile = { file, x, y, line: i + 1 };
    const grid = fields.get('grid');
    if (grid !== undefined) [tile.gridCol, tile.gridRow] = intPair(grid, at, 'grid', 'col, row');
    tiles.push(tile);
  });
  if (tiles.length === 0) throw new UsageError(`${where}: lists no tiles`);
  return tiles;
}

/** Whether text looks like a MIST positions file (a line starting with "file: ... position:"). */
export function looksLikeMistPositions(head: string): boolean {
  return textLines(head).some((l) => /^\s*file:\s*[^;]+;.*position:\s*\(/.test(l));
}
