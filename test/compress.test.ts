/**
 * Compressed output is written in bands of whole chunk rows, so each chunk is compressed and
 * written exactly once: the file holds the compressed chunks plus its metadata, with no dead
 * space left by chunks written in pieces (each piece compressed and stored anew: 46-218 KB of
 * unaccounted space in these files before bands were whole chunk rows), and the pixels are those
 * of the uncompressed output.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mpirun, node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const h5read = path.join(repoRoot, 'test', 'fixtures', 'h5read.js');
const JOB = { timeoutMs: 60_000 };
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ok(job: JobResult, what: string): JobResult {
  expect(job.code, `${what} exited ${job.code} (${job.signal})\n${job.stderr}`).toBe(0);
  return job;
}

/** h5stat -S: the file's metadata bytes and the space neither metadata, data nor tracked free space (dead). */
function fileSpace(file: string): { metadata: number; raw: number; unaccounted: number } {
  const text = ok(run('h5stat', ['-S', file]), 'h5stat -S').stdout;
  const field = (label: string) => {
    const m = new RegExp(`${label}: (\\d+) bytes`).exec(text);
    expect(m, text).not.toBeNull();
    return Number(m![1]);
  };
  return { metadata: field('File metadata'), raw: field('Raw data'), unaccounted: field('Unaccounted space') };
}

/** Bytes HDF5 allocated for a dataset's data (h5ls -v "Storage: L logical bytes, A allocated bytes"). */
function allocated(file: string, dataset: string): number {
  const job = ok(run('h5ls', ['-v', `${file}${dataset}`]), `h5ls -v ${dataset}`);
  const m = /Storage:\s+\d+ logical bytes, (\d+) allocated bytes/.exec(job.stdout);
  expect(m, job.stdout).not.toBeNull();
  return Number(m![1]);
}

// 8x16 tiles of 192x192: a 1403x2787 canvas (3.9 MB uint8), 11,148 bytes per accumulator row (float32).
const input = path.join(dir, 'tiles.h5');
const plain = path.join(dir, 'plain.h5');
beforeAll(() => {
  ok(node([stitchJs, 'generate', input, '--tiles', '8x16', '--tile', '192', '--overlap', '19', '--dtype', 'uint8']), 'generate');
  ok(mpirun(2, [stitchJs, input, '--out', plain, '--dtype', 'uint8']), 'uncompressed stitch');
});

// `fewChunks`: the chunk index is small enough that all metadata is under 1% of the compressed data.
const CASES = [
  // 23 rows fit in 256K: each band grows to one 200-row chunk row.
  { name: 'chunk rows taller than the band', chunk: '200x1400', mem: '256K', ranks: [1, 2, 3, 4], extra: [] as string[], fewChunks: true },
  // 94 rows fit in 1M: bands of 5 chunk rows (80 rows); 704 chunks.
  { name: 'chunk rows shorter than the band', chunk: '16x700', mem: '1M', ranks: [2, 4], extra: [], fewChunks: false },
  // Pipelined: two bands of 32K (2 rows) each, grown to one 100-row chunk row (not a divisor of the height).
  { name: 'pipelined, full-width chunks', chunk: '100x2787', mem: '64K', ranks: [3], extra: ['--pipeline', 'on'], fewChunks: true },
  // 13 x 3 chunks split evenly over the ranks (core/bands chunkCols): 19 and 20 chunks at 2 ranks,
  // 13 each at 3, 9, 10, 10 and 10 at 4, so chunk rows are shared by two ranks, each writing its
  // chunks of it. (Every compressed chunk is over HDF5's 2 KiB small-data block: chunks below it
  // share blocks whose unused tails depend on the order of allocation, up to a chunk's size.)
  { name: 'chunk rows shared by two ranks, pipelined', chunk: '110x1000', mem: '64K', ranks: [2, 4], extra: ['--pipeline', 'on'], fewChunks: false },
  { name: 'chunk rows shared by two ranks', chunk: '110x1000', mem: '64K', ranks: [3], extra: ['--pipeline', 'off'], fewChunks: false },
];

describe.each(CASES)('gzip output, $name', ({ name, chunk, mem, ranks, extra, fewChunks }) => {
  const id = name.replace(/\W+/g, '-');
  // The same chunks written by each rank in one band holding its whole slab: every chunk once.
  let reference: number;
  beforeAll(() => {
    const out = path.join(dir, `gz-${id}-whole.h5`);
    ok(mpirun(2, [stitchJs, input, '--out', out, '--dtype', 'uint8', '--chunk', chunk, '--compress', 'gzip', '--mem-per-rank', '1G'], JOB), 'one-band stitch');
    reference = fs.statSync(out).size;
  });

  it.each(ranks)('%i ranks: each chunk written once (file = compressed chunks + metadata), same pixels as uncompressed', (n) => {
    const out = path.join(dir, `gz-${id}-${n}.h5`);
    ok(mpirun(n, [stitchJs, input, '--out', out, '--dtype', 'uint8', '--chunk', chunk, '--compress', 'gzip', '--mem-per-rank', mem, ...extra], JOB), 'compressed stitch');
    const [same] = JSON.parse(ok(node([h5read, 'compare', plain, out], JOB), 'compare').stdout);
    expect(same).toMatchObject({ identical: true, maxAbs: 0 });
    // The provenance tables (/h5stitch/tiles, /h5stitch/inputs) are the only other raw data.
    const data = allocated(out, '/stitched'), table = allocated(out, '/h5stitch/tiles') + allocated(out, '/h5stitch/inputs');
    const size = fs.statSync(out).size, space = fileSpace(out);
    // The image compresses well (3.9 MB to about 1.2 MB), so a dead copy of any chunk would show.
    expect(data).toBeLessThan(1403 * 2787 / 2);
    expect(space.raw).toBe(data + table);
    expect(size).toBe(space.metadata + space.raw + space.unaccounted);
    // Rank counts order the chunk index's insertions differently (a few bytes); a dead chunk is KBs.
    expect(Math.abs(size - reference)).toBeLessThanOrEqual(512);
    if (fewChunks) expect(size - data).toBeLessThanOrEqual(0.01 * data);
  });
});

describe('memory bound of a compressed stitch', () => {
  it('counts the band grown to one chunk row and the chunk copies, not just --mem-per-rank', () => {
    // 256K holds 23 accumulator rows; each band is one 200-row chunk row (2.2 MB of float32).
    const out = path.join(dir, 'gz-bound.h5');
    const job = ok(mpirun(1, [stitchJs, input, '--out', out, '--dtype', 'uint8', '--chunk', '200x1400', '--compress', 'gzip', '--mem-per-rank', '256K', '--pipeline', 'off', '--json'], JOB), 'compressed stitch');
    const { memory } = JSON.parse(job.stdout.trim().split('\n').pop()!);
    const bandBytes = 200 * 2787 * 4, outBand = 200 * 2787;
    // band + converted band + HDF5's chunk copies (2 out bands), on top of the start and the tiles
    // (peak against bound is the benchmark's check, at sizes where the run's data dominates).
    expect((memory.boundKiB[0] - memory.startKiB[0]) * 1024).toBeGreaterThanOrEqual(bandBytes + 3 * outBand);
  });
});
