/**
 * Cluster-scale tile counts in the normal suite, on tiny tiles: 100,200 tiles stitched and verified
 * under mpirun -n 2, and a 10,000-tile output's provenance table read back by h5dump and by h5stitch.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mpirun, node, repoRoot, run, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const fixtures = path.join(repoRoot, 'test', 'fixtures');
const JOB = { timeoutMs: 120_000 };
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ok(job: JobResult, what: string): JobResult {
  expect(job.code, `${what} exited ${job.code} (${job.signal})\n${job.stderr}`).toBe(0);
  console.log(`${what}: ${(job.ms / 1000).toFixed(1)} s`);
  return job;
}

/** A dataset's values as h5dump prints them (one number per entry, row-major), without h5stitch's reader. */
function h5dumpValues(file: string, dataset: string): number[] {
  const text = path.join(dir, 'dump.txt');
  ok(run('h5dump', ['-d', dataset, '-y', '-w', '0', '-o', text, file]), `h5dump ${dataset}`);
  return fs.readFileSync(text, 'utf8').split(/[\s,]+/).filter((v) => v !== '').map(Number);
}

describe('100,200 tiles (300x334 grid of 4x4 tiles, overlap 1) under mpirun -n 2', () => {
  const input = path.join(dir, 'tiles-100k.h5');
  const out = path.join(dir, 'out-100k.h5');
  let report: any;
  beforeAll(() => {
    ok(mpirun(2, [stitchJs, 'generate', input, '--tiles', '300x334', '--tile', '4', '--overlap', '1', '--dtype', 'uint8'], JOB), 'generate 100k tiles');
    report = JSON.parse(ok(mpirun(2, [stitchJs, input, '--out', out, '--json'], JOB), 'stitch 100k tiles, 2 ranks').stdout);
  });

  it('stitches every tile, with the plan timed in the report', () => {
    expect(report).toMatchObject({ tiles: 100_200, ranks: 2, canvas: [901, 1003] });
    expect(report.phases.plan).toBeGreaterThan(0);
    expect(report.phases.plan).toBeLessThan(report.wallSeconds);
    console.log(`stitch report: plan ${report.phases.plan.toFixed(3)} s of ${report.wallSeconds.toFixed(2)} s`);
  });

  it('stays within its memory bound on every rank (the bound counts the per-tile state)', () => {
    const { peakKiB, boundKiB } = report.memory;
    expect(peakKiB).toHaveLength(2);
    peakKiB.forEach((peak: number, rank: number) => expect(peak, `rank ${rank}`).toBeLessThanOrEqual(boundKiB[rank]));
  });

  it('equals /ground_truth', () => {
    const t = JSON.parse(ok(node([path.join(fixtures, 'h5read.js'), 'truth', out, `${input}:/ground_truth`], JOB), 'compare with ground truth').stdout);
    expect(t.sameShape).toBe(true);
    expect(t.range).toBeGreaterThan(0);
    expect(t.relative).toBeLessThanOrEqual(1e-5);
  });

  it('records every tile in its provenance (h5stitch reader)', () => {
    const p = JSON.parse(ok(node([path.join(fixtures, 'provenance.js'), out, input], JOB), 'readProvenance').stdout);
    expect(p).toMatchObject({ tiles: 100_200, placed: 100_200, mismatched: 0, complete: true, tileShape: [4, 4], overlap: [1, 1], ranks: 2 });
    expect(p.last).toEqual([100_199, 299 * 3, 333 * 3, 299, 333]);
  });

  it('verify passes under mpirun -n 2', () => {
    const v = JSON.parse(ok(mpirun(2, [stitchJs, 'verify', out, '--input', input, '--json'], JOB), 'verify 100k tiles, 2 ranks').stdout);
    expect(v.ok).toBe(true);
    expect(v.tiles).toHaveLength(100_200);
    expect(v.failed).toEqual([]);
  });
});

describe('a 10,000-tile output (permuted 100x100 grid) records its tiles in /h5stitch/tiles', () => {
  const input = path.join(dir, 'tiles-10k.h5');
  const out = path.join(dir, 'out-10k.h5');
  beforeAll(() => {
    ok(mpirun(2, [stitchJs, 'generate', input, '--tiles', '100x100', '--tile', '5', '--overlap', '2', '--dtype', 'uint16', '--permute', '--seed', '9'], JOB), 'generate 10k tiles');
    ok(mpirun(2, [stitchJs, input, '--out', out], JOB), 'stitch 10k tiles, 2 ranks');
  });

  it('as h5dump reads it: one row (index, y, x, grid_row, grid_col) per tile, sorted by index', () => {
    const layout = h5dumpValues(input, '/tile_array');
    expect(layout).toHaveLength(10_000);
    const table = h5dumpValues(out, '/h5stitch/tiles');
    expect(table).toHaveLength(10_000 * 5);
    const expected: number[] = [];
    const cellOf = new Map(layout.map((index, cell) => [index, cell]));
    for (let index = 0; index < 10_000; index++) {
      const cell = cellOf.get(index)!, r = Math.floor(cell / 100), c = cell % 100;
      expected.push(index, r * 3, c * 3, r, c);
    }
    expect(table).toEqual(expected);
  });

  it('as h5stitch reads it (readProvenance)', () => {
    const p = JSON.parse(ok(node([path.join(fixtures, 'provenance.js'), out, input], JOB), 'readProvenance 10k').stdout);
    expect(p).toMatchObject({ tiles: 10_000, placed: 10_000, mismatched: 0, complete: true, tileShape: [5, 5], overlap: [2, 2] });
  });
});

describe('one pipelined rank, integer output: resident memory does not grow with the band count', () => {
  // 2048 x 4096 uint8 canvas (16x32 tiles of 128², overlap 0, read raw on the blend thread, 32
  // parts per band). --mem-per-rank 32K gives 2048 bands of one row, 256K gives 256 bands of eight:
  // what each band leaves behind (JS garbage V8 promotes, native state kept until the event loop
  // turns) shows as the difference of the two peaks above their start. It was 47-48 MiB (the job
  // objects spread and extended per band, every band's parts listed up front); 3-3.5 MiB after,
  // about what V8's young generation touches as it fills. The bound itself cannot be checked at this
  // size: the run's fixed costs (libraries, HDF5 and MPI-IO state: ~10 MiB) exceed 2 x 32K.
  const input = path.join(dir, 'tiles-bands.h5');
  const peaks: Record<string, any> = {};
  beforeAll(() => {
    ok(mpirun(1, [stitchJs, 'generate', input, '--tiles', '16x32', '--tile', '128', '--overlap', '0', '--dtype', 'uint8'], JOB), 'generate 16x32 tiles of 128² uint8');
    for (const mem of ['32K', '256K']) {
      const out = path.join(dir, `out-bands-${mem}.h5`);
      const job = ok(mpirun(1, [stitchJs, input, '--out', out, '--dtype', 'uint8', '--pipeline', 'on', '--mem-per-rank', mem, '--json'], JOB), `stitch, --mem-per-rank ${mem}`);
      peaks[mem] = JSON.parse(job.stdout);
      fs.rmSync(out, { force: true });
    }
  });

  it('peaks within 10 MiB of each other above their start, at 2048 and 256 bands', () => {
    const above = (mem: string) => (peaks[mem].memory.peakKiB[0] - peaks[mem].memory.startKiB[0]) / 1024;
    for (const mem of ['32K', '256K']) expect(peaks[mem]).toMatchObject({ pipeline: true, dtype: 'uint8', ranks: 1 });
    console.log(`peak above start: ${above('32K').toFixed(1)} MiB at 2048 bands, ${above('256K').toFixed(1)} MiB at 256 bands`);
    expect(above('32K') - above('256K')).toBeLessThanOrEqual(10);
  });
});
