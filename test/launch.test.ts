// lib/runtime/launch.ts: which launches the linked MPI cannot start from. The environments are the variables
// measured here (SLURM 22.05, Open MPI 4.1.4, MPICH 4.0.2), trimmed to what the decision reads;
// test/slurm.test.ts runs the same cases under the real srun.
import { describe, expect, it } from 'vitest';
import { checkLaunchAfterInit, checkLaunchBeforeInit, launcherRank, launcherSize, mpiName } from '../lib/runtime/launch';

const OPEN_MPI = 'Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022';
const MPICH = 'MPICH Version:\t4.0.2\nMPICH Release date:\tThu Apr  7 12:34:45 CDT 2022\nMPICH ABI:\t14:2:2\n' +
  'MPICH Device:\tch4:ucx\nMPICH configure:\t--with-slurm=/usr --with-ucx=/usr --with-device=ch4:ucx --with-pm=hydra';
const MPICH_PMIX = MPICH.replace('--with-pm=hydra', '--with-pmi=pmix --with-pmix=/usr');
const INTEL = 'Intel(R) MPI Library 2021.6 for Linux* OS';

type Env = Record<string, string>;
const batchScript: Env = { SLURM_JOB_ID: '7', SLURM_NTASKS: '2', SLURM_NPROCS: '2', SLURM_PROCID: '0', SLURM_LOCALID: '0', SLURM_CPUS_PER_TASK: '2' };
const srunTask = (rank: number, tasks = 2): Env => ({
  SLURM_JOB_ID: '1', SLURM_STEP_ID: '0', SLURM_NTASKS: String(tasks), SLURM_STEP_NUM_TASKS: String(tasks),
  SLURM_PROCID: String(rank), SLURM_LOCALID: String(rank), SLURM_SRUN_COMM_HOST: '127.0.0.1',
});
const srunNone = (rank: number, tasks = 2) => srunTask(rank, tasks);
const srunPmi2 = (rank: number, tasks = 2): Env => ({
  ...srunTask(rank, tasks), SLURM_MPI_TYPE: 'pmi2', PMI_FD: '13', PMI_JOBID: '2.0', PMI_RANK: String(rank), PMI_SIZE: String(tasks),
});
const srunPmix = (rank: number, tasks = 2): Env => ({
  ...srunTask(rank, tasks), SLURM_MPI_TYPE: 'pmix', PMIX_NAMESPACE: 'slurm.pmix.3.0', PMIX_RANK: String(rank),
  PMIX_SERVER_URI41: 'pmix-server.17549;tcp4://127.0.0.1:39325', PMIX_VERSION: '4.2.2rc2',
});
const openMpiMpirun = (rank: number, size = 2): Env => ({
  OMPI_COMM_WORLD_RANK: String(rank), OMPI_COMM_WORLD_SIZE: String(size), OMPI_COMM_WORLD_LOCAL_SIZE: String(size),
  PMIX_NAMESPACE: '225705985', PMIX_RANK: String(rank), PMIX_SERVER_URI41: '225705984.0;tcp4://127.0.0.1:41909',
});
const hydra = (rank: number, size = 2): Env => ({
  PMI_FD: '6', PMI_RANK: String(rank), PMI_SIZE: String(size), MPI_LOCALNRANKS: String(size), MPI_LOCALRANKID: String(rank),
});

describe('mpiName', () => {
  it('names the library in a few words', () => {
    expect(mpiName(OPEN_MPI)).toBe('Open MPI v4.1.4');
    expect(mpiName(MPICH)).toBe('MPICH 4.0.2');
    expect(mpiName(INTEL)).toBe('Intel(R) MPI Library 2021.6 for Linux* OS');
  });
});

describe('launcherSize and launcherRank', () => {
  it('reads the launcher that started this process', () => {
    expect([launcherSize(openMpiMpirun(1, 4)), launcherRank(openMpiMpirun(1, 4))]).toEqual([4, 1]);
    expect([launcherSize(hydra(1, 3)), launcherRank(hydra(1, 3))]).toEqual([3, 1]);
    expect([launcherSize(srunNone(1, 4)), launcherRank(srunNone(1, 4))]).toEqual([4, 1]);
    expect([launcherSize(srunPmix(1, 4)), launcherRank(srunPmix(1, 4))]).toEqual([4, 1]);
  });

  it('does not take the batch script\'s task count for a launch (a plain `node` there is one process)', () => {
    expect(launcherSize(batchScript)).toBeUndefined();
    expect(launcherRank(batchScript)).toBeUndefined();
    expect(launcherSize({})).toBeUndefined();
  });

  it('prefers mpirun\'s numbers to the SLURM step it runs in', () => {
    // mpirun inside an allocation: its ranks inherit the job's SLURM variables.
    expect(launcherSize({ ...batchScript, ...openMpiMpirun(0, 8) })).toBe(8);
    expect(launcherSize({ ...srunTask(0, 1), ...openMpiMpirun(3, 8) })).toBe(8);
  });
});

describe('checkLaunchBeforeInit', () => {
  it.each([
    ['srun --mpi=none', srunNone(0)],
    ['srun --mpi=pmi2', srunPmi2(0)],
    ['srun --mpi=none', srunNone(0, 1)], // Open MPI aborts in MPI_Init even for one task
  ])('refuses Open MPI under %s', (used, env) => {
    const refusal = checkLaunchBeforeInit(env, OPEN_MPI);
    expect(refusal?.message).toMatch(new RegExp(`^${used} started this task without PMIx, which Open MPI v4\\.1\\.4 needs`));
    expect(refusal?.message).toContain('run srun --mpi=pmix');
    expect(refusal?.message).not.toContain('\n');
    expect(refusal?.launcherRank).toBe(0);
  });

  it('gives every task its launcher rank, so only task 0 prints', () => {
    expect(checkLaunchBeforeInit(srunNone(1), OPEN_MPI)?.launcherRank).toBe(1);
    expect(checkLaunchBeforeInit(srunNone(1), MPICH)?.launcherRank).toBe(1);
  });

  it('lets Open MPI start under srun --mpi=pmix, its mpirun, a batch script, or alone', () => {
    for (const env of [srunPmix(0), srunPmix(1, 4), openMpiMpirun(0), { ...batchScript, ...openMpiMpirun(1) }, batchScript, {}]) {
      expect(checkLaunchBeforeInit(env, OPEN_MPI)).toBeUndefined();
    }
  });

  it.each([
    ['srun --mpi=none', srunNone(0, 3)],
    ['srun --mpi=pmix', srunPmix(0, 3)],
  ])('refuses MPICH (no PMIx in its build) under %s with more than one task', (used, env) => {
    expect(checkLaunchBeforeInit(env, MPICH)?.message)
      .toMatch(new RegExp(`^${used} started 3 tasks without a PMI-1/PMI-2 server, which MPICH 4\\.0\\.2 needs: .* run srun --mpi=pmi2`));
  });

  it('lets MPICH start under srun --mpi=pmi2, its mpiexec, PMIx when built with it, or as one task', () => {
    expect(checkLaunchBeforeInit(srunPmi2(0, 3), MPICH)).toBeUndefined();
    expect(checkLaunchBeforeInit(hydra(0), MPICH)).toBeUndefined();
    expect(checkLaunchBeforeInit(srunPmix(0, 3), MPICH_PMIX)).toBeUndefined();
    expect(checkLaunchBeforeInit(srunNone(0, 1), MPICH)).toBeUndefined();
  });

  it('leaves MPIs it does not know to the check after MPI_Init', () => {
    expect(checkLaunchBeforeInit(srunNone(0, 4), INTEL)).toBeUndefined();
  });

  it('can be turned off for an Open MPI built with SLURM\'s PMI', () => {
    expect(checkLaunchBeforeInit({ ...srunPmi2(0), H5STITCH_LAUNCH_CHECK: 'off' }, OPEN_MPI)).toBeUndefined();
  });
});

describe('checkLaunchAfterInit', () => {
  it.each([
    ['srun --mpi=none', srunNone(1, 4), MPICH, 4, 1],
    ['srun --mpi=pmix', srunPmix(0, 2), MPICH, 2, 0],
    ['srun --mpi=none', srunNone(0, 2), INTEL, 2, 0],
    ["Open MPI's mpirun", openMpiMpirun(2, 3), MPICH, 3, 2],
    ["a PMI launcher (such as MPICH's mpiexec)", hydra(0, 2), OPEN_MPI, 2, 0],
  ])('refuses when %s started N ranks and each is rank 0 of 1', (launcher, env, library, n, rank) => {
    const refusal = checkLaunchAfterInit(env, library, 1);
    expect(refusal?.message).toMatch(new RegExp(`^${launcher.replace(/[()]/g, '\\$&')} started ${n} ranks but .* sees each as rank 0 of 1, so every one would write the whole output`));
    expect(refusal?.launcherRank).toBe(rank);
  });

  it('says which launcher fits the linked MPI', () => {
    expect(checkLaunchAfterInit(hydra(0), OPEN_MPI, 1)?.message).toContain('(its mpirun, or srun --mpi=pmix)');
    expect(checkLaunchAfterInit(openMpiMpirun(0), MPICH, 1)?.message).toContain('(its mpiexec, or srun --mpi=pmi2)');
  });

  it('accepts a world that matches, one rank, and a plain process in a batch script', () => {
    expect(checkLaunchAfterInit(srunPmix(0, 4), OPEN_MPI, 4)).toBeUndefined();
    expect(checkLaunchAfterInit(openMpiMpirun(0, 2), OPEN_MPI, 2)).toBeUndefined();
    expect(checkLaunchAfterInit(srunNone(0, 1), MPICH, 1)).toBeUndefined();
    expect(checkLaunchAfterInit(hydra(0, 1), OPEN_MPI, 1)).toBeUndefined();
    expect(checkLaunchAfterInit(batchScript, OPEN_MPI, 1)).toBeUndefined();
    expect(checkLaunchAfterInit({}, OPEN_MPI, 1)).toBeUndefined();
  });

  it('is not turned off by the switch for the check before MPI_Init', () => {
    expect(checkLaunchAfterInit({ ...srunNone(0, 2), H5STITCH_LAUNCH_CHECK: 'off' }, MPICH, 1)).toBeDefined();
  });
});
