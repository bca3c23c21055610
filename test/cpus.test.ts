/** The node CPU count behind --pipeline auto: cpuset lists as the kernel writes them. */
import { describe, expect, it } from 'vitest';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../lib/runtime/addon';
import { countCpuList, nodeCpus } from '../lib/runtime/cpus';
import { repoRoot, run } from './helpers/mpirun';

describe('countCpuList', () => {
  it('counts ranges and single CPUs', () => {
    expect(countCpuList('0-1\n')).toBe(2);
    expect(countCpuList('0-3,8,10-11')).toBe(7);
    expect(countCpuList('5')).toBe(1);
  });
  it('gives null for what it cannot read', () => {
    expect(countCpuList('')).toBeNull();
    expect(countCpuList('3-1')).toBeNull();
    expect(countCpuList('a-b')).toBeNull();
  });
});

describe('nodeCpus', () => {
  it('is at least 1 and at most the online CPUs', () => {
    const n = nodeCpus();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(os.cpus().length);
  });
});

describe('setCallerCpus (a one-rank pipelined stitch on a rank bound to one CPU)', () => {
  it('lets a thread bound to one CPU run on all of the cpuset, then gives it its binding back', () => {
    // A Node process bound to CPU 0, as Open MPI binds `mpirun -n 1`.
    const script = `const os = require('node:os');
      const a = require(${JSON.stringify(path.join(repoRoot, 'dist', 'runtime', 'addon.js'))}).native();
      const seen = [os.availableParallelism()];
      seen.push(a.setCallerCpus('node'), os.availableParallelism(), a.setCallerCpus('node'));
      seen.push(a.setCallerCpus('saved'), os.availableParallelism(), a.setCallerCpus('saved'));
      console.log(JSON.stringify(seen));`;
    const job = run('taskset', ['-c', '0', process.execPath, '-e', script]);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    // Widened to the node's CPUs; a second 'node' keeps the first saved mask; 'saved' once.
    expect(JSON.parse(job.stdout)).toEqual([1, true, nodeCpus(), false, true, 1, false]);
    expect(() => native().setCallerCpus('all' as never)).toThrow(/Expected 'node' or 'saved' for setCallerCpus mode but received/);
  });
});
