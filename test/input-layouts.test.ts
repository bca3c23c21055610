// Parsers of the microscope position files and file-name patterns, alone (no files, no MPI).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors';
import { parseTileConfiguration } from '../lib/io/layouts/fiji';
import { parseMistPositions } from '../lib/io/layouts/mist';
import { compilePattern, matchPattern } from '../lib/io/layouts/pattern';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('Fiji TileConfiguration', () => {
  // As Fiji's Stitching_Grid.writeRegisteredTileConfiguration writes it (floats, negative after registration).
  const registered = [
    '# Define the number of dimensions we are working on',
    'dim = 2',
    '',
    '# Define the image coordinates',
    'tile_1.tif; ; (0.0, 0.0)',
    'tile_2.tif; ; (921.6073, -3.2421875)',
    'sub/tile 3.tif;;(-2.5,1840.5)',
  ];

  it('reads files and (x, y) positions, with \\n and \\r\\n line endings and a BOM', () => {
    for (const text of [registered.join('\n'), `\uFEFF${registered.join('\r\n')}\r\n`, registered.join('\r')]) {
      expect(parseTileConfiguration(text, 'T.txt')).toEqual([
        { file: 'tile_1.tif', x: 0, y: 0, line: 5 },
        { file: 'tile_2.tif', x: 921.6073, y: -3.2421875, line: 6 },
        { file: 'sub/tile 3.tif', x: -2.5, y: 1840.5, line: 7 },
      ]);
    }
  });

  it('ignores the middle field (series or ImageJ image) when a file is named', () => {
    expect(parseTileConfiguration('dim = 2\na.tif; 3; (1, 2)\n', 'T.txt')[0]).toMatchObject({ file: 'a.tif', x: 1, y: 2 });
  });

  it('refuses bad files with the line number', () => {
    expect(usage(() => parseTileConfiguration('dim = 2\na.tif; ; (1, 2)\nb.tif; (3, 4)\n', 'T.txt'))).toMatch(/^T\.txt line 3: expected "file; ; \(x, y\)"/);
    expect(usage(() => parseTileConfiguration('dim = 2\na.tif; ; (1, x)\n', 'T.txt'))).toMatch(/^T\.txt line 2: expected 2 numbers/);
    expect(usage(() => parseTileConfiguration('dim = 2\na.tif; ; 1, 2\n', 'T.txt'))).toMatch(/line 2: expected coordinates/);
    expect(usage(() => parseTileConfiguration('# x\na.tif; ; (1, 2)\n', 'T.txt'))).toMatch(/line 2: the "dim = 2" header must come before/);
    expect(usage(() => parseTileConfiguration('dim = 3\na.tif; ; (1, 2, 3)\n', 'T.txt'))).toMatch(/line 1: dim = 3; h5stitch stitches 2-D tiles only/);
    expect(usage(() => parseTileConfiguration('dim = 2\nmultiseries = true\n', 'T.txt'))).toMatch(/line 2: multi-series/);
    expect(usage(() => parseTileConfiguration('dim = 2\n ; img; (1, 2)\n', 'T.txt'))).toMatch(/line 2: no file name/);
    expect(usage(() => parseTileConfiguration('# only comments\n', 'T.txt'))).toMatch(/no "dim = 2" line/);
    expect(usage(() => parseTileConfiguration('dim = 2\r\n', 'T.txt'))).toMatch(/lists no tiles/);
  });
});

describe('MIST global positions', () => {
  // As MIST's Stitching.outputAbsolutePositions writes it; corr in a comma-decimal locale.
  const text = [
    'file: img_r001_c001.tif; corr: -1.0000000000; position: (0, 0); grid: (0, 0);',
    'file: img_r001_c002.tif; corr: 0,9123456789; position: (1003, -4); grid: (1, 0);',
    '',
    'file: img_r002_c001.tif; corr: 0.87; position: (2, 998); grid: (0, 1);',
  ];

  it('reads file, (x, y) position and (col, row) grid, whatever the line endings', () => {
    for (const t of [text.join('\n'), `${text.join('\r\n')}\r\n`]) {
      expect(parseMistPositions(t, 'g.txt')).toEqual([
        { file: 'img_r001_c001.tif', x: 0, y: 0, gridCol: 0, gridRow: 0, line: 1 },
        { file: 'img_r001_c002.tif', x: 1003, y: -4, gridCol: 1, gridRow: 0, line: 2 },
        { file: 'img_r002_c001.tif', x: 2, y: 998, gridCol: 0, gridRow: 1, line: 4 },
      ]);
    }
  });

  it('skips # comments and refuses bad lines with the line number', () => {
    expect(parseMistPositions('# from MIST\nfile: a.tif; position: (1, 2);\n', 'g.txt')).toHaveLength(1);
    expect(usage(() => parseMistPositions(`${text[0]}\nfile: b.tif; corr: 1; position: (1.5, 2); grid: (0, 1);\n`, 'g.txt'))).toMatch(/^g\.txt line 2: expected position: \(x, y\) as two integers/);
    expect(usage(() => parseMistPositions('file: b.tif; corr: 1; grid: (0, 1);\n', 'g.txt'))).toMatch(/line 1: no "position/);
    expect(usage(() => parseMistPositions('file: b.tif; where: here; position: (0, 1);\n', 'g.txt'))).toMatch(/line 1: unknown key "where"/);
    expect(usage(() => parseMistPositions('file: b.tif position: (0, 1)\n', 'g.txt'))).toMatch(/line 1: expected "file: NAME;/);
  });
});

describe('file-name patterns', () => {
  it('finds the grid from zero-padded numbers and numbers tiles row by row', () => {
    const names = ['tile_r01_c00.tif', 'tile_r00_c01.tif', 'tile_r00_c00.tif', 'tile_r01_c01.tif', 'notes.txt', 'tile_r00_c00.tif.bak'];
    expect(matchPattern('raw/tile_r{row}_c{col}.tif', names)).toEqual({
      files: ['tile_r00_c00.tif', 'tile_r00_c01.tif', 'tile_r01_c00.tif', 'tile_r01_c01.tif'],
      layout: [[0, 1], [2, 3]],
      cells: [[0, 0], [0, 1], [1, 0], [1, 1]],
    });
  });

  it('starts the grid at the smallest row and column found (1-based names)', () => {
    expect(matchPattern('{col}-{row}.tif', ['1-1.tif', '2-1.tif']).layout).toEqual([[0, 1]]);
  });

  it('names the first missing files in one line, padded like the others', () => {
    const names = ['t_r00_c00.tif', 't_r02_c03.tif'];
    const message = usage(() => matchPattern('raw/t_r{row}_c{col}.tif', names));
    expect(message).toBe('tile pattern raw/t_r{row}_c{col}.tif: 10 files missing in raw: t_r00_c01.tif, t_r00_c02.tif, t_r00_c03.tif, t_r01_c00.tif, t_r01_c01.tif, ...');
  });

  it('takes {index} in order from the smallest, all present', () => {
    expect(matchPattern('img_{index}.tif', ['img_3.tif', 'img_2.tif', 'img_4.tif']).files).toEqual(['img_2.tif', 'img_3.tif', 'img_4.tif']);
    expect(usage(() => matchPattern('img_{index}.tif', ['img_001.tif', 'img_004.tif']))).toMatch(/2 files missing in \.: img_002\.tif, img_003\.tif$/);
  });

  it('gives each {channel} found the same tiles, channels in ascending order', () => {
    const names = ['t_0_0_ch2.tif', 't_0_1_ch2.tif', 't_0_0_ch10.tif', 't_0_1_ch10.tif'];
    expect(matchPattern('t_{row}_{col}_ch{channel}.tif', names)).toEqual({
      files: ['t_0_0_ch2.tif', 't_0_1_ch2.tif'], layout: [[0, 1]], cells: [[0, 0], [0, 1]],
      channels: { values: [2, 10], files: [['t_0_0_ch2.tif', 't_0_1_ch2.tif'], ['t_0_0_ch10.tif', 't_0_1_ch10.tif']] },
    });
    expect(usage(() => matchPattern('t_{row}_{col}_ch{channel}.tif', names.slice(0, 3)))).toMatch(/: 1 file missing in \.: t_0_1_ch10\.tif$/);
  });

  it('refuses what it cannot read', () => {
    expect(usage(() => compilePattern('raw/{row}/x_{col}.tif'))).toMatch(/file name only/);
    expect(usage(() => compilePattern('x_{z}.tif'))).toMatch(/unknown field \{z\}/);
    expect(usage(() => compilePattern('x_{row}.tif'))).toMatch(/give both \{row\} and \{col\}/);
    expect(usage(() => compilePattern('x_{row}_{row}_{col}.tif'))).toMatch(/\{row\} appears twice/);
    expect(usage(() => matchPattern('x_{row}_{col}.tif', ['y.tif']))).toMatch(/no file matches/);
    expect(usage(() => matchPattern('x_{row}_{col}.tif', ['x_1_1.tif', 'x_01_1.tif']))).toMatch(/are both row 1 col 1/);
  });
});
