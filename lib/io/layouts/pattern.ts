/**
 * Tile sets named by a file-name pattern: `raw/tile_r{row}_c{col}.tif`. Fields {row}, {col},
 * {index} (and {channel}, refused for now) stand for decimal numbers, zero-padded or not. With
 * {row} and {col}, the grid spans the smallest to the largest row and column found and every cell
 * must have its file; tiles are numbered row by row. With {index} alone the tiles are the numbers
 * from the smallest found to the largest, all present, tile k being smallest + k; the placement
 * then comes from --layout. Fields may appear in the file name only, not in directories.
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

/** The tiles `names` (one directory's file names) hold for `pattern`; UsageError naming the first missing files. */
export function matchPattern(pattern: string, names: readonly string[]): PatternTiles {
  const compiled = compilePattern(pattern);
  if (compiled.fields.includes('channel')) {
    throw new UsageError(`tile pattern ${pattern}: {channel} (multi-channel input) is not supported yet; stitch one channel at a time with a pattern naming it`);
  }
  const matches = names.map((n) => compiled.regex.exec(n)).filter((m): m is RegExpExecArray => m !== null);
  if (matches.length === 0) throw new UsageError(`tile pattern ${pattern}: no file matches in ${compiled.dir || '.'}`);
  const valueOf = (m: RegExpExecArray, f: PatternField) => m[compiled.fields.indexOf(f) + 1];
  const format = (values: Partial<Record<PatternField, number>>, widths: Partial<Record<PatternField, number>>) =>
    compiled.name.replace(/\{(\w+)\}/g, (_, f: PatternField) => String(values[f]).padStart(widths[f] ?? 0, '0'));
  const missingError = (missing: string[]) => {
    const shown = missing.slice(0, 5).join(', ');
    return new UsageError(`tile pattern ${pattern}: ${missing.length} file${missing.length > 1 ? 's' : ''} missing in ${compiled.dir || '.'}: ${shown}${missing.length > 5 ? ', ...' : ''}`);
  };
  if (compiled.fields.includes('row')) {
    const byCell = new Map<string, string>();
    for (const m of matches) {
      const key = `${Number(valueOf(m, 'row'))},${Number(valueOf(m, 'col'))}`;
      if (byCell.has(key)) throw new UsageError(`tile pattern ${pattern}: ${byCell.get(key)} and ${m[0]} are both row ${key.replace(',', ' col ')}`);
      byCell.set(key, m[0]);
    }
    const rows = matches.map((m) => Number(valueOf(m, 'row'))), cols = matches.map((m) => Number(valueOf(m, 'col')));
    const r0 = Math.min(...rows), r1 = Math.max(...rows), c0 = Math.min(...cols), c1 = Math.max(...cols);
    const widths = { row: widthOf(matches.map((m) => valueOf(m, 'row'))), col: widthOf(matches.map((m) => valueOf(m, 'col'))) };
    const files: string[] = [], cells: Array<[number, number]> = [], missing: string[] = [];
    const layout = Array.from({ length: r1 - r0 + 1 }, (_, r) => Array.from({ length: c1 - c0 + 1 }, (_, c) => {
      const file = byCell.get(`${r + r0},${c + c0}`);
      if (file === undefined) {
        missing.push(format({ row: r + r0, col: c + c0 }, widths));
        return -1;
      }
      files.push(file);
      cells.push([r, c]);
      return files.length - 1;
    }));
    if (missing.length > 0) throw missingError(missing);
    return { files, layout, cells };
  }
  const byIndex = new Map<number, string>();
  for (const m of matches) {
    const index = Number(valueOf(m, 'index'));
    if (byIndex.has(index)) throw new UsageError(`tile pattern ${pattern}: ${byIndex.get(index)} and ${m[0]} are both index ${index}`);
    byIndex.set(index, m[0]);
  }
  const indices = [...byIndex.keys()];
  const i0 = Math.min(...indices), i1 = Math.max(...indices);
  const width = widthOf(matches.map((m) => valueOf(m, 'index')));
  const files: string[] = [], missing: string[] = [];
  for (let i = i0; i <= i1; i++) {
    const file = byIndex.get(i);
    if (file === undefined) missing.push(format({ index: i }, { index: width }));
    else files.push(file);
  }
  if (missing.length > 0) throw missingError(missing);
  return { files };
}
