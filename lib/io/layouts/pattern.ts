/**
 * Tile sets named by a file-name pattern: `raw/tile_r{row}_c{col}.tif`. Fields {row}, {col},
 * {index} and {channel} stand for decimal numbers, zero-padded or not. With
 * {row} and {col}, the grid spans the smallest to the largest row and column found and every cell
 * must have its file; tiles are numbered row by row. With {index} alone the tiles are the numbers
 * from the smallest found to the largest, all present, tile k being smallest + k; the placement
 * then comes from --layout. With {channel}, channel k is the k-th smallest number found, and
 * every channel must have every tile. Fields may appear in the file name only, not in directories.
 * Pure: matches a pattern against a directory's names.
 */
import { UsageError } from '../../errors';

export type PatternField = 'row' | 'col' | 'index' | 'channel';
const FIELDS: readonly PatternField[] = ['row', 'col', 'index', 'channel'];

export interface CompiledPattern {
  /** Directory part (no fields), '' when the pattern is a bare file name. */
  dir: string;
  /** File-name part. */
  name: string;
  /** Fields in the order they appear. */
  fields: PatternField[];
  regex: RegExp;
}

export interface PatternTiles {
  /** File names (within `dir`), by tile index. */
  files: string[];
  /** Grid of tile indices (row, col patterns). */
  layout?: number[][];
  /** Grid cell of each tile (row, col patterns). */
  cells?: Array<[number, number]>;
  /** With {channel}: the channel numbers found (ascending) and each one's files by tile index. */
  channels?: { values: number[]; files: string[][] };
}

export function isPattern(input: string): boolean {
  return input.includes('{');
}

export function compilePattern(pattern: string): CompiledPattern {
  const slash = Math.max(pattern.lastIndexOf('/'), pattern.lastIndexOf('\\'));
  const dir = slash >= 0 ? pattern.slice(0, slash) : '';
  const name = pattern.slice(slash + 1);
  if (dir.includes('{')) throw new UsageError(`tile pattern ${pattern}: fields such as {row} may appear in the file name only, not in directories`);
  const fields: PatternField[] = [];
  let source = '^';
  let rest = name;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      source += escape(rest);
      break;
    }
    source += escape(rest.slice(0, open));
    const close = rest.indexOf('}', open);
    const field = close < 0 ? undefined : rest.slice(open + 1, close);
    if (field === undefined || !FIELDS.includes(field as PatternField)) {
      throw new UsageError(`tile pattern ${pattern}: unknown field ${close < 0 ? rest.slice(open) : `{${field}}`}; expected {row}, {col}, {index} or {channel}`);
    }
    if (fields.includes(field as PatternField)) throw new UsageError(`tile pattern ${pattern}: {${field}} appears twice`);
    fields.push(field as PatternField);
    source += '(\\d+)';
    rest = rest.slice(close + 1);
  }
  const grid = fields.includes('row') || fields.includes('col');
  if (grid && !(fields.includes('row') && fields.includes('col'))) throw new UsageError(`tile pattern ${pattern}: give both {row} and {col}`);
  if (!grid && !fields.includes('index')) throw new UsageError(`tile pattern ${pattern}: needs {row} and {col}, or {index}`);
  return { dir, name, fields, regex: new RegExp(`${source}$`) };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How a field's numbers are written: zero-padded to `width` when any found number has a leading zero. */
function widthOf(found: string[]): number {
  return found.some((s) => s.length > 1 && s.startsWith('0')) ? Math.max(...found.map((s) => s.length)) : 0;
}

/**
 * The tiles `names` (one directory's file names) hold for `pattern`; UsageError naming the first
 * missing files. With {channel}, every channel found must have every tile.
 */
export function matchPattern(pattern: string, names: readonly string[]): PatternTiles {
  const compiled = compilePattern(pattern);
  const matches = names.map((n) => compiled.regex.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  if (matches.length === 0) throw new UsageError(`tile pattern ${pattern}: no file matches in ${compiled.dir || '.'}`);
  const has = (f: PatternField) => compiled.fields.includes(f);
  const text = (m: RegExpExecArray, f: PatternField) => m[compiled.fields.indexOf(f) + 1];
  const num = (m: RegExpExecArray, f: PatternField) => (has(f) ? Number(text(m, f)) : 0);
  const widths: Partial<Record<PatternField, number>> = {};
  for (const f of compiled.fields) widths[f] = widthOf(matches.map((m) => text(m, f)));
  const format = (values: Partial<Record<PatternField, number>>) =>
    compiled.name.replace(/\{(\w+)\}/g, (_, f: PatternField) => String(values[f]).padStart(widths[f] ?? 0, '0'));
  const channels = [...new Set(matches.map((m) => num(m, 'channel')))].sort((a, b) => a - b);
  const grid = has('row');
  // Tile position key: "row,col" or "index"; every channel must hold every key between the extremes.
  const keyOf = (m: RegExpExecArray) => (grid ? `${num(m, 'row')},${num(m, 'col')}` : `${num(m, 'index')}`);
  const byKey = new Map<string, string>();
  for (const m of matches) {
    const key = `${num(m, 'channel')}:${keyOf(m)}`;
    const other = byKey.get(key);
    if (other !== undefined) {
      const where = grid ? `row ${num(m, 'row')} col ${num(m, 'col')}` : `index ${num(m, 'index')}`;
      throw new UsageError(`tile pattern ${pattern}: ${other} and ${m[0]} are both ${where}${has('channel') ? ` of channel ${num(m, 'channel')}` : ''}`);
    }
    byKey.set(key, m[0]);
  }
  const range = (f: PatternField) => {
    const values = matches.map((m) => num(m, f));
    return [values.reduce((a, b) => Math.min(a, b)), values.reduce((a, b) => Math.max(a, b))];
  };
  // Tile positions in tile-index order: row by row, or by index.
  const positions: Array<Partial<Record<PatternField, number>>> = [];
  let layout: number[][] | undefined, cells: Array<[number, number]> | undefined;
  if (grid) {
    const [r0, r1] = range('row'), [c0, c1] = range('col');
    cells = [];
    layout = [];
    for (let r = r0; r <= r1; r++) {
      const row: number[] = [];
      for (let c = c0; c <= c1; c++) {
        row.push(positions.length);
        positions.push({ row: r, col: c });
        cells.push([r - r0, c - c0]);
      }
      layout.push(row);
    }
  } else {
    const [i0, i1] = range('index');
    for (let i = i0; i <= i1; i++) positions.push({ index: i });
  }
  const missing: string[] = [];
  const channelFiles = channels.map((channel) => positions.map((p) => {
    const file = byKey.get(`${channel}:${grid ? `${p.row},${p.col}` : `${p.index}`}`);
    if (file === undefined) missing.push(format({ ...p, channel }));
    return file ?? '';
  }));
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    throw new UsageError(`tile pattern ${pattern}: ${missing.length} file${missing.length > 1 ? 's' : ''} missing in ${compiled.dir || '.'}: ${shown}${missing.length > 5 ? ', ...' : ''}`);
  }
  const result: PatternTiles = { files: channelFiles[0] };
  if (layout) Object.assign(result, { layout, cells });
  if (has('channel')) result.channels = { values: channels, files: channelFiles };
  return result;
}
