/**
 * `bench --inputs hdf5,tiff,tiff-deflate`: the same generated tiles read from HDF5 and from TIFF
 * series (one file per tile, written here with libtiff), timed two ways, interleaved (each repeat
 * runs every input once, in turn): a read pass (every rank reads its share of the tiles in bands
 * of rows, as the slab engine reads them, nothing else) and a whole slab stitch. Every TIFF
 * stitch is verified and must be bit-identical to the HDF5 one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesOf, newArray, type Dtype, type NumericArray } from '../core/dtype';
import { H5StitchError } from '../errors';
import { openTileSource } from '../io/sources';
import { native } from '../runtime/addon';
import type { Mpi } from '../runtime/mpi';
import { resolveStitchOptions } from '../stitch/options';
import { runStitch } from '../stitch/run';
import { verifyOutput } from '../stitch/verify';
import { testHooks } from '../testing/hooks';
import { sameBytes, tileSet, type BenchSetOptions } from './bench';
import { summary } from './report';

export type BenchInput = 'hdf5' | 'tiff' | 'tiff-deflate' | 'tiff-deflate-tiled';
export const BENCH_INPUTS: readonly BenchInput[] = ['hdf5', 'tiff', 'tiff-deflate', 'tiff-deflate-tiled'];

/**
 * How each TIFF series is written (libtiff), as microscope software writes them: uncompressed, one
 * strip per image (ImageJ, tifffile); deflate in strips of ~64 KiB (tifffile's
 * default for compressed images); deflate in 256x256 tiles.
 */
function tiffWrite(input: Exclude<BenchInput, 'hdf5'>, height: number, rowBytes: number): { compression: 'none' | 'deflate'; rowsPerStrip?: number; tile?: [number, number] } {
  if (input === 'tiff') return { compression: 'none', rowsPerStrip: height };
  if (input === 'tiff-deflate') return { compression: 'deflate', rowsPerStrip: Math.max(1, Math.floor(65536 / rowBytes)) };
  return { compression: 'deflate', tile: [256, 256] };
}

/** Rows per read in the read pass: the slab engine reads each tile's rows band by band. */
const READ_BAND_ROWS = 128;

export interface InputBenchOptions extends BenchSetOptions {
  /** hdf5 first (the baseline), then the TIFF series. */
  inputs: BenchInput[];
}

export interface InputBenchResult {
  input: BenchInput;
  /** INPUT as given to stitch (a file, or a file-name pattern). */
  path: string;
  /** Bytes of the input's tiles on disk (TIFF: the files; HDF5: the tiles dataset). */
  fileBytes: number;
  /** Read pass: MB of tile data per second (all ranks together), each run, and their median, min, max. */
  read: { runs: number[]; median: number; min: number; max: number };
  /** Whole slab stitch, seconds: each run, and their median, min, max. */
  stitch: { runs: number[]; median: number; min: number; max: number };
  /** This input's median read rate / HDF5's, and its median stitch time / HDF5's, same run. */
  readRatio: number;
  stitchRatio: number;
  verified: boolean;
  identical: boolean;
}

export interface InputBenchReport {
  command: 'bench';
  mode: 'inputs';
  machine: { host: string; cpus: number; mpiLibrary: string };
  config: {
    ranks: number; tiles: [number, number]; tile: [number, number]; overlap: number; dtype: Dtype; repeat: number;
    tileCount: number; tileBytes: number; canvas: [number, number]; dir: string;
  };
  inputs: InputBenchResult[];
  verified: boolean;
}

/** The HDF5 tile set's tiles as a TIFF series `dir/tile_rRR_cCC.tif`, written by all ranks (a share each) unless there. Collective. */
function tiffSeries(mpi: Mpi, h5: string, input: Exclude<BenchInput, 'hdf5'>, verbose: boolean): string {
  const dir = `${h5.replace(/\.h5$/, '')}-${input}`;
  const pattern = path.join(dir, 'tile_r{row}_c{col}.tif');
  if (mpi.runOnRoot(() => fs.existsSync(dir))) return pattern;
  if (verbose && mpi.rank === 0) console.log(`h5stitch bench: writing the tiles of ${h5} as ${input} TIFFs in ${dir}`);
  const partial = `${dir}.partial`;
  mpi.runOnRoot(() => {
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
  });
  mpi.runOnAll(() => {
    const source = openTileSource(h5);
    try {
      const cells = new Map<number, [number, number]>();
      source.layout?.forEach((row, r) => row.forEach((index, c) => index >= 0 && cells.set(index, [r, c])));
      const digits = (n: number) => String(n).padStart(2, '0');
      for (let i = mpi.rank; i < source.count; i += mpi.size) {
        const [r, c] = cells.get(i)!;
        const pixels = source.readRegion(i, 0, source.height, 0, source.width, newArray(source.dtype, source.height * source.width));
        native().writeTiff(path.join(partial, `tile_r${digits(r)}_c${digits(c)}.tif`), pixels,
          { height: source.height, width: source.width, ...tiffWrite(input, source.height, source.width * bytesOf(source.dtype)) });
      }
    } finally {
      source.close();
    }
  });
  mpi.barrier();
  mpi.runOnRoot(() => fs.renameSync(partial, dir));
  return pattern;
}

/** Bytes on disk of the input's tiles: the TIFF series' files, or (HDF5) the contiguous tiles dataset (the file also holds generate's ground truth). */
function fileBytes(input: string, tileData: number): number {
  if (!input.includes('{')) return tileData;
  const dir = path.dirname(input);
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** One read pass: every rank reads tiles rank, rank + size, ... in bands of rows; MB/s of all ranks together. Collective. */
function readPass(mpi: Mpi, input: string, band: NumericArray): number {
  const source = mpi.runOnAll(() => openTileSource(input));
  try {
    mpi.barrier();
    const started = mpi.wtime();
    let bytes = 0;
    mpi.runOnAll(() => {
      for (let i = mpi.rank; i < source.count; i += mpi.size) {
        for (let y = 0; y < source.height; y += READ_BAND_ROWS) {
          const y1 = Math.min(source.height, y + READ_BAND_ROWS);
          source.readRegion(i, y, y1, 0, source.width, band.subarray(0, (y1 - y) * source.width) as NumericArray);
          bytes += (y1 - y) * source.width * bytesOf(source.dtype);
        }
      }
    });
    const seconds = mpi.allreduce(new Float64Array([mpi.wtime() - started]), 'max')[0];
    const total = mpi.allreduce(new Float64Array([bytes]), 'sum')[0];
    return total / 1e6 / seconds;
  } finally {
    source.close();
  }
}

/** Runs the input benchmark. Collective; every rank returns the same report. Throws when any output fails its checks. */
export function runInputBench(mpi: Mpi, o: InputBenchOptions): InputBenchReport {
  const h5 = tileSet(mpi, o, o.tiles, o.tile, o.overlap);
  const paths = o.inputs.map((input) => (input === 'hdf5' ? h5 : tiffSeries(mpi, h5, input, o.verbose)));
  const outputs = o.inputs.map((input) => path.join(o.dir, `out-input-${input}.h5`));
  const requests = o.inputs.map((input, k) => resolveStitchOptions({
    input: paths[k], output: outputs[k], strategy: 'slab', force: true, progress: false, memPerRank: o.memPerRank,
    // A pattern gives only the grid: the overlap the HDF5 set records.
    overlap: input === 'hdf5' ? undefined : o.overlap,
    hints: o.stitch.hints, keepDataSieving: o.stitch.keepDataSieving, pipeline: o.stitch.pipeline, writeback: o.stitch.writeback,
  }));
  const band = newArray(o.dtype, READ_BAND_ROWS * o.tile[1]);
  const reads: number[][] = o.inputs.map(() => []);
  const stitches: number[][] = o.inputs.map(() => []);
  let canvas: [number, number] = [0, 0];
  let tileCount = 0;
  // One untimed pass each first: the first reads of a file pay for opening it and for the JIT.
  paths.forEach((p) => readPass(mpi, p, band));
  // Interleaved: a machine that slows down during the run slows every input alike.
  for (let run = 0; run < o.repeat; run++) {
    o.inputs.forEach((input, k) => {
      reads[k].push(readPass(mpi, paths[k], band));
      if (mpi.rank === 0) fs.rmSync(outputs[k], { force: true });
      mpi.barrier();
      const report = runStitch(mpi, requests[k], testHooks());
      stitches[k].push(report.wallSeconds);
      canvas = report.canvas;
      tileCount = report.tiles;
      if (o.verbose && mpi.rank === 0) {
        process.stderr.write(`h5stitch bench: ${input} run ${run + 1}/${o.repeat}: read ${reads[k][run].toFixed(0)} MB/s, stitch ${report.wallSeconds.toFixed(3)} s\n`);
      }
    });
  }
  const failures: string[] = [];
  const checked = o.inputs.map((input, k) => {
    const verify = verifyOutput(mpi, { output: outputs[k], input: paths[k], memPerRank: Math.min(o.memPerRank, 256 * 1024 ** 2) });
    if (!verify.ok) failures.push(`${input}: output failed verification: ${verify.failed.map((t) => `tile ${t.index} ${t.status}`).join(', ') || 'not marked complete'}`);
    const same = k === 0 ? { identical: true } : mpi.runOnRoot(() => sameBytes(outputs[0], outputs[k], '/stitched'));
    if (!same.identical) failures.push(`${input}: output differs from the ${o.inputs[0]} input's (first at row ${same.firstRow})`);
    return { verified: verify.ok, identical: same.identical };
  });
  if (failures.length > 0) mpi.agree(mpi.rank === 0 ? new H5StitchError('ERR_BENCH_VERIFY', `bench: ${failures.join('; ')}`) : undefined);
  const sizes = mpi.runOnRoot(() => paths.map((p) => fileBytes(p, tileCount * o.tile[0] * o.tile[1] * bytesOf(o.dtype))));
  const results = o.inputs.map((input, k): InputBenchResult => ({
    input, path: paths[k], fileBytes: sizes[k], read: summary(reads[k]), stitch: summary(stitches[k]), readRatio: 0, stitchRatio: 0, ...checked[k],
  }));
  for (const r of results) {
    r.readRatio = r.read.median / results[0].read.median;
    r.stitchRatio = r.stitch.median / results[0].stitch.median;
  }
  const { library } = native().mpi.libraryVersion();
  return {
    command: 'bench', mode: 'inputs',
    machine: { host: os.hostname(), cpus: os.cpus().length, mpiLibrary: library.split('\n')[0].split(',')[0].trim() },
    config: {
      ranks: mpi.size, tiles: o.tiles, tile: o.tile, overlap: o.overlap, dtype: o.dtype, repeat: o.repeat,
      tileCount, tileBytes: o.tile[0] * o.tile[1] * bytesOf(o.dtype), canvas, dir: o.dir,
    },
    inputs: results,
    verified: true,
  };
}

export function formatInputBench(r: InputBenchReport): string {
  const c = r.config;
  const head = `h5stitch bench --inputs: ${c.tileCount} tiles of ${c.tile.join('x')} ${c.dtype} (${((c.tileCount * c.tileBytes) / 1e6).toFixed(1)} MB of tiles) ` +
    `-> ${c.canvas.join('x')} canvas, ${c.ranks} ranks, ${c.repeat} interleaved runs each, ${r.machine.host} (${r.machine.cpus} cpus, ${r.machine.mpiLibrary})\n`;
  const cols = ['input', 'files MB', 'read MB/s', 'min', 'max', 'read vs hdf5', 'stitch s', 'min', 'max', 'stitch vs hdf5'];
  const rows = r.inputs.map((i) => [
    i.input, (i.fileBytes / 1e6).toFixed(1), i.read.median.toFixed(0), i.read.min.toFixed(0), i.read.max.toFixed(0), i.readRatio.toFixed(2),
    i.stitch.median.toFixed(3), i.stitch.min.toFixed(3), i.stitch.max.toFixed(3), i.stitchRatio.toFixed(2),
  ]);
  const widths = cols.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  const line = (cells: string[]) => cells.map((v, k) => (k === 0 ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join('  ').trimEnd();
  return `${head}${line(cols)}\n${rows.map(line).join('\n')}\n` +
    `medians of the runs; read: the tiles in bands of ${READ_BAND_ROWS} rows, page cache warm; verified: every output passes verify and is bit-identical to the ${r.inputs[0].input} one\n`;
}
