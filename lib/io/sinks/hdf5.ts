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
import { storedDtype, storedView } from '../../core/pyramid';
import { createLevels, writeBdvXml, type PyramidLevels, type PyramidSpec } from './pyramid';
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
  /** With `planes`: 'datasets' writes each plane as its own 2-D dataset, `<dataset>/c<k>`, instead. */
  planesAs?: 'planes' | 'datasets';
  /**
   * Multiscale levels made from the rows as they are written (sinks/pyramid.ts), in the default
   * layout (/multiscale) or BigDataViewer's (then `dataset` is level 0, [1, H, W]: planes 1).
   * Not with `planesAs: 'datasets'`.
   */
  pyramid?: PyramidSpec;
}

/** The 2-D dataset of channel `c` in an output written with --channels-as datasets. */
export function channelDataset(dataset: string, c: number): string {
  return `${dataset}/c${c}`;
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
  const separate = spec.planes !== undefined && spec.planesAs === 'datasets';
  const planes = separate ? 0 : spec.planes ?? 0;
  const chunk = spec.chunk ? [Math.min(spec.chunk[0], height), Math.min(spec.chunk[1], width)] : undefined;
  const stored = storedDtype(spec.pyramid?.format ?? 'hdf5', spec.dtype);
  const create = (name: string) => {
    const ds = file.createDataset(name, {
      shape: planes ? [planes, height, width] : [height, width],
      dtype: stored,
      chunk: chunk && planes ? [1, ...chunk] : chunk,
      gzip: spec.gzip,
      fillValue: 0,
      fillTime: spec.fillTime,
    });
    ds.setAttr(PROVENANCE.attr.complete, 0);
    return ds;
  };
  // One [C, H, W] (or [H, W]) dataset, or one 2-D dataset per channel, each knowing its channel.
  const datasets = separate
    ? Array.from({ length: spec.planes! }, (_, c) => {
      const ds = create(channelDataset(spec.dataset, c));
      ds.setAttr(PROVENANCE.attr.channel, c);
      return ds;
    })
    : [create(spec.dataset)];
  const canvas = datasets[0];
  const levels: PyramidLevels | undefined = spec.pyramid && createLevels(file, spec.dataset, [height, width], spec.dtype, spec.gzip, spec.pyramid);
  let xml: [string, string] | undefined;
  // A contiguous dataset's bytes are one run: each band's range can be handed to the OS.
  const offsets = datasets.map((ds) => (spec.earlyWriteback ? ds.fileOffset : null));
  const rowBytes = width * bytesOf(spec.dtype);
  let scratch: ScratchCanvas | undefined;

  return {
    shape: [height, width],
    dtype: spec.dtype,
    name: `${paths.final}:${spec.dataset}`,
    canvas,
    writeRows(y0: number, rows: number, data: NumericArray, transfer: Transfer, plane = 0, columns?: { x0: number; x1: number }): void {
      // Levels are made from whole rows (core/bands never splits a pyramid's rows by columns).
      if (columns && levels) throw new Error('writeRows: columns of rows with pyramid levels');
      const x0 = columns?.x0 ?? 0, cols = columns ? columns.x1 - columns.x0 : width;
      // The levels' kernel runs on a second thread while these rows are written.
      levels?.startRows(y0, rows, data);
      try {
        if (planes) canvas.write([plane, y0, x0], [1, rows, cols], storedView(data, stored), { transfer });
        else datasets[separate ? plane : 0].write([y0, x0], [rows, cols], data, { transfer });
      } catch (error) {
        // The thread must be done with `data` before anything else runs.
        levels?.settle();
        throw error;
      }
      const levelBytes = levels?.writeRows(transfer) ?? 0;
      // The level chunks' file offsets are not at hand: hand the OS the whole file's dirty pages.
      if (levelBytes > 0 && spec.earlyWriteback && offsets[0] !== null) file.startWriteback();
      if (rows === 0 || !spec.earlyWriteback) return;
      if (columns && offsets[separate ? plane : 0] !== null) throw new Error('writeRows: columns of a contiguous dataset');
      // This band's bytes (whole rows: one contiguous run), or the whole file when chunked.
      const offset = offsets[separate ? plane : 0];
      if (offset === null) file.startWriteback();
      else file.startWriteback(offset + ((separate ? 0 : plane) * height + y0) * rowBytes, rows * rowBytes);
    },
    pyramidCollective: levels?.collective,
    pyramidStats: levels?.stats,
    endRows: levels && ((transfer: Transfer) => { levels.finish(transfer); }),
    openScratch(dtype) {
      scratch = openScratch(paths.scratch, spec, dtype);
      return scratch;
    },
    mpioHints: () => file.mpioHints(),
    flush: () => file.flush(),
    setAtomicity: (on) => file.setAtomicity(on),
    commit(provenance: Omit<Provenance, 'complete'>): void {
      // The tile tables once (the first dataset); every channel dataset gets the attributes.
      datasets.forEach((ds, c) => writeProvenance(file, ds, provenance, mpi.rank === 0, c === 0));
      levels?.commit(file, mpi.rank === 0);
      if (spec.pyramid?.format === 'bdv' && mpi.rank === 0) xml = writeBdvXml(paths.final, [height, width], spec.pyramid.voxelSize, spec.pyramid.voxelUnit);
      file.flush();
      for (const ds of datasets) ds.setAttr(PROVENANCE.attr.complete, 1);
      levels?.close();
      for (const ds of datasets) ds.close();
      file.close();
      mpi.barrier();
      if (mpi.rank === 0) {
        fs.renameSync(paths.partial, paths.final);
        // The XML names the file: it appears once the file is in place.
        if (xml) fs.renameSync(xml[0], xml[1]);
        fs.rmSync(paths.scratch, { force: true });
      }
      mpi.barrier();
    },
    discard(): void {
      for (const p of [paths.partial, paths.scratch, ...(xml ? [xml[0]] : [])]) fs.rmSync(p, { force: true });
    },
    abandon(): void {
      try {
        scratch?.close();
        if (file.isOpen) {
          levels?.close();
          for (const ds of datasets) ds.close();
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
