/**
 * --write-threads: slab bands copied straight into the contiguous output by several threads
 * (pwrite at the dataset's offset, parts split on page boundaries) hold exactly the pixels the
 * HDF5 + MPI-IO path writes, at 1 and 2 ranks (neighbouring ranks' bands share a page), with
 * conversion to an integer dtype, and with either writeback; collective writes keep the MPI-IO path.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mpirun, node, repoRoot, stitchJs, tempDir, type JobResult } from './helpers/mpirun';

const h5read = path.join(repoRoot, 'test', 'fixtures', 'h5read.js');
const JOB = { timeoutMs: 60_000 };
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function ok(job: JobResult, what: string): JobResult {
  expect(job.code, `${what} exited ${job.code} (${job.signal})\n${job.stderr}`).toBe(0);
  return job;
}

// 5x7 tiles of 97x101: a 442x633 canvas, rows of 2,532 bytes (float32): band and part edges fall
// inside pages. --mem-per-rank 64K: 25-row bands, so a slab is several bands.
const input = path.join(dir, 'tiles.h5');
const stitched = (name: string, ranks: number, args: string[]) => {
  const out = path.join(dir, `${name}.h5`);
  const job = ok(mpirun(ranks, [stitchJs, input, '--out', out, '--mem-per-rank', '64K', '--json', ...args], JOB), `stitch ${name}`);
  return { out, report: JSON.parse(job.stdout.trim().split('\n').pop()!) };
};
const identical = (a: string, b: string) => JSON.parse(ok(node([h5read, 'compare', a, b], JOB), 'compare').stdout)[0];

beforeAll(() => {
  ok(node([stitchJs, 'generate', input, '--tiles', '5x7', '--tile', '97x101', '--overlap', '11']), 'generate');
});

describe('--write-threads', () => {
  const cases = [
    { name: 'float32, 1 rank', ranks: 1, args: [] as string[] },
    { name: 'float32, 2 ranks', ranks: 2, args: [] },
    { name: 'uint16, 2 ranks', ranks: 2, args: ['--dtype', 'uint16'] },
    { name: 'float32, 1 rank, --writeback end, pipelined', ranks: 1, args: ['--writeback', 'end', '--pipeline', 'on'] },
  ];
  it.each(cases)('$name: 3 threads write the pixels of the MPI-IO path', ({ name, ranks, args }) => {
    const tag = name.replace(/\W+/g, '-');
    const reference = stitched(`${tag}-mpiio`, ranks, [...args, '--write-threads', '1']);
    const threaded = stitched(`${tag}-threads`, ranks, [...args, '--write-threads', '3']);
    expect(reference.report).toMatchObject({ io: 'independent', writeThreads: 1 });
    expect(threaded.report).toMatchObject({ io: 'independent', writeThreads: 3 });
    expect(identical(reference.out, threaded.out)).toMatchObject({ identical: true, maxAbs: 0 });
    const verify = ok(mpirun(ranks, [stitchJs, 'verify', threaded.out, '--input', input, '--json'], JOB), 'verify');
    expect(JSON.parse(verify.stdout.trim().split('\n').pop()!).ok).toBe(true);
  });

  it('collective writes and chunked outputs go through MPI-IO (writeThreads 1)', () => {
    expect(stitched('collective', 2, ['--io', 'collective', '--write-threads', '3']).report).toMatchObject({ io: 'collective', writeThreads: 1 });
    expect(stitched('chunked', 1, ['--chunk', '64x64', '--write-threads', '3']).report).toMatchObject({ writeThreads: 1 });
  });

  it('refuses a thread count that is not a positive integer (exit 2, one line)', () => {
    const job = mpirun(1, [stitchJs, input, '--out', path.join(dir, 'bad.h5'), '--write-threads', '0'], JOB);
    expect(job.code).toBe(2);
    expect(job.stderr.trim()).toMatch(/Expected an integer >= 1 for --write-threads but received "0"/);
  });
});
