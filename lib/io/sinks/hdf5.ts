/** The HDF5 output sink: one 2-D dataset [H, W] (or [C, H, W] for C channels) in a new parallel HDF5 file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bytesOf, type AccDtype, type Dtype, type NumericArray } from '../../core/dtype';
import { PROVENANCE, type Provenance } from '../../core/provenance';
import { H5StitchError } from '../../errors';
import type { Transfer } from '../../runtime/addon';
import { openFile, type Dataset, type H5File } from '../../runtime/hdf5';
import type { Mpi } from '../../runtime/mpi';
import { writeProvenance } from '../provenance';
import type { OutputSink, ScratchCanvas } from './sink';

export interface Hdf5OutputSpec {
  file: string;
  dataset: string;
  shape: [number, number];
  dtype: Dtype;
  chunk?: [number, number];
  gzip?: number;
  /** 'never' when every pixel will be written (slab); 'alloc' starts the canvas at 0. */
  fillTime: 'never' | 'alloc';
  hints: Record<string, string>;
  /** Ask the OS to start writing each band's bytes as soon as they are written. */
  earlyWriteback: boolean;
  /** Channels: the dataset is [planes, H, W], one plane per channel (chunks one plane deep). */
  planes?: number;
}

/** Where the output lives while it is being written: hidden, beside the final path. */
export function partialPaths(file: string): { final: string; partial: string; scratch: string } {
  const final = path.resolve(file);
  const hidden = (suffix: string) => path.join(path.dirname(final), `.${path.basename(final)}.h5stitch-${suffix}`);
  return { final, partial: hidden('partial'), scratch: hidden('scratch') };
}

/** Creates the output under its temporary name. Collective. */
export function createHdf5Sink(mpi: Mpi, spec: Hdf5OutputSpec): OutputSink {
  const paths = partialPaths(spec.file);
  const file = openFile(paths.partial, { mode: 'create', parallel: true, overwrite: true, hints: spec.hints });
  const [height, width] = spec.shape;
  const planes = spec.planes ?? 0;
  const chunk = spec.chunk ? [Math.min(spec.chunk[0], height), Math.min(spec.chunk[1], width)] : undefined;
  const canvas = file.createDataset(spec.dataset, {
    shape: planes ? [planes, height, width] : [height, width],
    dtype: spec.dtype,
    chunk: chunk && planes ? [1, ...chunk] : chunk,
    gzip: spec.gzip,
    fillValue: 0,
    fillTime: spec.fillTime,
  });
  canvas.setAttr(PROVENANCE.attr.complete, 0);
  // A contiguous dataset's bytes are one run: each band's range can be handed to the OS.
  const offset = spec.earlyWriteback ? canvas.fileOffset : null;
  const rowBytes = width * bytesOf(spec.dtype);
  let scratch: ScratchCanvas | undefined;

  return {
    shape: [height, width],
    dtype: spec.dtype,
    name: `${paths.final}:${spec.dataset}`,
    canvas,
    writeRows(y0: number, rows: number, data: NumericArray, transfer: Transfer, plane = 0): void {
      if (planes) canvas.write([plane, y0, 0], [1, rows, width], data, { transfer });
      else canvas.write([y0, 0], [rows, width], data, { transfer });
      if (rows === 0 || !spec.earlyWriteback) return;
      // This band's bytes (whole rows: one contiguous run), or the whole file when chunked.
      if (offset === null) file.startWriteback();
      else file.startWriteback(offset + (plane * height + y0) * rowBytes, rows * rowBytes);
    },
    openScratch(dtype) {
      scratch = openScratch(paths.scratch, spec, dtype);
      return scratch;
    },
    mpioHints: () => file.mpioHints(),
    flush: () => file.flush(),
    setAtomicity: (on) => file.setAtomicity(on),
    commit(provenance: Omit<Provenance, 'complete'>): void {
      writeProvenance(file, canvas, provenance, mpi.rank === 0);
      file.flush();
      canvas.setAttr(PROVENANCE.attr.complete, 1);
      canvas.close();
      file.close();
      mpi.barrier();
      if (mpi.rank === 0) {
        fs.renameSync(paths.partial, paths.final);
        fs.rmSync(paths.scratch, { force: true });
      }
      mpi.barrier();
    },
    discard(): void {
      for (const p of [paths.partial, paths.scratch]) fs.rmSync(p, { force: true });
    },
    abandon(): void {
      try {
        scratch?.close();
        if (file.isOpen) {
          canvas.close();
          file.close();
        }
      } finally {
        this.discard();
      }
    },
  };
}

function openScratch(scratchPath: string, spec: Hdf5OutputSpec, dtype: AccDtype): ScratchCanvas {
  const file: H5File = openFile(scratchPath, { mode: 'create', parallel: true, overwrite: true, hints: spec.hints });
  const canvas: Dataset = file.createDataset('/acc', { shape: spec.shape, dtype, fillValue: 0, fillTime: 'alloc' });
  return {
    canvas,
    flush: () => file.flush(),
    close(): void {
      if (!file.isOpen) return; // closed already (idempotent, for abandon())
      canvas.close();
      file.close();
    },
  };
}

/**
 * A failed write on a full file system says only "write failed": name the cause when the output's
 * directory has no space left.
 */
export function withDiskFullNote(error: unknown, output: string): unknown {
  const dir = path.dirname(path.resolve(output));
  try {
    if (fs.statfsSync(dir).bavail !== 0 || !(error instanceof Error)) return error;
  } catch {
    return error;
  }
  const code = error instanceof H5StitchError ? error.code : 'ERR_NO_SPACE';
  return new H5StitchError(code, `no space left on device in ${dir}: ${error.message}`, { cause: error });
}
