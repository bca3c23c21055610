// The MPICH build: configure and build the addon against MPICH's parallel HDF5,
// then run a collective write under mpirun.mpich. CI installs libhdf5-mpich-dev
// and mpich for this; on a machine without them the test is reported as skipped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMpichAddon, haveMpich } from './helpers/mpich';
import { run, tempDir } from './helpers/mpirun';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveMpich)('MPICH build', () => {
  it('configures, links only MPICH, and writes collectively under mpirun.mpich', () => {
    const { code, log, addon } = buildMpichAddon();
    expect(code, log).toBe(0);
    const libs = run('ldd', [addon]).stdout;
    expect(libs).toMatch(/libmpich/);
    expect(libs).not.toMatch(/libmpi\.so|openmpi/); // never both MPIs in one process
    const script = path.join(dir, 'write.js');
    fs.writeFileSync(script, `
      // What lib/runtime/addon.ts sets before it loads the addon (this script loads it directly).
      process.env.UCX_ERROR_SIGNALS = '';
      process.env.UCX_MEM_EVENTS = 'no';
      const a = require(${JSON.stringify(addon)});
      a.mpi.init('funneled');
      const rank = a.mpi.rank(), size = a.mpi.size();
      const f = new a.File(${JSON.stringify(path.join(dir, 'mpich.h5'))}, { mode: 'create', parallel: true, overwrite: true, hints: { romio_ds_write: 'disable' } });
      const d = f.createDataset('/x', { shape: [size, 2], dtype: 'int32' });
      const mode = d.write([rank, 0], [1, 2], new Int32Array([rank, rank * 10]), { transfer: 'collective' });
      d.close(); f.close();
      console.log(rank + '/' + size + ' ' + mode + ' ' + a.mpi.libraryVersion().library.split('\\n')[0]);
      a.mpi.finalize();
    `);
    const job = run('mpirun.mpich', ['-n', '3', process.execPath, script], { timeoutMs: 60_000 });
    expect(job.code).toBe(0);
    const lines = job.stdout.trim().split('\n').sort();
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['0/3 contiguous-collective', '1/3 contiguous-collective', '2/3 contiguous-collective']);
    expect(lines[0]).toMatch(/MPICH Version/);
    const dump = run('h5dump', ['-d', '/x', '-y', '-w', '0', path.join(dir, 'mpich.h5')]).stdout;
    expect(dump.slice(dump.indexOf('DATA {')).match(/-?\d+/g)!.map(Number)).toEqual([0, 0, 1, 10, 2, 20]);
  });

  it('refuses (exit 2, one line) when started by the launcher of another MPI', () => {
    // Open MPI's build under MPICH's mpiexec: each process would be rank 0 of 1.
    const job = run('mpirun.mpich', ['-n', '2', process.execPath, '-e', "const m=require('./dist/index.js').initMpi();console.log(m.rank+'/'+m.size)"],
      { timeoutMs: 60_000 });
    expect(job.code).toBe(2);
    expect(job.stdout).toBe('');
    expect(job.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^h5stitch: error: a PMI launcher \(such as MPICH's mpiexec\) started 2 ranks but Open MPI .* sees each as rank 0 of 1/),
    ]);
  });
});

