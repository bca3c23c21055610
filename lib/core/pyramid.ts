/**
 * The multiscale pyramid's layout rules, pure: how many levels, each level's shape and chunk, the
 * row alignment that lets every rank produce whole rows of every level, and where each level lives
 * in the two output layouts (default HDF5: /multiscale/sN; BigDataViewer: /t00000/s00/N/cells).
 * The stitch (io/sinks), verify and the viewers' readers all take these from here.
 *
 * Level k is ceil(h/2^k) x ceil(w/2^k): each level halves the one below, rounding up, and each of
 * its pixels is the mean of the (up to 2x2) stored pixels of level k-1 it covers (docs/pyramid.md).
 */
import type { Dtype, NumericArray } from './dtype';
import { UsageError } from '../errors';

/** Output layouts: the default HDF5 one (/stitched + /multiscale) and BigDataViewer's. */
export type OutputFormat = 'hdf5' | 'bdv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['hdf5', 'bdv'];

/** `--pyramid` without `--levels`: levels until the coarsest fits in this many pixels on its longer side. */
export const PYRAMID_FIT_PX = 512;

/** Chunk of the levels (and of bdv level 0) when the output has no --chunk: rows, cols. */
export const DEFAULT_LEVEL_CHUNK: readonly [number, number] = [256, 256];

/** The default layout's multiscale group; level k is `${MULTISCALE_GROUP}/s${k}` (s0 a hard link to the canvas). */
export const MULTISCALE_GROUP = '/multiscale';

/** BigDataViewer's HDF5 names (bigdataviewer-core bdv/img/hdf5/Util.java): one setup (s00), one timepoint (t00000). */
export const BDV = {
  setup: '/s00',
  resolutions: '/s00/resolutions',
  subdivisions: '/s00/subdivisions',
  timepoint: '/t00000',
  setupInTimepoint: '/t00000/s00',
  /** Attribute of the setup group naming a non-uint16 element type (absent: uint16 stored as int16 bits). */
  dataTypeAttr: 'dataType',
} as const;

/** Attribute names of the N5-viewer convention (n5-viewer / n5-hdf5), on each sN and on the group. */
export const N5_ATTRS = {
  downsamplingFactors: 'downsamplingFactors',
  pixelResolution: 'pixelResolution',
  multiScale: 'multiScale',
} as const;

/** Attributes of the provenance group (/h5stitch) describing the pyramid, so verify and info know it. */
export const PYRAMID_PROVENANCE = {
  /** int: number of levels, level 0 included (1 = no pyramid). */
  levels: 'pyramid_levels',
  /** 'hdf5' | 'bdv': which layout the levels are in (levelPath). */
  format: 'format',
  /** The output's element type as meant (bdv stores uint16 as int16 bits). */
  dtype: 'dtype',
  /** How level k is made from level k-1 (a name; the rule is in docs/pyramid.md). */
  reduction: 'pyramid_reduction',
} as const;
export const PYRAMID_REDUCTION = 'mean2x2-float64-round-half-even';

/** Shape of level k of a canvas [h, w]: ceil(h / 2^k) x ceil(w / 2^k) (= k repeated ceil halvings). */
export function levelShape(shape: readonly [number, number], k: number): [number, number] {
  const f = 2 ** k;
  return [Math.ceil(shape[0] / f), Math.ceil(shape[1] / f)];
}

/** Shapes of levels 0 .. levels-1. */
export function levelShapes(shape: readonly [number, number], levels: number): Array<[number, number]> {
  return Array.from({ length: levels }, (_, k) => levelShape(shape, k));
}

/** The most levels a canvas has: until the level is 1 x 1 (one more would repeat it). */
export function maxLevels(shape: readonly [number, number]): number {
  let k = 0;
  while (Math.max(...levelShape(shape, k)) > 1) k++;
  return k + 1;
}

/** Levels (level 0 included) until the coarsest fits in `fit` pixels on its longer side. */
export function levelsToFit(shape: readonly [number, number], fit = PYRAMID_FIT_PX): number {
  let k = 0;
  while (Math.max(...levelShape(shape, k)) > fit) k++;
  return k + 1;
}

/**
 * The number of levels for a request: `levels` (level 0 included; 1 = level 0 only) when given,
 * else levelsToFit when `pyramid`, else 1. Refuses more levels than the canvas has.
 */
export function pyramidLevels(shape: readonly [number, number], opts: { pyramid?: boolean; levels?: number }): number {
  if (opts.levels === undefined) return opts.pyramid ? levelsToFit(shape) : 1;
  const most = maxLevels(shape);
  if (opts.levels > most) {
    throw new UsageError(`--levels ${opts.levels} is more than the ${shape[0]}x${shape[1]} canvas has: level ${most - 1} is already ` +
      `${levelShape(shape, most - 1).join('x')}; use --levels ${most} or fewer`);
  }
  return opts.levels;
}

/** Level k's downsampling factor per axis (x, y), as N5 viewers and BigDataViewer record it. */
export function downsamplingFactors(k: number): [number, number] {
  return [2 ** k, 2 ** k];
}

/**
 * Where level k lives. hdf5: `/multiscale/sK` (s0 is a hard link to the canvas dataset, so
 * `canvasPath` (default /stitched) names the same data); bdv: `/t00000/s00/K/cells`, 3-D [1, h, w].
 */
export function levelPath(format: OutputFormat, k: number): string {
  return format === 'bdv' ? `${BDV.setupInTimepoint}/${k}/cells` : `${MULTISCALE_GROUP}/s${k}`;
}

/** Full-resolution dataset of a layout: the canvas itself (hdf5, default /stitched) or bdv level 0. */
export function canvasPathOf(format: OutputFormat, dataset = '/stitched'): string {
  return format === 'bdv' ? levelPath('bdv', 0) : dataset;
}

/**
 * The dataset's element type in the file: BigDataViewer's HDF5 loader reads uint16 without a
 * dataType attribute as int16 bits (its legacy layout, which every BigDataViewer version reads);
 * everything else is stored as itself with the dataType attribute.
 */
export function storedDtype(format: OutputFormat, dtype: Dtype): Dtype {
  return format === 'bdv' && dtype === 'uint16' ? 'int16' : dtype;
}

/** `data` of the meant dtype as the elements of the stored one (bdv: uint16 as int16 bits, no copy). */
export function storedView(data: NumericArray, stored: Dtype): NumericArray {
  if (stored === 'int16' && data instanceof Uint16Array) return new Int16Array(data.buffer, data.byteOffset, data.length);
  return data;
}

/** The /s00 dataType attribute for `dtype` (n5 DataType names), or undefined for uint16 (none written). */
export function bdvDataType(dtype: Dtype): string | undefined {
  return dtype === 'uint16' ? undefined : dtype;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Rows a slab starts at a multiple of: 2^(levels-1), so that every level's row pairs lie inside
 * one rank's slab, combined (lcm) with the chunk rows of level 0 (`chunkRows`), so that no chunk
 * is written by two ranks.
 */
export function slabRowUnit(levels: number, chunkRows = 1): number {
  const pairs = 2 ** (levels - 1);
  return (chunkRows * pairs) / gcd(chunkRows, pairs);
}

/**
 * Chunk of level k >= 1: as tall as a slab unit allows (its rows times 2^k divide `slabUnit`, so
 * no chunk of any level straddles two ranks' slabs and each is written once, whole) and at most
 * `base` rows; widened so a chunk holds about as many pixels as `base`; clamped to the level.
 */
export function levelChunk(base: readonly [number, number], levelShapeK: readonly [number, number], k: number, slabUnit: number): [number, number] {
  const rows = k === 0 ? base[0] : gcd(base[0], Math.max(1, slabUnit / 2 ** k));
  const cols = base[1] * (base[0] / rows);
  return [Math.max(1, Math.min(rows, levelShapeK[0])), Math.max(1, Math.min(cols, levelShapeK[1]))];
}

/** Level-k rows made from canvas rows [y0, y1) of a slab whose start is a multiple of 2^k: [y0/2^k, ceil(y1/2^k)). */
export function levelRows(y0: number, y1: number, k: number): [number, number] {
  const f = 2 ** k;
  return [Math.floor(y0 / f), Math.ceil(y1 / f)];
}
