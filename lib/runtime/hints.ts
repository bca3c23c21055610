/** MPI-IO hints h5stitch gives every parallel file, and whether write data sieving may be on. */

/**
 * Hints h5stitch passes to every parallel file. Data sieving for writes turns a strided write
 * into read-modify-write of the whole span, which silently loses other ranks' bytes where file
 * locks do not work (Open MPI < 5.0.6, many cluster file systems).
 */
export function defaultHints(keepDataSieving = false): Record<string, string> {
  return keepDataSieving ? {} : { romio_ds_write: 'disable' };
}

/**
 * True when writes through files opened with `hints` may be sieved: ROMIO's romio_ds_write is not
 * disabled, or OMPIO's fbtl_posix_write_datasieving is on (runtime/mpi.ts turns it off at init
 * unless keepDataSieving).
 */
export function writeSievingOn(hints: Record<string, string>, keepDataSieving: boolean, env: Record<string, string | undefined> = process.env): boolean {
  return hints.romio_ds_write !== 'disable' || keepDataSieving || (env.OMPI_MCA_fbtl_posix_write_datasieving ?? '0') !== '0';
}
