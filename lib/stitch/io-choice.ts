/**
 * Collective or independent writes, when the caller left it to us (--io auto, the default).
 *
 * slab writes each band as whole rows: one contiguous run of bytes per rank, which no other rank
 * touches, so both transfers are safe. Which is faster depends on the MPI-IO layer: Open MPI's
 * OMPIO passes a collective write through its aggregators (a shuffle between ranks and a wait for
 * the slowest) even for contiguous runs, and independent band writes measured faster on a local
 * file system (docs/performance.md: 1.1-1.4x at 2-4 ranks). ROMIO skips aggregation for such
 * accesses by itself, and on parallel file systems the aggregators align writes to stripes, so
 * collective stays the choice everywhere else. Compressed (filtered) chunks can only be written
 * collectively, and rounds keeps collective (its independent mode is refused with data sieving on).
 */
import type { Transfer } from '../runtime/addon';
import type { FsClass } from '../runtime/file-system';
import type { Mpi } from '../runtime/mpi';
import type { StitchRequest } from './options';

export interface TransferFacts {
  /** This rank's view of the output's file system. */
  fsClass: FsClass;
  /** The MPI-IO layer of the opened output (runtime/info.ts mpioLayerOf). */
  mpioLayer: 'ROMIO' | 'OMPIO' | 'unknown';
  /**
   * The canvas is stored in small chunks (BigDataViewer's 256x256 cells): HDF5 writes a collective
   * call's chunks in one MPI-IO call, an independent one chunk by chunk (4x slower here; docs/pyramid.md).
   */
  cellChunks: boolean;
}

/** The transfer every rank uses. Collective (all ranks must agree: collective calls must match). */
export function chooseTransfer(mpi: Mpi, req: Pick<StitchRequest, 'strategy' | 'io' | 'gzip'>, facts: TransferFacts): Transfer {
  if (req.strategy === 'serial') return 'independent';
  if (req.io === 'auto' && facts.cellChunks) return 'collective';
  // One slab rank has nobody to coordinate with: a collective write would only pass every byte
  // through MPI-IO's aggregation buffer (OMPIO copies it). Filtered chunks are written collectively.
  if (req.strategy === 'slab' && mpi.size === 1 && req.gzip === undefined) return 'independent';
  if (req.io !== 'auto') return req.io;
  if (req.strategy !== 'slab' || req.gzip !== undefined) return 'collective';
  const independent = facts.fsClass === 'local' && facts.mpioLayer === 'OMPIO';
  return mpi.allreduce(new Int32Array([independent ? 1 : 0]), 'min')[0] === 1 ? 'independent' : 'collective';
}
