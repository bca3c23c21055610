/**
 * One stitch run: validated options → plan (agreed by every rank) → an output sink → the strategy
 * → provenance and rename → the report. Collective.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesOf, type Dtype } from '../core/dtype';
import { planStitch, type StitchPlan } from '../core/plan';
import type { BlendMode } from '../core/weights';
import { RankFailedError, UsageError } from '../errors';
import { readLayoutFile } from '../io/layout-file';
import { createHdf5Sink, partialPaths, withDiskFullNote } from '../io/sinks/hdf5';
import type { OutputSink } from '../io/sinks/sink';
import { openTileSource, type TileSource } from '../io/sources';
import type { Transfer } from '../runtime/addon';
import { initMpi, type Mpi } from '../runtime/mpi';
import { testHooks, type TestHooks } from '../testing/hooks';
import { VERSION } from '../version';
import { Meter, type PhaseTimes } from './meter';
import { resolveStitchOptions, type StitchOptions, type StitchRequest } from './options';
import { runReadAddWrite } from './read-add-write';
import { runSlab } from './slab';
import type { StrategyContext, StrategyName } from './strategy';

export interface StitchReport {
  command: 'stitch';
  /** "FILE:/dataset" */
  output: string;
  strategy: StrategyName;
  /** The transfer used (a one-rank slab writes independently; absent for serial). */
  io?: Transfer;
  /** slab blended on a second thread while bands were written (phases then overlap). */
  pipeline: boolean;
  blend: BlendMode;
  dtype: Dtype;
  ranks: number;
  tiles: number;
  canvas: [number, number];
  wallSeconds: number;
  /** Max over ranks of the seconds each rank spent in each phase. */
  phases: PhaseTimes;
  /**
   * Output size, bytes read and written (tile data and accumulator, summed over ranks), and the
   * most tile data one rank held in memory at once (max over ranks).
   */
  bytes: { output: number; read: number; written: number; tilesHeld: number };
  outputMBps: number;
}

/**
 * Stitches the tiles of `options.input` into `options.output`. Collective: every rank calls it
 * with the same options; initialises MPI if needed. Returns the same report on every rank; throws
 * UsageError (agreed by all ranks) for bad input, before anything is written.
 */
export function stitch(options: StitchOptions): StitchReport {
  const request = resolveStitchOptions(options);
  return runStitch(initMpi({ keepDataSieving: options.keepDataSieving }), request, testHooks());
}

/**
 * Whether slab blends on a second thread: 'auto' does when every rank has a CPU to spare (its
 * affinity mask, and its node's CPUs shared among the node's ranks, give it two or more);
 * otherwise the thread would only take turns with the main thread or another rank. Collective.
 */
export function choosePipeline(mpi: Mpi, req: Pick<StitchRequest, 'strategy' | 'pipeline'>): boolean {
  if (req.strategy !== 'slab' || req.pipeline === 'off') return false;
  if (req.pipeline === 'on') return true;
  const cpus = Math.min(os.availableParallelism(), Math.floor(os.cpus().length / mpi.localSize()));
  // Every rank must agree: the band count (and so the number of collective writes) depends on it.
  return mpi.allreduce(new Int32Array([cpus >= 2 ? 1 : 0]), 'min')[0] === 1;
}

/** Checks on rank 0 that the output can be written, without touching the input. */
function checkOutputPath(input: string, out: string, force: boolean): void {
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir)) throw new UsageError(`output directory ${dir} does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`output directory ${dir} is not writable`);
  }
  if (fs.existsSync(out)) {
    if (fs.realpathSync(out) === fs.realpathSync(input)) throw new UsageError(`output ${out} is the input file; choose another --out`);
    if (!force) throw new UsageError(`output ${out} exists; pass --force to replace it`);
  }
}

// The tile table (provenance) and the kernel's tile records hold y and x as int32.
const MAX_AXIS = 2 ** 31 - 1;

/**
 * Refuses, on rank 0 before anything is written, a canvas the output cannot hold: an axis past
 * int32 or more bytes than the output's file system has free (an uncompressed output is
 * allocated whole; a stitch that would fill the disk fails late and leaves nothing).
 */
function checkCanvasFits(req: StitchRequest, plan: StitchPlan): void {
  const { height, width } = plan.canvas;
  if (height > MAX_AXIS || width > MAX_AXIS) {
    throw new UsageError(`the canvas would be ${height}x${width} pixels; h5stitch places tiles within 2^31-1 pixels per axis`);
  }
  const bytes = height * width * bytesOf(req.dtype);
  if (req.gzip !== undefined) return;
  let free: number;
  try {
    const st = fs.statfsSync(path.dirname(path.resolve(req.output)));
    if (st.blocks === 0) return; // a file system that reports no sizes (some FUSE mounts): unknown
    free = st.bavail * st.bsize;
  } catch {
    return;
  }
  if (bytes > free) {
    throw new UsageError(`the output would be ${height}x${width} ${req.dtype} (${bytes} bytes) but ${path.dirname(path.resolve(req.output))} has ${free} bytes free`);
  }
}

/** Opens the input and plans the canvas; the checks every rank can make alike. */
function openAndPlan(req: StitchRequest, pipelineWanted: boolean): { source: TileSource; plan: StitchPlan; pipeline: boolean } {
  const source = openTileSource(req.input, { tilesPath: req.tilesPath, layoutPath: req.layoutPath, positionsPath: req.positionsPath });
  try {
    const plan = planStitch(source, { blend: req.blend, overlap: req.overlap, layout: req.layout ?? (req.layoutFile ? readLayoutFile(req.layoutFile) : undefined) });
    const { chunk, memPerRank } = req;
    if (chunk && (chunk[0] > plan.canvas.height || chunk[1] > plan.canvas.width)) {
      throw new UsageError(`--chunk ${chunk.join('x')} is larger than the canvas ${plan.canvas.height}x${plan.canvas.width}`);
    }
    const rowBytes = plan.canvas.width * (req.dtype === 'float64' ? 8 : 4);
    if (memPerRank < rowBytes) throw new UsageError(`--mem-per-rank ${memPerRank} bytes is too small for one canvas row (${rowBytes} bytes)`);
    // The pipeline holds two bands of half the budget each.
    let pipeline = pipelineWanted;
    if (pipeline && memPerRank < 2 * rowBytes) {
      if (req.pipeline === 'on') throw new UsageError(`--pipeline on needs --mem-per-rank of two canvas rows (${2 * rowBytes} bytes), got ${memPerRank}`);
      pipeline = false;
    }
    return { source, plan, pipeline };
  } catch (error) {
    source.close();
    throw error;
  }
}

/** The collective run behind {@link stitch}, with the test hooks injected. */
export function runStitch(mpi: Mpi, req: StitchRequest, hooks: TestHooks): StitchReport {
  const { strategy, dtype } = req;
  // One slab rank has nobody to coordinate with: a collective write would only pass every byte
  // through MPI-IO's aggregation buffer (OMPIO copies it). Filtered chunks are written collectively.
  const io: Transfer = strategy === 'serial' || (strategy === 'slab' && mpi.size === 1 && req.gzip === undefined) ? 'independent' : req.io;
  const started = mpi.wtime();
  hooks.startRun();
  const pipelineWanted = choosePipeline(mpi, req);
  mpi.runOnRoot(() => checkOutputPath(req.input, req.output, req.force));
  const { source, plan, pipeline } = mpi.runOnAll(() => openAndPlan(req, pipelineWanted));
  try {
    mpi.runOnRoot(() => checkCanvasFits(req, plan));
  } catch (error) {
    source.close();
    throw error;
  }

  const meter = new Meter();
  let sink: OutputSink | undefined;
  try {
    sink = createHdf5Sink(mpi, {
      file: req.output, dataset: req.dataset, shape: [plan.canvas.height, plan.canvas.width], dtype, chunk: req.chunk, gzip: req.gzip,
      // slab writes every pixel: skip the fill. serial/rounds start from HDF5's fill at allocation.
      fillTime: strategy === 'slab' ? 'never' : 'alloc',
      hints: req.hints, earlyWriteback: strategy === 'slab' && req.writeback === 'early',
    });
    if (req.atomic) sink.setAtomicity(true);
    const tty = mpi.rank === 0 && process.stderr.isTTY && req.progress;
    const ctx: StrategyContext = {
      mpi, source, plan, meter, hooks, sink, outDtype: dtype, io, pipeline, memPerRank: req.memPerRank, chunkRows: req.chunk?.[0],
      // Collective writes synchronise the ranks at every band or tile anyway: agree on failed
      // reads there too, so a bad tile ends the job with one line, not an abort.
      agreeEachBand: io === 'collective' && strategy !== 'serial',
      progress: tty ? (done, total) => {
        const mb = meter.bytes.written / 1e6 / Math.max(1e-9, mpi.wtime() - started);
        process.stderr.write(`\rh5stitch: ${done}/${total} tiles, ${mb.toFixed(1)} MB/s (rank 0)`);
      } : undefined,
    };
    if (strategy === 'slab') runSlab(ctx);
    else runReadAddWrite(ctx, strategy === 'serial');
    if (tty) process.stderr.write('\n');
    // Every tile was read from the files as planned (each read checks its file); a file rewritten
    // in place or replaced while the run went on is caught here, before the output is committed.
    mpi.runOnRoot(() => source.checkUnchanged());
    meter.timed('sync', () => sink!.commit({
      tiles: plan.planned, tileShape: [source.height, source.width], blend: req.blend, input: path.resolve(req.input), overlap: plan.overlap,
      strategy, io, ranks: mpi.size, version: VERSION, inputs: source.fingerprint,
    }));
  } catch (error) {
    // This rank's view of the run ends here: no partial output may stay behind at any path. A
    // failure every rank agreed on closes the output collectively first.
    if (sink && error instanceof RankFailedError) sink.abandon();
    else if (sink) sink.discard();
    else fs.rmSync(partialPaths(req.output).partial, { force: true });
    throw withDiskFullNote(error, req.output);
  } finally {
    source.close();
  }
  return report(mpi, req, { io, pipeline, plan, meter, started });
}

function report(mpi: Mpi, req: StitchRequest, run: { io: Transfer; pipeline: boolean; plan: StitchPlan; meter: Meter; started: number }): StitchReport {
  const { plan, meter } = run;
  const wall = mpi.allreduce(new Float64Array([mpi.wtime() - run.started]), 'max')[0];
  const t = meter.times;
  const phases = mpi.allreduce(new Float64Array([t.read, t.compute, t.convert, t.write, t.sync]), 'max');
  const totals = mpi.allreduce(new Float64Array([meter.bytes.read, meter.bytes.written]), 'sum');
  const tilesHeld = mpi.allreduce(new Float64Array([meter.bytes.tilesHeld]), 'max')[0];
  const outBytes = plan.canvas.height * plan.canvas.width * bytesOf(req.dtype);
  return {
    command: 'stitch', output: `${path.resolve(req.output)}:${req.dataset}`, strategy: req.strategy, io: req.strategy === 'serial' ? undefined : run.io,
    pipeline: run.pipeline, blend: req.blend, dtype: req.dtype, ranks: mpi.size, tiles: plan.planned.length,
    canvas: [plan.canvas.height, plan.canvas.width], wallSeconds: wall,
    phases: { read: phases[0], compute: phases[1], convert: phases[2], write: phases[3], sync: phases[4] },
    bytes: { output: outBytes, read: totals[0], written: totals[1], tilesHeld }, outputMBps: outBytes / 1e6 / wall,
  };
}
