/**
 * The viewer extras: stitch --preview and `preview` (PNG decoded by Pillow, pixels recomputed with
 * numpy from the level they came from), verify --map (SVG parsed, PNG decoded), inspect, and their
 * refusals. Real mpirun, real files; the independent side is test/fixtures/viewer.py.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, run, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-viewer-');
const python = (...args: string[]) => {
  const r = run('/usr/bin/python3', [path.join(repoRoot, 'test', 'fixtures', 'viewer.py'), ...args], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
};
const file = (name: string) => path.join(dir, name);

beforeAll(() => {
  // 863 x 2549 uint16: the preview is 2x2 block means (432 x 1275); 946 x 946 float32: as it is.
  expect(node([stitchJs, 'generate', file('wide.h5'), '--tiles', '3x9', '--tile', '301', '--overlap', '20', '--dtype', 'uint16']).code).toBe(0);
  expect(node([stitchJs, 'generate', file('square.h5'), '--tiles', '4x4', '--tile', '256', '--overlap', '26']).code).toBe(0);
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('stitch --preview', () => {
  it('block means of a chunked, compressed output too wide for 2048 px, stretched as documented (3 ranks)', () => {
    const job = mpirun(3, [stitchJs, file('wide.h5'), '--out', file('wide-out.h5'), '--dtype', 'uint16', '--chunk', '100x128',
      '--compress', 'gzip:3', '--mem-per-rank', '1M', '--preview', file('wide.png')]);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toMatch(/^h5stitch preview: .*wide\.png \(432x1275, 2x2 block means of \/stitched; 0\.\.255 = [\d.]+\.\.[\d.]+\) in /m);
    const check = python('preview', file('wide.png'), file('wide-out.h5'), '/stitched');
    expect(check).toMatchObject({ size: [1275, 432], mode: 'L', factor: 2, maxDiff: 0 });
    expect(check.distinctValues).toBeGreaterThan(200); // stretched over the whole range, not a flat image
  });

  it('the output as it is when it fits, in the --json report (2 ranks)', () => {
    const job = mpirun(2, [stitchJs, file('square.h5'), '--out', file('square-out.h5'), '--preview', file('square.PNG'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    const report = JSON.parse(job.stdout);
    expect(report.preview).toMatchObject({ file: file('square.PNG'), source: '/stitched', layout: 'flat', factor: 1, shape: [946, 946], channel: null });
    const check = python('preview', file('square.PNG'), file('square-out.h5'), '/stitched');
    expect(check).toMatchObject({ size: [946, 946], mode: 'L', factor: 1, maxDiff: 0 });
    expect(report.preview.limits[0]).toBe(check.limits[0]);
    expect(report.preview.limits[1]).toBe(check.limits[1]);
  });
});

describe('stitch --pyramid --preview', () => {
  // 863 x 2549: level 1 (432 x 1275) is the finest that fits in 2048 px, taken as it is.
  it('default layout: the preview is /multiscale/s1, stretched as documented (2 ranks)', () => {
    const job = mpirun(2, [stitchJs, file('wide.h5'), '--out', file('wide-pyr.h5'), '--dtype', 'uint16', '--pyramid',
      '--preview', file('wide-pyr.png'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout).preview).toMatchObject({ source: '/multiscale/s1', layout: 'multiscale', factor: 1, shape: [432, 1275] });
    const check = python('preview', file('wide-pyr.png'), file('wide-pyr.h5'), '/multiscale/s1');
    expect(check).toMatchObject({ size: [1275, 432], mode: 'L', factor: 1, maxDiff: 0 });
    expect(check.distinctValues).toBeGreaterThan(200);
  });

  it('--format bdv: the preview is level 1 of the BigDataViewer layout (uint16 read as unsigned; 2 ranks)', () => {
    const job = mpirun(2, [stitchJs, file('wide.h5'), '--out', file('wide-bdv.h5'), '--dtype', 'uint16', '--format', 'bdv', '--pyramid',
      '--preview', file('wide-bdv.png'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout).preview).toMatchObject({ source: '/t00000/s00/1/cells', layout: 'bdv', factor: 1, shape: [432, 1275] });
    const check = python('preview', file('wide-bdv.png'), file('wide-bdv.h5'), '/t00000/s00/1/cells', '0', 'unsigned');
    expect(check).toMatchObject({ size: [1275, 432], mode: 'L', factor: 1, maxDiff: 0 });
    expect(check.distinctValues).toBeGreaterThan(200);
  });
});

describe('preview of an existing output', () => {
  it('takes the finest /multiscale level within 2048 px as it is', () => {
    python('pyramid', file('pyr.h5'), 'multiscale');
    const job = mpirun(2, [stitchJs, 'preview', file('pyr.h5'), '--out', file('pyr.png'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ source: '/multiscale/s1', layout: 'multiscale', sourceShape: [1050, 450], factor: 1, shape: [1050, 450] });
    expect(python('preview', file('pyr.png'), file('pyr.h5'), '/multiscale/s1')).toMatchObject({ size: [450, 1050], maxDiff: 0 });
  });

  it('reads a BigDataViewer level (uint16 stored as int16) as unsigned', () => {
    python('pyramid', file('bdv.h5'), 'bdv');
    const job = mpirun(1, [stitchJs, 'preview', file('bdv.h5'), '--out', file('bdv.png'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ source: '/t00000/s00/1/cells', layout: 'bdv', channel: 0, factor: 1, shape: [1050, 450] });
    const check = python('preview', file('bdv.png'), file('bdv.h5'), '/t00000/s00/1/cells', '0', 'unsigned');
    expect(check).toMatchObject({ size: [450, 1050], maxDiff: 0 });
    expect(check.limits[1]).toBeGreaterThan(32767); // read as int16, the bright half would be negative
  });

  it('a multi-channel [C, H, W] output: channel 0, or --channel C', () => {
    python('channels', file('channels.h5'));
    for (const channel of [0, 1]) {
      const png = file(`channel${channel}.png`);
      const job = node([stitchJs, 'preview', file('channels.h5'), '--out', png, '--json', ...(channel ? ['--channel', '1'] : [])]);
      expect(job.code, job.stderr).toBe(0);
      expect(JSON.parse(job.stdout)).toMatchObject({ source: '/stitched', channel, planes: 2, shape: [300, 500] });
      expect(node([stitchJs, 'preview', file('channels.h5'), '--out', png, '--channel', String(channel)]).stdout).toMatch(new RegExp(`\\(300x500, /stitched channel ${channel} of 2;`));
      expect(python('preview', png, file('channels.h5'), '/stitched', String(channel))).toMatchObject({ size: [500, 300], maxDiff: 0 });
    }
    const wrong = node([stitchJs, 'preview', file('channels.h5'), '--out', file('channel2.png'), '--channel', '2']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^h5stitch: error: Expected a channel 0\.\.1 for --channel but received number 2$/m);
  });
});

describe('verify --map', () => {
  beforeAll(() => {
    fs.copyFileSync(file('square-out.h5'), file('damaged.h5'));
    python('damage', file('damaged.h5'), '5', '10');
  });

  it('an SVG with the damaged tile wrong, the zeroed one missing, the rest ok, and a legend', () => {
    const job = mpirun(2, [stitchJs, 'verify', file('damaged.h5'), '--map', file('map.svg')]);
    expect(job.code).toBe(1);
    expect(job.stdout).toMatch(/^h5stitch verify: FAILED: 14\/16 tiles ok, 1 missing, 1 wrong$/m);
    expect(job.stdout).toMatch(/^h5stitch verify: tile map in .*map\.svg$/m);
    const svg = python('svg', file('map.svg'));
    expect(Object.keys(svg.tiles)).toHaveLength(16);
    expect(svg.tiles['5']).toEqual(['wrong', '#de2d26']);
    expect(svg.tiles['10']).toEqual(['missing', '#252525']);
    for (const t of Object.keys(svg.tiles).filter((k) => k !== '5' && k !== '10')) expect(svg.tiles[t]).toEqual(['ok', '#31a354']);
    expect(svg.legend).toEqual(['ok', 'missing', 'wrong']);
    expect(svg.legendText).toEqual(['ok (14)', 'missing (1)', 'wrong (1)']);
  });

  it('a PNG whose pixel inside each tile has its status colour', () => {
    const job = mpirun(2, [stitchJs, 'verify', file('damaged.h5'), '--map', file('map.png')]);
    expect(job.code).toBe(1);
    const png = python('png', file('map.png'), file('damaged.h5'), '5', '10', '0', '15');
    expect(png.mode).toBe('RGB');
    expect(png.centres).toEqual({ 5: [222, 45, 38], 10: [37, 37, 37], 0: [49, 163, 84], 15: [49, 163, 84] });
  });

  it('stitch --verify --map: a tile damaged before the in-job verify is drawn wrong (2 ranks)', () => {
    const job = mpirun(2, [stitchJs, file('square.h5'), '--out', file('sv-out.h5'), '--verify', '--map', file('sv.svg')],
      { env: { H5STITCH_TEST_HOOKS: JSON.stringify({ corruptOutput: 'slab' }) } });
    expect(job.code, job.stderr).toBe(1);
    expect(job.stdout).toMatch(/^h5stitch verify: FAILED: 15\/16 tiles ok/m);
    expect(job.stdout).toMatch(/^h5stitch verify: tile map in .*sv\.svg$/m);
    const statuses = Object.values(python('svg', file('sv.svg')).tiles).map((t) => (t as string[])[0]);
    expect(statuses.filter((t) => t === 'ok')).toHaveLength(15);
    expect(statuses.filter((t) => t === 'wrong')).toHaveLength(1);
  });

  it('an intact output: every tile ok (exit 0)', () => {
    const job = mpirun(2, [stitchJs, 'verify', file('square-out.h5'), '--map', file('ok.svg')]);
    expect(job.code, job.stderr).toBe(0);
    const svg = python('svg', file('ok.svg'));
    expect(Object.values(svg.tiles).every((s) => (s as string[])[0] === 'ok')).toBe(true);
  });
});

describe('inspect', () => {
  it('a flat output: dataset, no pyramid, provenance, complete', () => {
    const job = node([stitchJs, 'inspect', file('square-out.h5')]);
    expect(job.code, job.stderr).toBe(0);
    const lines = job.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/square-out\.h5: [\d.]+ MiB, h5stitch output, complete$/);
    expect(job.stdout).toMatch(/^ {2}\/stitched {2}946 x 946 {2}float32 {2}contiguous {2}no compression {2}3\.4 MiB on disk$/m);
    expect(job.stdout).toMatch(/^pyramid levels: none \(flat output\)$/m);
    expect(job.stdout).toMatch(/^provenance: 16 tiles of 256x256 in a 4x4 grid, overlap 26x26, blend linear$/m);
    expect(job.stdout).toMatch(/^ {2}written by h5stitch [\d.]+: strategy slab \((independent|collective) I\/O\), 2 ranks$/m);
    expect(job.stdout).toMatch(/^ {2}input: .*square\.h5 \(hdf5: tiles 16x256x256 float32 at \/tiles; 1 file fingerprinted\)$/m);
    expect(lines.length).toBeLessThanOrEqual(24); // one screen
  });

  it('a chunked gzip output, as JSON (under mpirun, printed once)', () => {
    const job = mpirun(2, [stitchJs, 'inspect', file('wide-out.h5'), '--json']);
    expect(job.code, job.stderr).toBe(0);
    const s = JSON.parse(job.stdout);
    expect(s.datasets).toEqual([expect.objectContaining({
      path: '/stitched', shape: [863, 2549], dtype: 'uint16', chunk: [100, 128], filters: [{ name: 'gzip', level: 3, values: [3] }], rawBytes: 863 * 2549 * 2,
    })]);
    expect(s.datasets[0].storedBytes).toBeGreaterThan(0);
    expect(s.datasets[0].storedBytes).toBeLessThan(s.datasets[0].rawBytes);
    expect(s.levels).toEqual({ layout: 'flat', paths: ['/stitched'] });
    expect(s.provenance).toMatchObject({ complete: true, tiles: 27, tileShape: [301, 301], grid: [3, 9], overlap: [20, 20], strategy: 'slab', io: 'collective', ranks: 3 });
    const text = node([stitchJs, 'inspect', file('wide-out.h5')]);
    expect(text.stdout).toMatch(/^ {2}\/stitched {2}863 x 2549 {2}uint16 {2}chunks 100x128 {2}gzip 3 {2}[\d.]+ MiB on disk \(\d+% of 4\.2 MiB\)$/m);
  });

  it('pyramid levels of both layouts, and a file h5stitch did not write', () => {
    const pyr = JSON.parse(node([stitchJs, 'inspect', file('pyr.h5'), '--json']).stdout);
    expect(pyr.levels).toEqual({ layout: 'multiscale', paths: ['/multiscale/s0', '/multiscale/s1', '/multiscale/s2', '/multiscale/s3'] });
    expect(pyr.provenance).toBeNull();
    // s0 is a hard link to /stitched: described once, the other path points to it.
    expect(pyr.datasets.find((d: { path: string }) => d.path === '/multiscale/s0').sameAs).toBe('/stitched');
    expect(pyr.datasets.find((d: { path: string }) => d.path === '/multiscale/s1').sameAs).toBeUndefined();
    expect(node([stitchJs, 'inspect', file('pyr.h5')]).stdout).toMatch(/^ {2}\/multiscale\/s0 {2}= \/stitched \(a hard link: the same dataset\)$/m);
    const bdv = JSON.parse(node([stitchJs, 'inspect', file('bdv.h5'), '--json']).stdout);
    expect(bdv.levels.layout).toBe('bdv');
    expect(bdv.levels.paths).toHaveLength(4);
    expect(bdv.datasets[0]).toMatchObject({ path: '/t00000/s00/0/cells', shape: [1, 2100, 900], dtype: 'int16', meantDtype: 'uint16' });
    const text = node([stitchJs, 'inspect', file('bdv.h5')]);
    expect(text.stdout).toMatch(/^pyramid levels: 4 \(BigDataViewer\): \/t00000\/s00\/0\/cells, /m);
  });
});

describe('bad arguments: one line, exit 2, nothing written', () => {
  const refused = (job: ReturnType<typeof node>, pattern: RegExp) => {
    expect(job.code).toBe(2);
    expect(job.stderr.trim().split('\n').filter((l) => l.startsWith('h5stitch'))).toHaveLength(1);
    expect(job.stderr).toMatch(pattern);
  };

  it('stitch --map without --verify, or with an unknown extension: refused before the stitch', () => {
    refused(mpirun(2, [stitchJs, file('square.h5'), '--out', file('m1.h5'), '--map', file('m1.svg')]), /^h5stitch: error: --map draws what verify found: add --verify$/m);
    refused(mpirun(2, [stitchJs, file('square.h5'), '--out', file('m2.h5'), '--verify', '--map', file('m2.gif')]),
      /^h5stitch: error: Expected a file name ending in \.svg or \.png for --map but received ".*m2\.gif"$/m);
    expect(fs.existsSync(file('m1.h5')) || fs.existsSync(file('m2.h5'))).toBe(false);
  });

  it('--preview into a directory that does not exist, or not a .png', () => {
    refused(mpirun(2, [stitchJs, file('square.h5'), '--out', file('x1.h5'), '--preview', file('nope/p.png')]),
      /^h5stitch: error: .*--preview: directory .*nope does not exist$/m);
    refused(mpirun(2, [stitchJs, file('square.h5'), '--out', file('x2.h5'), '--preview', file('p.jpg')]),
      /^h5stitch: error: Expected a file name ending in \.png for --preview but received ".*p\.jpg"$/m);
    for (const f of ['x1.h5', 'x2.h5', 'p.jpg']) expect(fs.existsSync(file(f))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('h5stitch-partial'))).toEqual([]);
  });

  it('verify --map with an unknown extension or a missing directory; preview without --out', () => {
    refused(mpirun(2, [stitchJs, 'verify', file('square-out.h5'), '--map', file('map.txt')]),
      /^h5stitch: error: .*Expected a file name ending in \.svg or \.png for --map but received ".*map\.txt"$/m);
    refused(mpirun(2, [stitchJs, 'verify', file('square-out.h5'), '--map', file('nope/map.svg')]), /--map: directory .*nope does not exist$/m);
    refused(node([stitchJs, 'preview', file('square-out.h5')]), /^h5stitch: error: missing --out FILE\.png$/m);
    refused(node([stitchJs, 'preview', file('square-out.h5'), '--out', file('q.gif')]), /Expected a file name ending in \.png for --out/);
    refused(node([stitchJs, 'inspect', file('missing.h5')]), /output .*missing\.h5 does not exist$/m);
    refused(node([stitchJs, 'info', file('square-out.h5')]), /^h5stitch: error: info takes no file .*; to see what an output holds: inspect OUT\.h5$/m);
    // An HDF5 file named .png is not replaced by its own preview.
    fs.copyFileSync(file('square-out.h5'), file('data.png'));
    refused(node([stitchJs, 'preview', file('data.png'), '--out', file('data.png')]), /--out .*data\.png is .*data\.png, the file it would be made from; choose another name$/m);
    expect(fs.readFileSync(file('data.png')).equals(fs.readFileSync(file('square-out.h5')))).toBe(true);
    for (const f of ['map.txt', 'q.gif']) expect(fs.existsSync(file(f))).toBe(false);
  });
});
