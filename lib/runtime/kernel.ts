/**
 * The blend kernel (native, monomorphic per dtype) as every strategy calls it: one tile part added
 * into an accumulator, or a band's worth of parts on a background thread.
 */
import type { AccArray, NumericArray, PixelArray } from '../core/dtype';
import type { PlannedTile } from '../core/geometry';
import type { BlendMode, Region } from '../core/weights';
import { H5StitchError, InputError } from '../errors';
import { native, type BackgroundTimes, type NativeFileRuns } from './addon';

export type { BackgroundTimes } from './addon';

export interface AccumulateArgs {
  acc: AccArray;
  /** row stride of acc */
  accWidth: number;
  /** canvas coordinates of acc[0] */
  accY0: number;
  accX0: number;
  tile: PlannedTile;
  /**
   * tiles overlapping `tile` (itself included) in canonical order, from neighbourIndex; or the
   * same already packed as [order, y, x, height, width] per tile (core/plan coveringRects)
   */
  covering: readonly PlannedTile[] | Int32Array;
  /** the tile's pixels for `region`, row-major, row length region.x1 - region.x0 */
  data: PixelArray;
  /** canvas coordinates, inside the tile and inside acc */
  region: Region;
  blend: BlendMode;
  /**
   * acc may hold anything where `tile` is a pixel's first covering tile (the earlier tiles of the
   * band added already, in canonical order): the kernel sets those pixels as if acc were zero
   * there, without the pass that would zero it (zeroUncovered zeroes the pixels no tile covers).
   */
  fresh?: boolean;
}

/** [order, y, x, height, width] per tile, the form the native kernel takes. */
function packRects(tiles: readonly PlannedTile[]): Int32Array {
  const out = new Int32Array(tiles.length * 5);
  tiles.forEach((t, i) => out.set([t.order, t.y, t.x, t.height, t.width], i * 5));
  return out;
}
// Packed once per covering list: the kernel runs once per tile or band part.
const packedCovering = new WeakMap<readonly PlannedTile[], Int32Array>();

/**
 * The kernel's argument object, `read` included as a plain field (undefined when absent): a copy
 * made by spreading this object and adding `read` survived every scavenge (V8 promoted 5.9 MB of
 * them over 1,200 bands against 0.4 MB built in one literal), and that garbage grew one pipelined
 * rank's V8 heap by 24 MB over 1,170 bands (49152² uint8, one rank: peak RSS 127-135 -> 118-122 MiB).
 */
function nativeArgs(args: AccumulateArgs, read?: FileRuns) {
  const { acc, accWidth, accY0, accX0, tile, covering, data, region, blend, fresh } = args;
  let rects = covering instanceof Int32Array ? covering : packedCovering.get(covering);
  if (!rects) packedCovering.set(covering as readonly PlannedTile[], (rects = packRects(covering as readonly PlannedTile[])));
  const self = Int32Array.of(tile.order, tile.y, tile.x, tile.height, tile.width);
  return { acc, accWidth, accY0, accX0, tile: self, covering: rects, data, region: [region.y0, region.y1, region.x0, region.x1] as [number, number, number, number], blend, read, fresh };
}

/**
 * Adds the tile's pixels of `region` into `acc`, weighted by `blend`: the one kernel every
 * strategy uses (native, monomorphic per dtype; bounds are checked there and throw).
 */
export function accumulateRegion(args: AccumulateArgs): void {
  native().accumulate(nativeArgs(args));
}

/**
 * Zeroes the pixels of `band` (whole rows `accWidth` wide, [0] at canvas (accY0, accX0)) that none
 * of `regions` covers, leaving the others: a band whose tile parts are then added in canonical
 * order as `fresh` jobs ends as if it had been zeroed first, without a pass over all of it.
 */
export function zeroUncovered(band: AccArray, accWidth: number, accY0: number, accX0: number, regions: readonly Region[]): void {
  const records = new Int32Array(regions.length * 4);
  regions.forEach((r, i) => records.set([r.y0, r.y1, r.x0, r.x1], i * 4));
  native().zeroUncovered({ band, accWidth, accY0, accX0, regions: records });
}

/** A batch of accumulations (or downsamples) running on a background thread. */
export interface BackgroundAccumulate {
  /**
   * Blocks until the batch is done; returns the seconds it took and those of them spent reading
   * input (a blend's: summed over the background thread and this one, which takes a share of the
   * strips left when it calls wait). Throws InputError when a job's data could not be read.
   */
  wait(): BackgroundTimes;
}

/**
 * Bytes of a file that are a job's data exactly (`rows` runs of `rowBytes`, `strideBytes` apart
 * from `offset`, as a typed array of the data's type holds them): the background thread reads
 * them with pread(2) just before the job's blend. `what` names them in errors ("tile 3 from ...").
 */
export type FileRuns = NativeFileRuns;

/** A background job: accumulateRegion's arguments, and where its data is to be read from first, if anywhere. */
export interface BackgroundJob extends AccumulateArgs {
  read?: FileRuns;
}

/** wait(), with the addon's ERR_INPUT (a job's data could not be read) as the InputError it is. */
function waitFor(wait: () => BackgroundTimes): () => BackgroundTimes {
  return () => {
    try {
      return wait();
    } catch (error) {
      if (error instanceof H5StitchError && error.code === 'ERR_INPUT' && !(error instanceof InputError)) throw new InputError(error.message, { cause: error });
      throw error;
    }
  };
}

/**
 * Runs the same kernel as accumulateRegion for each of `jobs` in order, on a second thread, while
 * the caller does I/O. `band` is the jobs' accumulator (whole rows; every job's acc) and may hold
 * anything: the result is as if it had been zeroed first (each pixel's first job sets it; pixels
 * no job covers become 0), without the extra pass over memory. A job with `read` gets its data
 * from that file first, on the same thread (so the caller's thread only writes). The band is
 * done in strips of rows, and wait() blends the strips the thread has not taken yet on the
 * caller's thread, so a caller that finished its I/O first helps instead of waiting (same bits:
 * each row is blended on its own). Every job is checked before this returns. `band`, the jobs'
 * data and their files' fds belong to the batch until wait().
 */
export function startAccumulateRegions(band: AccArray, jobs: readonly BackgroundJob[]): BackgroundAccumulate {
  return { wait: waitFor(native().startAccumulate({ band, jobs: jobs.map((job) => nativeArgs(job, job.read)) })) };
}

/**
 * Writes `acc` into `out` (of the output dtype, same length): floats are stored as a typed array
 * stores them; integers are rounded (as Math.round does) and clipped to the dtype's range, once,
 * at the end of the blend (±Infinity clip to the ends). NaN has no integer value: returns the
 * index of the first NaN written as 0 into an integer `out`, or -1 (always -1 for floats, which
 * keep NaN); callers refuse the output then. Native: one pass at memory speed.
 */
export function convertInto(acc: AccArray, out: NumericArray): number {
  return native().convert(acc, out as PixelArray);
}

/**
 * The index of the first pixel of `got` (an integer output band, as long as `acc`) that is not the
 * output value convertInto gives `acc` there, or -1. Independent of convertInto: it checks that
 * `got` lies in the interval of values rounding to it (verify_compare.h) instead of rounding again,
 * so verify does not share the stitch's conversion. Native: one pass at memory speed.
 */
export function firstMismatchOf(acc: AccArray, got: NumericArray): number {
  return native().firstMismatch(acc, got as PixelArray);
}

/**
 * The next pyramid level of `rows` x `width` pixels: `out` (ceil(rows/2) x ceil(width/2), the
 * same type as `src`) gets the mean of the up-to-2x2 pixels each covers, rounded once (half to
 * even for integers; docs/pyramid.md). Native: one pass at memory speed.
 */
export function downsampleInto(src: NumericArray, rows: number, width: number, out: NumericArray): void {
  native().downsample(src as PixelArray, rows, width, out as PixelArray);
}

/** One step of a background downsample chain: the next level of `rows` x `width` pixels, or (no rows) a copy of `src` into `out`. */
export type DownsampleStep = { src: NumericArray; out: NumericArray; rows?: number; width?: number };

/**
 * Runs `steps` in order on a second thread (the same kernel as downsampleInto; a step may read
 * what an earlier one wrote), while the caller writes. Every step is checked before this returns;
 * the steps' arrays belong to the chain until wait().
 */
export function startDownsampleSteps(steps: readonly DownsampleStep[]): BackgroundAccumulate {
  return { wait: waitFor(native().startDownsample(steps as Array<{ src: PixelArray; out: PixelArray; rows?: number; width?: number }>)) };
}
