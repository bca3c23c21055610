/**
 * MPI lifecycle (modelled on mpi4py): initialise once, with the exit policy as options (by default
 * finalize on a clean exit, MPI_Abort on an uncaught error or non-zero exit, so a failing rank never
 * leaves the others waiting in a collective call), plus the collectives h5stitch needs.
 */
import type { NumericArray } from '../core/dtype';
import { RankFailedError } from '../errors';
import { native, type NativeMpi, type ReduceOp, type ThreadLevel } from './addon';
import { checkLaunchAfterInit, checkLaunchBeforeInit, type LaunchRefusal } from './launch';

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

/** Initialises MPI once per process and installs the exit lifecycle (see MpiInitOptions). */
export function initMpi(options: MpiInitOptions = {}): Mpi {
  if (instance) return instance;
  const mpi = native().mpi;
  const library = mpi.libraryVersion().library; // callable before MPI_Init
  refuseLaunch(checkLaunchBeforeInit(process.env, library));
  if (!options.keepDataSieving && process.env.OMPI_MCA_fbtl_posix_write_datasieving === undefined) {
    process.env.OMPI_MCA_fbtl_posix_write_datasieving = '0';
  }
  const { provided } = mpi.init(options.threadLevel ?? 'funneled');
  const world = new MpiWorld(mpi, provided);
  refuseLaunch(checkLaunchAfterInit(process.env, library, world.size), () => mpi.finalize());
  process.on('uncaughtExceptionMonitor', (error) => {
    process.stderr.write(`h5stitch: [rank ${world.rank}] uncaught error: ${error?.stack ?? error}\n`);
  });
  process.on('exit', (code) => {
    if (mpi.state() !== 'running') return;
    if (code === 0) {
      if (options.finalizeAtExit ?? true) mpi.finalize();
    } else if (options.abortOnFailedExit ?? true) {
      mpi.abort(code); // never MPI_Finalize here: other ranks may wait in a barrier
    }
  });
  return (instance = world);
}

/** MPI_COMM_WORLD, every native error rethrown from the JavaScript call site. */
class MpiWorld implements Mpi {
  readonly rank: number;
  readonly size: number;

  constructor(private readonly mpi: NativeMpi, readonly threadLevel: ThreadLevel) {
    this.rank = mpi.rank();
    this.size = mpi.size();
  }

  barrier(): void {
    this.mpi.barrier();
  }

  localSize(): number {
    return this.mpi.localSize();
  }

  wtime(): number {
    return this.mpi.wtime();
  }

  allreduce<T extends NumericArray>(values: T, op: ReduceOp): T {
    return this.mpi.allreduce(values, op);
  }

  allgather<T extends NumericArray>(values: T): T {
    return this.mpi.allgather(values);
  }

  bcastJson<T>(value: T | undefined, root = 0): T {
    const bytes = this.rank === root ? new TextEncoder().encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
    const length = this.mpi.bcast(new Float64Array([bytes.length]), root)[0];
    const buffer = this.rank === root ? bytes : new Uint8Array(length);
    this.mpi.bcast(buffer, root);
    return JSON.parse(new TextDecoder().decode(buffer)) as T;
  }

  agree(error?: unknown): void {
    const flags = this.allgather(new Int32Array([error === undefined ? 0 : 1]));
    const failed = flags.indexOf(1);
    if (failed < 0) return;
    const mine = error as { message?: string; code?: string } | undefined;
    const reason = this.bcastJson(
      this.rank === failed ? { message: mine?.message ?? String(error), code: mine?.code ?? 'ERR_UNKNOWN' } : undefined,
      failed,
    );
    throw new RankFailedError(failed, reason.message, reason.code);
  }

  runOnAll<T>(fn: () => T): T {
    let failure: unknown;
    let result: T | undefined;
    try {
      result = fn();
    } catch (error) {
      failure = error;
    }
    this.agree(failure);
    return result as T;
  }

  runOnRoot<T>(fn: () => T, root = 0): T {
    return this.bcastJson(this.runOnAll(() => (this.rank === root ? fn() : undefined)), root);
  }

  finalize(): void {
    if (this.mpi.state() === 'running') this.mpi.finalize();
  }

  abort(code = 1): never {
    return this.mpi.abort(code);
  }
}

/**
 * A launch the linked MPI cannot start from (launch.ts): one line from the launcher's rank 0,
 * exit 2 on every rank. Before MPI_Init nothing is up; after it, each rank is a singleton, so a
 * local MPI_Finalize is safe and keeps MPI from adding its own abort message.
 */
function refuseLaunch(refusal: LaunchRefusal | undefined, finalize?: () => void): void {
  if (!refusal) return;
  if (!refusal.launcherRank) process.stderr.write(`h5stitch: error: ${refusal.message}\n`);
  // The other ranks leave a moment later: a launcher that kills the job at the first non-zero
  // exit (srun --kill-on-bad-exit) would otherwise kill rank 0 before its line is out.
  else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  finalize?.();
  process.exit(2);
}
