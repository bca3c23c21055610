/**
 * One stitch run: validated options → plan (agreed by every rank) → an output sink → the strategy
 * → provenance and rename → the report. Collective.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bandRowsOf } from '../core/bands';
import { accDtypeOf, bytesOf, type Dtype } from '../core/dtype';
import { planStitch, type StitchPlan } from '../core/plan';
import type { BlendMode } from '../core/weights';
import { RankFailedError, UsageError } from '../errors';
import { readLayoutFile } from '../io/layout-file';
import { checkImagePath } from '../io/sinks/png';
import { MAP_EXTENSIONS } from '../io/sinks/tile-map';
import { writePreview, type PreviewReport } from '../io/sinks/preview';
import { checkNewOutput } from '../io/output-path';
import type { FileSystemInfo, FsClass } from '../runtime/file-system';
import { createHdf5Sink, partialPaths, withDiskFullNote } from '../io/sinks/hdf5';
import { bdvXmlPath, type PyramidSpec } from '../io/sinks/pyramid';
import { canvasPathOf, DEFAULT_LEVEL_CHUNK, pyramidLevels, slabRowUnit } from '../core/pyramid';
import type { OutputSink } from '../io/sinks/sink';
import { openTileSource, type TileSource } from '../io/sources';
import { channelCount, type ChannelSource } from '../io/sources/tiff';
import { native, type Transfer } from '../runtime/addon';
import { nodeCpus } from '../runtime/cpus';
import { rssKiB } from '../runtime/rss';
import { mpioLayerOf } from '../runtime/info';
import { initMpi, type Mpi } from '../runtime/mpi';
import { corruptOneTile } from '../testing/damage';
import { testHooks, type TestHooks } from '../testing/hooks';
import { VERSION } from '../version';
import { checkOutputFileSystem, nodeCount } from './fs-policy';
import { chooseTransfer } from './io-choice';
import { Meter, type PhaseTimes } from './meter';
import { resolveStitchOptions, type StitchOptions, type StitchRequest } from './options';
import { runReadAddWrite } from './read-add-write';
import { runSlab } from './slab';
import { verifyOutput, type VerifyReport } from './verify';
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
  /** Multi-channel input: the channels stitched, written as [channels, H, W]. */
  channels?: number;
  wallSeconds: number;
  /** Max over ranks of the seconds each rank spent in each phase. */
  phases: PhaseTimes;
  /**
   * Output size, bytes read and written (tile data and accumulator, summed over ranks), and the
   * most tile data one rank held in memory at once (max over ranks).
   */
  bytes: { output: number; read: number; written: number; tilesHeld: number };
  outputMBps: number;
  /** The output's file system as rank 0 sees it (see docs/reliability.md). */
  fileSystem: { type: string; class: FsClass };
  /** With the preview option: the PNG written after the stitch (and after verify, when asked). */
  preview?: PreviewReport;
  /**
   * Resident memory per rank (KiB, index = rank): at the start of the run, the process's peak at
   * its end, and the bound the peak should stay under: start + memPerRank (the band, or the two
   * half-size bands of the pipeline) + cb_buffer_size (MPI-IO aggregation) + the tile data the rank
   * held at once (at least two tiles) + 3 KiB per tile of the set (the plan and per-tile state).
   */
  memory: { startKiB: number[]; peakKiB: number[]; boundKiB: number[] };
  /**
   * Pyramid levels written (level 0 included) and their layout; absent for a flat output. The
   * seconds spent making the levels (the kernel) and writing them (max over ranks; part of the
   * write phase) and the level bytes written (summed over ranks).
   */
  pyramid?: { levels: number; format: 'hdf5' | 'bdv'; reduceSeconds: number; writeSeconds: number; bytes: number };
  /** With the verify option: the verdict of verify run at the end of the job. */
  verify?: { ok: boolean; complete: boolean; tiles: number; failed: VerifyReport['failed']; seconds: number; levels?: VerifyReport['levels']; map?: string };
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
 * Whether slab blends on a second thread: 'auto' does when every rank has a CPU to spare: its
 * node's CPUs (the job's cpuset, not the rank's binding) shared among the node's ranks give it
 * two or more; otherwise the thread would only take turns with the main thread or another rank.
 * A rank bound to one CPU (Open MPI's default for 1-2 ranks) then lets the blend thread leave its
 * binding (setWorkerCpus('node')), so it can use the spare CPU; a rank alone on its node lets its
 * main thread leave it too, for the run (runStitch restores it), since it shares the blend: bound,
 * it waited for its CPU while the other ran the blend thread or the kernel's writeback (one rank,
 * 476 MiB: 0.33-0.38 s bound, 0.30-0.32 s widened, in pairs of jobs). Collective.
 */
function choosePipeline(mpi: Mpi, req: Pick<StitchRequest, 'strategy' | 'pipeline'>): boolean {
  if (req.strategy !== 'slab' || req.pipeline === 'off') return false;
  const spare = Math.floor(nodeCpus() / mpi.localSize()) >= 2;
  // Every rank must agree: the band count (and so the number of collective writes) depends on it.
  const on = req.pipeline === 'on' || mpi.allreduce(new Int32Array([spare ? 1 : 0]), 'min')[0] === 1;
  const bound = on && spare && os.availableParallelism() < 2;
  native().setWorkerCpus(bound ? 'node' : 'inherit');
  if (bound && mpi.localSize() === 1) native().setCallerCpus('node');
  return on;
}


// The tile table (provenance) and the kernel's tile records hold y and x as int32.
const MAX_AXIS = 2 ** 31 - 1;

/**
 * Refuses, on rank 0 before anything is written, a canvas the output cannot hold: an axis past
 * int32 or more bytes than the output's file system has free (an uncompressed output is
 * allocated whole; a stitch that would fill the disk fails late and leaves nothing).
 */
function checkCanvasFits(req: StitchRequest, plan: StitchPlan, channels: number): void {
  const { height, width } = plan.canvas;
  if (height > MAX_AXIS || width > MAX_AXIS) {
    throw new UsageError(`the canvas would be ${height}x${width} pixels; h5stitch places tiles within 2^31-1 pixels per axis`);
  }
  // A pyramid's levels add at most a third (1/4 + 1/16 + ...).
  const bytes = channels * height * width * bytesOf(req.dtype) * (req.pyramid ? 4 / 3 : 1);
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
function openAndPlan(req: StitchRequest, pipelineWanted: boolean, meter: Meter): { source: TileSource; plan: StitchPlan; pipeline: boolean; channels: number } {
  const source = openTileSource(req.input, { tilesPath: req.tilesPath, layoutPath: req.layoutPath, positionsPath: req.positionsPath });
  try {
    const layout = req.layout ?? (req.layoutFile ? readLayoutFile(req.layoutFile) : undefined);
    const plan = meter.timed('plan', () => planStitch(source, { blend: req.blend, overlap: req.overlap, positions: req.positions, layout }));
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
    // Bands of whole chunk rows (core/bands): refuse here, before any output exists, what cannot be.
    const banded = req.strategy === 'slab' || accDtypeOf(req.dtype) !== req.dtype;
    if (chunk && banded) {
      const held = pipeline ? 2 : 1;
      bandRowsOf({ chunkRows: chunk[0], compressed: req.gzip !== undefined, bytesPerRow: rowBytes, memPerRank: memPerRank / held, bandsHeld: held });
    }
    const channels = channelCount(source);
    if (channels > 1 && req.strategy !== 'slab') throw new UsageError(`multi-channel input (${channels} channels) is stitched with --strategy slab only, not ${req.strategy}`);
    if (req.channelsAs === 'datasets' && req.strategy !== 'slab') throw new UsageError(`--channels-as datasets is written with --strategy slab only, not ${req.strategy}`);
    if ((channels > 1 || req.channelsAs === 'datasets') && (req.pyramid || req.format === 'bdv')) {
      const what = channels > 1 ? `multi-channel input (${channels} channels)` : '--channels-as datasets';
      throw new UsageError(`${what}: ${req.pyramid ? '--pyramid' : '--format bdv'} writes one 2-D image only`);
    }
    // Refused here, on every rank alike, before any output exists.
    pyramidLevels([plan.canvas.height, plan.canvas.width], { pyramid: req.pyramid, levels: req.levels });
    return { source, plan, pipeline, channels };
  } catch (error) {
    source.close();
    throw error;
  }
}

/** The collective run behind {@link stitch}, with the test hooks injected. */
export function runStitch(mpi: Mpi, req: StitchRequest, hooks: TestHooks): StitchReport {
  try {
    return runStitchWithCpus(mpi, req, hooks);
  } finally {
    // choosePipeline may have let this thread leave its binding for the run: the caller gets it back.
    native().setCallerCpus('saved');
  }
}

function runStitchWithCpus(mpi: Mpi, req: StitchRequest, hooks: TestHooks): StitchReport {
  const { strategy, dtype } = req;
  const started = mpi.wtime();
  const startKiB = rssKiB('VmRSS');
  hooks.startRun();
  if (req.preview !== undefined) mpi.runOnRoot(() => checkImagePath(req.preview!, ['.png'], '--preview', [req.output, req.input]));
  // Checked before the stitch: a map that cannot be written should not cost a stitch first.
  if (req.verifyMap !== undefined) mpi.runOnRoot(() => checkImagePath(req.verifyMap!, MAP_EXTENSIONS, '--map', [req.output, req.input]));
  const pipelineWanted = choosePipeline(mpi, req);
  mpi.runOnRoot(() => {
    checkNewOutput(req.output, { force: req.force, input: req.input });
    if (req.format === 'bdv' && !req.force && fs.existsSync(bdvXmlPath(req.output))) {
      throw new UsageError(`${bdvXmlPath(req.output)} exists (the BigDataViewer XML of --format bdv); use --force to replace it`);
    }
  });
  const nodes = nodeCount(mpi, native().mpi.processorName());
  const fileSystem = mpi.runOnAll(() => checkOutputFileSystem(req.output, { strategy, ranks: mpi.size, nodes, trust: req.trustFsCoherence }));
  const meter = new Meter();
  const { source, plan, pipeline, channels } = mpi.runOnAll(() => openAndPlan(req, pipelineWanted, meter));
  try {
    mpi.runOnRoot(() => checkCanvasFits(req, plan, channels));
  } catch (error) {
    source.close();
    throw error;
  }

  const layout = outputLayout(req, [plan.canvas.height, plan.canvas.width]);
  let sink: OutputSink | undefined;
  let io: Transfer = 'collective';
  try {
    sink = createHdf5Sink(mpi, {
      file: req.output, dataset: layout.dataset, shape: [plan.canvas.height, plan.canvas.width], dtype, chunk: layout.chunk, gzip: req.gzip,
      pyramid: layout.pyramid,
      // slab writes every pixel: skip the fill. serial/rounds start from HDF5's fill at allocation.
      fillTime: strategy === 'slab' ? 'never' : 'alloc',
      hints: req.hints, earlyWriteback: strategy === 'slab' && req.writeback === 'early',
      // BigDataViewer's level 0 is one [1, H, W] plane; channels are planes or datasets.
      planes: layout.pyramid?.format === 'bdv' ? 1 : channels > 1 || req.channelsAs === 'datasets' ? channels : undefined,
      planesAs: req.channelsAs,
    });
    if (req.atomic) sink.setAtomicity(true);
    const mpioLayer = mpioLayerOf(sink.mpioHints(), req.hints, native().mpi.libraryVersion().library);
    io = chooseTransfer(mpi, req, { fsClass: fileSystem.class, mpioLayer, cellChunks: layout.pyramid?.format === 'bdv' });
    const tty = mpi.rank === 0 && process.stderr.isTTY && req.progress;
    const ctx: StrategyContext = {
      mpi, source, plan, meter, hooks, sink, outDtype: dtype, io, pipeline, memPerRank: req.memPerRank, chunkRows: layout.chunk?.[0], chunkCols: layout.chunk?.[1],
      compressed: req.gzip !== undefined, slabUnit: layout.pyramid?.slabUnit,
      // Collective writes synchronise the ranks at every band or tile anyway: agree on failed
      // reads there too, so a bad tile ends the job with one line, not an abort.
      // A pyramid's levels may be written collectively at every band whatever the canvas's transfer.
      agreeEachBand: (io === 'collective' || sink.pyramidCollective === true) && strategy !== 'serial',
      progress: tty ? (done, total) => {
        const mb = meter.bytes.written / 1e6 / Math.max(1e-9, mpi.wtime() - started);
        process.stderr.write(`\rh5stitch: ${done}/${total} tiles, ${mb.toFixed(1)} MB/s (rank 0)`);
      } : undefined,
    };
    if (channels > 1 || req.channelsAs === 'datasets') runChannels(ctx, source as ChannelSource);
    else if (strategy === 'slab') runSlab(ctx);
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
  const result = report(mpi, req, { io, pipeline, plan, meter, started, fileSystem, channels, startKiB,
    // Tiles are held as read (the input's dtype): uint8 tiles counted as a float32 output's were 24 MiB
    // of bound no run used (2 tiles of 2048²).
    tileBytes: source.height * source.width * bytesOf(source.dtype) });
  if (layout.pyramid) {
    const s = sink!.pyramidStats!;
    const [reduceSeconds, writeSeconds] = mpi.allreduce(new Float64Array([s.reduceSeconds, s.writeSeconds]), 'max');
    const bytes = mpi.allreduce(new Float64Array([s.bytes]), 'sum')[0];
    result.pyramid = { levels: layout.pyramid.levels, format: layout.pyramid.format, reduceSeconds, writeSeconds, bytes };
    // The level buffers (about one chunk row and one band's share of each level) count in the bound.
    const held = mpi.allgather(new Float64Array([s.heldBytes]));
    result.memory.boundKiB = result.memory.boundKiB.map((kiB, r) => kiB + Math.ceil(held[r] / 1024));
  }
  if (req.verify) result.verify = verifyAtEnd(mpi, req, hooks);
  if (req.preview !== undefined) {
    result.preview = writePreview(mpi, { output: req.output, dataset: req.dataset, png: req.preview, memPerRank: req.memPerRank, hints: req.hints });
  }
  return result;
}

/**
 * Where the canvas goes and how it is chunked, and the pyramid around it: bdv puts level 0 at
 * /t00000/s00/0/cells, chunked (BigDataViewer reads cells) by --chunk or 256x256; a pyramid's
 * slabs start at multiples of slabRowUnit so each rank makes whole rows and chunks of every level.
 */
function outputLayout(req: StitchRequest, shape: [number, number]): { dataset: string; chunk?: [number, number]; pyramid?: PyramidSpec } {
  const bdv = req.format === 'bdv';
  if (!req.pyramid && !bdv) return { dataset: req.dataset, chunk: req.chunk };
  // Without --chunk, the default layout's levels are chunked in whole rows: each chunk row one
  // contiguous run, written as fast as the contiguous canvas (chunks narrower than the level
  // measured 4-8x slower to write here); bdv keeps square cells for BigDataViewer.
  const defaultCols = bdv ? DEFAULT_LEVEL_CHUNK[1] : shape[1];
  const base: [number, number] = [Math.min(req.chunk?.[0] ?? DEFAULT_LEVEL_CHUNK[0], shape[0]), Math.min(req.chunk?.[1] ?? defaultCols, shape[1])];
  const levels = pyramidLevels(shape, { pyramid: req.pyramid, levels: req.levels });
  const chunk = req.chunk ?? (bdv ? base : undefined);
  return {
    dataset: canvasPathOf(req.format, req.dataset),
    chunk,
    pyramid: { format: req.format, levels, chunkBase: base, slabUnit: slabRowUnit(levels, base[0]), voxelSize: req.voxelSize, voxelUnit: req.voxelUnit },
  };
}

/** verify in the same job, through a fresh open, this node's cached pages of the output dropped. */
function verifyAtEnd(mpi: Mpi, req: StitchRequest, hooks: TestHooks): StitchReport['verify'] {
  const started = mpi.wtime();
  if (hooks.corruptOutput === req.strategy) mpi.runOnRoot(() => corruptOneTile(req.output, req.dataset));
  native().dropCachedPages(path.resolve(req.output));
  mpi.barrier();
  const v = verifyOutput(mpi, { output: req.output, dataset: canvasPathOf(req.format, req.dataset), input: req.input, tilesPath: req.tilesPath, memPerRank: req.memPerRank,
    map: req.verifyMap });
  return { ok: v.ok, complete: v.complete, tiles: v.tiles.length, failed: v.failed, seconds: mpi.wtime() - started, ...(v.levels ? { levels: v.levels } : {}),
    ...(req.verifyMap !== undefined ? { map: req.verifyMap } : {}) };
}

interface RunFacts { io: Transfer; pipeline: boolean; plan: StitchPlan; meter: Meter; started: number; fileSystem: FileSystemInfo; channels: number; startKiB: number; tileBytes: number }

/** Each channel stitched with the same plan into its plane of the [C, H, W] output (slab). Collective. */
function runChannels(ctx: StrategyContext, source: ChannelSource): void {
  const { sink } = ctx;
  for (let c = 0; c < channelCount(source); c++) {
    const plane: OutputSink = { ...sink, writeRows: (y0, rows, data, transfer, _plane, columns) => sink.writeRows(y0, rows, data, transfer, c, columns) };
    runSlab({ ...ctx, source: c === 0 ? source : source.forChannel(c), sink: plane });
  }
}

/**
 * The band memory of the bound: --mem-per-rank, or the bands a slab actually holds when they grew
 * to one chunk row, plus the integer output's converted band and, for compressed output, the
 * copy of each chunk HDF5's filtered collective write makes and its compressed form (about one
 * band more each: measured, 476 MiB gzip:4 at one rank peaked 100 MiB over a bound without them).
 */
function bandMemory(req: StitchRequest, plan: StitchPlan, pipeline: boolean): number {
  if (req.strategy !== 'slab') return req.memPerRank;
  const held = pipeline ? 2 : 1;
  const width = plan.canvas.width, accBytes = bytesOf(accDtypeOf(req.dtype));
  let rows: number;
  try {
    rows = Math.min(plan.canvas.height, bandRowsOf({
      chunkRows: req.chunk?.[0], compressed: req.gzip !== undefined, bytesPerRow: width * accBytes, memPerRank: req.memPerRank / held, bandsHeld: held,
    }));
  } catch {
    return req.memPerRank;
  }
  const outBand = rows * width * bytesOf(req.dtype);
  const converted = accDtypeOf(req.dtype) !== req.dtype ? outBand : 0;
  const filtered = req.gzip !== undefined ? 2 * outBand : 0;
  return Math.max(req.memPerRank, held * rows * width * accBytes) + converted + filtered;
}

/**
 * The bound's allowance for the per-tile state every rank holds (the plan's tables, the tile
 * parts' kernel arguments and what each part is read from) and the JS heap V8 keeps after building
 * it: measured 0.7 KiB per tile at 2 and 4 ranks and up to 2.2 KiB at one pipelined rank, from
 * 10,000 to 100,172 tiles of 16².
 */
const PLAN_BYTES_PER_TILE = 3072;

function report(mpi: Mpi, req: StitchRequest, run: RunFacts): StitchReport {
  const { plan, meter } = run;
  const wall = mpi.allreduce(new Float64Array([mpi.wtime() - run.started]), 'max')[0];
  const t = meter.times;
  const phases = mpi.allreduce(new Float64Array([t.plan, t.read, t.compute, t.convert, t.write, t.sync]), 'max');
  const totals = mpi.allreduce(new Float64Array([meter.bytes.read, meter.bytes.written]), 'sum');
  const tilesHeld = mpi.allreduce(new Float64Array([meter.bytes.tilesHeld]), 'max')[0];
  const perRank = (v: number) => Array.from(mpi.allgather(new Float64Array([v])));
  const heldBytes = Math.max(meter.bytes.tilesHeld, 2 * run.tileBytes);
  const boundKiB = run.startKiB + Math.ceil((bandMemory(req, plan, run.pipeline) + Number(req.hints.cb_buffer_size ?? 0) + heldBytes +
    plan.planned.length * PLAN_BYTES_PER_TILE) / 1024);
  const memory = { startKiB: perRank(run.startKiB), peakKiB: perRank(rssKiB('VmHWM')), boundKiB: perRank(boundKiB) };
  const outBytes = run.channels * plan.canvas.height * plan.canvas.width * bytesOf(req.dtype);
  return {
    command: 'stitch', output: `${path.resolve(req.output)}:${canvasPathOf(req.format, req.dataset)}`, strategy: req.strategy, io: req.strategy === 'serial' ? undefined : run.io,
    pipeline: run.pipeline, blend: req.blend, dtype: req.dtype, ranks: mpi.size, tiles: plan.planned.length,
    canvas: [plan.canvas.height, plan.canvas.width], ...(run.channels > 1 ? { channels: run.channels } : {}), wallSeconds: wall,
    phases: { plan: phases[0], read: phases[1], compute: phases[2], convert: phases[3], write: phases[4], sync: phases[5] },
    bytes: { output: outBytes, read: totals[0], written: totals[1], tilesHeld }, outputMBps: outBytes / 1e6 / wall,
    fileSystem: { type: run.fileSystem.type, class: run.fileSystem.class }, memory,
  };
}
