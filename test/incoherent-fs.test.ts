// Two "nodes" whose caches of one shared directory disagree (scripts/incoherent-fs.sh: two
// sshfs mounts with kernel caching; scripts/on-node.sh puts each rank on one). The classic
// read-add-write recipe loses tiles there; h5stitch's slab strategy, which never reads back
// what another rank wrote, stays exact. Outputs are checked on the local (coherent) path.
// The long matrix (3 nodes, every strategy, ROMIO, 1-6 ranks) is scripts/incoherent-matrix.mjs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFileSystem } from '../lib/runtime/file-system';
import { node, repoRoot, run, stitchJs, tempDir } from './helpers/mpirun';

const harness = path.join(repoRoot, 'scripts', 'incoherent-fs.sh');
const onNode = path.join(repoRoot, 'scripts', 'on-node.sh');
const classic = path.join(repoRoot, 'bench', 'classic_stitch.py');
const compareTiles = path.join(repoRoot, 'scripts', 'compare-tiles.mjs');
const bindTarget = '/mnt/h5stitch-shared';

describe('caches that disagree (sshfs nodes)', () => {
  const state = tempDir('h5stitch-incoherent-test-');
  const env = { H5STITCH_INCOHERENT_DIR: state, H5STITCH_SHARED_MOUNT: bindTarget };
  const shared = path.join(state, 'shared');
  let started = '';

  beforeAll(() => {
    // The classic recipe needs Debian's h5py with MPI; say so instead of failing obscurely later.
    const python = run('/usr/bin/python3', ['-c', 'import h5py._debian_h5py_mpi, mpi4py']);
    if (python.code !== 0) throw new Error(`python3-h5py-mpi / python3-mpi4py missing (apt-get install -y python3-h5py-mpi python3-mpi4py): ${python.stderr.trim().split('\n').pop()}`);
    const start = run('bash', [harness, 'start', '--nodes', '2'], { env, timeoutMs: 300_000 });
    if (start.code !== 0) throw new Error(`the incoherent-cache harness did not start: ${start.stderr.trim() || start.stdout.trim()}`);
    started = start.stdout;
  });

  afterAll(() => {
    const stop = run('bash', [harness, 'stop'], { env });
    const status = run('bash', [harness, 'status'], { env });
    expect(stop.code).toBe(0);
    expect(status.code).toBe(3); // nothing of ours left running
    fs.rmSync(state, { recursive: true, force: true });
  });

  it('gives two mounts whose caches disagree, classified uncertain; the shared directory itself is local', () => {
    expect(started).toMatch(/^incoherent=yes/m);
    for (const k of [0, 1]) {
      expect(classifyFileSystem(path.join(state, `node${k}`))).toMatchObject({ type: 'fuse.sshfs', mountPoint: path.join(state, `node${k}`), class: 'uncertain' });
    }
    expect(classifyFileSystem(path.join(state, 'node1', 'out.h5')).class).toBe('uncertain');
    expect(classifyFileSystem(shared).class).not.toBe('uncertain');
  });

  it('classic read-add-write loses tiles across nodes; h5stitch slab is exact', () => {
    const input = path.join(shared, 'tiles.h5');
    const gen = node([stitchJs, 'generate', input, '--tiles', '6x6', '--tile', '256', '--overlap', '26']);
    expect(gen.code, gen.stderr).toBe(0);

    // The classic recipe where caches cannot disagree (one process, local path): the reference.
    const reference = path.join(shared, 'classic-reference.h5');
    const ref = run('python3', [classic, input, '--out', reference]);
    expect(ref.code, ref.stderr).toBe(0);

    // Four ranks on two nodes (rank % 2), all through /mnt/h5stitch-shared. Which pixels go
    // stale depends on timing; up to three runs (each to a new file) must show a loss.
    const lossPerRun: number[] = [];
    for (let attempt = 1; attempt <= 3 && !lossPerRun.some((n) => n > 0); attempt++) {
      const out = `classic-${attempt}.h5`;
      const classicRun = run('mpirun', ['-n', '4', onNode, 'python3', classic, `${bindTarget}/tiles.h5`, '--out', `${bindTarget}/${out}`], { env });
      expect(classicRun.code, classicRun.stderr).toBe(0);
      expect(JSON.parse(classicRun.stdout.trim().split('\n').pop()!)).toMatchObject({ tool: 'classic_stitch', ranks: 4, tiles: 36 });
      const compared = node([compareTiles, path.join(shared, out), reference, '--input', input, '--json']);
      const result = JSON.parse(compared.stdout);
      expect(result.tiles).toBe(36);
      expect(compared.code).toBe(result.wrong > 0 ? 1 : 0);
      lossPerRun.push(result.wrong);
    }
    expect(lossPerRun.some((n) => n > 0), `wrong tiles per run: ${lossPerRun}`).toBe(true); // every call returned success

    // Control: the same recipe, 4 ranks, all on one node (node0's mount): exact.
    const oneNode = run('mpirun', ['-n', '4', 'python3', classic, path.join(state, 'node0', 'tiles.h5'), '--out', path.join(state, 'node0', 'classic-one-node.h5')], { env });
    expect(oneNode.code, oneNode.stderr).toBe(0);
    const oneNodeCompared = node([compareTiles, path.join(shared, 'classic-one-node.h5'), reference, '--input', input, '--json']);
    expect(JSON.parse(oneNodeCompared.stdout)).toMatchObject({ tiles: 36, wrong: 0 });

    const slab = run('mpirun', ['-n', '4', onNode, process.execPath, stitchJs, `${bindTarget}/tiles.h5`, '--out', `${bindTarget}/slab.h5`, '--json'], { env });
    expect(slab.code, slab.stderr).toBe(0);
    const verify = run('mpirun', ['-n', '2', process.execPath, stitchJs, 'verify', path.join(shared, 'slab.h5'), '--input', input, '--json']);
    const report = JSON.parse(verify.stdout.trim().split('\n').pop()!);
    expect(report.failed).toEqual([]);
    expect([report.ok, report.complete, verify.code]).toEqual([true, true, 0]);
  });

  it('refuses the strategies that read the output back on these nodes; --trust-fs-coherence overrides', () => {
    const input = `${bindTarget}/tiles.h5`;
    for (const args of [['--strategy', 'rounds'], ['--strategy', 'rounds', '--io', 'independent'], ['--strategy', 'serial']]) {
      const job = run('mpirun', ['-n', '2', onNode, process.execPath, stitchJs, input, '--out', `${bindTarget}/refused.h5`, ...args], { env });
      expect(job.code).toBe(2);
      const lines = job.stderr.split('\n').filter((l) => l.startsWith('h5stitch:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/reads back output bytes other ranks wrote, and .* is on fuse\.sshfs .*use --strategy slab/);
      expect(fs.existsSync(path.join(shared, 'refused.h5'))).toBe(false);
    }
    const trusted = run('mpirun', ['-n', '2', onNode, process.execPath, stitchJs, input, '--out', `${bindTarget}/trusted.h5`, '--strategy', 'rounds', '--trust-fs-coherence', '--json'], { env });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(JSON.parse(trusted.stdout.trim().split('\n').pop()!).fileSystem).toEqual({ type: 'fuse.sshfs', class: 'uncertain' });
  });
});
