/**
 * Is this process launched in a way the linked MPI can start from? Pure functions of the
 * environment and MPI_Get_library_version's text (callable before MPI_Init), so the decision
 * is unit-tested without a launcher. lib/mpi.ts prints the refusal and exits 2.
 *
 * What launchers set (measured with SLURM 22.05, Open MPI 4.1.4, MPICH 4.0.2):
 * - every srun task: SLURM_STEP_ID, SLURM_PROCID, SLURM_STEP_NUM_TASKS (a batch script itself has
 *   SLURM_NTASKS and SLURM_PROCID but no SLURM_STEP_ID);
 * - srun --mpi=none: nothing more; --mpi=pmi2: PMI_FD, PMI_RANK, PMI_SIZE, SLURM_MPI_TYPE=pmi2;
 *   --mpi=pmix: PMIX_NAMESPACE, PMIX_RANK, PMIX_SERVER_URI*, SLURM_MPI_TYPE=pmix;
 * - Open MPI's mpirun: OMPI_COMM_WORLD_SIZE/RANK and PMIX_*; MPICH's mpiexec (Hydra): PMI_FD, PMI_RANK,
 *   PMI_SIZE, MPI_LOCALNRANKS.
 * Open MPI 4 as packaged starts only through PMIx (or its own mpirun): under srun --mpi=none or
 * pmi2 MPI_Init aborts ("on a NULL communicator"). MPICH without PMIx support starts through
 * PMI-1/PMI-2 (PMI_FD): under srun --mpi=none or pmix every task runs alone as rank 0 of 1.
 */

export type LaunchEnv = Readonly<Record<string, string | undefined>>;

export interface LaunchRefusal {
  /** One line for `h5stitch: error: ...`: what happened and what to do. */
  message: string;
  /** The launcher's rank of this process (when it says), so only its rank 0 prints the line. */
  launcherRank?: number;
}

/** Set to `off` to skip the check before MPI_Init (an Open MPI built with SLURM's PMI-1/PMI-2). */
export const LAUNCH_CHECK_VARIABLE = 'H5STITCH_LAUNCH_CHECK';

type MpiFamily = 'openmpi' | 'mpich' | 'other';

function family(library: string): MpiFamily {
  if (/\bOpen MPI\b/i.test(library)) return 'openmpi';
  if (/^MPICH\b/.test(library)) return 'mpich';
  return 'other';
}

/** "Open MPI v4.1.4", "MPICH 4.0.2", or the first line of anything else. */
export function mpiName(library: string): string {
  const firstLine = library.split('\n')[0].trim();
  const mpich = /^MPICH Version:\s*(\S+)/.exec(firstLine);
  if (mpich) return `MPICH ${mpich[1]}`;
  return firstLine.split(',')[0] || 'the linked MPI';
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** This process is a task that srun started (not the batch script, not a rank of mpirun). */
function srunTask(env: LaunchEnv): boolean {
  return env.SLURM_STEP_ID !== undefined && env.SLURM_PROCID !== undefined && env.OMPI_COMM_WORLD_SIZE === undefined;
}

const hasPmix = (env: LaunchEnv) => env.PMIX_NAMESPACE !== undefined || Object.keys(env).some((k) => k.startsWith('PMIX_SERVER_URI'));
const hasPmi = (env: LaunchEnv) => env.PMI_FD !== undefined || env.PMI_PORT !== undefined;

/** The rank the launcher gave this process, if it says. */
export function launcherRank(env: LaunchEnv): number | undefined {
  return count(env.OMPI_COMM_WORLD_RANK) ?? count(env.PMI_RANK) ?? count(env.PMIX_RANK) ??
    (srunTask(env) ? count(env.SLURM_PROCID) : undefined);
}

/** How many ranks the launcher started, if it says. */
export function launcherSize(env: LaunchEnv): number | undefined {
  return count(env.OMPI_COMM_WORLD_SIZE) ?? count(env.PMI_SIZE) ??
    (srunTask(env) ? count(env.SLURM_STEP_NUM_TASKS) ?? count(env.SLURM_NTASKS) : undefined) ?? count(env.MPI_LOCALNRANKS);
}

/**
 * Before MPI_Init: a refusal when srun started this task with a PMI the linked MPI cannot use
 * (MPI_Init would abort, or every task would run alone as rank 0 of 1), else undefined.
 */
export function checkLaunchBeforeInit(env: LaunchEnv, library: string): LaunchRefusal | undefined {
  if (env[LAUNCH_CHECK_VARIABLE] === 'off' || !srunTask(env)) return undefined;
  const tasks = count(env.SLURM_STEP_NUM_TASKS) ?? count(env.SLURM_NTASKS) ?? 1;
  const used = `srun --mpi=${env.SLURM_MPI_TYPE ?? 'none'}`;
  const name = mpiName(library);
  const where = { launcherRank: count(env.SLURM_PROCID) };
  switch (family(library)) {
    case 'openmpi':
      if (hasPmix(env)) return undefined;
      return {
        ...where,
        message: `${used} started this task without PMIx, which ${name} needs to start (MPI_Init would abort); ` +
          `run srun --mpi=pmix (srun --mpi=list shows what this SLURM offers), or Open MPI's mpirun inside the allocation ` +
          `(an Open MPI built with SLURM's PMI-1/PMI-2: set ${LAUNCH_CHECK_VARIABLE}=off)`,
      };
    case 'mpich': {
      // An MPICH built with PMIx says so in its configure line.
      if (hasPmi(env) || (hasPmix(env) && /pmix/i.test(library)) || tasks <= 1) return undefined;
      return {
        ...where,
        message: `${used} started ${tasks} tasks without a PMI-1/PMI-2 server, which ${name} needs: each task would run alone ` +
          `as rank 0 of 1 and write the same output; run srun --mpi=pmi2, or MPICH's mpiexec inside the allocation`,
      };
    }
    default:
      return undefined;
  }
}

/**
 * After MPI_Init: a refusal when the launcher started N > 1 ranks but MPI says this is one rank
 * of 1, i.e. N copies that would each write the whole output, else undefined.
 */
export function checkLaunchAfterInit(env: LaunchEnv, library: string, mpiSize: number): LaunchRefusal | undefined {
  const started = launcherSize(env);
  if (mpiSize !== 1 || started === undefined || started <= 1) return undefined;
  const launcher = env.OMPI_COMM_WORLD_SIZE !== undefined ? "Open MPI's mpirun"
    : env.PMI_SIZE !== undefined && !srunTask(env) ? "a PMI launcher (such as MPICH's mpiexec)"
      : srunTask(env) ? `srun --mpi=${env.SLURM_MPI_TYPE ?? 'none'}` : 'the launcher';
  const name = mpiName(library);
  return {
    launcherRank: launcherRank(env),
    message: `${launcher} started ${started} ranks but ${name} sees each as rank 0 of 1, so every one would write the ` +
      `whole output; start h5stitch with the launcher of ${name}` +
      (family(library) === 'openmpi' ? ' (its mpirun, or srun --mpi=pmix)' : family(library) === 'mpich' ? ' (its mpiexec, or srun --mpi=pmi2)' : ''),
  };
}
