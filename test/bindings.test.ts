import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, run, tempDir } from './helpers/mpirun';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'bindings.js');
const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ROWS = 3;
const COLS = 5;
const valueAt = (rank: number, row: number, col: number) => Math.fround(rank * 1000 + row * 10 + col + 0.25);

function expectedData(size: number): number[] {
  const out: number[] = [];
  for (let rank = 0; rank < size; rank++)
    for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) out.push(valueAt(rank, r, c));
  return out;
}

describe.each([1, 2, 3, 4])('bindings under mpirun -n %i', (size) => {
  it.each(['collective', 'independent'])('each rank writes its hyperslab (%s) and reads back exactly', (transfer) => {
    const file = path.join(dir, `bind-${size}-${transfer}.h5`);
    const job = mpirun(size, [fixture, 'write', file, transfer]);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    const report = JSON.parse(job.stdout.trim().split('\n').pop()!);
    expect(report.size).toBe(size);
    expect(report.localSize).toBe(size); // every rank on this one node
    expect(report.writeback).toBe(process.platform === 'linux');
    if (transfer === 'collective') {
      // HDF5 really did collective I/O (a hidden fallback to independent would show here).
      expect(report.mode).toBe('contiguous-collective');
      expect(report.collective).toEqual(new Array(size * 2).fill(1));
    } else {
      expect(report.mode).toBe('independent');
    }

    const read = JSON.parse(node([fixture, 'read', file]).stdout);
    expect(read.shape).toEqual([size * ROWS, COLS]);
    expect(read.dtype).toBe('float32');
    expect(read.data).toEqual(expectedData(size));
    expect(read.atOffset).toEqual(expectedData(size)); // fileOffset points at the data
    expect(read.cube).toEqual(Array.from({ length: size * 8 }, (_, i) => Math.floor(i / 8) * 100 + (i % 8)));
    // Odd ranks wrote nothing: their element keeps the fill value.
    expect(read.sparse).toEqual(Array.from({ length: size }, (_, r) => (r % 2 === 0 ? r * 7 : -1)));
    expect(read.attrs).toEqual({ ranks: size, label: 'h5stitch bindings test', vector: [1.5, 2.5, 3.5], root: 'made by bindings.js' });
    expect(read.names).toEqual(['label', 'ranks', 'vector']);

    // A reader no one here wrote agrees, value by value.
    const dump = run('h5dump', ['-d', '/data', '-m', '%.6f', '-y', '-w', '0', file]);
    expect(dump.code).toBe(0);
    const data = dump.stdout.slice(dump.stdout.indexOf('DATA {'));
    const numbers = data.slice(0, data.indexOf('}')).match(/-?\d+\.\d+/g)!.map(Number);
    expect(numbers).toEqual(expectedData(size));
    const attrs = run('h5dump', ['-a', '/data/label', file]);
    expect(attrs.stdout).toContain('"h5stitch bindings test"');
  });
});

describe('bindings error paths', () => {
  it('turns each misuse into a clear JS error with a code', () => {
    const job = node([fixture, 'errors', path.join(dir, 'errors.h5')]);
    expect(job.code).toBe(0);
    const r = JSON.parse(job.stdout);
    expect(r.missingFile.code).toBe('ERR_HDF5');
    expect(r.missingFile.message).toMatch(/H5Fopen\(.*does-not-exist\.h5\) failed; HDF5 error stack:/);
    expect(r.wrongDtype).toMatchObject({ code: 'ERR_DTYPE' });
    expect(r.wrongDtype.message).toMatch(/Expected a TypedArray of dtype float32 .* but received Float64Array/);
    expect(r.outOfRange).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(r.outOfRange.message).toContain('lies outside the dataset shape [4, 4]');
    expect(r.badLength.message).toContain('Expected a buffer of 4 elements');
    expect(r.badShape).toMatchObject({ name: 'TypeError' });
    expect(r.badShape.message).toBe('Expected an array of non-negative integers for shape but received string "big"');
    expect(r.badDtype.message).toMatch(/^Expected one of 'int8' .* for dtype but received string "complex128"$/);
    expect(r.missingDataset.code).toBe('ERR_HDF5');
    expect(r.afterFinalize.code).toBe('ERR_MPI_STATE');
    expect(r.rankAfterFinalize.message).toBe('MPI was finalized; rank() is no longer possible');
  });

  it('a script that throws on rank 1 of 3 ends the whole job promptly with that message', () => {
    const job = mpirun(3, [fixture, 'throw-on-rank', path.join(dir, 'unused.h5')], { timeoutMs: 30_000 });
    expect(job.signal).toBeNull(); // not killed by our timeout: the job ended by itself
    expect(job.code).not.toBe(0);
    expect(job.stderr).toContain('[rank 1] uncaught error: Error: deliberate failure on rank 1');
    expect(job.ms).toBeLessThan(20_000);
  });

  it('mpirun -n 4 prints four distinct ranks', () => {
    const script = "const m=require('./dist/index.js').initMpi();console.log(m.rank+'/'+m.size)";
    const job = mpirun(4, ['-e', script]);
    expect(job.code).toBe(0);
    expect(job.stdout.trim().split('\n').sort()).toEqual(['0/4', '1/4', '2/4', '3/4']);
  });
});
