/**
 * The band engine: blends a rank's slab of canvas rows band by band in memory, from the parts of
 * the tiles that fall in each band, with the one native kernel. slab writes the bands; verify
 * compares them. Every strategy adds a pixel's contributions in canonical (round) order with the
 * same kernel, so outputs are bit-identical for any number of ranks.
 */
import { planSlabs, tilesInBand, type Band } from '../core/bands';
import { bytesOf, type AccArray, type AccDtype, type Dtype, type NumericArray } from '../core/dtype';
import { intersect, type PlannedTile, type Rect } from '../core/geometry';
import { coveringRects, type StitchPlan } from '../core/plan';
import type { Region } from '../core/weights';
import type { TileSource } from '../io/sources';
import { reusedArray } from '../runtime/buffers';
import { InputError } from '../errors';
import { accumulateRegion, convertInto, startAccumulateRegions, zeroUncovered, type AccumulateArgs, type BackgroundAccumulate, type BackgroundJob, type FileRuns } from '../runtime/kernel';
import type { Mpi } from '../runtime/mpi';
import type { TestHooks } from '../testing/hooks';
import type { Meter } from './meter';

/** What the band engine (and the strategies) work with. */
export interface BandContext {
  mpi: Mpi;
  source: TileSource;
  plan: StitchPlan;
  meter: Meter;
  hooks: TestHooks;
  memPerRank: number;
  /** HDF5 chunk height of the output: slabs and bands are whole chunk rows (see core/bands bandRowsOf). */
  chunkRows?: number;
  /** HDF5 chunk width of the output: compressed output splits whole chunks over the ranks (core/bands SlabOptions.chunkCols). */
  chunkCols?: number;
  /** The output's chunks are compressed: bands must be whole chunk rows. */
  compressed?: boolean;
  /** Rows every slab starts at a multiple of (a pyramid: core/pyramid slabRowUnit); default chunkRows. */
  slabUnit?: number;
  /**
   * Blend band k on a second thread while band k-1 is written and the tiles of band k+1 are read
   * (two bands of memPerRank / 2 each). The same on every rank (bands are collective).
   */
  pipeline?: boolean;
  /** Called on rank 0 as tiles complete (progress display). */
  progress?: (done: number, total: number) => void;
  /**
   * Agree on each band's input failures (InputError) before its sink runs (one small allgather per
   * band), so a tile that fails to read on some rank ends the job on every rank with one line
   * (exit 2) instead of an MPI_Abort. For sinks that make a collective call per band anyway; with
   * independent writes (which must not wait for each other per band) the strategy agrees once
   * after its bands instead (slab.ts).
   */
  agreeEachBand?: boolean;
}

/**
 * Receives each band, bandRect(band) of the canvas (rows by columns); `band` is undefined once this rank is
 * out of rows (collective calls still happen).
 */
export type BandSink = (band: Band | undefined, acc: AccArray) => void;

/** The canvas rectangle of `band`: whole rows, or its columns [x0, x1) of them. */
export function bandRect(band: Band, canvasWidth: number): Rect {
  const x0 = band.x0 ?? 0;
  return { y: band.y0, x: x0, height: band.y1 - band.y0, width: (band.x1 ?? canvasWidth) - x0 };
}

/** Calls `visit` with each of a band's tiles and the part of it inside the band, in canonical order. */
function forEachTilePart(plan: StitchPlan, band: Band, visit: (tile: PlannedTile, region: Rect) => void): void {
  const rect = bandRect(band, plan.canvas.width);
  for (const tile of tilesInBand(plan.planned, band)) {
    const region = intersect(tile, rect);
    if (region) visit(tile, region);
  }
}

/** A canvas rectangle as the kernel's [y0, y1) x [x0, x1) region. */
function regionOf(r: Rect): Region {
  return { y0: r.y, y1: r.y + r.height, x0: r.x, x1: r.x + r.width };
}

/** The kernel's arguments for `tile`'s pixels of `region` (`data`) added into `acc`, whose [0] is canvas (accY0, accX0). */
function tileJob(plan: StitchPlan, tile: PlannedTile, region: Rect, data: NumericArray,
  acc: AccArray, accY0: number, accX0: number, accWidth: number, fresh = false): AccumulateArgs {
  return {
    acc, accWidth, accY0, accX0, tile, covering: coveringRects(plan, tile.order),
    data: data as AccumulateArgs['data'],
    region: regionOf(region),
    blend: plan.blend,
    fresh,
  };
}

/** A tile read's hooks: false when the read is to be skipped (a simulated reader defect, leaving the buffer as it was). */
function startTileRead(ctx: BandContext, tile: PlannedTile): boolean {
  ctx.hooks.beforeTileRead(ctx.mpi.rank, tile.index);
  return !ctx.hooks.skipsRead?.(tile.index);
}

/** Reads `tile`'s pixels of `region` on this thread (into `into`, or a reused buffer). */
function readHere(ctx: BandContext, tile: PlannedTile, region: Rect, into?: NumericArray): NumericArray {
  const ty0 = region.y - tile.y, tx0 = region.x - tile.x;
  const data = ctx.meter.timed('read', () => ctx.source.readRegion(tile.index, ty0, ty0 + region.height, tx0, tx0 + region.width, into));
  ctx.meter.read(data.byteLength);
  return data;
}

/** Reads `tile`'s pixels of `region` (into a reused buffer). */
function readTilePart(ctx: BandContext, tile: PlannedTile, region: Rect): NumericArray {
  if (!startTileRead(ctx, tile)) return reusedArray('tile-read', ctx.source.dtype, region.height * region.width);
  return readHere(ctx, tile, region);
}

/**
 * Reads the part of `tile` inside `region` and adds it into `acc` (whose [0] is canvas (accY0,
 * accX0)); `fresh`: as the band's next tile in canonical order (AccumulateArgs.fresh).
 */
export function addTile(ctx: BandContext, tile: PlannedTile, region: Rect, acc: AccArray, accY0: number, accX0: number, accWidth: number, fresh = false): void {
  const data = readTilePart(ctx, tile, region);
  ctx.meter.held(data.byteLength);
  ctx.meter.timed('compute', () => accumulateRegion(tileJob(ctx.plan, tile, region, data, acc, accY0, accX0, accWidth, fresh)));
}

/**
 * Converts a blended band (`band`'s rectangle; undefined: no pixels) into the output dtype
 * (convertInto); a NaN bound for an integer output ends the job naming the pixel and the tiles
 * covering it.
 */
export function convertRows(ctx: Pick<BandContext, 'plan'>, acc: AccArray, out: NumericArray, dtype: Dtype, band: Band | undefined): void {
  const nan = convertInto(acc, out);
  if (nan < 0 || !band) return;
  const rect = bandRect(band, ctx.plan.canvas.width);
  const y = rect.y + Math.floor(nan / rect.width), x = rect.x + (nan % rect.width);
  const tiles = ctx.plan.planned.filter((t) => y >= t.y && y < t.y + t.height && x >= t.x && x < t.x + t.width).map((t) => t.index);
  throw new InputError(`output pixel (y=${y}, x=${x}) blends to NaN (tile${tiles.length === 1 ? '' : 's'} ${tiles.join(', ')}), which ${dtype} cannot hold: ` +
    'stitch to --dtype float32 or float64, or replace the NaN pixels');
}

/**
 * This rank's bands and the band count every rank iterates (the largest); `bandsHeld` bands share
 * memPerRank. `shareChunkRows`: compressed output may split chunk rows by columns (SlabOptions.chunkCols).
 */
export function slabOf(ctx: Pick<BandContext, 'mpi' | 'plan' | 'chunkRows' | 'chunkCols' | 'compressed' | 'memPerRank' | 'slabUnit'>, accDtype: AccDtype,
  { bandsHeld = 1, shareChunkRows = false } = {}) {
  const bytesPerRow = ctx.plan.canvas.width * bytesOf(accDtype);
  const { slabs, bandCount } = planSlabs(ctx.plan.canvas, ctx.mpi.size, {
    chunkRows: ctx.chunkRows, compressed: ctx.compressed, bytesPerRow, memPerRank: ctx.memPerRank / bandsHeld, bandsHeld, slabUnit: ctx.slabUnit,
    chunkCols: shareChunkRows ? ctx.chunkCols : undefined,
  });
  const mine = slabs[ctx.mpi.rank];
  return { bands: mine.bands, bandCount, maxRows: mine.bands.reduce((m, b) => Math.max(m, b.y1 - b.y0), 0) };
}

/**
 * Blends this rank's slab band by band and hands each band to `sink`. Every rank calls `sink`
 * the same number of times (bandCount), with `band` undefined once it is out of rows, so sinks
 * may make collective calls.
 */
export function blendBands(ctx: BandContext, accDtype: AccDtype, sink: BandSink): void {
  if (ctx.pipeline) {
    blendBandsPipelined(ctx, accDtype, sink);
    return;
  }
  const { mpi, plan } = ctx;
  const { bands, bandCount, maxRows } = slabOf(ctx, accDtype, { shareChunkRows: true });
  const acc = reusedArray('band', accDtype, maxRows * plan.canvas.width) as AccArray;
  let done = 0;
  for (let b = 0; b < bandCount; b++) {
    const band: Band | undefined = bands[b];
    if (!band) {
      if (ctx.agreeEachBand) mpi.agree();
      sink(undefined, acc.subarray(0, 0));
      continue;
    }
    const rect = bandRect(band, plan.canvas.width);
    const view = acc.subarray(0, rect.height * rect.width);
    agreeing(ctx, () => {
      ctx.hooks.skew();
      // Not zeroed first (a pass over the band, 0.3 s of a 3 s 49152² uint8 job at 4 ranks): each
      // pixel's first tile sets it (fresh) and the pixels no tile covers are zeroed.
      const { tiles, regions } = bandParts(ctx, band);
      ctx.meter.timed('compute', () => zeroUncovered(view, rect.width, rect.y, rect.x, regions.map(regionOf)));
      tiles.forEach((tile, i) => {
        addTile(ctx, tile, regions[i], view, rect.y, rect.x, rect.width, true);
        done++;
      });
    });
    sink(band, view);
    if (mpi.rank === 0) ctx.progress?.(Math.min(done, plan.planned.length), plan.planned.length);
  }
}

/**
 * Runs `work`; with agreeEachBand, every rank then learns whether an input failed to read on any
 * rank (and all throw it). Other errors (defects, injected faults) still end the job from the rank
 * that hit them.
 */
export function agreeing(ctx: Pick<BandContext, 'mpi' | 'agreeEachBand'>, work: () => void): void {
  if (!ctx.agreeEachBand) {
    work();
    return;
  }
  let failure: unknown;
  try {
    work();
  } catch (error) {
    failure = error;
  }
  agreeOnInput(ctx, failure);
}

/**
 * agreeing's second half, for work that failed (`failure`) or not (undefined): with
 * agreeEachBand every rank calls it at the same point and throws the lowest failing rank's
 * InputError; any other error is thrown from this rank alone.
 */
function agreeOnInput(ctx: Pick<BandContext, 'mpi' | 'agreeEachBand'>, failure: unknown): void {
  if (failure !== undefined && (!ctx.agreeEachBand || !(failure instanceof InputError))) throw failure;
  if (ctx.agreeEachBand) ctx.mpi.agree(failure);
}

/** A band's tile parts: which tiles, and the part of each inside the band. */
interface BandParts { band: Band; tiles: PlannedTile[]; regions: Rect[] }

/** A band whose tile parts are read (or are to be read by the blend thread) and whose blend is set up (in buffer slot 0 or 1). */
interface BandWork { band: Band; acc: AccArray; jobs: BackgroundJob[]; tiles: number }

function bandParts(ctx: BandContext, band: Band): BandParts {
  const tiles: PlannedTile[] = [], regions: Rect[] = [];
  forEachTilePart(ctx.plan, band, (tile, region) => {
    tiles.push(tile);
    regions.push(region);
  });
  return { band, tiles, regions };
}

/** The pixels of a band's tile parts (without listing them). */
function bandElements(ctx: BandContext, band: Band): number {
  let elements = 0;
  forEachTilePart(ctx.plan, band, (_, region) => { elements += region.height * region.width; });
  return elements;
}

/**
 * Sets up a band's blend with its tile parts in `parts`: each part the source can locate as raw
 * bytes in a file is read by the blend thread just before it is added (the job's `read`), the
 * others are read here, ahead of the blend (which writes the slot's rows).
 */
function readBand(ctx: BandContext, { band, tiles, regions }: BandParts, parts: NumericArray, slot: AccArray): BandWork {
  const rect = bandRect(band, ctx.plan.canvas.width);
  const acc = slot.subarray(0, rect.height * rect.width);
  const jobs: BackgroundJob[] = [];
  let offset = 0;
  tiles.forEach((tile, i) => {
    const region = regions[i];
    const data = parts.subarray(offset, (offset += region.height * region.width)) as NumericArray;
    const job: BackgroundJob = tileJob(ctx.plan, tile, region, data, acc, rect.y, rect.x, rect.width);
    if (startTileRead(ctx, tile)) {
      const raw = rawTilePart(ctx, tile, region);
      if (raw) {
        job.read = raw;
        ctx.meter.read(data.byteLength);
      } else {
        readHere(ctx, tile, region, data);
      }
    }
    jobs.push(job);
  });
  return { band, acc, jobs, tiles: tiles.length };
}

/** Where `tile`'s pixels of `region` lie in a file (source.rawRegion) for the blend thread to read; undefined: read them here. */
function rawTilePart(ctx: BandContext, tile: PlannedTile, region: Rect): FileRuns | undefined {
  if (!ctx.source.rawRegion) return undefined;
  const ty0 = region.y - tile.y, tx0 = region.x - tile.x;
  return ctx.meter.timed('read', () => ctx.source.rawRegion!(tile.index, ty0, ty0 + region.height, tx0, tx0 + region.width));
}

/**
 * blendBands with the blend on a second thread: while band k is blended there, the main thread
 * writes band k-1 (sink) and reads the tiles of band k+1, then blends what is left of band k
 * beside the thread (wait() takes its remaining strips), so on a rank with a spare CPU neither
 * thread idles while the other works. Tile parts the source can locate as raw bytes in a file
 * (source.rawRegion) are read by whichever thread blends them, just before, so the main thread
 * reads nothing itself. Two bands of memPerRank / 2 each; HDF5 and MPI stay on the main thread.
 * `compute` is the blend's seconds on both threads (it overlaps the writes); its reads count in `read`.
 */
function blendBandsPipelined(ctx: BandContext, accDtype: AccDtype, sink: BandSink): void {
  const { mpi, plan } = ctx;
  const { bands, bandCount, maxRows } = slabOf(ctx, accDtype, { bandsHeld: 2, shareChunkRows: true });
  // Two slots, each sized for this rank's largest band, allocated before the first read. A band's
  // parts are listed when it is read, not all up front: held for the whole run, the lists of
  // 1,170 bands (49152² uint8, 24-48 parts each) were 3 MB of old space, and building them at
  // once doubled V8's young generation twice (4 -> 16 MiB), all of it touched from then on: one
  // pipelined rank peaked 12 MiB higher.
  const elements = bands.reduce((m, b) => Math.max(m, bandElements(ctx, b)), 0);
  const slots = [0, 1].map((slot) => ({
    acc: reusedArray(`band-${slot}`, accDtype, maxRows * plan.canvas.width) as AccArray,
    parts: reusedArray(`band-tiles-${slot}`, ctx.source.dtype, elements),
  }));
  ctx.meter.held(slots[0].parts.byteLength + slots[1].parts.byteLength);
  const none = slots[0].acc.subarray(0, 0);
  const read = (b: number): BandWork | undefined => {
    if (!bands[b]) return undefined;
    ctx.hooks.skew();
    return readBand(ctx, bandParts(ctx, bands[b]), slots[b % 2].parts, slots[b % 2].acc);
  };
  let next: BandWork | undefined;
  if (bandCount > 0) agreeing(ctx, () => void (next = read(0)));
  let written: BandWork | undefined;
  let done = 0;
  for (let b = 0; b < bandCount; b++) {
    const current = next;
    next = undefined;
    const blending: BackgroundAccumulate | undefined = current && startAccumulateRegions(current.acc, current.jobs);
    let failure: unknown;
    try {
      if (b > 0) sink(written?.band, written?.acc ?? none);
      if (b + 1 < bandCount) next = read(b + 1);
    } catch (error) {
      failure = error;
    }
    // Also after an error: the thread must be done with the buffers before anything else runs.
    // A tile part it could not read surfaces here.
    if (blending) {
      try {
        const { seconds, readSeconds } = blending.wait();
        ctx.meter.times.read += readSeconds;
        ctx.meter.times.compute += seconds - readSeconds;
      } catch (error) {
        failure ??= error;
      }
    }
    // Every rank, every band (also one out of rows), before band b is written or band b+1 blended:
    // a failed read of either, here or on the thread, ends the job on all ranks together.
    agreeOnInput(ctx, failure);
    written = current;
    done += current?.tiles ?? 0;
    if (mpi.rank === 0) ctx.progress?.(Math.min(done, plan.planned.length), plan.planned.length);
  }
  if (bandCount > 0) sink(written?.band, written?.acc ?? none);
}
