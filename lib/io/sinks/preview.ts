/**
 * The preview PNG of an output (docs/preview.md): the finest pyramid level within 2048 px as it
 * is, or a block mean of the coarsest level there is (the output itself when it has no pyramid),
 * read collectively in bands (memory per rank: one band plus its share of the preview), stretched
 * between the 0.1 and 99.9 percentiles on rank 0 and written there. Collective.
 */
import { bytesOf, newArray, type NumericArray } from '../../core/dtype';
import {
  addToBlockSums, blockSumsToMeans, levelThatFits, previewFactor, previewShape, stretchLimits, stretchTo8Bit,
} from '../../core/preview';
import { UsageError } from '../../errors';
import { openFile } from '../../runtime/hdf5';
import type { Mpi } from '../../runtime/mpi';
import { outputLevels, type LevelLayout } from '../levels';
import { writeGreyPng } from './png';

export interface PreviewOptions {
  /** The HDF5 output. */
  output: string;
  /** Its full-resolution dataset (default /stitched). */
  dataset: string;
  /** The PNG to write. */
  png: string;
  /** Read-band memory per rank, bytes. */
  memPerRank: number;
  /** The channel of a [C, H, W] output (default 0). */
  channel?: number;
  /** MPI-IO hints for the parallel open. */
  hints?: Record<string, string>;
}

export interface PreviewReport {
  /** The PNG written. */
  file: string;
  /** The dataset it was made from, its layout and its image size [H, W]. */
  source: string;
  layout: LevelLayout;
  sourceShape: [number, number];
  /** The plane of a 3-D source ([C, H, W] channel, or BDV's single [1, H, W] plane), else null. */
  channel: number | null;
  /** Planes (channels) the source has: 1 for a 2-D dataset. */
  planes: number;
  /** Block size of the mean (1: the level as it is). */
  factor: number;
  /** The PNG's size [H, W]. */
  shape: [number, number];
  /** The values mapped to 0 and 255: the 0.1 and 99.9 percentiles of the preview's finite pixels. */
  limits: [number, number];
  seconds: number;
}

/** Writes the preview of `o.output` to `o.png`. Collective; the same report on every rank. */
export function writePreview(mpi: Mpi, o: PreviewOptions): PreviewReport {
  const started = mpi.wtime();
  const file = mpi.runOnAll(() => openFile(o.output, { mode: 'r', parallel: true, hints: o.hints }));
  try {
    const { layout, levels } = mpi.runOnAll(() => outputLevels(file, o.dataset));
    if (levels.length === 0) throw new UsageError(`${o.output} has no dataset ${o.dataset} to preview`);
    const fits = levelThatFits(levels.map((l) => [l.height, l.width] as [number, number]));
    // No level within the limit: the coarsest one is the least to read.
    const level = fits >= 0 ? levels[fits] : levels[levels.length - 1];
    const { dtype, shape, height, width } = level;
    if (!dtype || dtype === 'int64' || dtype === 'uint64') throw new UsageError(`${o.output}:${level.path} has dtype ${dtype ?? 'unsupported'}, which preview does not read`);
    if (shape.length > 3) throw new UsageError(`${o.output}:${level.path} is [${shape.join(', ')}]: preview reads 2-D and [C, H, W] datasets`);
    const planes = shape.length === 3 ? shape[0] : 1;
    const channel = o.channel ?? 0;
    if (channel >= planes) throw new UsageError(`Expected a channel 0..${planes - 1} for --channel but received number ${channel}`);

    const factor = previewFactor(height, width);
    const [ph, pw] = previewShape(height, width, factor);
    // Each rank sums whole preview rows: its share of them, padded to one size for the gather.
    const share = Math.ceil(ph / mpi.size);
    const pr0 = Math.min(mpi.rank * share, ph), pr1 = Math.min(pr0 + share, ph);
    const y0 = pr0 * factor, y1 = Math.min(pr1 * factor, height);
    const bandRows = Math.max(1, Math.floor(o.memPerRank / (width * bytesOf(dtype))));
    const bandCount = Math.ceil(Math.min(share * factor, height) / bandRows);
    const sums = new Float64Array(share * pw);
    const buffer = newArray(dtype, Math.min(bandRows, Math.max(1, y1 - y0)) * width);
    const ds = file.openDataset(level.path);
    try {
      for (let b = 0; b < bandCount; b++) {
        const by0 = Math.min(y0 + b * bandRows, y1), rows = Math.min(bandRows, y1 - by0);
        const band = buffer.subarray(0, rows * width) as NumericArray;
        // Collective: a rank out of rows reads nothing but still takes part.
        const start = shape.length === 3 ? [channel, rows > 0 ? by0 : 0, 0] : [rows > 0 ? by0 : 0, 0];
        const count = shape.length === 3 ? [1, rows, width] : [rows, width];
        mpi.runOnAll(() => {
          ds.read(start, count, band, { transfer: 'collective' });
          const values = level.unsignedShort ? new Uint16Array(band.buffer, band.byteOffset, band.length) : band;
          addToBlockSums(sums, pr0, factor, by0, rows, width, values as ArrayLike<number>);
        });
      }
    } finally {
      ds.close();
    }
    blockSumsToMeans(sums.subarray(0, (pr1 - pr0) * pw), pr0, factor, height, width);
    const preview = mpi.allgather(sums).subarray(0, ph * pw);
    const limits = mpi.runOnRoot(() => {
      const [lo, hi] = stretchLimits(preview);
      writeGreyPng(o.png, pw, ph, stretchTo8Bit(preview, lo, hi));
      return [lo, hi] as [number, number];
    });
    return {
      file: o.png, source: level.path, layout, sourceShape: [height, width], channel: shape.length === 3 ? channel : null, planes,
      factor, shape: [ph, pw], limits, seconds: mpi.allreduce(new Float64Array([mpi.wtime() - started]), 'max')[0],
    };
  } finally {
    file.close();
  }
}

