// Never silently wrong: every input byte accounted for. Truncated and changed inputs end the job
// with one line naming the file (exit 2, no output); unusual but valid inputs (other byte orders,
// Fortran order, int8, NaN) stitch to the same bits or are refused by name; the output records
// its input's fingerprint and verify, reading tiles its own way, catches a stitch that read wrong.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
const npy = path.join(dir, 'npy');
const layout = path.join(dir, 'layout.json');
const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);
const maxDiff = (a: string, b: string) => JSON.parse(node([fixture('max-diff.js'), a, b]).stdout);
const npyArgs = (d: string) => [d, '--layout', layout, '--overlap', '6'];
const pixels = (file: string, ...at: string[]) =>
  Object.fromEntries(node([fixture('pixels.js'), file, ...at]).stdout.trim().split('\n').map((l) => l.split('=')));

/** Copies the clean .npy directory to `name` for a test to damage. */
function npyCopy(name: string): string {
  const copy = path.join(dir, name);
  fs.cpSync(npy, copy, { recursive: true });
  return copy;
}

/** The job ended with exit 2, one `h5stitch:` line matching `message`, and no output (nor partial). */
function expectRefused(job: ReturnType<typeof mpirun>, out: string, message: RegExp): void {
  const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
  expect(lines, job.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(job.code).toBe(2);
  expect(job.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(out)).toBe(false);
  expect(fs.readdirSync(path.dirname(out)).filter((f) => f.includes('h5stitch-'))).toEqual([]);
}

/** Stitches with one rank (an MPI singleton: these tests are about what is read, not how ranks split it). */
function stitchOk(args: string[], out: string): void {
  const job = node([stitchJs, ...args, '--out', out]);
  expect(job.stderr).toBe('');
  expect(job.code).toBe(0);
}

function verifyOk(out: string, inputPath: string): void {
  // One rank (an MPI singleton) is enough here: these check what verify reads, not how ranks split it.
  const job = node([stitchJs, 'verify', out, '--input', inputPath]);
  expect(job.stdout).toContain('h5stitch verify: OK');
  expect(job.code).toBe(0);
}

beforeAll(() => {
  expect(node([stitchJs, 'generate', input, '--tiles', '3x4', '--tile', '40x48', '--overlap', '6']).code).toBe(0);
  expect(node([fixture('make-inputs.js'), input, dir, '6']).code).toBe(0);
  const py = spawnSync('python3', [fixture('npy-variants.py'), npy, dir], { encoding: 'utf8' });
  expect(py.stderr).toBe('');
  expect(py.status).toBe(0);
  stitchOk(npyArgs(npy), path.join(dir, 'ref.h5'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const ref = () => `${path.join(dir, 'ref.h5')}:/stitched`;

describe('damaged .npy tiles are refused before anything is written', () => {
  it('a truncated tile (header intact, pixels cut to 200 bytes): exit 2 naming the file and tile, no output', () => {
    const bad = npyCopy('truncated');
    fs.truncateSync(path.join(bad, '2.npy'), 200);
    const out = path.join(dir, 'truncated.h5');
    expectRefused(mpirun(2, [stitchJs, ...npyArgs(bad), '--out', out]), out,
      /tile 2 \(.*truncated\/2\.npy\) is truncated: its header says 40x48 <f4 \(7680 bytes of pixels\) but the file holds 72 bytes after the header/);
  });

  it.each([
    ['trailing bytes', (f: string) => fs.appendFileSync(f, Buffer.alloc(4)), /tile 4 .* has trailing bytes/],
    ['a 1-D shape', (f: string) => rewriteHeader(f, (h) => h.replace('(40, 48)', '(1920,)')), /tile 4 .* has shape \(1920\); expected a 2-D tile/],
    ['a shape that does not match the bytes', (f: string) => rewriteHeader(f, (h) => h.replace('(40, 48)', '(48, 48)')), /tile 4 .* is truncated/],
    ['an unknown dtype', (f: string) => rewriteHeader(f, (h) => h.replace("'<f4'", "'<c8'")), /tile 4 .* has dtype '<c8'/],
    ['not a .npy file', (f: string) => fs.writeFileSync(f, 'hello'), /tile 4 .* is not a \.npy file/],
    ['a vanished file (a hole in the numbering)', (f: string) => fs.rmSync(f), /missing tile 4\.npy/],
  ])('%s', (name, damage, message) => {
    const bad = npyCopy(name.replace(/\W+/g, '-'));
    damage(path.join(bad, '4.npy'));
    const out = path.join(dir, `${name.replace(/\W+/g, '-')}.h5`);
    expectRefused(node([stitchJs, ...npyArgs(bad), '--out', out]), out, message);
  });

  it('64-bit integer tiles are refused by name (the float blend would round them)', () => {
    const out = path.join(dir, 'u8.h5');
    expectRefused(node([stitchJs, ...npyArgs(path.join(dir, 'u8')), '--out', out]), out, /dtype uint64, which h5stitch does not stitch/);
  });
});

/** Rewrites a version-1 .npy header in place, keeping its length. */
function rewriteHeader(file: string, edit: (header: string) => string): void {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt16LE(8);
  const header = edit(bytes.toString('latin1', 10, 10 + length).trimEnd());
  Buffer.from(header.padEnd(length - 1) + '\n', 'latin1').copy(bytes, 10);
  fs.writeFileSync(file, bytes);
}

describe('inputs that change during the run end it with one line naming the file', () => {
  it.each([
    ['a smaller file', 'small'],
    ['a file of the same size (other pixels)', 'same-size'],
  ])('a tile replaced by %s between planning and reading: exit 2, no output', (_name, kind) => {
    const moving = npyCopy(`replaced-${kind}`);
    const replacement = path.join(dir, `replacement-${kind}.npy`);
    fs.copyFileSync(path.join(npy, kind === 'small' ? '0.npy' : '7.npy'), replacement);
    if (kind === 'small') {
      // A valid .npy of 30 rows instead of 40.
      rewriteHeader(replacement, (h) => h.replace('(40, 48)', '(30, 48)'));
      fs.truncateSync(replacement, fs.statSync(replacement).size - 10 * 48 * 4);
    }
    const out = path.join(dir, `replaced-${kind}.h5`);
    // Rank 0's first tile read is tile 0 (the first tile of the first round, in its first band).
    const job = mpirun(2, [stitchJs, ...npyArgs(moving), '--out', out], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ replaceAt: '0:0', replace: [path.join(moving, '0.npy'), replacement] }) },
    });
    expect(job.signal).toBeNull();
    // Collective bands: every rank agrees on rank 0's failed read, rank 0 reports it once.
    expectRefused(job, out, /^h5stitch: error: rank 0: tile 0 \(.*\/0\.npy\) changed during the run: it was replaced by another file$/);
  });

  it('with independent writes (no per-band agreement) the ranks agree after their bands: exit 2, one line', () => {
    const moving = npyCopy('replaced-independent');
    const replacement = path.join(dir, 'replacement-independent.npy');
    fs.copyFileSync(path.join(npy, '7.npy'), replacement);
    const out = path.join(dir, 'replaced-independent.h5');
    const job = mpirun(2, [stitchJs, ...npyArgs(moving), '--out', out, '--io', 'independent'], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ replaceAt: '0:0', replace: [path.join(moving, '0.npy'), replacement] }) },
    });
    expect(job.signal).toBeNull();
    expectRefused(job, out, /^h5stitch: error: rank 0: tile 0 \(.*\/0\.npy\) changed during the run: it was replaced by another file$/);
  });

  it('an HDF5 input replaced while it is read: refused before the output is committed', () => {
    const moving = path.join(dir, 'moving.h5');
    const other = path.join(dir, 'other.h5');
    fs.copyFileSync(input, moving);
    fs.copyFileSync(input, other);
    const out = path.join(dir, 'moving-out.h5');
    const job = mpirun(2, [stitchJs, moving, '--out', out], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ replaceAt: '0:0', replace: [moving, other] }) },
    });
    expectRefused(job, out, /^h5stitch: error: rank 0: input .*moving\.h5 \(.*moving\.h5\) changed during the run: it was replaced by another file$/);
  });
});

describe('an HDF5 read that fails mid-run ends the job with one line naming the file and tile', () => {
  it('a compressed tile whose chunk is corrupt: exit 2, no output', () => {
    const bad = path.join(dir, 'corrupt-chunk.h5');
    expect(node([fixture('corrupt-chunk.js'), input, bad]).code).toBe(0);
    const out = path.join(dir, 'corrupt-chunk-out.h5');
    const job = mpirun(2, [stitchJs, bad, '--out', out]);
    expect(job.signal).toBeNull();
    expectRefused(job, out, /^h5stitch: error: rank 1: cannot read tile 11 from .*corrupt-chunk\.h5:\/tiles: H5Dread\(\/tiles\) failed: .*filter/);
  });

  it('verify: a tile that fails to read on one rank ends every rank with that one line (exit 2)', () => {
    const bad = path.join(dir, 'corrupt-chunk.h5');
    if (!fs.existsSync(bad)) expect(node([fixture('corrupt-chunk.js'), input, bad]).code).toBe(0);
    const out = path.join(dir, 'verify-corrupt-out.h5');
    stitchOk([input], out);
    // Ranks verify their bands without a collective call per band; the failure is agreed at the end.
    const job = mpirun(2, [stitchJs, 'verify', out, '--input', bad]);
    expect(job.signal).toBeNull();
    const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
    expect(lines, job.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^h5stitch: error: rank 1: cannot read tile 11 from .*corrupt-chunk\.h5:\/tiles: .*filter/);
    expect(job.code).toBe(2);
  });
});

describe('valid but unusual tiles stitch to the same bits, or are refused by name', () => {
  it.each(['be-f4', 'fortran-f4', 'transposed-f4', 'v2-f4', 'v3-f4'])('%s .npy tiles give the bits of little-endian C-order ones', (variant) => {
    const out = path.join(dir, `${variant}.h5`);
    stitchOk(npyArgs(path.join(dir, variant)), out);
    expect(maxDiff(ref(), `${out}:/stitched`).identical).toBe(true);
    verifyOk(out, path.join(dir, variant));
  });

  it('big-endian Fortran-order float64 and big-endian int16 tiles match their little-endian C-order twins', () => {
    for (const [variant, twin, dtype] of [['be-fortran-f8', 'le-f8', 'float64'], ['be-i2', 'le-i2', 'int16']]) {
      const a = path.join(dir, `${variant}.h5`), b = path.join(dir, `${twin}.h5`);
      stitchOk([...npyArgs(path.join(dir, variant)), '--dtype', dtype], a);
      stitchOk([...npyArgs(path.join(dir, twin)), '--dtype', dtype], b);
      expect(maxDiff(`${a}:/stitched`, `${b}:/stitched`).identical).toBe(true);
      verifyOk(a, path.join(dir, variant));
    }
  });

  it('big-endian HDF5 tiles (H5T_IEEE_F32BE, made by h5import) give the same bits (HDF5 converts on read)', () => {
    // The .npy tiles' pixels as one raw [12, 40, 48] array (this host's order: h5import reads that
    // whatever INPUT-BYTE-ORDER says), stored big-endian by h5import.
    const raw = Buffer.concat(Array.from({ length: 12 }, (_, i) => {
      const bytes = fs.readFileSync(path.join(npy, `${i}.npy`));
      return bytes.subarray(10 + bytes.readUInt16LE(8));
    }));
    fs.writeFileSync(path.join(dir, 'be.bin'), raw);
    fs.writeFileSync(path.join(dir, 'be.cfg'), ['PATH tiles', 'INPUT-CLASS FP', 'INPUT-SIZE 32', 'INPUT-BYTE-ORDER LE', 'RANK 3',
      'DIMENSION-SIZES 12 40 48', 'OUTPUT-CLASS FP', 'OUTPUT-SIZE 32', 'OUTPUT-BYTE-ORDER BE', ''].join('\n'));
    const be = path.join(dir, 'be.h5');
    const h5import = spawnSync('h5import', [path.join(dir, 'be.bin'), '-c', path.join(dir, 'be.cfg'), '-o', be], { encoding: 'utf8' });
    expect(h5import.status, h5import.stderr).toBe(0);
    expect(spawnSync('h5dump', ['-H', be], { encoding: 'utf8' }).stdout).toContain('H5T_IEEE_F32BE');
    const out = path.join(dir, 'be-h5.h5');
    stitchOk([be, '--layout', layout, '--overlap', '6'], out);
    expect(maxDiff(ref(), `${out}:/stitched`).identical).toBe(true);
    verifyOk(out, be);
  });

  it('int8 tiles stitch to float32 and to int8 and verify', () => {
    for (const dtype of ['float32', 'int8']) {
      const out = path.join(dir, `i1-${dtype}.h5`);
      stitchOk([...npyArgs(path.join(dir, 'le-i1')), '--dtype', dtype], out);
      verifyOk(out, path.join(dir, 'le-i1'));
    }
  });

  it('NaN and Inf pixels: a float output keeps them (and verifies); an integer output is refused naming the pixel', () => {
    const tiles = path.join(dir, 'nan-inf-f4');
    const out = path.join(dir, 'nan-inf.h5');
    stitchOk(npyArgs(tiles), out);
    // Tile 1 sits at x=42 and tile 2 at x=84 of the first row; these pixels are theirs alone.
    expect(pixels(out, '5,49', '10,94', '5,48')).toEqual({ '5,49': 'NaN', '10,94': 'Infinity', '5,48': expect.stringMatching(/^[\d.]+$/) });
    verifyOk(out, tiles);
    const intOut = path.join(dir, 'nan-uint16.h5');
    expectRefused(mpirun(2, [stitchJs, ...npyArgs(tiles), '--dtype', 'uint16', '--out', intOut]), intOut,
      /^h5stitch: error: rank 0: output pixel \(y=5, x=49\) blends to NaN \(tile 1\), which uint16 cannot hold/);
  });
});

describe('provenance fingerprint and an independent verify', () => {
  it('records each input file (size, mtime) and the tiles; verify warns when the input changed since', () => {
    const tiles = npyCopy('fingerprinted');
    const out = path.join(dir, 'fingerprinted.h5');
    stitchOk(npyArgs(tiles), out);
    const summary = JSON.parse(node([fixture('h5read.js'), 'summary', `${out}:/h5stitch/inputs`]).stdout);
    expect(summary.shape).toEqual([12, 2]);
    expect(summary.attrs).toMatchObject({ kind: 'npy', tiles_shape: [12, 40, 48], tiles_dtype: 'float32', columns: 'size,mtime_ms' });
    verifyOk(out, tiles);
    expect(mpirun(2, [stitchJs, 'verify', out]).stderr).toBe(''); // the recorded input, unchanged: no warning

    // Touched: the same pixels, a new mtime. Verify still passes, and says the input changed.
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(tiles, '3.npy'), later, later);
    const touched = mpirun(2, [stitchJs, 'verify', out, '--json']);
    expect(touched.code).toBe(0);
    expect(touched.stderr).toMatch(/^h5stitch: warning: the input changed since the stitch \(3\.npy: modified .*\); verify compares the output with what the input holds now$/m);
    expect(JSON.parse(touched.stdout).inputChanged).toEqual([expect.stringMatching(/^3\.npy: modified /)]);

    // Rewritten with other pixels of the same size: the output no longer matches what the input holds.
    fs.copyFileSync(path.join(npy, '8.npy'), path.join(tiles, '3.npy'));
    const rewritten = mpirun(2, [stitchJs, 'verify', out]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.stdout).toMatch(/tile 3: wrong/);
    expect(rewritten.stderr).toMatch(/h5stitch: warning: the input changed since the stitch \(3\.npy: modified/);
  });

  it('catches a stitch whose reader left a stale buffer in place of a tile (verify reads tiles its own way)', () => {
    const out = path.join(dir, 'stale.h5');
    const job = mpirun(2, [stitchJs, ...npyArgs(npy), '--out', out], { env: { H5STITCH_TEST_HOOKS: JSON.stringify({ staleRead: 5 }) } });
    expect(job.code).toBe(0); // the simulated defect is silent in the stitch...
    const verify = mpirun(2, [stitchJs, 'verify', out, '--input', npy]);
    expect(verify.code).toBe(1); // ...and verify sees it
    const report = JSON.parse(mpirun(2, [stitchJs, 'verify', out, '--input', npy, '--json']).stdout);
    // Tile 5 is wrong where it alone covers the canvas; its neighbours where they blend with it.
    const worst = [...report.failed].sort((a: { mismatched: number }, b: { mismatched: number }) => b.mismatched - a.mismatched)[0];
    expect(worst).toMatchObject({ index: 5, status: expect.stringMatching(/wrong|missing/) });
    expect(worst.mismatched).toBeGreaterThan(1000);
    expect(report.tiles.filter((t: { status: string }) => t.status === 'ok').map((t: { index: number }) => t.index)).toEqual([3, 7, 11]);
  });
});
