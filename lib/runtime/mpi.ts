/**
 * MPI lifecycle (modelled on mpi4py): initialise once, with the exit policy as options (by default
 * finalize on a clean exit, MPI_Abort on an uncaught error or non-zero exit, so a failing rank never
 * leaves the others waiting in a collective call), plus the collectives h5stitch needs.
 */
import type { NumericArray } from '../core/dtype';
import { H5StitchError, RankFailedError } from '../errors';
import { callSite, native, type ReduceOp, type ThreadLevel } from './addon';

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
  /** Call MPI_Finalize when the process exits with code 0. Default true. */
  finalizeAtExit?: boolean;
  /**
   * Call MPI_Abort when the process exits with a non-zero code or an uncaught error, so the other
   * ranks do not wait forever in a collective call. Default true.
   */
  abortOnFailedExit?: boolean;
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
  /**
   * "Check on one rank, agree on all": runs `fn` on `root` only (file-system checks, serial
   * writes); if it throws, every rank throws the same error (agree); else every rank gets root's
   * result (JSON-serialisable).
   */
  runOnRoot<T>(fn: () => T, root?: number): T;
  /** Runs `fn` on every rank; if any rank throws, every rank throws (agree). Returns this rank's result. */
  runOnAll<T>(fn: () => T): T;
  /** Finalize now (idempotent). Later MPI calls throw ERR_MPI_STATE. */
  finalize(): void;
  abort(code?: number): never;
}

let instance: Mpi | undefined;

/** Initialises MPI once per process and installs the exit lifecycle. */
export function initMpi(options: MpiInitOptions = {}): Mpi {
  if (instance) return instance;
  const addon = native();
  if (!options.keepDataSieving && process.env.OMPI_MCA_fbtl_posix_write_datasieving === undefined) {
    process.env.OMPI_MCA_fbtl_posix_write_datasieving = '0';
  }
  const { provided } = callSite(() => addon.mpi.init(options.threadLevel ?? 'funneled'));
  const mpi = addon.mpi;
  const rank = mpi.rank();
  const size = mpi.size();
  warnOnLauncherMismatch(rank, size, mpi.libraryVersion().library);

  process.on('uncaughtExceptionMonitor', (error) => {
    process.stderr.write(`h5stitch: [rank ${rank}] uncaught error: ${error?.stack ?? error}\n`);
  });
  process.on('exit', (code) => {
    if (mpi.state() !== 'running') return;
    if (code === 0) {
      if (options.finalizeAtExit ?? true) mpi.finalize();
    } else if (options.abortOnFailedExit ?? true) {
      mpi.abort(code); // never MPI_Finalize here: other ranks may wait in a barrier
    }
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
    runOnRoot<T>(fn: () => T, root = 0): T {
      let failure: unknown;
      let result: T | undefined;
      try {
        if (rank === root) result = fn();
      } catch (error) {
        failure = error;
      }
      instance!.agree(failure);
      return instance!.bcastJson(result, root);
    },
    runOnAll<T>(fn: () => T): T {
      let failure: unknown;
      let result: T | undefined;
      try {
        result = fn();
      } catch (error) {
        failure = error;
      }
      instance!.agree(failure);
      return result as T;
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
 * A launcher from another MPI starts N singletons that each believe they are
 * rank 0 of 1 — the classic "every rank writes everything" failure. Warn loudly.
 */
function warnOnLauncherMismatch(rank: number, size: number, library: string): void {
  const env = process.env;
  const launcherSize = Number(env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? env.PMIX_SIZE ?? env.MPI_LOCALNRANKS ?? NaN);
  const linkedOpenMpi = /open mpi/i.test(library);
  const openMpiLauncher = env.OMPI_COMM_WORLD_SIZE !== undefined;
  const hydraLauncher = env.PMI_SIZE !== undefined && !openMpiLauncher;
  const mismatch = (linkedOpenMpi && hydraLauncher) || (!linkedOpenMpi && openMpiLauncher) || (size === 1 && launcherSize > 1);
  if (mismatch && rank === 0) {
    process.stderr.write(
      `h5stitch: warning: this process was started by a launcher of another MPI than the one linked ` +
        `(${library.split('\n')[0]}; launcher reports ${launcherSize} ranks, MPI reports ${size}). ` +
        `Use the mpirun/mpiexec that belongs to the linked MPI.\n`,
    );
  }
}
