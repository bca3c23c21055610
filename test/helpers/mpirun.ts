/**
 * Spawns real `mpirun` jobs from the test runner, which itself never
 * initialises MPI (a singleton init would leak OMPI_/PMIX_ variables that make
 * a child mpirun exit 1 silently).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const stitchJs = path.join(repoRoot, 'dist', 'stitch.js');

export interface JobResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment for child jobs: no inherited MPI state, root + oversubscribe allowed. */
export function jobEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(OMPI_|PMIX_|ORTE_|OPAL_|PMI_|HYDRA_)/.test(key)) env[key] = value;
  }
  return {
    ...env,
    OMPI_ALLOW_RUN_AS_ROOT: '1',
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1',
    OMPI_MCA_rmaps_base_oversubscribe: '1',
    // Idle ranks yield the core instead of busy-polling it (2 shared cores here).
    OMPI_MCA_mpi_yield_when_idle: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

export interface RunOptions { timeoutMs?: number; env?: Record<string, string>; cwd?: string }

/** Runs `mpirun -n ranks node args...` and waits (bounded by timeoutMs). */
export function mpirun(ranks: number, args: string[], options: RunOptions = {}): JobResult {
  return run('mpirun', ['-n', String(ranks), process.execPath, ...args], options);
}

/** Runs plain `node args...` (MPI singleton when the script initialises MPI). */
export function node(args: string[], options: RunOptions = {}): JobResult {
  return run(process.execPath, args, options);
}

export function run(command: string, args: string[], options: RunOptions = {}): JobResult {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: jobEnv(options.env),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    ms: Date.now() - started,
  };
}

/** A fresh temporary directory, removed by the caller (or left for inspection on failure). */
export function tempDir(prefix = 'h5stitch-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
