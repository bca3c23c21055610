// What the benchmark scripts share: the environment their mpirun jobs run in, and running one job
// (timed, failing loudly). These parents never initialise MPI; each job is its own mpirun.
import { spawnSync } from 'node:child_process';

/** The jobs' environment: oversubscription allowed, idle ranks yielding, root allowed when root. */
export function jobEnv() {
  const env = { ...process.env, NO_COLOR: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', OMPI_MCA_mpi_yield_when_idle: '1' };
  if (process.getuid?.() === 0) Object.assign(env, { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' });
  return env;
}

/** Runs one job; returns its stdout, stderr, whole-job seconds. Throws (naming the job) when it fails. */
export function runJob(env, cmd, args, what, maxBuffer = 64 << 20) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return { stdout: r.stdout, stderr: r.stderr, seconds };
}

/** The last JSON line a job printed (its report). */
export const lastJson = (text) => JSON.parse(text.trim().split('\n').filter((l) => l.startsWith('{')).pop());
