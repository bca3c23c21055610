/**
 * How many CPUs this process's node gives the job, whatever the launcher bound each rank to.
 *
 * os.availableParallelism() is the rank's affinity mask: Open MPI binds 1-2 ranks to one core
 * each by default, so it says 1 on a node with idle cores. The job's real limit is its cpuset
 * (what SLURM's cgroups or a container allow, and what a thread that widens its own mask may
 * use): read from the cgroup, or all online CPUs where there is none.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** Counts the CPUs of a cpuset list such as "0-3,8,10-11"; null when it cannot be parsed. */
export function countCpuList(list: string): number | null {
  const text = list.trim();
  if (text === '') return null;
  let count = 0;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return null;
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    count += hi - lo + 1;
  }
  return count;
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The effective cpuset of this process's cgroup (v2, or v1's cpuset controller); null if none. */
function cgroupCpus(): number | null {
  const cgroups = read('/proc/self/cgroup');
  if (cgroups === null) return null;
  for (const line of cgroups.split('\n')) {
    const [, controllers, where] = line.split(':');
    if (where === undefined) continue;
    const file = controllers === ''
      ? `/sys/fs/cgroup${where}/cpuset.cpus.effective`
      : controllers.split(',').includes('cpuset') ? `/sys/fs/cgroup/cpuset${where}/cpuset.effective_cpus` : null;
    const list = file ? read(file) : null;
    const n = list === null ? null : countCpuList(list);
    if (n !== null) return n;
  }
  return null;
}

/** CPUs this node lets the job use (its cgroup's cpuset, else every CPU), ignoring per-rank binding. */
export function nodeCpus(): number {
  return Math.max(1, Math.min(os.cpus().length || 1, cgroupCpus() ?? Infinity));
}
