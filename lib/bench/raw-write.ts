/**
 * The benchmark's reference: the same byte count written by the same ranks to the same directory
 * with one collective MPI-IO write plus MPI_File_sync, into a new file each time like every
 * stitched output (overwriting a file already in the page cache skips block allocation: 0.075 s
 * against 0.11-0.57 s for 224 MB with dd here; not the same work). Collective.
 */
import * as fs from 'node:fs';
import { native } from '../runtime/addon';
import type { Mpi } from '../runtime/mpi';

/** Seconds (max over ranks, barrier to barrier) to write `bytes` into a new file at `file`. */
export function rawWrite(mpi: Mpi, file: string, bytes: number, hints: Record<string, string>): number {
  if (mpi.rank === 0) fs.rmSync(file, { force: true });
  mpi.barrier();
  const local = native().rawWrite(file, bytes, hints);
  return mpi.allreduce(new Float64Array([local]), 'max')[0];
}
