import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mpirun, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir();
const input = path.join(dir, 'in.h5');
beforeAll(() => {
  const job = node([stitchJs, 'generate', input, '--tiles', '2x2', '--tile', '32', '--overlap', '4']);
  expect(job.code).toBe(0);
  expect(node([path.join(repoRoot, 'test', 'fixtures', 'bad-inputs.js'), input, dir]).code).toBe(0);
});
const at = (name: string) => path.join(dir, name);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('bad input: one clear line, exit code 2, no output file', () => {
  const out = path.join(dir, 'out.h5');
  const cases: Array<[string, string[], RegExp]> = [
    ['missing input', [path.join(dir, 'nope.h5'), '--out', out], /input .*nope\.h5 does not exist/],
    ['input not HDF5', [path.join(dir, 'notes.txt'), '--out', out], /notes\.txt is not an HDF5 file/],
    ['tiles dataset missing', [input, '--out', out, '--tiles-path', '/missing'], /no tiles dataset or group \/missing/],
    ['overlap >= tile size', [input, '--out', out, '--overlap', '40'], /overlapY must be an integer in \[0, 32\).*got 40/],
    ['negative overlap', [input, '--out', out, '--overlap', '-3'], /--overlap but received "-3"/],
    ['unknown dtype', [input, '--out', out, '--dtype', 'complex64'], /--dtype but received "complex64"/],
    ['missing output directory', [input, '--out', path.join(dir, 'no', 'such', 'out.h5')], /output directory .*no\/such does not exist/],
    ['output is the input', [input, '--out', input, '--force'], /is the input file/],
    ['mem-per-rank below one row', [input, '--out', out, '--mem-per-rank', '64'], /--mem-per-rank 64 bytes is too small for one canvas row/],
    ['unknown option', [input, '--out', out, '--frobnicate'], /unknown option --frobnicate/],
    ['tiles of different shapes', [at('mixed-shapes.h5'), '--out', out, '--overlap', '4'], /tiles have different shapes: \/tiles\/0 is 32x32 but \/tiles\/1 is 16x32/],
    ['tiles dataset not 3-D', [at('tiles-2d.h5'), '--out', out], /tiles dataset \/tiles .* has 2 dimensions; expected 3/],
    ['layout index out of range', [input, '--out', out, '--layout', at('layout-range.json')], /layout\[1\]\[1\] = 9 is not a valid tile index \(expected -1 or 0..3\)/],
    ['layout index duplicated', [input, '--out', out, '--layout', at('layout-dup.json')], /tile index 1 appears twice in layout: at \[0\]\[1\] and \[1\]\[1\]/],
    ['layout not 2-D', [input, '--out', out, '--layout', at('layout-1d.json')], /layout .*layout-1d\.json must be a 2-D JSON array/],
    ['position NaN', [at('nan-positions.h5'), '--out', out, '--positions', '/pos'], /position of tile 1 must be two finite numbers, got \(20, NaN\)/],
    ['independent rounds with data sieving on', [input, '--out', out, '--strategy', 'rounds', '--io', 'independent', '--hint', 'romio_ds_write=enable'],
      /--strategy rounds --io independent with MPI-IO write data sieving on is unsafe/],
    ['compressed output with independent writes', [input, '--out', out, '--io', 'independent', '--chunk', '16x16', '--compress', 'gzip'],
      /--compress needs collective writes: drop --io independent/],
    ['pipeline with a strategy that has none', [input, '--out', out, '--strategy', 'rounds', '--pipeline', 'on'],
      /--pipeline on applies to --strategy slab only, not rounds/],
    ['pipeline value unknown', [input, '--out', out, '--pipeline', 'yes'], /--pipeline but received "yes"/],
    ['pipeline without room for two bands', [input, '--out', out, '--pipeline', 'on', '--mem-per-rank', '300'],
      /--pipeline on needs --mem-per-rank of two canvas rows \(\d+ bytes\), got 300/],
    ['writeback value unknown', [input, '--out', out, '--writeback', 'later'], /--writeback but received "later"/],
    ['compressed output with the serial strategy', [input, '--out', out, '--strategy', 'serial', '--chunk', '16x16', '--compress', 'gzip'],
      /--compress needs collective writes, and --strategy serial writes from rank 0 alone/],
  ];
  beforeAll(() => fs.writeFileSync(path.join(dir, 'notes.txt'), 'not hdf5\n'));

  it.each(cases)('%s', (_name, args, message) => {
    const before = fs.readFileSync(input);
    const job = mpirun(2, [stitchJs, ...args]);
    expect(job.code).toBe(2);
    const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(job.stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.includes('h5stitch-partial'))).toEqual([]);
    expect(fs.readFileSync(input).equals(before)).toBe(true); // the input is never modified
  });

  it('refuses a read-only output directory', (ctx) => {
    const ro = at('read-only');
    fs.mkdirSync(ro);
    // As root, permission bits do not stop writes: a read-only mount does.
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).status !== 0) ctx.skip();
    try {
      const job = mpirun(2, [stitchJs, input, '--out', path.join(ro, 'out.h5')]);
      expect(job.code).toBe(2);
      expect(job.stderr).toMatch(/output directory .*read-only is not writable/);
    } finally {
      spawnSync('umount', [ro]);
    }
  });

  it('refuses an existing output without --force', () => {
    expect(mpirun(2, [stitchJs, input, '--out', out]).code).toBe(0);
    const job = mpirun(2, [stitchJs, input, '--out', out]);
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/output .*out\.h5 exists; pass --force to replace it/);
    expect(mpirun(2, [stitchJs, input, '--out', out, '--force']).code).toBe(0);
  });

  it('more ranks than canvas rows is not an error', () => {
    const tiny = path.join(dir, 'tiny.h5');
    expect(node([stitchJs, 'generate', tiny, '--tiles', '1x1', '--tile', '3x8', '--overlap', '0']).code).toBe(0);
    const job = mpirun(5, [stitchJs, tiny, '--out', path.join(dir, 'tiny-out.h5')]);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    expect(mpirun(5, [stitchJs, 'verify', path.join(dir, 'tiny-out.h5'), '--input', tiny]).code).toBe(0);
  });
});
