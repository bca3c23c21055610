/**
 * Error classes and the one validation vocabulary: "Expected X for Y but received Z". The addon
 * throws H5StitchError itself (runtime/addon.ts hands it the constructor).
 */

/** Everything h5stitch throws on purpose; `code` is stable (ERR_USAGE, ERR_HDF5, ERR_MPI, ...). */
export class H5StitchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'H5StitchError';
    this.code = code;
  }
}

/** Invalid input or options: the CLI reports it as one line with exit code 2. */
export class UsageError extends H5StitchError {
  constructor(message: string) {
    super('ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

/**
 * An input that cannot be read as planned: short or failed reads, a file that vanished or changed
 * during the run, an HDF5 read error. Names the file (and tile). Bad input like UsageError (exit
 * 2), but it may be raised on one rank alone, mid-run: the CLI then aborts the job with code 2
 * (MPI_Abort) instead of waiting for an agreement the other ranks will never join.
 */
export class InputError extends H5StitchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INPUT', message, options);
    this.name = 'InputError';
  }
}

/** Thrown on every rank when some rank failed (see Mpi.agree): names the lowest failing rank. */
export class RankFailedError extends H5StitchError {
  constructor(readonly failedRank: number, readonly reason: string, readonly reasonCode: string) {
    super('ERR_RANK_FAILED', `rank ${failedRank}: ${reason}`);
    this.name = 'RankFailedError';
  }
}

/** UsageError("Expected `what` for `name` but received `received`"). */
export function expected(what: string, name: string, received: unknown): UsageError {
  return new UsageError(`Expected ${what} for ${name} but received ${describe(received)}`);
}

/** How a received value is named in messages: `"text"`, `number 3`, `array`, `Float64Array`, ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}
