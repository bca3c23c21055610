// A real one-node SLURM (munge, slurmctld, slurmd from scripts/slurm/local-cluster.sh, which installs
// the packages when missing): the shipped batch scripts run as jobs on generated tiles, and srun
// launches with a PMI the linked MPI cannot use are refused. srun runs with --quiet: a job may wait a
// moment for the previous one's resources ("queued and waiting"), which is not what is tested. If SLURM cannot start, every test here
// fails (beforeAll throws); nothing is skipped.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMpichAddon, haveMpich, mpichPackage } from './helpers/mpich';
import { jobEnv, node, repoRoot, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-slurm-test-');
const clusterScript = path.join(repoRoot, 'scripts', 'slurm', 'local-cluster.sh');
// Its own state directory and ports, so a cluster someone started by hand keeps running.
const clusterEnv = { H5STITCH_SLURM_DIR: path.join(dir, 'cluster'), H5STITCH_SLURM_PORT: '6837' };
let slurmConf = '';

/** The test environment without any SLURM job of our own caller leaking in, pointed at our cluster. */
function slurmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = jobEnv({ ...clusterEnv, ...extra });
  for (const key of Object.keys(env)) if (key.startsWith('SLURM_')) delete env[key];
  return { ...env, SLURM_CONF: slurmConf };
}

function sh(command: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}) {
  const started = Date.now();
  const r = spawnSync(command, args, {
    cwd: repoRoot, env: slurmEnv(options.env), encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - started };
}

interface Job { id: string; state: string; exitCode: string; log: string; ms: number }

const TERMINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$/;

/**
 * Submits a shipped batch script (from the repository root, as a user does) and waits for it by
 * polling `scontrol show job` (sbatch --wait polls after 2 s and then 8 s more). Returns its final
 * state, exit code and output file.
 */
function submit(script: string, sbatchArgs: string[], env: Record<string, string>): Job {
  const log = path.join(dir, `${path.basename(script, '.sbatch')}-%j.out`);
  const sub = sh('sbatch', ['--parsable', `--output=${log}`, ...sbatchArgs, path.join('scripts', 'slurm', script)], { env });
  expect(sub.stderr).toBe('');
  expect(sub.code).toBe(0);
  const id = sub.stdout.trim().split(';')[0];
  const started = Date.now();
  for (;;) {
    const show = sh('scontrol', ['show', 'job', '-o', id]).stdout;
    const state = /JobState=(\S+)/.exec(show)?.[1] ?? '';
    if (TERMINAL.test(state)) {
      const file = log.replace('%j', id);
      return { id, state, exitCode: /\bExitCode=(\S+)/.exec(show)![1], log: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', ms: Date.now() - started };
    }
    if (Date.now() - started > 60_000) {
      sh('scancel', [id]);
      throw new Error(`job ${id} (${script}) did not end within 60 s: ${show}`);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

/**
 * "task:code" for every task in srun's exit summary lines ("srun: error: vm: tasks 0-1: Exited with
 * exit code 2", one line per group of tasks that ended alike); throws on any other srun line.
 */
function srunExits(stderrLines: string[]): string[] {
  const exits: string[] = [];
  for (const line of stderrLines.filter((l) => l.startsWith('srun:'))) {
    const m = /^srun: error: \S+: tasks? ([\d,-]+): Exited with exit code (\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected srun line: ${line}`);
    for (const part of m[1].split(',')) {
      const [a, b = a] = part.split('-').map(Number);
      for (let t = a; t <= b; t++) exits.push(`${t}:${m[2]}`);
    }
  }
  return exits.sort();
}

const jsonLines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const tiles = path.join(dir, 'tiles.h5');

beforeAll(() => {
  // Installs slurm/munge with apt-get on a fresh machine: minutes, not seconds.
  const start = sh('bash', [clusterScript, 'start'], { timeoutMs: 600_000 });
  if (start.code !== 0) throw new Error(`local SLURM did not start (exit ${start.code}): ${start.stderr.trim()}`);
  slurmConf = /^export SLURM_CONF=(\S+)$/m.exec(start.stdout)![1];
  expect(node([stitchJs, 'generate', tiles, '--tiles', '3x4', '--tile', '40x56', '--overlap', '6']).code).toBe(0);
}, 600_000);

afterAll(() => {
  const stop = sh('bash', [clusterScript, 'stop'], { timeoutMs: 60_000 });
  if (stop.code !== 0) process.stderr.write(`local-cluster.sh stop: ${stop.stderr}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('local cluster', () => {
  it('is up: one idle node, and start again is a no-op', () => {
    expect(sh('bash', [clusterScript, 'status']).code).toBe(0);
    const again = sh('bash', [clusterScript, 'start']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already running \(slurmctld \d+, slurmd \d+\)/);
    expect(again.stdout.trim()).toBe(`export SLURM_CONF=${slurmConf}`);
    expect(sh('sinfo', ['-h', '-o', '%T %c']).stdout.trim()).toMatch(/^idle \d+$/);
  });
});

describe('srun launches', () => {
  it('srun --mpi=pmix starts one MPI job of N ranks', () => {
    const job = sh('srun', ['--quiet', '--mpi=pmix', '-n', '3', process.execPath, '-e', "const m=require('./dist/index.js').initMpi();console.log(m.rank+'/'+m.size)"]);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    expect(job.stdout.trim().split('\n').sort()).toEqual(['0/3', '1/3', '2/3']);
  });

  it.each(['none', 'pmi2'])('srun --mpi=%s is refused before MPI_Init: one line, exit 2 on every task, no output', (pmi) => {
    const out = path.join(dir, `refused-${pmi}.h5`);
    const job = sh('srun', ['--quiet', `--mpi=${pmi}`, '-n', '2', process.execPath, stitchJs, tiles, '--out', out]);
    expect(job.code).toBe(2);
    const lines = job.stderr.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('srun:'))).toEqual([
      expect.stringMatching(new RegExp(`^h5stitch: error: srun --mpi=${pmi} started this task without PMIx, which Open MPI \\S+ needs to start ` +
        '\\(MPI_Init would abort\\); run srun --mpi=pmix \\(srun --mpi=list shows what this SLURM offers\\), or Open MPI\'s mpirun inside the allocation')),
    ]);
    // srun's own summary: both tasks ended with h5stitch's exit code, none inside MPI_Init.
    expect(srunExits(lines)).toEqual(['0:2', '1:2']);
    expect(job.stderr).not.toMatch(/NULL communicator|Local abort/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

// MPICH without PMIx support starts through PMI-1/PMI-2 only: under srun --mpi=none or pmix every
// task would run alone as rank 0 of 1 (CI installs MPICH; test/mpich.test.ts builds against it too).
describe.skipIf(!haveMpich)('srun launches of the MPICH build', () => {
  let mpichStitch = '';
  beforeAll(() => {
    const { code, log, addon } = buildMpichAddon();
    expect(code, log).toBe(0);
    mpichStitch = mpichPackage(path.join(dir, 'mpich-package'), addon);
  }, 300_000);

  it('srun --mpi=pmi2 stitches with N ranks', () => {
    const out = path.join(dir, 'mpich-pmi2.h5');
    const job = sh('srun', ['--quiet', '--mpi=pmi2', '-n', '2', process.execPath, mpichStitch, tiles, '--out', out, '--json']);
    expect(job.stderr).toBe('');
    expect(job.code).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ command: 'stitch', ranks: 2, tiles: 12 });
    expect(node([stitchJs, 'verify', out, '--input', tiles]).code).toBe(0);
  });

  it('srun --mpi=pmix is refused before MPI_Init', () => {
    const out = path.join(dir, 'mpich-pmix.h5');
    const job = sh('srun', ['--quiet', '--mpi=pmix', '-n', '2', process.execPath, mpichStitch, tiles, '--out', out]);
    expect(job.code).toBe(2);
    const lines = job.stderr.trim().split('\n');
    expect(srunExits(lines)).toEqual(['0:2', '1:2']);
    expect(lines.filter((l) => !l.startsWith('srun:'))).toEqual([
      expect.stringMatching(/^h5stitch: error: srun --mpi=pmix started 2 tasks without a PMI-1\/PMI-2 server, which MPICH \S+ needs: each task would run alone as rank 0 of 1 and write the same output; run srun --mpi=pmi2/),
    ]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('with the check before MPI_Init off, the ranks that each see rank 0 of 1 refuse after it', () => {
    const out = path.join(dir, 'mpich-none.h5');
    const job = sh('srun', ['--quiet', '--mpi=none', '-n', '2', process.execPath, mpichStitch, tiles, '--out', out], { env: { H5STITCH_LAUNCH_CHECK: 'off' } });
    expect(job.code).toBe(2);
    const lines = job.stderr.trim().split('\n');
    expect(srunExits(lines)).toEqual(['0:2', '1:2']);
    expect(lines.filter((l) => !l.startsWith('srun:'))).toEqual([
      expect.stringMatching(/^h5stitch: error: srun --mpi=none started 2 ranks but MPICH \S+ sees each as rank 0 of 1, so every one would write the whole output/),
    ]);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('batch scripts', () => {
  const output = path.join(dir, 'stitched.h5');

  it('stitch.sbatch stitches and verifies a tile file as one job of 3 ranks x 2 CPUs', () => {
    const report = path.join(dir, 'stitch-report.json');
    const job = submit('stitch.sbatch', ['--ntasks=3', '--cpus-per-task=2'], {
      INPUT: tiles, OUTPUT: output, REPORT: report, STITCH_OPTIONS: '--dtype float64 --chunk 16x64', HINTS: 'cb_buffer_size=1048576 cb_nodes=2',
    });
    expect(job.log).toContain(`verify OK: ${output}`);
    expect([job.state, job.exitCode]).toEqual(['COMPLETED', '0:0']);
    const [stitch, verify] = jsonLines(report);
    expect(stitch).toMatchObject({ command: 'stitch', ranks: 3, tiles: 12, output: `${output}:/stitched`, dtype: 'float64' });
    expect(verify).toMatchObject({ command: 'verify', ok: true, complete: true, failed: [] });
    expect(verify.tiles).toHaveLength(12);
  });

  it('fails the job (sbatch --wait exits non-zero) when verify fails', () => {
    // Zero one tile of the output stitch.sbatch wrote, then verify only.
    expect(node([path.join(repoRoot, 'test', 'fixtures', 'damage.js'), output, '5']).code).toBe(0);
    const report = path.join(dir, 'verify-report.json');
    const log = path.join(dir, 'verify-only.out');
    const wait = sh('sbatch', ['--wait', '--parsable', `--output=${log}`, '--ntasks=2', path.join('scripts', 'slurm', 'stitch.sbatch')], {
      env: { INPUT: tiles, OUTPUT: output, REPORT: report, VERIFY_ONLY: '1' },
    });
    expect(wait.code).toBe(1);
    const id = wait.stdout.trim();
    const show = sh('scontrol', ['show', 'job', '-o', id]).stdout;
    expect(show).toMatch(/JobState=FAILED /);
    expect(show).toMatch(/ExitCode=1:0/);
    const text = fs.readFileSync(log, 'utf8');
    expect(text).toContain('tile 5: missing');
    expect(text).toContain(`verify FAILED: ${output} does not match ${tiles}`);
    const [verify] = jsonLines(report);
    // The zeroed rectangle also covers the neighbours' overlaps: those are 'wrong'.
    expect(verify).toMatchObject({ command: 'verify', ok: false, complete: true });
    expect(verify.failed).toContainEqual(expect.objectContaining({ index: 5, status: 'missing' }));
  });

  it('fails the job with the one-line refusal when srun offers a PMI the MPI cannot use', () => {
    const job = submit('stitch.sbatch', ['--ntasks=2'], {
      INPUT: tiles, OUTPUT: path.join(dir, 'never.h5'), REPORT: path.join(dir, 'never.json'), SRUN_MPI: 'pmi2',
    });
    // Exit 2 from every task; srun --kill-on-bad-exit may SIGTERM a task that was about to (143).
    expect(job.state).toBe('FAILED');
    expect(job.exitCode).toMatch(/^(2|143):0$/);
    expect(job.log.split('\n').filter((l) => l.startsWith('h5stitch:'))).toEqual([
      expect.stringMatching(/^h5stitch: error: srun --mpi=pmi2 started this task without PMIx, which Open MPI \S+ needs to start/),
    ]);
    expect(job.log).toMatch(/stitch FAILED \(exit (2|143)\)/);
    expect(fs.existsSync(path.join(dir, 'never.h5'))).toBe(false);
  });

  it('pipeline.sbatch runs generate -> stitch -> verify as steps of one job of 2 ranks', () => {
    const workdir = path.join(dir, 'pipeline');
    const job = submit('pipeline.sbatch', ['--ntasks=2', '--cpus-per-task=2'], { WORKDIR: workdir, GRID: '2x3', TILE: '32x48', OVERLAP: '5' });
    expect(job.log).toMatch(/generate: 2x3 tiles of 32x48, overlap 5[^]*stitch: 2 ranks x 2 CPUs[^]*verify OK/);
    expect([job.state, job.exitCode]).toEqual(['COMPLETED', '0:0']);
    const [generate, stitch, verify] = jsonLines(path.join(workdir, 'report.json'));
    expect(generate).toMatchObject({ command: 'generate', tiles: 6, canvas: [59, 134] });
    expect(stitch).toMatchObject({ command: 'stitch', ranks: 2, tiles: 6, canvas: [59, 134] });
    expect(verify).toMatchObject({ command: 'verify', ok: true, complete: true });
  });

  it('bench.sbatch benchmarks every strategy, verified, and writes JSON, Markdown and SVG', () => {
    const results = path.join(dir, 'bench-results');
    const job = submit('bench.sbatch', ['--nodes=1', '--ntasks-per-node=2', '--cpus-per-task=1'], {
      BENCH_DIR: path.join(dir, 'bench'), RESULTS_DIR: results, BENCH_TILES: '2x2', BENCH_TILE: '48', BENCH_OVERLAP: '6', BENCH_REPEAT: '1',
    });
    expect([job.state, job.exitCode]).toEqual(['COMPLETED', '0:0']);
    const json = path.join(results, fs.readdirSync(results).find((f) => f.endsWith(`-${job.id}.json`))!);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(report).toMatchObject({ command: 'bench', verified: true, config: { ranks: 2, tiles: [2, 2], tile: [48, 48], repeat: 1 } });
    expect(report.strategies.map((s: { name: string; verified: boolean }) => s.verified)).toEqual([true, true, true, true, true]);
    expect(fs.readFileSync(json.replace(/\.json$/, '.md'), 'utf8')).toContain('| 2 | slab |');
    expect(fs.readFileSync(json.replace(/\.json$/, '.svg'), 'utf8')).toMatch(/^<svg/);
    expect(job.log).toContain(`results: ${json}`);
  });
});
