// Pipelined stitches read the tiles of a contiguous, unfiltered, native-order HDF5 input on the
// blend thread (plain pread at the offsets source.rawRegion gives), not on the main thread: the
// output must be the same bits as the main thread's HDF5 reads give, a file truncated while those
// reads run must end the job with one line naming the file and tile, and inputs HDF5 has to
// decode (big-endian, chunked, compressed) must never take that path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTileSource } from '../lib/io/sources';
import { native } from '../lib/runtime/addon';
import { openFile } from '../lib/runtime/hdf5';
import { accumulateRegion, startAccumulateRegions, type BackgroundJob } from '../lib/runtime/kernel';
import { InputError } from '../lib/errors';
import { mpirun, node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
const variant = (name: string) => path.join(dir, name);
const maxDiff = (a: string, b: string) => JSON.parse(node([path.join(repoRoot, 'test', 'fixtures', 'max-diff.js'), `${a}:/stitched`, `${b}:/stitched`]).stdout);
// Small bands (two of 2 KiB), so each rank pipelines many of them.
const PIPELINED = ['--pipeline', 'on', '--mem-per-rank', '4K'];

function ok(job: JobResult, what: string): void {
  expect(job.signal, `${what}: ${job.stderr}`).toBeNull();
  expect(job.code, `${what}: ${job.stderr}`).toBe(0);
}

function stitched(ranks: number, file: string, name: string, args: string[]): string {
  const out = path.join(dir, `${name}.h5`);
  ok(mpirun(ranks, [stitchJs, file, '--out', out, ...args]), `${name} (-n ${ranks} ${args.join(' ')})`);
  return out;
}

/** Exit 2, one `h5stitch:` line matching `message`, no output and no partial file left. */
function expectRefused(job: JobResult, out: string, message: RegExp): void {
  const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
  expect(lines, job.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(job.code, job.stderr).toBe(2);
  expect(job.stderr).not.toMatch(/\n\s+at /);
  expect(fs.existsSync(out)).toBe(false);
  expect(fs.readdirSync(dir).filter((f) => f.includes('h5stitch-'))).toEqual([]);
}

let reference: string;
beforeAll(() => {
  ok(node([stitchJs, 'generate', input, '--tiles', '3x4', '--tile', '40x48', '--overlap', '6']), 'generate');
  const py = run('/usr/bin/python3', [path.join(repoRoot, 'test', 'fixtures', 'raw-variants.py'), input, dir]);
  expect(py.stderr).toBe('');
  expect(py.code).toBe(0);
  // The main thread's HDF5 reads, one band at a time.
  reference = stitched(1, input, 'reference', ['--pipeline', 'off']);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('rawRegion: where an HDF5 tile part lies in the file', () => {
  it("gives exactly readRegion's bytes for every tile, whole and in part (3-D dataset, group of 2-D datasets, after a user block)", () => {
    for (const file of [input, variant('group.h5'), variant('userblock.h5')]) {
      const source = openTileSource(file);
      try {
        for (let index = 0; index < source.count; index++) {
          for (const [y0, y1, x0, x1] of [[0, source.height, 0, source.width], [7, 19, 0, source.width], [3, 11, 5, 29], [4, 4, 0, source.width]]) {
            const raw = source.rawRegion!(index, y0, y1, x0, x1)!;
            expect(raw, `${file} tile ${index}`).toBeDefined();
            expect(raw.what).toBe(`tile ${index} from ${file}:/tiles`);
            const expected = Buffer.from(source.readRegion(index, y0, y1, x0, x1).slice().buffer);
            const got = Buffer.alloc(raw.rows * raw.rowBytes);
            for (let r = 0; r < raw.rows; r++) fs.readSync(raw.fd, got, r * raw.rowBytes, raw.rowBytes, raw.offset + r * raw.strideBytes);
            expect(got.equals(expected), `${file} tile ${index} [${y0},${y1})x[${x0},${x1})`).toBe(true);
          }
        }
      } finally {
        source.close();
      }
    }
  });

  it('storedAsNative: a little-endian float32 dataset is stored as a Float32Array holds it here, a big-endian one is not', () => {
    for (const [name, native] of [['in.h5', true], ['be.h5', false]] as const) {
      const file = openFile(variant(name), { mode: 'r' });
      const ds = file.openDataset('/tiles');
      expect([ds.dtype, ds.storedAsNative], name).toEqual(['float32', native]);
      ds.close();
      file.close();
    }
  });

  it('is refused (undefined) when HDF5 must convert or decode the bytes: big-endian, chunked, compressed', () => {
    for (const name of ['be.h5', 'chunked.h5', 'gzip.h5']) {
      const source = openTileSource(variant(name));
      try {
        expect(source.rawRegion!(0, 0, source.height, 0, source.width), name).toBeUndefined();
      } finally {
        source.close();
      }
    }
  });
});

describe('pipelined stitches that read on the blend thread', () => {
  it.each([
    [1, 'collective'], [2, 'collective'], [2, 'independent'],
  ])('give the bits of --pipeline off (-n %i, --io %s)', (ranks, io) => {
    for (const file of [input, variant('group.h5'), variant('userblock.h5')]) {
      const out = stitched(ranks, file, `raw-${path.basename(file, '.h5')}-${ranks}-${io}`, [...PIPELINED, '--io', io]);
      expect(maxDiff(reference, out), `${file} -n ${ranks} ${io}`).toMatchObject({ identical: true });
    }
  });

  it('big-endian, chunked and compressed tiles (read through HDF5) give the same bits as their native twin', () => {
    for (const name of ['be.h5', 'chunked.h5', 'gzip.h5']) {
      const out = stitched(2, variant(name), `decoded-${name}`, PIPELINED);
      expect(maxDiff(reference, out), name).toMatchObject({ identical: true });
    }
  });

  it.each([
    [1, 'collective'], [2, 'collective'], [1, 'independent'], [2, 'independent'],
  ])('a tiles file truncated while it is read ends the job with one line naming it and the tile (-n %i, --io %s)', (ranks, io) => {
    const cut = variant(`cut-${ranks}-${io}.h5`);
    fs.copyFileSync(input, cut);
    const source = openTileSource(cut);
    const tilesStart = source.rawRegion!(0, 0, source.height, 0, source.width)!.offset;
    source.close();
    const out = variant(`cut-${ranks}-${io}-out.h5`);
    // Rank 0's second tile read (its first band's blend has not started): every tile's bytes are
    // cut from then on, after rank 0 opened its raw reader on the whole file at the first one.
    const job = mpirun(ranks, [stitchJs, cut, '--out', out, ...PIPELINED, '--io', io], {
      env: { H5STITCH_TEST_HOOKS: JSON.stringify({ truncateAt: '0:1', truncate: [cut, tilesStart + 100] }) },
    });
    expect(job.signal).toBeNull();
    const cutRead = `cannot read tile \\d+ from ${cut}:/tiles: the file ends at byte ${tilesStart + 100} but \\d+ bytes were expected from offset \\d+ \\(truncated during the run\\?\\)`;
    // At 2 ranks, rank 1 may open its own raw reader only after rank 0 cut the file: it then refuses
    // the file as changed, at an earlier agreement than rank 0's failed read (seen in CI under load).
    const cutOpen = `input ${cut} \\(${cut}\\) changed during the run: its size changed from \\d+ to ${tilesStart + 100} bytes`;
    expectRefused(job, out, new RegExp(ranks === 1 ? `^h5stitch: error: rank 0: ${cutRead}$` : `^h5stitch: error: (rank 0: ${cutRead}|rank 1: ${cutOpen})$`));
  });
});

describe('startAccumulate jobs that read their data (native binding)', () => {
  const file = path.join(dir, 'bytes.bin');
  const values = Float32Array.from({ length: 6 * 8 }, (_, i) => (i * 7919) % 101 - 50.25);
  const tile = { index: 0, order: 0, y: 0, x: 0, height: 6, width: 8, row: 0, col: 0 } as never;
  const job = (acc: Float32Array, data: Float32Array, read?: BackgroundJob['read']): BackgroundJob => ({
    acc, accWidth: 8, accY0: 0, accX0: 0, tile, covering: Int32Array.of(0, 0, 0, 6, 8), data, region: { y0: 0, y1: 6, x0: 0, x1: 8 }, blend: 'linear', read,
  });

  beforeAll(() => {
    // 3 rows of padding, then the values' 6 rows of 8, each row followed by 4 bytes of padding.
    const bytes = Buffer.alloc(3 * 36 + 6 * 36, 0xee);
    for (let r = 0; r < 6; r++) Buffer.from(values.buffer, r * 32, 32).copy(bytes, 3 * 36 + r * 36);
    fs.writeFileSync(file, bytes);
  });

  it('reads rows at a stride into the data, then blends them as the main thread would', () => {
    const fd = fs.openSync(file, 'r');
    try {
      const here = new Float32Array(48), there = new Float32Array(48).fill(NaN), data = new Float32Array(48).fill(NaN);
      accumulateRegion(job(here, values));
      const times = startAccumulateRegions(there, [job(there, data, { fd, offset: 3 * 36, rows: 6, rowBytes: 32, strideBytes: 36, what: 'the test rows' })]).wait();
      expect(Array.from(data)).toEqual(Array.from(values));
      expect(Buffer.from(there.buffer).equals(Buffer.from(here.buffer))).toBe(true);
      expect(times.readSeconds).toBeGreaterThan(0);
      expect(times.seconds).toBeGreaterThanOrEqual(times.readSeconds);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('refuses a read that does not fill the data exactly, before anything runs', () => {
    const fd = fs.openSync(file, 'r');
    try {
      const acc = new Float32Array(48).fill(3);
      const read = { fd, offset: 0, rows: 6, rowBytes: 32, strideBytes: 36, what: 'x' };
      expect(() => startAccumulateRegions(acc, [job(acc, new Float32Array(48), { ...read, rowBytes: 36 })])).toThrow(/job 0 reads 6 runs of 36 bytes into data of 192 bytes; they must fill it exactly/);
      expect(() => startAccumulateRegions(acc, [job(acc, new Float32Array(48), { ...read, rows: 5 })])).toThrow(/must fill it exactly/);
      expect(() => startAccumulateRegions(acc, [job(acc, new Float32Array(48), { ...read, fd: -1 })])).toThrow(/Expected a non-negative integer for read\.fd but received number -1/);
      expect(() => startAccumulateRegions(acc, [job(acc, new Float32Array(48), { ...read, offset: 0.5 })])).toThrow(TypeError);
      expect(() => startAccumulateRegions(acc, [job(acc, new Float32Array(48), { ...read, what: 3 as never })])).toThrow(/read\.what/);
      // Empty data, with runs that would end past any file offset (off_t).
      const empty = { ...job(acc, new Float32Array(0)), region: { y0: 0, y1: 0, x0: 0, x1: 8 } };
      expect(() => startAccumulateRegions(acc, [{ ...empty, read: { ...read, rows: 2 ** 20, rowBytes: 0, strideBytes: 2 ** 53 - 1 } }])).toThrow(/job 0 reads past the largest file offset/);
      // The main-thread kernel reads nothing: a `read` there would be ignored, so it is refused.
      expect(() => native().accumulate({ ...job(acc, new Float32Array(48)), tile: Int32Array.of(0, 0, 0, 6, 8), region: [0, 6, 0, 8], read } as never)).toThrow(/only startAccumulate jobs read/);
      expect(acc.every((v) => v === 3)).toBe(true); // nothing ran
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a read past the end of the file, or from a bad fd, fails wait() with an InputError naming what was read', () => {
    const fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    try {
      const acc = new Float32Array(48);
      const short = startAccumulateRegions(acc, [job(acc, new Float32Array(48), { fd, offset: size - 100, rows: 1, rowBytes: 192, strideBytes: 0, what: 'tile 9 from t.h5:/tiles' })]);
      expect(() => short.wait()).toThrow(InputError);
      // The band is read in strips of rows (one row each here, 6 rows of 32 bytes): the first row
      // that runs past the end is the one named.
      const row = Math.floor(100 / 32);
      expect(() => short.wait()).toThrow(`cannot read tile 9 from t.h5:/tiles: the file ends at byte ${size} but 32 bytes were expected from offset ${size - 100 + row * 32} (truncated during the run?)`);
    } finally {
      fs.closeSync(fd);
    }
    const acc = new Float32Array(48);
    // (Not the fd just closed: this process may have reused its number meanwhile.)
    const bad = startAccumulateRegions(acc, [job(acc, new Float32Array(48), { fd: 2 ** 31 - 1, offset: 0, rows: 1, rowBytes: 192, strideBytes: 0, what: 'tile 9' })]);
    expect(() => bad.wait()).toThrow(/^cannot read tile 9: Bad file descriptor$/);
  });
});
