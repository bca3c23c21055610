/**
 * MPI lifecycle (modelled on mpi4py): initialise once, finalize on a clean
 * exit, MPI_Abort on an uncaught error or non-zero exit so a failing rank never
 * leaves the others waiting in a collective call.
 */
import { H5StitchError } from './errors';
import { checkLaunchAfterInit, checkLaunchBeforeInit, type LaunchRefusal } from './launch';
import { callSite, native, type NumericArray, type ReduceOp, type ThreadLevel } from './native';

export interface MpiInitOptions {
  /** Requested thread level; all MPI and HDF5 calls stay on the main thread. Default 'funneled'. */
  threadLevel?: ThreadLevel;
  /**
   * Leave MPI-IO data sieving for writes as the MPI library configures it. By default
   * h5stitch turns Open MPI's OMPIO write sieving off (ROMIO's is turned off per file
   * with the romio_ds_write hint): sieving turns a strided write into a read-modify-write
   * of the whole span, which loses other ranks' bytes when file locks do not work.
   */
  keepDataSieving?: boolean;
}

export interface Mpi {
  readonly rank: number;
  readonly size: number;
  readonly threadLevel: ThreadLevel;
  barrier(): void;
  /** Ranks on this rank's node; collective. */
  localSize(): number;
  wtime(): number;
  allreduce<T extends NumericArray>(values: T, op: ReduceOp): T;
  allgather<T extends NumericArray>(values: T): T;
  /** Broadcasts a JSON-serialisable value from `root`. */
  bcastJson<T>(value: T | undefined, root?: number): T;
  /**
   * Collective error agreement: every rank passes the error it hit (or nothing).
   * If any rank failed, every rank throws the same RankFailedError naming the
   * lowest failing rank and its message, so all ranks leave the collective
   * sequence together instead of hanging in the next collective call.
   */
  agree(error?: unknown): void;
  /** Finalize now (idempotent). Later MPI calls throw ERR_MPI_STATE. */
  finalize(): void;
  abort(code?: number): never;
}

/** Thrown on every rank by {@link Mpi.agree} when some rank failed. */
export class RankFailedError extends H5StitchError {
  constructor(readonly failedRank: number, readonly reason: string, readonly reasonCode: string) {
    super('ERR_RANK_FAILED', `rank ${failedRank}: ${reason}`);
    this.name = 'RankFailedError';
  }
}

let instance: Mpi | undefined;

/** Initialises MPI once per process and installs the exit lifecycle. */
export function initMpi(options: MpiInitOptions = {}): Mpi {
  if (instance) return instance;
  const addon = native();
  const library = addon.mpi.libraryVersion().library; // callable before MPI_Init
  refuseLaunch(checkLaunchBeforeInit(process.env, library));
  if (!options.keepDataSieving && process.env.OMPI_MCA_fbtl_posix_write_datasieving === undefined) {
    process.env.OMPI_MCA_fbtl_posix_write_datasieving = '0';
  }
  const { provided } = callSite(() => addon.mpi.init(options.threadLevel ?? 'funneled'));
  const mpi = addon.mpi;
  const rank = mpi.rank();
  const size = mpi.size();
  refuseLaunch(checkLaunchAfterInit(process.env, library, size), () => mpi.finalize());

  process.on('uncaughtExceptionMonitor', (error) => {
    process.stderr.write(`h5stitch: [rank ${rank}] uncaught error: ${error?.stack ?? error}\n`);
  });
  process.on('exit', (code) => {
    if (mpi.state() !== 'running') return;
    if (code === 0) mpi.finalize();
    else mpi.abort(code); // never MPI_Finalize here: other ranks may wait in a barrier
  });

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  instance = {
    rank,
    size,
    threadLevel: provided,
    barrier: () => callSite(() => mpi.barrier()),
    localSize: () => callSite(() => mpi.localSize()),
    wtime: () => callSite(() => mpi.wtime()),
    allreduce: (values, op) => callSite(() => mpi.allreduce(values, op)),
    allgather: (values) => callSite(() => mpi.allgather(values)),
    bcastJson<T>(value: T | undefined, root = 0): T {
      return callSite(() => {
        const bytes = rank === root ? encoder.encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
        const length = mpi.bcast(new Float64Array([bytes.length]), root)[0];
        const buffer = rank === root ? bytes : new Uint8Array(length);
        mpi.bcast(buffer, root);
        return JSON.parse(decoder.decode(buffer)) as T;
      });
    },
    agree(error?: unknown): void {
      const flags = callSite(() => mpi.allgather(new Int32Array([error === undefined ? 0 : 1])));
      const failed = flags.indexOf(1);
      if (failed < 0) return;
      const mine = error as { message?: string; code?: string } | undefined;
      const reason = instance!.bcastJson(
        rank === failed ? { message: mine?.message ?? String(error), code: mine?.code ?? 'ERR_UNKNOWN' } : undefined,
        failed,
      );
      throw new RankFailedError(failed, reason.message, reason.code);
    },
    finalize(): void {
      if (mpi.state() === 'running') callSite(() => mpi.finalize());
    },
    abort(code = 1): never {
      return mpi.abort(code);
    },
  };
  return instance;
}

/** The initialised MPI, or an error saying initMpi() must come first. */
export function currentMpi(): Mpi {
  if (!instance) throw new H5StitchError('ERR_MPI_STATE', 'MPI is not initialised; call initMpi() first');
  return instance;
}

/**
 * A launch the linked MPI cannot start from (lib/launch.ts): one line from the launcher's rank 0,
 * exit 2 on every rank. Before MPI_Init nothing is up; after it, each rank is a singleton, so a
 * local MPI_Finalize is safe and keeps MPI from adding its own abort message.
 */
function refuseLaunch(refusal: LaunchRefusal | undefined, finalize?: () => void): void {
  if (!refusal) return;
  if (!refusal.launcherRank) process.stderr.write(`h5stitch: error: ${refusal.message}\n`);
  finalize?.();
  process.exit(2);
}
