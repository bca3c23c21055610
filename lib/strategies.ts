/**
 * The three ways to write the stitched canvas. All add a pixel's contributions
 * in canonical (round) order with the same kernel, so their outputs are
 * bit-identical for any number of ranks.
 */
import { accumulateRegion, startAccumulateRegions, type AccumulateArgs, type BackgroundAccumulate } from './blend';
import { intersect, type PlannedTile } from './geometry';
import { newArray, openFile, reusedArray, type Dataset, type H5File } from './hdf5';
import type { Mpi } from './mpi';
import type { Dtype, NumericArray, Transfer } from './native';
import type { StitchPlan } from './plan';
import { arraySplit, roundsOf } from './rounds';
import { planSlabs, tilesInBand, type Band } from './slab';
import type { TileSource } from './tiles';

export type StrategyName = 'serial' | 'rounds' | 'slab';
export const STRATEGIES: readonly StrategyName[] = ['serial', 'rounds', 'slab'];

export interface PhaseTimes { read: number; compute: number; write: number; sync: number }
export interface IoBytes {
  read: number;
  written: number;
  /** Most bytes of tile data this rank held in memory at once (the tiles in flight). */
  tilesHeld: number;
}

export interface StrategyContext {
  mpi: Mpi;
  source: TileSource;
  plan: StitchPlan;
  file: H5File;
  out: Dataset;
  outDtype: Dtype;
  io: Transfer;
  memPerRank: number;
  chunkRows?: number;
  /**
   * slab: blend band k on a second thread while band k-1 is written and the tiles of band k+1
   * are read (two bands of memPerRank / 2 each). The same on every rank (bands are collective).
   */
  pipeline?: boolean;
  /** slab: start the OS writing each band to disk right after it is written (overlaps the final sync). */
  earlyWriteback?: boolean;
  /** Parallel HDF5 hints for any scratch file. */
  hints: Record<string, string>;
  /** Where serial/rounds keep a float accumulator when the output is an integer dtype. */
  scratchPath: string;
  times: PhaseTimes;
  bytes: IoBytes;
  /** Called on rank 0 as tiles complete (progress display). */
  progress?: (done: number, total: number) => void;
  /** Test-only: sleep a random 0..ms before each tile and phase (hostile timing). */
  skewMs?: number;
}

/** float64 output accumulates in float64; everything else in float32. */
export function accDtypeOf(outDtype: Dtype): 'float32' | 'float64' {
  return outDtype === 'float64' ? 'float64' : 'float32';
}

const INT_RANGES: Partial<Record<Dtype, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767],
  int32: [-2147483648, 2147483647], uint32: [0, 4294967295],
};

/** Rounds and clips once, at the end, for integer outputs; floats are copied. */
export function convertInto(acc: Float32Array | Float64Array, out: NumericArray, dtype: Dtype): void {
  const range = INT_RANGES[dtype];
  const o = out as Float64Array;
  if (!range) {
    o.set(acc);
    return;
  }
  const [lo, hi] = range;
  for (let i = 0; i < acc.length; i++) {
    const v = Math.round(acc[i]);
    o[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

function timed<T>(ctx: Pick<StrategyContext, 'times'>, phase: keyof PhaseTimes, fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    ctx.times[phase] += (performance.now() - start) / 1000;
  }
}

function skew(ctx: Pick<StrategyContext, 'skewMs'>): void {
  if (!ctx.skewMs) return;
  const until = Date.now() + Math.random() * ctx.skewMs;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, until - Date.now()));
}

/**
 * Test-only fault injection: H5STITCH_TEST_FAIL_AT="RANK:N" makes that rank throw when it
 * starts its N-th tile read (from 0), to prove a failing rank ends the whole job.
 */
const injectedFault = /^(\d+):(\d+)$/.exec(process.env.H5STITCH_TEST_FAIL_AT ?? '');
let tilesStarted = 0;

/** Test-only fault injection point, at the start of every tile read. */
function beforeTileRead(ctx: Pick<StrategyContext, 'mpi'>, tile: PlannedTile): void {
  if (injectedFault && ctx.mpi.rank === Number(injectedFault[1]) && tilesStarted++ === Number(injectedFault[2])) {
    throw new Error(`injected fault (H5STITCH_TEST_FAIL_AT) at tile ${tile.index}`);
  }
}

/** The kernel's arguments for `tile`'s pixels of `region` (`data`) added into `acc`, whose [0] is canvas (accY0, accX0). */
function tileJob(ctx: Pick<StrategyContext, 'plan'>, tile: PlannedTile, region: { y: number; x: number; height: number; width: number },
  data: NumericArray, acc: Float32Array | Float64Array, accY0: number, accX0: number, accWidth: number): AccumulateArgs {
  return {
    acc, accWidth, accY0, accX0, tile, covering: ctx.plan.covering[tile.order],
    data: data as AccumulateArgs['data'],
    region: { y0: region.y, y1: region.y + region.height, x0: region.x, x1: region.x + region.width },
    blend: ctx.plan.blend,
  };
}

/** Reads the part of `tile` inside `region` and adds it into `acc` (whose [0] is canvas (accY0, accX0)). */
function addTile(ctx: BlendContext, tile: PlannedTile, region: { y: number; x: number; height: number; width: number },
  acc: Float32Array | Float64Array, accY0: number, accX0: number, accWidth: number): void {
  beforeTileRead(ctx, tile);
  const ty0 = region.y - tile.y, tx0 = region.x - tile.x;
  const data = timed(ctx, 'read', () => ctx.source.readRegion(tile.index, ty0, ty0 + region.height, tx0, tx0 + region.width));
  ctx.bytes.read += data.byteLength;
  ctx.bytes.tilesHeld = Math.max(ctx.bytes.tilesHeld, data.byteLength);
  timed(ctx, 'compute', () => accumulateRegion(tileJob(ctx, tile, region, data, acc, accY0, accX0, accWidth)));
}

export type BlendContext = Pick<StrategyContext, 'mpi' | 'source' | 'plan' | 'memPerRank' | 'chunkRows' | 'pipeline' | 'times' | 'bytes' | 'skewMs' | 'progress'>;

/**
 * Blends this rank's slab of canvas rows band by band in memory and hands each
 * band to `sink`. Every rank calls `sink` the same number of times (bandCount),
 * with `band` undefined once it is out of rows, so sinks may make collective calls.
 */
export function blendBands(ctx: BlendContext, accDtype: 'float32' | 'float64',
  sink: (band: Band | undefined, acc: Float32Array | Float64Array) => void): void {
  if (ctx.pipeline) {
    blendBandsPipelined(ctx, accDtype, sink);
    return;
  }
  const { mpi, plan } = ctx;
  const width = plan.canvas.width;
  const { mine, bandCount } = slabOf(ctx, accDtype, ctx.memPerRank);
  const maxRows = mine.bands.reduce((m, b) => Math.max(m, b.y1 - b.y0), 0);
  const acc = reusedArray('band', accDtype, maxRows * width) as Float32Array | Float64Array;
  let done = 0;
  for (let b = 0; b < bandCount; b++) {
    const band: Band | undefined = mine.bands[b];
    if (!band) {
      sink(undefined, acc.subarray(0, 0));
      continue;
    }
    skew(ctx);
    const rows = band.y1 - band.y0;
    const view = acc.subarray(0, rows * width);
    view.fill(0);
    for (const tile of tilesInBand(plan.planned, band)) {
      const region = intersect(tile, { y: band.y0, x: 0, height: rows, width })!;
      addTile(ctx, tile, region, view, band.y0, 0, width);
      done++;
    }
    sink(band, view);
    if (mpi.rank === 0) ctx.progress?.(Math.min(done, plan.planned.length), plan.planned.length);
  }
}

function slabOf(ctx: BlendContext, accDtype: 'float32' | 'float64', bandMemory: number) {
  const bytesPerRow = ctx.plan.canvas.width * (accDtype === 'float64' ? 8 : 4);
  const { slabs, bandCount } = planSlabs(ctx.plan.canvas, ctx.mpi.size, { chunkRows: ctx.chunkRows, bytesPerRow, memPerRank: bandMemory });
  return { mine: slabs[ctx.mpi.rank], bandCount };
}

/** A band whose tile parts are read and whose blend is set up (in buffer slot 0 or 1). */
interface BandWork { band: Band; acc: Float32Array | Float64Array; jobs: AccumulateArgs[]; tiles: number }

/** The tiles of `band` and the part of each inside it. */
function bandParts(ctx: BlendContext, band: Band) {
  const width = ctx.plan.canvas.width;
  const tiles = tilesInBand(ctx.plan.planned, band);
  const regions = tiles.map((t) => intersect(t, { y: band.y0, x: 0, height: band.y1 - band.y0, width })!);
  return { band, tiles, regions, elements: regions.reduce((n, r) => n + r.height * r.width, 0) };
}

/** Reads every tile part of a band into `parts` (read ahead of the blend, which writes the slot's rows). */
function readBand(ctx: BlendContext, { band, tiles, regions }: ReturnType<typeof bandParts>, parts: NumericArray,
  slot: Float32Array | Float64Array): BandWork {
  const width = ctx.plan.canvas.width;
  const acc = slot.subarray(0, (band.y1 - band.y0) * width);
  const jobs: AccumulateArgs[] = [];
  let offset = 0;
  tiles.forEach((tile, i) => {
    const region = regions[i];
    beforeTileRead(ctx, tile);
    const data = parts.subarray(offset, (offset += region.height * region.width)) as NumericArray;
    const ty0 = region.y - tile.y, tx0 = region.x - tile.x;
    timed(ctx, 'read', () => ctx.source.readRegion(tile.index, ty0, ty0 + region.height, tx0, tx0 + region.width, data));
    ctx.bytes.read += data.byteLength;
    jobs.push(tileJob(ctx, tile, region, data, acc, band.y0, 0, width));
  });
  return { band, acc, jobs, tiles: tiles.length };
}

/**
 * blendBands with the blend on a second thread: while band k is blended there, the main
 * thread writes band k-1 (sink) and reads the tiles of band k+1, so on a rank with a spare
 * CPU the kernel costs no wall time. Two bands of memPerRank / 2 each; HDF5 and MPI stay on
 * the main thread. `compute` is the background thread's time (it overlaps read and write).
 */
function blendBandsPipelined(ctx: BlendContext, accDtype: 'float32' | 'float64',
  sink: (band: Band | undefined, acc: Float32Array | Float64Array) => void): void {
  const { mpi, plan } = ctx;
  const { mine, bandCount } = slabOf(ctx, accDtype, ctx.memPerRank / 2);
  const planned = mine.bands.map((b) => bandParts(ctx, b));
  // Two slots, each sized for this rank's largest band, allocated before the first read.
  const rows = mine.bands.reduce((m, b) => Math.max(m, b.y1 - b.y0), 0);
  const elements = planned.reduce((m, p) => Math.max(m, p.elements), 0);
  const slots = [0, 1].map((slot) => ({
    acc: reusedArray(`band-${slot}`, accDtype, rows * plan.canvas.width) as Float32Array | Float64Array,
    parts: reusedArray(`band-tiles-${slot}`, ctx.source.dtype, elements),
  }));
  ctx.bytes.tilesHeld = Math.max(ctx.bytes.tilesHeld, slots[0].parts.byteLength + slots[1].parts.byteLength);
  const none = slots[0].acc.subarray(0, 0);
  const read = (b: number) => {
    if (!planned[b]) return undefined;
    skew(ctx);
    return readBand(ctx, planned[b], slots[b % 2].parts, slots[b % 2].acc);
  };
  let next = read(0);
  let written: BandWork | undefined;
  let done = 0;
  for (let b = 0; b < bandCount; b++) {
    const current = next;
    const blending: BackgroundAccumulate | undefined = current && startAccumulateRegions(current.acc, current.jobs);
    try {
      if (b > 0) sink(written?.band, written?.acc ?? none);
      next = read(b + 1);
    } finally {
      // Also on error: the thread must be done with the buffers before anything else runs.
      if (blending) ctx.times.compute += blending.wait();
    }
    written = current;
    done += current?.tiles ?? 0;
    if (mpi.rank === 0) ctx.progress?.(Math.min(done, plan.planned.length), plan.planned.length);
  }
  if (bandCount > 0) sink(written?.band, written?.acc ?? none);
}

/**
 * Owner computes: each rank blends its slab of rows in memory and writes it, one call per band:
 * collective (every rank calls, empty when out of rows) or independent (no rank waits for another;
 * safe because a band is whole rows, one contiguous run of bytes no other rank touches).
 */
export function runSlab(ctx: StrategyContext): void {
  const width = ctx.plan.canvas.width;
  const accDtype = accDtypeOf(ctx.outDtype);
  const offset = ctx.earlyWriteback ? ctx.out.fileOffset : null;
  blendBands(ctx, accDtype, (band, acc) => {
    let data: NumericArray = acc;
    if (accDtype !== ctx.outDtype) {
      data = reusedArray('band-out', ctx.outDtype, acc.length);
      convertInto(acc, data, ctx.outDtype);
    }
    // A rank out of rows still takes part in a collective write, with nothing selected.
    if (!band && ctx.io === 'independent') return;
    const rows = band ? band.y1 - band.y0 : 0;
    timed(ctx, 'write', () => {
      ctx.out.write([band?.y0 ?? 0, 0], [rows, width], data, { transfer: ctx.io });
      // This band's bytes (whole rows: one contiguous run), or the whole file when chunked.
      if (band && ctx.earlyWriteback) {
        if (offset === null) ctx.file.startWriteback();
        else ctx.file.startWriteback(offset + band.y0 * width * data.BYTES_PER_ELEMENT, data.byteLength);
      }
    });
    ctx.bytes.written += data.byteLength;
  });
}

/**
 * Read-add-write per tile into a dataset that starts at zero through HDF5's fill
 * at allocation. `rounds`: tiles of one round never overlap and are split over the
 * ranks; sync-barrier-sync between rounds. `serial`: rank 0 does every tile.
 */
export function runReadAddWrite(ctx: StrategyContext, serial: boolean): void {
  const { mpi, plan } = ctx;
  const accDtype = accDtypeOf(ctx.outDtype);
  let scratchFile: H5File | undefined;
  let accDataset = ctx.out;
  if (accDtype !== ctx.outDtype) {
    scratchFile = openFile(ctx.scratchPath, { mode: 'create', parallel: true, overwrite: true, hints: ctx.hints });
    accDataset = scratchFile.createDataset('/acc', { shape: [plan.canvas.height, plan.canvas.width], dtype: accDtype, fillValue: 0, fillTime: 'alloc' });
  }
  const syncFile = scratchFile ?? ctx.file;
  const tileBuffer = reusedArray('tile', accDtype, plan.planned[0].height * plan.planned[0].width) as Float32Array | Float64Array;
  const empty = newArray(accDtype, 0);
  const rounds = serial ? [plan.planned] : roundsOf(plan.planned);
  const transfer: Transfer = serial ? 'independent' : ctx.io;
  let done = 0;
  for (const round of rounds) {
    const mine = serial ? (mpi.rank === 0 ? round : []) : arraySplit(round, mpi.size)[mpi.rank];
    // Collective calls need every rank the same number of times: the largest share.
    const calls = serial ? mine.length : Math.ceil(round.length / mpi.size);
    for (let k = 0; k < calls; k++) {
      const tile = mine[k];
      if (!tile) {
        if (transfer === 'collective') {
          timed(ctx, 'read', () => accDataset.read([0, 0], [0, 0], empty, { transfer }));
          timed(ctx, 'write', () => accDataset.write([0, 0], [0, 0], empty, { transfer }));
        }
        continue;
      }
      skew(ctx);
      const n = tile.height * tile.width;
      const acc = tileBuffer.subarray(0, n);
      timed(ctx, 'read', () => accDataset.read([tile.y, tile.x], [tile.height, tile.width], acc, { transfer }));
      ctx.bytes.read += acc.byteLength;
      addTile(ctx, tile, tile, acc, tile.y, tile.x, tile.width);
      timed(ctx, 'write', () => accDataset.write([tile.y, tile.x], [tile.height, tile.width], acc, { transfer }));
      ctx.bytes.written += acc.byteLength;
    }
    done += round.length;
    // sync-barrier-sync: every rank's writes of this round are on disk and visible
    // before any rank reads pixels of the next round.
    timed(ctx, 'sync', () => {
      syncFile.flush();
      mpi.barrier();
      syncFile.flush();
    });
    if (mpi.rank === 0) ctx.progress?.(done, plan.planned.length);
  }
  if (scratchFile) {
    convertScratch(ctx, accDataset, accDtype);
    accDataset.close();
    scratchFile.close();
  }
}

/** Integer outputs of serial/rounds: round and clip the float accumulator once, slab by slab. */
function convertScratch(ctx: StrategyContext, accDataset: Dataset, accDtype: 'float32' | 'float64'): void {
  const { mpi, plan, out } = ctx;
  const width = plan.canvas.width;
  const { slabs, bandCount } = planSlabs(plan.canvas, mpi.size, { chunkRows: ctx.chunkRows, bytesPerRow: width * 4, memPerRank: ctx.memPerRank });
  const mine = slabs[mpi.rank];
  const maxRows = mine.bands.reduce((m, b) => Math.max(m, b.y1 - b.y0), 0);
  const accBuffer = reusedArray('band', accDtype, maxRows * width) as Float32Array | Float64Array;
  const dataBuffer = reusedArray('band-out', ctx.outDtype, maxRows * width);
  for (let b = 0; b < bandCount; b++) {
    const band = mine.bands[b];
    const rows = band ? band.y1 - band.y0 : 0;
    const acc = accBuffer.subarray(0, rows * width);
    const data = dataBuffer.subarray(0, rows * width) as NumericArray;
    timed(ctx, 'read', () => accDataset.read([band?.y0 ?? 0, 0], [rows, width], acc, { transfer: 'collective' }));
    convertInto(acc, data, ctx.outDtype);
    timed(ctx, 'write', () => out.write([band?.y0 ?? 0, 0], [rows, width], data, { transfer: 'collective' }));
    ctx.bytes.read += acc.byteLength;
    ctx.bytes.written += data.byteLength;
  }
}

export function runStrategy(name: StrategyName, ctx: StrategyContext): void {
  if (name === 'slab') runSlab(ctx);
  else runReadAddWrite(ctx, name === 'serial');
}
