/**
 * The stitch options of the library, validated in one place, so a library call gets exactly the
 * refusals the command line gets. Messages name options by their command-line spelling
 * (`--mem-per-rank` for `memPerRank`), the same for both.
 */
import { OUTPUT_DTYPES, type Dtype } from '../core/dtype';
import { OUTPUT_FORMATS, type OutputFormat } from '../core/pyramid';
import type { BlendMode } from '../core/weights';
import { expected, UsageError } from '../errors';
import type { Transfer } from '../runtime/addon';
import { defaultHints, writeSievingOn } from '../runtime/hints';
import { STRATEGIES, type StrategyName } from './strategy';

/** Options of {@link stitch}. Only `input` and `output` are required. */
export interface StitchOptions {
  /**
   * An HDF5 file of tiles ([N, H, W] dataset or a group of 2-D datasets), a directory of `<index>.npy`
   * tiles, or TIFF tiles: a file-name pattern (`raw/tile_r{row}_c{col}.tif`), a Fiji
   * TileConfiguration.txt or a MIST global-positions file (docs/inputs.md).
   */
  input: string;
  /** The output HDF5 file; written under a hidden temporary name and renamed when complete. */
  output: string;
  /** Output dataset path. Default `/stitched`. */
  dataset?: string;
  /** `slab` (default: owner computes, no read-back), `rounds` or `serial`. */
  strategy?: StrategyName;
  /**
   * `auto` (default), `collective` or `independent` transfers (rounds, slab). `auto`: slab writes
   * independently where that measured faster (OMPIO on a node-local file system), else collectively.
   */
  io?: Transfer | 'auto';
  /** slab: blend on a second thread while bands are written. `auto` (default) when every rank has a spare CPU. */
  pipeline?: 'auto' | 'on' | 'off';
  /** slab: `early` (default) starts the OS writing each band as soon as it is written; `end` leaves it to the final sync. */
  writeback?: 'early' | 'end';
  /** MPI-IO atomic mode while writing. */
  atomic?: boolean;
  /** `linear` (default), `none` (plain sum), `max`. */
  blend?: BlendMode;
  /** Output dtype (default float32); integers are rounded (Math.round) and clipped once. */
  dtype?: Dtype;
  /** Chunked output [rows, cols]. */
  chunk?: [number, number];
  /** gzip level 0-9 (needs `chunk`; written collectively). */
  gzip?: number;
  /** Band memory per rank in bytes (default 16 MiB). */
  memPerRank?: number;
  /** Extra MPI-IO hints. */
  hints?: Record<string, string>;
  /** Leave MPI-IO write data sieving as the MPI library configures it (unsafe on most clusters). */
  keepDataSieving?: boolean;
  /** Grid layout (tile index per cell, -1 = empty) instead of the input's `/tile_array`. */
  layout?: number[][];
  /** Grid layout from a JSON file (same form as `layout`). */
  layoutFile?: string;
  /** Overlap in pixels: one for both axes, or [y, x]. Default: the input's `overlap` attribute. */
  overlap?: number | [number, number];
  /** Tiles dataset or group in an HDF5 input. Default `/tiles`. */
  tilesPath?: string;
  /** Layout dataset in an HDF5 input. Default `/tile_array`. */
  layoutPath?: string;
  /** An [N, 2] (y, x) positions dataset in the HDF5 input, instead of a grid. */
  positionsPath?: string;
  /** Explicit (y, x) per tile index (e.g. from `register`), rounded to whole pixels; instead of a grid. */
  positions?: Array<[number, number]>;
  /**
   * Let `rounds` and `serial` run on a file system whose node caches may disagree (NFS, FUSE, SMB,
   * unknown). Dangerous: they read back output bytes, and a stale cache loses tiles silently.
   */
  trustFsCoherence?: boolean;
  /**
   * Verify the output at the end of the same job (this node's cached pages of it dropped first, so
   * a stale cache cannot vouch for itself); the report's `verify` says how it went.
   */
  verify?: boolean;
  /**
   * Multi-channel input: 'planes' (default) writes one [C, H, W] dataset; 'datasets' one 2-D
   * dataset per channel, `<dataset>/c0`, `<dataset>/c1`, ... (each with a `channel` attribute).
   */
  channelsAs?: 'planes' | 'datasets';
  /** Replace an existing output. */
  force?: boolean;
  /**
   * Write an 8-bit greyscale PNG preview of the output here after the stitch (at most 2048 px a
   * side, stretched between the 0.1 and 99.9 percentiles; channel 0 of a multi-channel output;
   * docs/preview.md). The report's `preview` describes it.
   */
  preview?: string;
  /**
   * With verify: draw the tile layout here (.svg or .png), each tile coloured ok / missing /
   * wrong, as `verify --map` does.
   */
  verifyMap?: string;
  /** Show progress on rank 0 when stderr is a terminal. Default true. */
  progress?: boolean;
  /**
   * Write a multiscale pyramid in the same pass (docs/pyramid.md): levels until the coarsest fits
   * in 512 px on its longer side. `slab` only.
   */
  pyramid?: boolean;
  /** Pyramid levels, level 0 included (implies `pyramid`). */
  levels?: number;
  /** `hdf5` (default: /stitched, plus /multiscale with a pyramid) or `bdv` (BigDataViewer HDF5 + XML). */
  format?: OutputFormat;
  /** Size of a pixel, x and y (or one for both), for viewers' metadata. Default 1. */
  voxelSize?: number | [number, number];
  /** Unit of voxelSize. Default `pixel`. */
  voxelUnit?: string;
}

/** Everything a stitch run needs, validated and defaulted (identically on every rank). */
export interface StitchRequest {
  input: string;
  output: string;
  dataset: string;
  strategy: StrategyName;
  io: Transfer | 'auto';
  pipeline: 'auto' | 'on' | 'off';
  writeback: 'early' | 'end';
  atomic: boolean;
  blend: BlendMode;
  dtype: Dtype;
  chunk?: [number, number];
  gzip?: number;
  memPerRank: number;
  /** The hints every file gets: defaults, the caller's, and cb_buffer_size within memPerRank. */
  hints: Record<string, string>;
  layout?: number[][];
  layoutFile?: string;
  overlap?: [number, number];
  tilesPath?: string;
  layoutPath?: string;
  positionsPath?: string;
  positions?: Array<[number, number]>;
  trustFsCoherence: boolean;
  verify: boolean;
  channelsAs: 'planes' | 'datasets';
  force: boolean;
  preview?: string;
  verifyMap?: string;
  progress: boolean;
  pyramid: boolean;
  levels?: number;
  format: OutputFormat;
  /** x, y */
  voxelSize: [number, number];
  voxelUnit: string;
}

/**
 * Default band memory per rank. Bands this size reuse one cache-friendly accumulator; a whole slab
 * in one band re-faults fresh pages and was ~20% slower here (bench, 2 ranks).
 */
export const DEFAULT_MEM_PER_RANK = 16 * 1024 ** 2;
export const BLENDS: readonly BlendMode[] = ['linear', 'none', 'max'];

function choice<T extends string>(value: unknown, choices: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw expected(`one of ${choices.join(' | ')}`, name, value);
  return value as T;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw expected('a boolean', name, value);
  return value;
}

function text(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw expected('a non-empty string', name, value);
  return value;
}

function integer(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw expected(`an integer >= ${min}`, name, value);
  return value;
}

function pair(value: unknown, name: string, min: number): [number, number] | undefined {
  if (value === undefined) return undefined;
  const ok = Array.isArray(value) && value.length === 2 && value.every((v) => Number.isSafeInteger(v) && v >= min);
  if (!ok) throw expected(`[rows, cols] of integers >= ${min}`, name, value);
  return [value[0], value[1]];
}

function voxelSizeOf(value: unknown): [number, number] {
  if (value === undefined) return [1, 1];
  const v = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
    throw expected('a positive pixel size X or X,Y', '--voxel-size', value);
  }
  return [v[0], v[1]];
}

function hintsOf(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
  if (!ok) throw expected('an object of string MPI-IO hints', '--hint', value);
  return { ...(value as Record<string, string>) };
}

/** Validates and defaults stitch options; throws UsageError naming the option. */
export function resolveStitchOptions(options: StitchOptions): StitchRequest {
  if (typeof options !== 'object' || options === null) throw expected('an options object', 'stitch()', options);
  const o = options as unknown as Record<string, unknown>;
  const input = text(o.input, 'INPUT');
  if (input === undefined) throw new UsageError('missing INPUT (an HDF5 file of tiles or a directory of .npy tiles)');
  const output = text(o.output, '--out');
  if (output === undefined) throw new UsageError('missing --out OUT.h5');
  const dataset = text(o.dataset, '--out dataset') ?? '/stitched';
  if (!dataset.startsWith('/')) throw expected('an absolute dataset path', '--out dataset', dataset);
  const strategy = choice(o.strategy, STRATEGIES, '--strategy', 'slab');
  const io = choice<Transfer | 'auto'>(o.io, ['auto', 'collective', 'independent'], '--io', 'auto');
  const pipeline = choice(o.pipeline, ['auto', 'on', 'off'] as const, '--pipeline', 'auto');
  const writeback = choice(o.writeback, ['early', 'end'] as const, '--writeback', 'early');
  const blend = choice(o.blend, BLENDS, '--blend', 'linear');
  const dtype = choice(o.dtype, OUTPUT_DTYPES, '--dtype', 'float32');
  const chunk = pair(o.chunk, '--chunk', 1);
  const gzip = integer(o.gzip, '--compress gzip level', 0);
  if (gzip !== undefined && gzip > 9) throw expected('a gzip level 0-9', '--compress', gzip);
  const memPerRank = integer(o.memPerRank, '--mem-per-rank', 1) ?? DEFAULT_MEM_PER_RANK;
  const keepDataSieving = flag(o.keepDataSieving, '--keep-data-sieving');
  const hints = { ...defaultHints(keepDataSieving), ...hintsOf(o.hints) };
  // Collective buffering's aggregation buffer, within the rank's budget: OMPIO's default is 32 MiB
  // whatever --mem-per-rank says (ROMIO's is 16 MiB).
  hints.cb_buffer_size ??= String(Math.min(16 * 1024 ** 2, memPerRank));
  const overlap = typeof o.overlap === 'number' ? pair([o.overlap, o.overlap], '--overlap', 0) : pair(o.overlap, '--overlap', 0);
  if (o.layout !== undefined && !(Array.isArray(o.layout) && o.layout.every((row) => Array.isArray(row)))) {
    throw expected('a 2-D array of tile indices', 'layout', o.layout);
  }
  const request: StitchRequest = {
    input, output, dataset, strategy, io, pipeline, writeback, blend, dtype, chunk, gzip, memPerRank, hints, overlap,
    atomic: flag(o.atomic, '--atomic'),
    layout: o.layout as number[][] | undefined,
    layoutFile: text(o.layoutFile, '--layout'),
    tilesPath: text(o.tilesPath, '--tiles-path'),
    layoutPath: text(o.layoutPath, '--layout-path'),
    positionsPath: text(o.positionsPath, '--positions'),
    positions: o.positions as Array<[number, number]> | undefined,
    trustFsCoherence: flag(o.trustFsCoherence, '--trust-fs-coherence'),
    verify: flag(o.verify, '--verify'),
    channelsAs: choice(o.channelsAs, ['planes', 'datasets'] as const, '--channels-as', 'planes'),
    force: flag(o.force, '--force'),
    preview: text(o.preview, '--preview'),
    verifyMap: text(o.verifyMap, '--map'),
    progress: o.progress === undefined ? true : flag(o.progress, 'progress'),
    levels: integer(o.levels, '--levels', 1),
    format: choice(o.format, OUTPUT_FORMATS, '--format', 'hdf5'),
    voxelSize: voxelSizeOf(o.voxelSize),
    voxelUnit: text(o.voxelUnit, '--voxel-unit') ?? 'pixel',
    pyramid: false,
  };
  request.pyramid = flag(o.pyramid, '--pyramid') || request.levels !== undefined;
  if (request.format === 'bdv' && o.dataset !== undefined && o.dataset !== '/stitched') {
    throw new UsageError(`--format bdv writes the image to BigDataViewer's /t00000/s00/0/cells: drop the dataset (:${String(o.dataset)}) from --out`);
  }
  refuseUnsafe(request, writeSievingOn(hints, keepDataSieving));
  return request;
}

/** Combinations that cannot work, or cannot be made safe. */
function refuseUnsafe(r: StitchRequest, sieving: boolean): void {
  if (r.positions && r.positionsPath) throw new UsageError('give positions or a positions dataset (--positions), not both');
  if (r.layout && r.layoutFile) throw new UsageError('give a layout or a layout file (--layout), not both');
  if (r.preview !== undefined && !/\.png$/i.test(r.preview)) throw expected('a file name ending in .png', '--preview', r.preview);
  if (r.verifyMap !== undefined && !r.verify) throw new UsageError('--map draws what verify found: add --verify');
  if (r.verifyMap !== undefined && !/\.(svg|png)$/i.test(r.verifyMap)) throw expected('a file name ending in .svg or .png', '--map', r.verifyMap);
  if (r.gzip !== undefined && !r.chunk) throw new UsageError('--compress needs --chunk HxW (compression works on chunks)');
  if (r.pipeline === 'on' && r.strategy !== 'slab') throw new UsageError(`--pipeline on applies to --strategy slab only, not ${r.strategy}`);
  // Parallel HDF5 writes filtered (compressed) chunks only collectively.
  if (r.gzip !== undefined && r.strategy === 'serial') {
    throw new UsageError('--compress needs collective writes, and --strategy serial writes from rank 0 alone: use slab or rounds');
  }
  if (r.gzip !== undefined && r.io === 'independent') throw new UsageError('--compress needs collective writes: drop --io independent');
  // The levels are made from whole rows as a rank writes them; rounds and serial write tiles.
  if ((r.pyramid || r.format === 'bdv') && r.strategy !== 'slab') {
    throw new UsageError(`${r.pyramid ? '--pyramid' : '--format bdv'} is written by --strategy slab only (${r.strategy} writes tiles, not whole rows): drop --strategy ${r.strategy}`);
  }
  // Concurrent independent strided writes + write data sieving = read-modify-write of spans that
  // hold other ranks' tiles: lost tiles wherever byte-range locks do not really work.
  if (r.strategy === 'rounds' && r.io === 'independent' && sieving) {
    throw new UsageError('--strategy rounds --io independent with MPI-IO write data sieving on is unsafe (other ranks\' tiles ' +
      'can be overwritten with stale bytes); use --io collective, --strategy slab, or keep sieving off');
  }
}
