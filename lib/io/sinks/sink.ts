/**
 * Where a stitch's canvas goes. A sink owns the output's life: created under a temporary name,
 * written band by band (or rectangle by rectangle), given its provenance, marked complete only
 * after everything is flushed, renamed into place; removed when the run fails. Later output
 * formats and multiscale levels plug in here.
 */
import type { AccDtype, Dtype, NumericArray } from '../../core/dtype';
import type { Provenance } from '../../core/provenance';
import type { Transfer } from '../../runtime/addon';
import type { Dataset } from '../../runtime/hdf5';

export interface OutputSink {
  readonly shape: [number, number];
  readonly dtype: Dtype;
  /** "FILE:/dataset" of the finished output. */
  readonly name: string;
  /**
   * Writes whole rows [y0, y0 + rows) of the canvas. Collective when `transfer` is: every rank
   * calls as often as the others, with rows = 0 when it has nothing. `plane`: the channel of a
   * multi-channel output (default 0). `columns`: only columns [x0, x1) of the rows (whole chunks of
   * a compressed output's chunk row shared by two ranks; never with pyramid levels).
   */
  writeRows(y0: number, rows: number, data: NumericArray, transfer: Transfer, plane?: number, columns?: { x0: number; x1: number }): void;
  /**
   * Pyramid levels are made from the rows as they are written, and written collectively whatever
   * `transfer` says for the canvas: every rank must then call writeRows for every band (rows = 0
   * when it has none). Absent or false otherwise.
   */
  readonly pyramidCollective?: boolean;
  /** This rank's seconds making and writing pyramid levels, and the level bytes it wrote (absent without a pyramid). */
  readonly pyramidStats?: { reduceSeconds: number; writeSeconds: number; bytes: number; heldBytes: number };
  /** After this rank's last writeRows: writes what is left of the pyramid levels (absent without one). Collective like writeRows. */
  endRows?(transfer: Transfer): void;
  /** The canvas dataset, for strategies that read-add-write rectangles (it starts at 0). */
  readonly canvas: Dataset;
  /** A float canvas of the same shape starting at 0 (read-add-write into integer outputs). Collective. */
  openScratch(dtype: AccDtype): ScratchCanvas;
  /** The MPI-IO hints in force on the output file (they tell ROMIO from OMPIO). */
  mpioHints(): Record<string, string>;
  /** H5Fflush: collective, ends in MPI_File_sync. */
  flush(): void;
  setAtomicity(on: boolean): void;
  /** Provenance, flush, complete = 1, close, rename into place. Collective. */
  commit(provenance: Omit<Provenance, 'complete'>): void;
  /** Removes the partial files (this rank; idempotent). For a run that failed. */
  discard(): void;
  /**
   * Closes the output (and any scratch canvas) without committing it, then discard(). Collective:
   * for a failure every rank agreed on (a file left open would be flushed at MPI_Finalize, where
   * ranks that wrote and ranks that did not disagree on the collective calls and hang).
   */
  abandon(): void;
}

export interface ScratchCanvas {
  readonly canvas: Dataset;
  flush(): void;
  /** Closes and removes it. Collective. */
  close(): void;
}
