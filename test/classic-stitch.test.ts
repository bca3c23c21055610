// bench/classic_stitch.py, the classic h5py + mpi4py recipe kept as a baseline: it runs under
// mpirun, reports its timings as one JSON line, and (where caches agree) computes the plain sum
// that h5stitch's --blend none computes, bit for bit, so the two can be compared.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mpirun, node, repoRoot, run, stitchJs, tempDir } from './helpers/mpirun';

const classic = path.join(repoRoot, 'bench', 'classic_stitch.py');
const compareTiles = path.join(repoRoot, 'scripts', 'compare-tiles.mjs');

describe('classic recipe baseline (bench/classic_stitch.py)', () => {
  let dir: string;
  let input: string;

  beforeAll(() => {
    const python = run('/usr/bin/python3', ['-c', 'import h5py._debian_h5py_mpi, mpi4py']);
    if (python.code !== 0) throw new Error(`python3-h5py-mpi / python3-mpi4py missing (apt-get install -y python3-h5py-mpi python3-mpi4py): ${python.stderr.trim().split('\n').pop()}`);
    dir = tempDir();
    input = path.join(dir, 'tiles.h5');
    const gen = node([stitchJs, 'generate', input, '--tiles', '4x4', '--tile', '64', '--overlap', '8']);
    if (gen.code !== 0) throw new Error(gen.stderr);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stitches under mpirun -n 2 and prints one JSON line of timings', () => {
    const job = run('mpirun', ['-n', '2', 'python3', classic, input, '--out', `${path.join(dir, 'classic.h5')}:/image`]);
    expect(job.code, job.stderr).toBe(0);
    const lines = job.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]);
    expect(report).toMatchObject({ tool: 'classic_stitch', ranks: 2, tiles: 16, tile: [64, 64], overlap: [8, 8], canvas: [232, 232], dtype: 'float32', dataset: '/image', atomic: true });
    expect(report.wall_s).toBeGreaterThan(0);
    expect(report.phases.rounds_s).toHaveLength(4);
    for (const key of ['open_s', 'zero_fill_s', 'read_tiles_s', 'add_write_s', 'flush_s', 'close_s']) expect(report.phases[key]).toBeGreaterThanOrEqual(0);
  });

  it('computes the plain sum h5stitch --blend none computes, bit for bit', () => {
    const ours = path.join(dir, 'classic-sum.h5');
    expect(run('mpirun', ['-n', '2', 'python3', classic, input, '--out', ours]).code).toBe(0);
    const h5stitch = path.join(dir, 'h5stitch-sum.h5');
    const stitched = mpirun(2, [stitchJs, input, '--out', h5stitch, '--blend', 'none']);
    expect(stitched.code, stitched.stderr).toBe(0);
    const compared = node([compareTiles, ours, h5stitch, '--input', input, '--json']);
    expect(JSON.parse(compared.stdout)).toMatchObject({ tiles: 16, wrong: 0 });
    expect(compared.code).toBe(0);
  });

  it('h5stitch verify checks the classic output given the placement, and names a damaged tile', () => {
    const ours = path.join(dir, 'classic-sum.h5'); // written by the test above
    const ok = mpirun(2, [stitchJs, 'verify', ours, '--input', input, '--blend', 'none', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n').pop()!)).toMatchObject({ ok: true, failed: [], complete: true });
    expect(ok.stderr).not.toMatch(/warning/);
    // The same output with the linear blend it was not made with: every overlap is wrong.
    expect(mpirun(2, [stitchJs, 'verify', ours, '--input', input, '--overlap', '8']).code).toBe(1);
    // A lost tile, as the classic recipe loses them: zeros over most of tile 5's own pixels.
    const hdf5 = JSON.stringify(path.join(repoRoot, 'dist', 'runtime', 'hdf5.js'));
    const zero = `const {openFile}=require(${hdf5});const f=openFile(${JSON.stringify(ours)},{mode:'r+'});` +
      "const d=f.openDataset('/stitched');d.write([70,70],[30,30],new Float32Array(900));f.close()";
    expect(node(['-e', zero]).code).toBe(0);
    const bad = mpirun(2, [stitchJs, 'verify', ours, '--input', input, '--blend', 'none']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^tile 5: (missing|wrong)/m);
    // Without provenance or a placement there is nothing to check against: one line, exit 2.
    const none = mpirun(2, [stitchJs, 'verify', ours, '--input', input]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/not written by h5stitch/);
  });

  it('bad input: one line, exit 2', () => {
    const missing = run('mpirun', ['-n', '2', 'python3', classic, path.join(dir, 'nope.h5'), '--out', path.join(dir, 'x.h5')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.split('\n').filter((l) => l.startsWith('classic_stitch:'))).toEqual([`classic_stitch: error: input ${path.join(dir, 'nope.h5')} not found`]);
    const single = run('python3', [classic, input, '--out', path.join(dir, 'y.h5'), '--overlap', '64']);
    expect(single.code).toBe(2);
    expect(single.stderr.trim()).toBe('classic_stitch: error: overlap (64, 64) must be smaller than the tile (64, 64)');
  });
});
