// TIFF tiles written by writers h5stitch did not write (tifffile; Pillow's LZW and packbits, through
// libtiff; the JDK's javax.imageio LZW, an encoder independent of the libtiff h5stitch reads with),
// stitched through a file-name pattern, a Fiji TileConfiguration.txt and a MIST positions file:
// the result must be bit-identical to stitching the same tiles from HDF5.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newArray } from '../lib/core/dtype';
import { native } from '../lib/runtime/addon';
import { openFile, readAll } from '../lib/runtime/hdf5';
import { openTileSource } from '../lib/io/sources';
import { mpirun, node, repoRoot, run, stitchJs } from './helpers/mpirun';

const writeTiffs = path.join(repoRoot, 'test', 'fixtures', 'write_tiffs.py');
let dir: string;

function sh(command: string, args: string[], cwd?: string) {
  const r = run(command, args, { cwd });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r;
}

function stitched(file: string): ArrayLike<number> {
  const f = openFile(file, { mode: 'r' });
  try {
    const ds = f.openDataset('/stitched');
    try {
      return readAll(ds) as Float32Array;
    } finally {
      ds.close();
    }
  } finally {
    f.close();
  }
}

function expectSame(a: string, b: string): void {
  const x = stitched(a), y = stitched(b);
  expect(y.length).toBe(x.length);
  let differ = 0;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differ++;
  expect(differ, `${b} differs from ${a} in ${differ} pixels`).toBe(0);
}

/** An HDF5 tile set, its reference stitches (grid and explicit positions), and its tiles as TIFFs from `writer`. */
function tileSet(name: string, dtype: string, writer: string): { h5: string; grid: string; positions: string; tiffs: string } {
  const h5 = path.join(dir, `${name}.h5`);
  if (!fs.existsSync(h5)) {
    sh(process.execPath, [stitchJs, 'generate', h5, '--tiles', '3x4', '--tile', '40x56', '--overlap', '6', '--dtype', dtype]);
  }
  const tiffs = path.join(dir, `${name}-${writer}`);
  sh('/usr/bin/python3', [writeTiffs, h5, tiffs, writer]);
  const grid = path.join(dir, `${name}-grid.h5`), positions = path.join(dir, `${name}-positions.h5`);
  if (!fs.existsSync(grid)) {
    expect(mpirun(2, [stitchJs, h5, '--out', grid]).code).toBe(0);
    expect(mpirun(2, [stitchJs, h5, '--positions', '/positions', '--out', positions]).code).toBe(0);
  }
  return { h5, grid, positions, tiffs };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5stitch-tiff-'));
  const python = run('/usr/bin/python3', ['-c', 'import tifffile, PIL, h5py']);
  if (python.code !== 0) throw new Error(`python3-tifffile / python3-pil / python3-h5py missing (apt-get install -y python3-tifffile python3-pil python3-h5py-mpi): ${python.stderr.trim().split('\n').pop()}`);
  const java = run('javac', ['-version']);
  if (java.code !== 0) throw new Error('java missing: the JDK writes the libtiff-independent LZW tiles (apt-get install -y openjdk-17-jdk-headless)');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('TIFF tiles stitch bit-identically to the same tiles in HDF5', () => {
  const cases: Array<[string, string, 'pattern' | 'fiji' | 'mist']> = [
    ['uint16', 'strips-deflate', 'pattern'],
    ['uint16', 'lzw', 'fiji'],
    ['uint16', 'packbits', 'mist'],
    ['float32', 'tiled-deflate-bigtiff', 'pattern'],
    ['float32', 'lzw', 'mist'],
    ['float32', 'none', 'fiji'],
    ['uint16', 'lzw-java', 'pattern'],
    ['float32', 'lzw-java-tiled', 'fiji'],
  ];
  for (const [dtype, writer, described] of cases) {
    it(`${dtype}, ${writer}, through ${described === 'pattern' ? 'a file-name pattern' : described === 'fiji' ? 'TileConfiguration.txt' : 'a MIST positions file'}`, () => {
      const set = tileSet(dtype, dtype, writer);
      const out = path.join(dir, `${dtype}-${writer}.h5`);
      const input = described === 'pattern' ? path.join(set.tiffs, 'tile_r{row}_c{col}.tif')
        : path.join(set.tiffs, described === 'fiji' ? 'TileConfiguration.txt' : 'global-positions-0.txt');
      const job = mpirun(2, [stitchJs, input, '--out', out, ...(described === 'pattern' ? ['--overlap', '6'] : [])]);
      expect(job.code, job.stderr).toBe(0);
      expectSame(described === 'pattern' ? set.grid : set.positions, out);
    });
  }

  it('the microscope commands of README.md and docs/inputs.md, run as written in a folder with raw/ and dist/', () => {
    const set = tileSet('uint16', 'uint16', 'strips-deflate');
    const work = path.join(dir, 'as-written');
    fs.mkdirSync(work, { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'dist'), path.join(work, 'dist'));
    fs.cpSync(set.tiffs, path.join(work, 'raw'), { recursive: true });
    // The shell lines of a doc that stitch or verify raw/TileConfiguration.txt's output (comments dropped).
    const commands = (doc: string) => fs.readFileSync(path.join(repoRoot, doc), 'utf8').split('\n')
      .filter((l) => /^mpirun .*(raw\/TileConfiguration\.txt|verify big\.h5)/.test(l)).map((l) => l.replace(/\s+#.*$/, ''));
    const readme = commands('README.md'), inputs = commands('docs/inputs.md');
    expect(readme).toEqual(['mpirun -n 4 node dist/stitch.js raw/TileConfiguration.txt --out big.h5 --verify']);
    expect(inputs.slice(0, 2)).toEqual(['mpirun -n 4 node dist/stitch.js raw/TileConfiguration.txt --out big.h5', 'mpirun -n 4 node dist/stitch.js verify big.h5']);
    // The docs' stitch is the README's without --verify: run the README's, then the docs' verify.
    expect(`${inputs[0]} --verify`).toBe(readme[0]);
    for (const command of [readme[0], inputs[1]]) {
      const job = run('sh', ['-c', command], { cwd: work, timeoutMs: 120_000 });
      expect(job.code, `${command}: ${job.stderr}`).toBe(0);
      expect(job.stdout, command).toMatch(command.endsWith('--out big.h5') ? /stitched 12 tiles into .*big\.h5:\/stitched/ : /verify: OK: 12\/12 tiles ok/);
      expectSame(set.positions, path.join(work, 'big.h5'));
    }
  });

  it('an {index} pattern (1-based, zero-padded) placed by --layout', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const indexed = path.join(dir, 'indexed');
    fs.mkdirSync(indexed, { recursive: true });
    const names = fs.readdirSync(set.tiffs).filter((n) => n.endsWith('.tif')).sort();
    names.forEach((n, i) => fs.copyFileSync(path.join(set.tiffs, n), path.join(indexed, `img_${String(i + 1).padStart(3, '0')}.tif`)));
    const layout = path.join(dir, 'layout.json');
    fs.writeFileSync(layout, JSON.stringify([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]));
    const out = path.join(dir, 'indexed.h5');
    const job = mpirun(2, [stitchJs, path.join(indexed, 'img_{index}.tif'), '--layout', layout, '--overlap', '6', '--out', out]);
    expect(job.code, job.stderr).toBe(0);
    expectSame(set.grid, out);
  });

  it('reads any region the same as the HDF5 tiles (tiled pages, regions across tile edges)', () => {
    const set = tileSet('float32', 'float32', 'tiled-deflate-bigtiff');
    const tiff = openTileSource(path.join(set.tiffs, 'tile_r{row}_c{col}.tif'));
    const h5 = openTileSource(set.h5);
    try {
      for (const [index, y0, y1, x0, x1] of [[0, 0, 40, 0, 56], [5, 15, 17, 31, 33], [11, 1, 39, 3, 50], [7, 39, 40, 55, 56]]) {
        const a = Array.from(tiff.readRegion(index, y0, y1, x0, x1) as Float32Array);
        expect(a).toEqual(Array.from(h5.readRegion(index, y0, y1, x0, x1) as Float32Array));
      }
    } finally {
      tiff.close();
      h5.close();
    }
  });
});

describe('TIFF element types, read natively', () => {
  it('int8, uint8, int16, uint16, int32, uint32, float32, float64: the bytes tifffile wrote, big- and little-endian, deflate and uncompressed', () => {
    const out = path.join(dir, 'dtypes');
    const script = [
      'import sys, numpy as np, tifffile',
      'out = sys.argv[1]',
      "for name in ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64']:",
      '    a = (np.arange(23 * 37).reshape(23, 37) * 7919 % 251 - 120).astype(name)',
      "    for order, suffix in (('<', ''), ('>', '-be')):",
      "        tifffile.imwrite(f'{out}/{name}{suffix}.tif', a, byteorder=order, rowsperstrip=4, compression='zlib')",
      "        tifffile.imwrite(f'{out}/{name}{suffix}-raw.tif', a, byteorder=order, rowsperstrip=4)",
      "    open(f'{out}/{name}.bin', 'wb').write(a.tobytes())",
    ].join('\n');
    fs.mkdirSync(out, { recursive: true });
    sh('/usr/bin/python3', ['-c', script, out]);
    for (const name of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const) {
      const expected = fs.readFileSync(path.join(out, `${name}.bin`));
      const size = expected.length / (23 * 37);
      for (const file of [`${name}.tif`, `${name}-be.tif`, `${name}-raw.tif`, `${name}-be-raw.tif`]) {
        const tiff = new (native().TiffFile)(path.join(out, file));
        expect(tiff.pages[0].dtype, file).toBe(name);
        // The whole page, whole rows 6-17, and rows 5-17 of columns 3-30.
        const got = tiff.readRegion(0, 0, 23, 0, 37, newArray(name, 23 * 37));
        const rows = tiff.readRegion(0, 6, 17, 0, 37, newArray(name, 11 * 37));
        const part = tiff.readRegion(0, 5, 17, 3, 30, newArray(name, 12 * 27));
        tiff.close();
        const bytes = (a: typeof got) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
        expect(bytes(got).equals(expected), file).toBe(true);
        expect(bytes(rows).equals(expected.subarray(6 * 37 * size, 17 * 37 * size)), `${file} rows 6-17`).toBe(true);
        const wanted = Buffer.concat(Array.from({ length: 12 }, (_, r) => expected.subarray(((5 + r) * 37 + 3) * size, ((5 + r) * 37 + 30) * size)));
        expect(bytes(part).equals(wanted), `${file} part`).toBe(true);
      }
    }
  });
});

/** Adds `delta` to one pixel of an output dataset (h5py: a writer other than h5stitch). */
function damagePixel(file: string, dataset: string, at: number[], delta: number): void {
  sh('/usr/bin/python3', ['-c', `import h5py, sys\nwith h5py.File(sys.argv[1], 'r+') as f: f[sys.argv[2]][${at.join(', ')}] += ${delta}`, file, dataset]);
}

describe('multi-channel TIFF input: [C, H, W] or a dataset per channel, each channel stitched like its own HDF5 set, every channel verified', () => {
  for (const [writer, pattern] of [['multipage', 'tile_r{row}_c{col}.tif'], ['channels', 'tile_r{row}_c{col}_ch{channel}.tif']]) {
    it(writer === 'multipage' ? 'pages of multi-page TIFFs, as [C, H, W]' : 'a {channel} pattern, as [C, H, W]', () => {
      const set = tileSet('uint16', 'uint16', writer);
      const channel1 = path.join(dir, `channel1-${writer}.h5`);
      expect(mpirun(2, [stitchJs, path.join(set.tiffs, 'channel1.h5'), '--out', channel1]).code).toBe(0);
      const out = path.join(dir, `${writer}.h5`);
      const job = mpirun(2, [stitchJs, path.join(set.tiffs, pattern), '--overlap', '6', '--out', out, '--verify']);
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toMatch(/stitched 12 tiles into .* \(2 channels of 108x206 float32,/);
      expect(job.stdout).toMatch(/verify: OK: 24\/24 tiles ok/);
      const planes = stitched(out), one = stitched(set.grid).length;
      expect(planes.length).toBe(2 * one);
      if (writer === 'multipage') {
        // Compressed, 7 x 4 chunks over 3 ranks (9, 9 and 10): chunk rows shared by two ranks, in each plane.
        const gz = path.join(dir, `${writer}-gzip.h5`);
        const zipped = mpirun(3, [stitchJs, path.join(set.tiffs, pattern), '--overlap', '6', '--out', gz, '--chunk', '16x64', '--compress', 'gzip']);
        expect(zipped.code, zipped.stderr).toBe(0);
        expect(Buffer.from((stitched(gz) as Float32Array).buffer).equals(Buffer.from((planes as Float32Array).buffer))).toBe(true);
      }
      for (const [c, ref] of [[0, set.grid], [1, channel1]] as const) {
        const expected = stitched(ref);
        let differ = 0;
        for (let i = 0; i < one; i++) if (!Object.is(planes[c * one + i], expected[i])) differ++;
        expect(differ, `channel ${c}`).toBe(0);
      }
      const verify = mpirun(2, [stitchJs, 'verify', out]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/verify: OK: 24\/24 tiles ok \(2 channels of 12 tiles\)/);
      // One pixel of channel 1, inside tile 5 only (row 1, col 1: y 34..74, x 50..106).
      damagePixel(out, 'stitched', [1, 50, 80], 7);
      const damaged = mpirun(2, [stitchJs, 'verify', out]);
      expect(damaged.code, damaged.stderr).toBe(1);
      expect(damaged.stdout).toMatch(/^channel 1 tile 5: wrong \(1 pixels differ; worst \|error\| 7\.000 at y=50, x=80\)$/m);
      expect(damaged.stdout).toMatch(/verify: FAILED: 23\/24 tiles ok \(2 channels of 12 tiles\), 0 missing, 1 wrong/);
    });
  }

  it('--channels-as datasets: /stitched/c0 and /stitched/c1, each the single-channel stitch, verified together or one by one', () => {
    const set = tileSet('uint16', 'uint16', 'channels');
    const channel1 = path.join(dir, 'channel1-channels.h5');
    if (!fs.existsSync(channel1)) expect(mpirun(2, [stitchJs, path.join(set.tiffs, 'channel1.h5'), '--out', channel1]).code).toBe(0);
    const out = path.join(dir, 'datasets.h5');
    const job = mpirun(2, [stitchJs, path.join(set.tiffs, 'tile_r{row}_c{col}_ch{channel}.tif'), '--overlap', '6', '--out', out, '--channels-as', 'datasets']);
    expect(job.code, job.stderr).toBe(0);
    for (const [c, ref] of [[0, set.grid], [1, channel1]] as const) {
      const f = openFile(out, { mode: 'r' });
      try {
        const ds = f.openDataset(`/stitched/c${c}`);
        expect(ds.shape).toEqual([108, 206]);
        expect(ds.getAttr('channel')).toBe(c);
        expect(ds.getAttr('complete')).toBe(1);
        const got = readAll(ds) as Float32Array, expected = stitched(ref);
        let differ = 0;
        for (let i = 0; i < expected.length; i++) if (!Object.is(got[i], expected[i])) differ++;
        expect(differ, `channel ${c}`).toBe(0);
        ds.close();
      } finally {
        f.close();
      }
    }
    let verify = mpirun(2, [stitchJs, 'verify', out]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/verify: OK: 24\/24 tiles ok \(2 channels of 12 tiles\)/);
    damagePixel(out, 'stitched/c1', [50, 80], -3);
    verify = mpirun(2, [stitchJs, 'verify', out]);
    expect(verify.code, verify.stderr).toBe(1);
    expect(verify.stdout).toMatch(/^channel 1 tile 5: wrong \(1 pixels differ; worst \|error\| 3\.000 at y=50, x=80\)$/m);
    verify = mpirun(2, [stitchJs, 'verify', `${out}:/stitched/c0`]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/verify: OK: 12\/12 tiles ok \(1 channel of 12 tiles\)/);
    verify = mpirun(2, [stitchJs, 'verify', `${out}:/stitched/c1`]);
    expect(verify.code, verify.stderr).toBe(1);
    expect(verify.stdout).toMatch(/^channel 1 tile 5: wrong/m);
    // Against an input of one channel: refused by name, not compared with the wrong tiles.
    verify = mpirun(2, [stitchJs, 'verify', out, '--input', set.h5]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toMatch(/^h5stitch: error: rank 0: .*datasets\.h5:\/stitched has 2 channels but the input has 1 channel$/m);
  });

  it('--strategy rounds (and serial) are refused with channels, exit 2', () => {
    const set = tileSet('uint16', 'uint16', 'multipage');
    const input = path.join(set.tiffs, 'tile_r{row}_c{col}.tif');
    for (const strategy of ['rounds', 'serial']) {
      const job = node([stitchJs, input, '--overlap', '6', '--strategy', strategy, '--out', path.join(dir, 'r.h5')]);
      expect(job.code).toBe(2);
      expect(job.stderr.trim().split('\n')).toHaveLength(1);
      expect(job.stderr).toMatch(new RegExp(`multi-channel input \\(2 channels\\) is stitched with --strategy slab only, not ${strategy}`));
    }
    const datasets = node([stitchJs, set.h5, '--channels-as', 'datasets', '--strategy', 'rounds', '--out', path.join(dir, 'r.h5')]);
    expect(datasets.code).toBe(2);
    expect(datasets.stderr).toMatch(/--channels-as datasets is written with --strategy slab only, not rounds/);
    const bad = node([stitchJs, input, '--overlap', '6', '--channels-as', 'pages', '--out', path.join(dir, 'r.h5')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Expected one of planes \| datasets for --channels-as but received "pages"/);
    expect(fs.existsSync(path.join(dir, 'r.h5'))).toBe(false);
  });
});

describe('TIFF inputs refused or failing, in one line', () => {
  it('missing tiles are listed, exit 2, nothing written', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const holes = path.join(dir, 'holes');
    fs.cpSync(set.tiffs, holes, { recursive: true });
    fs.rmSync(path.join(holes, 'tile_r01_c02.tif'));
    const out = path.join(dir, 'holes.h5');
    for (const input of ['tile_r{row}_c{col}.tif', 'TileConfiguration.txt', 'global-positions-0.txt']) {
      const job = node([stitchJs, path.join(holes, input), '--overlap', '6', '--out', out]);
      expect(job.code, job.stderr).toBe(2);
      expect(job.stderr.trim().split('\n')).toHaveLength(1);
      expect(job.stderr).toMatch(/1 (tile )?file missing in .*holes: tile_r01_c02\.tif/);
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a tile of another shape, or not a TIFF, is named whichever rank checks it, exit 2, nothing written', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const odd = path.join(dir, 'odd');
    fs.cpSync(set.tiffs, odd, { recursive: true });
    // Tile 6: rank 1 of 2 checks its header (ranks check every other file after the first).
    sh('/usr/bin/python3', ['-c', `import numpy, tifffile; tifffile.imwrite(${JSON.stringify(path.join(odd, 'tile_r01_c02.tif'))}, numpy.zeros((40, 50), numpy.uint16))`]);
    const out = path.join(dir, 'odd.h5');
    let job = mpirun(2, [stitchJs, path.join(odd, 'TileConfiguration.txt'), '--out', out]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toMatch(/^h5stitch: error: rank 1: tiles have different shapes: the first is 40x56 but .*odd\/tile_r01_c02\.tif is 40x50$/m);
    fs.writeFileSync(path.join(odd, 'tile_r01_c02.tif'), 'not a tiff');
    job = mpirun(2, [stitchJs, path.join(odd, 'TileConfiguration.txt'), '--out', out]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toMatch(/^h5stitch: error: rank 1: TIFF .*odd\/tile_r01_c02\.tif: cannot open: .*(Not a TIFF|Cannot read TIFF header)/m);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('many missing tiles: the count and the first five names, in one line, exit 2', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const holes = path.join(dir, 'many-holes');
    fs.cpSync(set.tiffs, holes, { recursive: true });
    for (const name of fs.readdirSync(holes).filter((n) => /^tile_r0[01]_c0\d\.tif$/.test(n))) fs.rmSync(path.join(holes, name));
    const job = node([stitchJs, path.join(holes, 'TileConfiguration.txt'), '--out', path.join(dir, 'holes.h5')]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr.trim().split('\n')).toHaveLength(1);
    expect(job.stderr).toMatch(/: 8 tile files missing in .*many-holes: tile_r00_c00\.tif, tile_r00_c01\.tif, tile_r00_c02\.tif, tile_r00_c03\.tif, tile_r01_c00\.tif, \.\.\.$/m);
  });

  it('a tile of another dtype, or a truncated TIFF, is named at open, exit 2, nothing written', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const odd = path.join(dir, 'odd-dtype');
    fs.cpSync(set.tiffs, odd, { recursive: true });
    sh('/usr/bin/python3', ['-c', `import numpy, tifffile; tifffile.imwrite(${JSON.stringify(path.join(odd, 'tile_r01_c02.tif'))}, numpy.zeros((40, 56), numpy.float32))`]);
    const out = path.join(dir, 'odd.h5');
    let job = mpirun(2, [stitchJs, path.join(odd, 'TileConfiguration.txt'), '--out', out]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toMatch(/^h5stitch: error: rank 1: tiles have different dtypes: the first is uint16 but .*odd-dtype\/tile_r01_c02\.tif is float32$/m);
    // A copy cut short: header and IFD intact (tifffile writes them first), the last strips gone.
    const whole = fs.readFileSync(path.join(set.tiffs, 'tile_r01_c02.tif'));
    fs.writeFileSync(path.join(odd, 'tile_r01_c02.tif'), whole.subarray(0, whole.length - 1000));
    job = mpirun(2, [stitchJs, path.join(odd, 'TileConfiguration.txt'), '--out', out]);
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toMatch(/^h5stitch: error: rank 1: TIFF .*odd-dtype\/tile_r01_c02\.tif: page 0 strip \d+ ends at byte \d+ but the file has \d+ bytes \(truncated\?\)$/m);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a position file with a bad line names the line, exit 2', () => {
    const set = tileSet('uint16', 'uint16', 'none');
    const config = path.join(set.tiffs, 'Bad.txt');
    fs.writeFileSync(config, 'dim = 2\r\ntile_r00_c00.tif; ; (0.0, 0.0)\r\ntile_r00_c01.tif; ; (50.0 0.0)\r\n');
    const job = node([stitchJs, config, '--out', path.join(dir, 'bad.h5')]);
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/Bad\.txt line 3: expected 2 numbers "\(x, y\)" but found "\(50\.0 0\.0\)"/);
    // MIST, Windows line endings: the line number counts \r\n lines.
    const mist = path.join(set.tiffs, 'global-positions-9.txt');
    fs.writeFileSync(mist, 'file: tile_r00_c00.tif; corr: 0,91; position: (0, 0); grid: (0, 0);\r\n\r\nfile: tile_r00_c01.tif; corr: 0,90; position: (50, 0) grid: (1, 0);\r\n');
    const bad = node([stitchJs, mist, '--out', path.join(dir, 'bad.h5')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^h5stitch: error: rank 0: .*global-positions-9\.txt line 3: expected position: \(x, y\) as two integers but found "\(50, 0\) grid: \(1, 0\)"$/);
    const notes = path.join(set.tiffs, 'notes.txt');
    fs.writeFileSync(notes, 'tile_r00_c00.tif at 0, 0\n');
    const text = node([stitchJs, notes, '--out', path.join(dir, 'bad.h5')]);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/notes\.txt is not an HDF5 file but text, and neither a Fiji tile configuration .* nor a MIST positions file/);
  });

  it('a damaged compressed strip ends the job naming the tile and file, exit 2, no output left', () => {
    const set = tileSet('uint16', 'uint16', 'strips-deflate');
    const broken = path.join(dir, 'broken');
    fs.cpSync(set.tiffs, broken, { recursive: true });
    const victim = path.join(broken, 'tile_r01_c01.tif');
    const bytes = fs.readFileSync(victim);
    // tifffile writes the IFD first and the compressed strips last: damage the last strips' data.
    bytes.fill(0x5a, bytes.length - 600, bytes.length - 100);
    fs.writeFileSync(victim, bytes);
    const out = path.join(dir, 'broken.h5');
    const job = mpirun(2, [stitchJs, path.join(broken, 'tile_r{row}_c{col}.tif'), '--overlap', '6', '--out', out]);
    // Agreed by the ranks at the next band (an input failure: exit 2, one line from rank 0).
    expect(job.code, job.stderr).toBe(2);
    expect(job.stderr).toMatch(/^h5stitch: error: rank \d: cannot read tile 5 \(.*broken\/tile_r01_c01\.tif\): TIFF .*broken\/tile_r01_c01\.tif: page 0 strip \d+: ZIPDecode: Decoding error/m);
    // libtiff's own messages go into that line, never to stderr.
    expect(job.stderr.split('\n').filter((l) => /TIFF|Decod/.test(l) && !l.startsWith('h5stitch'))).toEqual([]);
    expect(fs.existsSync(out)).toBe(false);
  });
});
