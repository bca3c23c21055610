/**
 * One stitch run: options parsed into a StitchRequest, then runStitch (collective)
 * writes the output under a temporary name and renames it into place when complete.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { optBytes, optChoice, optFlag, optInt, optPair, optString, type ParsedArgs } from './args';
import type { BlendMode } from './blend';
import { UsageError } from './errors';
import { newArray, openFile } from './hdf5';
import { defaultHints } from './info';
import type { Mpi } from './mpi';
import type { Dtype, Transfer } from './native';
import { planStitch } from './plan';
import { STRATEGIES, runStrategy, type StrategyContext, type StrategyName } from './strategies';
import { openTileSource } from './tiles';

export const VERSION: string = require('../package.json').version;
/**
 * Default band memory per rank. Bands this size reuse one cache-friendly accumulator; a
 * whole slab in one band re-faults fresh pages and was ~20% slower here (bench, 2 ranks).
 */
export const DEFAULT_MEM_PER_RANK = 16 * 1024 ** 2;
export const OUT_DTYPES: readonly Dtype[] = ['float32', 'float64', 'uint8', 'uint16', 'int16', 'int32', 'uint32'];
export const BLENDS: readonly BlendMode[] = ['linear', 'none', 'max'];

export interface Target { file: string; dataset: string }

export function splitTarget(value: string, fallbackDataset: string): Target {
  const m = /^(.*?):(\/.*)$/.exec(value);
  return m ? { file: m[1], dataset: m[2] } : { file: value, dataset: fallbackDataset };
}

export function hintsFrom(args: ParsedArgs): Record<string, string> {
  const hints = defaultHints(optFlag(args, 'keep-data-sieving'));
  for (const h of args.options.get('hint') ?? []) {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`Expected KEY=VALUE for --hint but received "${h}"`);
    hints[h.slice(0, eq)] = h.slice(eq + 1);
  }
  return hints;
}

function overlapFrom(args: ParsedArgs): [number, number] | undefined {
  const both = optInt(args, 'overlap', 0);
  const y = optInt(args, 'overlap-y', 0) ?? both;
  const x = optInt(args, 'overlap-x', 0) ?? both;
  if (y === undefined && x === undefined) return undefined;
  if (y === undefined || x === undefined) throw new UsageError('give --overlap, or both --overlap-y and --overlap-x');
  return [y, x];
}

function readLayoutJson(file: string): number[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read layout ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((row) => Array.isArray(row) && row.every((v) => Number.isInteger(v)))) {
    throw new UsageError(`layout ${file} must be a 2-D JSON array of integer tile indices (-1 = empty)`);
  }
  return parsed as number[][];
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

/** Everything a stitch run needs, parsed and validated (identically on every rank). */
export interface StitchRequest {
  input: string;
  target: Target;
  strategy: StrategyName;
  io: Transfer;
  blend: BlendMode;
  outDtype: Dtype;
  chunk?: [number, number];
  gzip?: number;
  memPerRank: number;
  hints: Record<string, string>;
  layoutJson?: string;
  overlap?: [number, number];
  tilesPath?: string;
  layoutPath?: string;
  positionsPath?: string;
  force: boolean;
  atomic: boolean;
  skewMs?: number;
  /** slab: blend on a second thread, overlapping I/O ('auto': when every rank has a spare CPU). */
  pipeline: 'auto' | 'on' | 'off';
  /** slab: 'early' starts the OS writing each band as soon as it is written; 'end' leaves it to the final sync. */
  writeback: 'early' | 'end';
  /** Show progress on rank 0 (TTY). */
  progress: boolean;
}

export interface StitchReport {
  command: 'stitch';
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
  phases: { read: number; compute: number; write: number; sync: number };
  /**
   * Output size, bytes read and written (tile data and accumulator, summed over ranks), and the
   * most tile data one rank held in memory at once (max over ranks).
   */
  bytes: { output: number; read: number; written: number; tilesHeld: number };
  outputMBps: number;
}

export function stitchRequest(args: ParsedArgs): StitchRequest {
  const input = args.positional[0];
  if (!input) throw new UsageError('missing INPUT (an HDF5 file of tiles or a directory of .npy tiles)');
  if (args.positional.length > 1) throw new UsageError(`unexpected argument "${args.positional[1]}"`);
  const outArg = optString(args, 'out');
  if (!outArg) throw new UsageError('missing --out OUT.h5');
  const chunk = optPair(args, 'chunk', 1);
  const compress = optString(args, 'compress');
  let gzip: number | undefined;
  if (compress !== undefined) {
    const m = /^gzip(?::([0-9]))?$/.exec(compress);
    if (!m) throw new UsageError(`Expected gzip or gzip:LEVEL (0-9) for --compress but received "${compress}"`);
    if (!chunk) throw new UsageError('--compress needs --chunk HxW (compression works on chunks)');
    gzip = Number(m[1] ?? 4);
  }
  const strategy = optChoice<StrategyName>(args, 'strategy', STRATEGIES, 'slab');
  const io = optChoice<Transfer>(args, 'io', ['collective', 'independent'], 'collective');
  const pipeline = optChoice(args, 'pipeline', ['auto', 'on', 'off'] as const, 'auto');
  if (pipeline === 'on' && strategy !== 'slab') throw new UsageError(`--pipeline on applies to --strategy slab only, not ${strategy}`);
  const writeback = optChoice(args, 'writeback', ['early', 'end'] as const, 'early');
  const memPerRank = optBytes(args, 'mem-per-rank', DEFAULT_MEM_PER_RANK);
  const hints = hintsFrom(args);
  // Collective buffering's aggregation buffer, within the rank's budget: OMPIO's default is 32 MiB
  // whatever --mem-per-rank says (ROMIO's is 16 MiB).
  hints.cb_buffer_size ??= String(Math.min(16 * 1024 ** 2, memPerRank));
  // Concurrent independent strided writes + write data sieving = read-modify-write of spans
  // that hold other ranks' tiles: lost tiles wherever byte-range locks do not really work.
  const sieving = hints.romio_ds_write !== 'disable' || optFlag(args, 'keep-data-sieving') ||
    (process.env.OMPI_MCA_fbtl_posix_write_datasieving ?? '0') !== '0';
  // Parallel HDF5 writes filtered (compressed) chunks only collectively.
  if (gzip !== undefined && strategy === 'serial') {
    throw new UsageError('--compress needs collective writes, and --strategy serial writes from rank 0 alone: use slab or rounds');
  }
  if (gzip !== undefined && io === 'independent') throw new UsageError('--compress needs collective writes: drop --io independent');
  if (strategy === 'rounds' && io === 'independent' && sieving) {
    throw new UsageError('--strategy rounds --io independent with MPI-IO write data sieving on is unsafe (other ranks\' tiles ' +
      'can be overwritten with stale bytes); use --io collective, --strategy slab, or keep sieving off');
  }
  return {
    input,
    target: splitTarget(outArg, '/stitched'),
    strategy,
    io,
    blend: optChoice(args, 'blend', BLENDS, 'linear'),
    outDtype: optChoice(args, 'dtype', OUT_DTYPES, 'float32'),
    chunk,
    gzip,
    memPerRank,
    hints,
    layoutJson: optString(args, 'layout'),
    overlap: overlapFrom(args),
    tilesPath: optString(args, 'tiles-path'),
    layoutPath: optString(args, 'layout-path'),
    positionsPath: optString(args, 'positions'),
    force: optFlag(args, 'force'),
    atomic: optFlag(args, 'atomic'),
    skewMs: optInt(args, 'skew-ms', 0),
    pipeline,
    writeback,
    progress: !optFlag(args, 'json'),
  };
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

export function runStitch(mpi: Mpi, req: StitchRequest): StitchReport {
  const { input, target, strategy, blend, outDtype, chunk, gzip, memPerRank, hints, layoutJson, overlap, skewMs } = req;
  // One slab rank has nobody to coordinate with: a collective write would only pass every byte
  // through MPI-IO's aggregation buffer (OMPIO copies it). Filtered chunks are written collectively.
  const io: Transfer = strategy === 'serial' || (strategy === 'slab' && mpi.size === 1 && gzip === undefined) ? 'independent' : req.io;
  const started = mpi.wtime();
  let pipeline = choosePipeline(mpi, req);

  // Rank-dependent checks (file system) on rank 0, agreed on by all before any collective I/O.
  let failure: unknown;
  try {
    if (mpi.rank === 0) checkOutputPath(input, target.file, req.force);
  } catch (error) {
    failure = error;
  }
  mpi.agree(failure);
  let source;
  let plan;
  try {
    source = openTileSource(input, { tilesPath: req.tilesPath, layoutPath: req.layoutPath, positionsPath: req.positionsPath });
    plan = planStitch(source, { blend, overlap, layout: layoutJson ? readLayoutJson(layoutJson) : undefined });
    if (chunk && (chunk[0] > plan.canvas.height || chunk[1] > plan.canvas.width)) {
      throw new UsageError(`--chunk ${chunk.join('x')} is larger than the canvas ${plan.canvas.height}x${plan.canvas.width}`);
    }
    const rowBytes = plan.canvas.width * (outDtype === 'float64' ? 8 : 4);
    if (memPerRank < rowBytes) throw new UsageError(`--mem-per-rank ${memPerRank} bytes is too small for one canvas row (${rowBytes} bytes)`);
    // The pipeline holds two bands of half the budget each.
    if (pipeline && memPerRank < 2 * rowBytes) {
      if (req.pipeline === 'on') throw new UsageError(`--pipeline on needs --mem-per-rank of two canvas rows (${2 * rowBytes} bytes), got ${memPerRank}`);
      pipeline = false;
    }
  } catch (error) {
    failure = error;
  }
  mpi.agree(failure);
  if (!source || !plan) throw new Error('unreachable: agreed without a plan');

  const finalPath = path.resolve(target.file);
  const tmpPath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.h5stitch-partial`);
  const scratchPath = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.h5stitch-scratch`);
  cleanupOnAbort = [tmpPath, scratchPath];
  const times = { read: 0, compute: 0, write: 0, sync: 0 };
  const bytes = { read: 0, written: 0, tilesHeld: 0 };
  const file = openFile(tmpPath, { mode: 'create', parallel: true, overwrite: true, hints });
  const out = file.createDataset(target.dataset, {
    shape: [plan.canvas.height, plan.canvas.width],
    dtype: outDtype,
    chunk: chunk ? [Math.min(chunk[0], plan.canvas.height), Math.min(chunk[1], plan.canvas.width)] : undefined,
    gzip,
    fillValue: 0,
    // slab writes every pixel: skip the fill. serial/rounds start from HDF5's fill at allocation.
    fillTime: strategy === 'slab' ? 'never' : 'alloc',
  });
  out.setAttr('complete', 0);
  if (req.atomic) file.setAtomicity(true);
  const tty = mpi.rank === 0 && process.stderr.isTTY && req.progress;
  const ctx: StrategyContext = {
    mpi, source, plan, file, out, outDtype, io, memPerRank, chunkRows: chunk?.[0], pipeline, earlyWriteback: req.writeback === 'early', hints, scratchPath, times, bytes, skewMs,
    progress: tty ? (done, total) => {
      const mb = bytes.written / 1e6 / Math.max(1e-9, mpi.wtime() - started);
      process.stderr.write(`\rh5stitch: ${done}/${total} tiles, ${mb.toFixed(1)} MB/s (rank 0)`);
    } : undefined,
  };
  runStrategy(strategy, ctx);
  if (tty) process.stderr.write('\n');

  // Provenance, then complete=1 only after every byte is flushed.
  const order = [...plan.planned].sort((a, b) => a.index - b.index);
  out.setAttr('tile_index', order.map((t) => t.index));
  out.setAttr('tile_y', order.map((t) => t.y));
  out.setAttr('tile_x', order.map((t) => t.x));
  out.setAttr('tile_grid_row', order.map((t) => t.gridRow));
  out.setAttr('tile_grid_col', order.map((t) => t.gridCol));
  out.setAttr('tile_shape', [source.height, source.width]);
  if (plan.overlap) out.setAttr('overlap', plan.overlap);
  out.setAttr('blend', blend);
  out.setAttr('strategy', strategy);
  out.setAttr('io', io);
  out.setAttr('ranks', mpi.size);
  out.setAttr('h5stitch_version', VERSION);
  out.setAttr('input', path.resolve(input));
  const syncStart = mpi.wtime();
  file.flush();
  out.setAttr('complete', 1);
  out.close();
  file.close();
  source.close();
  mpi.barrier();
  if (mpi.rank === 0) {
    fs.renameSync(tmpPath, finalPath);
    fs.rmSync(scratchPath, { force: true });
  }
  mpi.barrier();
  times.sync += mpi.wtime() - syncStart;
  cleanupOnAbort = [];

  const wall = mpi.allreduce(new Float64Array([mpi.wtime() - started]), 'max')[0];
  const phases = mpi.allreduce(new Float64Array([times.read, times.compute, times.write, times.sync]), 'max');
  const totals = mpi.allreduce(new Float64Array([bytes.read, bytes.written]), 'sum');
  const tilesHeld = mpi.allreduce(new Float64Array([bytes.tilesHeld]), 'max')[0];
  const outBytes = plan.canvas.height * plan.canvas.width * newArray(outDtype, 0).BYTES_PER_ELEMENT;
  return {
    command: 'stitch', output: `${finalPath}:${target.dataset}`, strategy, io: strategy === 'serial' ? undefined : io, pipeline, blend, dtype: outDtype,
    ranks: mpi.size, tiles: plan.planned.length, canvas: [plan.canvas.height, plan.canvas.width], wallSeconds: wall,
    phases: { read: phases[0], compute: phases[1], write: phases[2], sync: phases[3] },
    bytes: { output: outBytes, read: totals[0], written: totals[1], tilesHeld }, outputMBps: outBytes / 1e6 / wall,
  };
}

/** Files of a run in progress, removed if this rank has to abort. */
export let cleanupOnAbort: string[] = [];

/** "no space left on device in DIR: " when the output's file system is full (a failed write says only "write failed"). */
export function diskFullNote(): string {
  if (cleanupOnAbort.length === 0) return '';
  const dir = path.dirname(cleanupOnAbort[0]);
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail === 0 ? `no space left on device in ${dir}: ` : '';
  } catch {
    return '';
  }
}
