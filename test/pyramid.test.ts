/**
 * stitch --pyramid / --levels / --format bdv under real mpirun: every level equals the 2x2 block
 * mean of the level below as stored, recomputed by numpy (test/fixtures/pyramid_check.py, Debian's
 * python3-h5py), at 1-4 ranks, float32 and uint16, odd sizes, chunked and gzip-compressed; the
 * levels are bit-identical for any rank count and transfer; verify names a damaged level; the
 * BigDataViewer layout and XML are checked field by field against what bigdataviewer-core reads;
 * h5ls/h5dump read both layouts; strategies that write tiles are refused.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mpirun, node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const checker = path.join(repoRoot, 'test', 'fixtures', 'pyramid_check.py');
const h5read = path.join(repoRoot, 'test', 'fixtures', 'h5read.js');
const dir = tempDir('h5stitch-pyramid-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ok(job: JobResult, what: string): JobResult {
  expect(job.code, `${what} exited ${job.code} (${job.signal})\n${job.stdout}\n${job.stderr}`).toBe(0);
  return job;
}

interface Level {
  path: string; shape: number[]; storedDtype: string; dtype: string; chunks: number[] | null; compression: string | null;
  attrs: Record<string, unknown>; sha256: string; mismatched?: number; firstBad?: number[] | null;
}
interface Checked {
  format: 'hdf5' | 'bdv'; levels: Level[];
  s0IsStitched?: boolean; multiscaleAttrs?: Record<string, unknown>; stitchedShape?: number[];
  s00Attrs?: Record<string, unknown>; resolutions?: { dtype: string; value: number[][] }; subdivisions?: { dtype: string; value: number[][] };
  hasStitched?: boolean; xml?: Record<string, unknown> & { setup: Record<string, unknown> };
}

function check(file: string): Checked {
  return JSON.parse(ok(run('/usr/bin/python3', [checker, file]), `pyramid_check ${file}`).stdout) as Checked;
}

/** Every level k >= 1 is the block mean of level k-1 (numpy's verdict). */
function expectBlockMeans(c: Checked): void {
  for (const level of c.levels.slice(1)) expect({ path: level.path, mismatched: level.mismatched }).toEqual({ path: level.path, mismatched: 0 });
}

const digests = (c: Checked) => c.levels.map((l) => l.sha256);

// 3x4 tiles of 101x93, overlap 17: a 269x321 canvas (odd both ways), 5 levels down to 17x21.
const float32Tiles = path.join(dir, 'f32.h5');
const uint16Tiles = path.join(dir, 'u16.h5');
const TILES = ['--tiles', '3x4', '--tile', '101x93', '--overlap', '17'];

beforeAll(() => {
  const python = run('/usr/bin/python3', ['-c', 'import h5py, numpy']);
  if (python.code !== 0) throw new Error(`python3-h5py missing (apt-get install -y python3-h5py-mpi): ${python.stderr.trim().split('\n').pop()}`);
  ok(node([stitchJs, 'generate', float32Tiles, ...TILES]), 'generate float32');
  ok(node([stitchJs, 'generate', uint16Tiles, ...TILES, '--dtype', 'uint16']), 'generate uint16');
});

describe.each([
  { dtype: 'float32', tiles: () => float32Tiles, extra: [] as string[] },
  { dtype: 'uint16', tiles: () => uint16Tiles, extra: ['--chunk', '20x30', '--compress', 'gzip'] },
])('$dtype pyramid, 5 levels $extra', ({ dtype, tiles, extra }) => {
  const outs: Record<string, Checked> = {};
  const variants: Array<[string, number, string[]]> = [
    ['1 rank', 1, []], ['2 ranks', 2, []], ['3 ranks', 3, []], ['4 ranks', 4, []],
    ...(extra.length === 0 ? [
      // Levels in whole-row chunks follow the canvas's independent writes ...
      ['2 ranks independent, small bands', 2, ['--io', 'independent', '--mem-per-rank', '6K']],
      // ... narrower chunks are written collectively under an independent canvas.
      ['3 ranks independent, chunked', 3, ['--io', 'independent', '--chunk', '32x40', '--mem-per-rank', '8K']],
    ] as Array<[string, number, string[]]> : []),
    ...(extra.length === 0 ? [['3 ranks, pipeline off', 3, ['--pipeline', 'off']] as [string, number, string[]]] : []),
  ];

  it.each(variants)('%s: each level is the block mean of the one below', (name, ranks, more) => {
    const out = path.join(dir, `${dtype}-${name.replace(/[^a-z0-9]+/gi, '-')}.h5`);
    ok(mpirun(ranks, [stitchJs, tiles(), '--out', out, '--dtype', dtype, '--levels', '5', ...extra, ...more, '--verify']), `stitch ${name}`);
    const c = check(out);
    expect(c.levels.map((l) => l.shape)).toEqual([[269, 321], [135, 161], [68, 81], [34, 41], [17, 21]]);
    expect(c.levels.every((l) => l.dtype === dtype && l.storedDtype === dtype)).toBe(true);
    expectBlockMeans(c);
    if (extra.length > 0) {
      // Level chunks: no taller than the level-0 chunk and tiling a slab unit; gzip on every level.
      expect(c.levels.map((l) => l.chunks)).toEqual([[20, 30], [20, 30], [20, 30], [10, 41], [5, 21]]);
      expect(c.levels.every((l) => l.compression === 'gzip')).toBe(true);
    } else if (!more.includes('--chunk')) {
      expect(c.levels[0].chunks).toBeNull(); // /stitched stays as it was (contiguous)
      // Levels in chunks of whole rows, as tall as the slab unit allows.
      expect(c.levels.slice(1).map((l) => l.chunks)).toEqual([[128, 161], [64, 81], [32, 41], [16, 21]]);
    } else {
      expect(c.levels.map((l) => l.chunks)).toEqual([[32, 40], [16, 80], [8, 81], [4, 41], [2, 21]]);
    }
    outs[name] = c;
  });

  it('bit-identical levels for any rank count, transfer and pipeline', () => {
    const names = Object.keys(outs);
    expect(names.length).toBe(variants.length);
    for (const name of names) expect(digests(outs[name]), name).toEqual(digests(outs[names[0]]));
  });
});

describe('default layout', () => {
  const flat = path.join(dir, 'flat.h5');
  const pyr = path.join(dir, 'pyr.h5');
  beforeAll(() => {
    ok(mpirun(2, [stitchJs, uint16Tiles, '--out', flat, '--dtype', 'uint16']), 'flat stitch');
    ok(mpirun(2, [stitchJs, uint16Tiles, '--out', pyr, '--dtype', 'uint16', '--pyramid', '--voxel-size', '0.65', '--voxel-unit', 'um']), 'pyramid stitch');
  });

  it('/stitched unchanged, s0 a hard link to it, N5-viewer attributes, levels in provenance', () => {
    const same = JSON.parse(ok(node([h5read, 'compare', flat, pyr]), 'compare').stdout);
    expect(same[0].identical).toBe(true);
    const c = check(pyr);
    // 269x321 fits in 512 px: --pyramid alone makes level 0 only.
    expect(c.levels.length).toBe(1);
    expect(c.s0IsStitched).toBe(true);
    expect(c.multiscaleAttrs).toEqual({ multiScale: 'true' });
    expect(c.levels[0].attrs.downsamplingFactors).toEqual({ dtype: 'int64', value: [1, 1] });
    expect(JSON.parse(c.levels[0].attrs.pixelResolution as string)).toEqual({ unit: 'um', dimensions: [0.65, 0.65] });
    const levels5 = check(path.join(dir, 'uint16-2-ranks.h5'));
    levels5.levels.forEach((l, k) => expect(l.attrs.downsamplingFactors).toEqual({ dtype: 'int64', value: [2 ** k, 2 ** k] }));
    // The hard link costs no second copy of the canvas.
    expect(fs.statSync(pyr).size).toBeLessThan(fs.statSync(flat).size * 1.05);
    const summary = JSON.parse(ok(node([h5read, 'summary', `${pyr}:/multiscale/s0`]), 'summary').stdout);
    expect(summary.shape).toEqual([269, 321]);
  });

  it('--pyramid counts levels until the coarsest fits in 512 px', () => {
    const tiles = path.join(dir, 'wide.h5');
    ok(node([stitchJs, 'generate', tiles, '--tiles', '2x6', '--tile', '120x200', '--overlap', '10']), 'generate wide');
    const out = path.join(dir, 'wide-out.h5');
    ok(mpirun(2, [stitchJs, tiles, '--out', out, '--pyramid']), 'stitch wide');
    const c = check(out);
    // 230 x 1150: 1150 -> 575 -> 288 (fits)
    expect(c.levels.map((l) => l.shape)).toEqual([[230, 1150], [115, 575], [58, 288]]);
    expectBlockMeans(c);
  });

  it('h5ls and h5dump read it', () => {
    const ls = ok(run('h5ls', ['-r', pyr]), 'h5ls').stdout;
    expect(ls).toMatch(/\/stitched\s+Dataset, same as \/multiscale\/s0|\/multiscale\/s0\s+Dataset, same as \/stitched/);
    const u = path.join(dir, 'uint16-2-ranks.h5');
    const dump = ok(run('h5dump', ['-d', '/multiscale/s4', u]), 'h5dump').stdout;
    expect(dump).toMatch(/DATASPACE\s+SIMPLE \{ \( 17, 21 \)/);
    ok(run('h5dump', ['-A', u]), 'h5dump -A');
  });
});

describe('verify checks the levels', () => {
  it('names the first wrong level, pixel and values, exit 1; the intact file passes', () => {
    const good = path.join(dir, 'uint16-2-ranks.h5');
    expect(ok(mpirun(2, [stitchJs, 'verify', good]), 'verify intact').stdout).toMatch(/OK: 12\/12 tiles ok.*4\/4 pyramid levels ok/);
    const bad = path.join(dir, 'damaged.h5');
    fs.copyFileSync(good, bad);
    ok(run('/usr/bin/python3', ['-c', `import h5py\nf = h5py.File(${JSON.stringify(bad)}, 'r+')\nd = f['multiscale/s2']\nd[31, 7] = d[31, 7] + 3\nf.close()`]), 'damage');
    const job = mpirun(3, [stitchJs, 'verify', bad]);
    expect(job.code, job.stderr).toBe(1);
    // The first level line names the damaged level (level 3, made from the undamaged level 2, may differ from it too).
    const levelLines = job.stdout.split('\n').filter((l) => l.startsWith('level '));
    expect(levelLines[0]).toMatch(/^level 2 \(\/multiscale\/s2\): wrong: 1 pixels differ from the 2x2 mean of level 1; first at y=31, x=7 \(\d+ stored, \d+ expected\)$/);
    expect(job.stdout).toMatch(/FAILED: 12\/12 tiles ok, 0 missing, 0 wrong; [23]\/4 pyramid levels ok/);
  });
});

describe('--format bdv', () => {
  const u16 = path.join(dir, 'bdv-u16.h5');
  const f32 = path.join(dir, 'bdv-f32.h5');
  beforeAll(() => {
    ok(mpirun(3, [stitchJs, uint16Tiles, '--out', u16, '--dtype', 'uint16', '--format', 'bdv', '--levels', '4', '--chunk', '64x48',
      '--voxel-size', '0.65,0.7', '--voxel-unit', 'um']), 'bdv uint16');
    ok(mpirun(2, [stitchJs, float32Tiles, '--out', f32, '--format', 'bdv', '--levels', '3', '--verify']), 'bdv float32');
  });

  it('has the BigDataViewer HDF5 layout: cells [1, h, w] chunked by subdivisions, tables in x, y, z order', () => {
    const c = check(u16);
    expect(c.format).toBe('bdv');
    expect(c.hasStitched).toBe(false);
    expect(c.levels.map((l) => l.path)).toEqual([0, 1, 2, 3].map((k) => `/t00000/s00/${k}/cells`));
    expect(c.levels.map((l) => l.shape)).toEqual([[1, 269, 321], [1, 135, 161], [1, 68, 81], [1, 34, 41]]);
    // uint16 is stored as int16 bits with no dataType attribute (bigdataviewer-core's legacy
    // layout, which Hdf5ImageLoader reads with H5T_NATIVE_INT16 as unsigned).
    expect(c.levels.every((l) => l.storedDtype === 'int16' && l.dtype === 'uint16')).toBe(true);
    expect(c.s00Attrs).toEqual({});
    expect(c.resolutions).toEqual({ dtype: 'float64', value: [[1, 1, 1], [2, 2, 1], [4, 4, 1], [8, 8, 1]] });
    expect(c.subdivisions?.dtype).toBe('int32');
    expect(c.subdivisions?.value).toEqual([[48, 64, 1], [96, 32, 1], [81, 16, 1], [41, 8, 1]]);
    c.levels.forEach((l, k) => expect(l.chunks).toEqual([1, c.subdivisions!.value[k][1], c.subdivisions!.value[k][0]]));
    expectBlockMeans(c);
    // The same pixels as the default layout's levels.
    const hdf5 = check(path.join(dir, 'uint16-2-ranks.h5'));
    expect(digests(c)).toEqual(digests(hdf5).slice(0, 4));
    const f = check(f32);
    expect(f.s00Attrs).toEqual({ dataType: 'float32' });
    expect(f.levels.every((l) => l.storedDtype === 'float32')).toBe(true);
    expect(f.levels[0].chunks).toEqual([1, 256, 256]);
    expectBlockMeans(f);
  });

  it('writes the SpimData XML beside it, field by field', () => {
    const x = check(u16).xml!;
    expect(x.root).toBe('SpimData');
    expect(x.version).toBe('0.2');
    expect(x.children).toEqual(['BasePath', 'SequenceDescription', 'ViewRegistrations']);
    expect(x.sequenceChildren).toEqual(['ImageLoader', 'ViewSetups', 'Timepoints']);
    expect(x.basePath).toEqual(['relative', '.']);
    expect(x.loaderFormat).toBe('bdv.hdf5');
    expect(x.hdf5).toEqual(['relative', 'bdv-u16.h5']);
    expect(x.setup).toEqual({ id: '0', name: 'stitched', size: '321 269 1', voxelSize: { unit: 'um', size: '0.65 0.7 1.0' } });
    expect(x.timepoints).toEqual(['range', '0', '0']);
    expect(x.registration).toEqual(['0', '0', 'affine', '1.0 0.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 0.0 1.0 0.0']);
    expect(check(f32).xml!.setup.voxelSize).toEqual({ unit: 'pixel', size: '1.0 1.0 1.0' });
  });

  it('verify checks bdv outputs (tiles and levels); h5ls and h5dump read them', () => {
    expect(ok(mpirun(2, [stitchJs, 'verify', u16]), 'verify bdv').stdout).toMatch(/OK: 12\/12 tiles ok.*3\/3 pyramid levels ok/);
    expect(ok(run('h5ls', ['-r', u16]), 'h5ls').stdout).toMatch(/\/t00000\/s00\/3\/cells\s+Dataset \{1, 34, 41\}/);
    const dump = ok(run('h5dump', ['-d', '/s00/resolutions', u16]), 'h5dump').stdout;
    expect(dump).toMatch(/H5T_IEEE_F64LE/);
  });

  it('refuses an existing XML without --force', () => {
    const again = path.join(dir, 'bdv-again.h5');
    fs.writeFileSync(again.replace(/\.h5$/, '.xml'), 'not mine');
    const job = mpirun(1, [stitchJs, uint16Tiles, '--out', again, '--format', 'bdv']);
    expect(job.code).toBe(2);
    expect(job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'))).toEqual([expect.stringMatching(/^h5stitch: error: .*bdv-again\.xml exists .*--force/)]);
    expect(fs.existsSync(again)).toBe(false);
  });
});

describe('refusals', () => {
  it.each([
    [['--pyramid', '--strategy', 'rounds'], /^h5stitch: error: --pyramid is written by --strategy slab only \(rounds writes tiles, not whole rows\)/],
    [['--levels', '3', '--strategy', 'serial'], /^h5stitch: error: --pyramid is written by --strategy slab only \(serial writes tiles/],
    [['--format', 'bdv', '--strategy', 'rounds'], /^h5stitch: error: --format bdv is written by --strategy slab only/],
    [['--levels', '12'], /^h5stitch: error: (rank 0: )?--levels 12 is more than the 269x321 canvas has: .*use --levels 10 or fewer/],
    [['--levels', '0'], /^h5stitch: error: Expected an integer >= 1 for --levels but received "0"/],
    [['--format', 'zarr'], /^h5stitch: error: Expected one of hdf5 \| bdv for --format but received/],
    [['--voxel-size', '0'], /^h5stitch: error: Expected a positive pixel size X or X,Y for --voxel-size but received "0"/],
  ])('%j: one line, exit 2, no output', (args, message) => {
    const out = path.join(dir, 'refused.h5');
    // Two ranks for the refusals every rank makes alike, one for the rest (seconds each).
    const job = mpirun(args.includes('--strategy') || args.includes('12') ? 2 : 1, [stitchJs, uint16Tiles, '--out', out, ...args]);
    expect(job.code, job.stdout + job.stderr).toBe(2);
    const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  });
});
