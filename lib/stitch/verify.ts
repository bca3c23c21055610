/**
 * Checks a stitched output against its tiles, independently of the stitch: verify reads whole tiles
 * through its own reader (verify-tiles.ts), finds each band's tiles and each tile's neighbours with
 * its own geometry, blends them into a band with the native kernel (the one piece it shares with
 * the stitch, checked against a plain TypeScript reference in the tests), and compares with the
 * output band by band: integer outputs by checking that each pixel lies in the interval of values
 * that round to it (native, not the stitch's conversion), floats as they are; per tile ok |
 * missing | wrong. What this proves and what it cannot: docs/verify.md.
 */
import { accDtypeOf, bytesOf, newArray, OUTPUT_DTYPES, rangeOf, type AccArray, type Dtype, type NumericArray, type PixelArray } from '../core/dtype';
import type { PlacedTile, PlannedTile } from '../core/geometry';
import { planStitch } from '../core/plan';
import { fingerprintChanges, PROVENANCE, type Provenance } from '../core/provenance';
import { planRounds } from '../core/rounds';
import { rawWeight } from '../core/weights';
import { expected, H5StitchError, UsageError } from '../errors';
import { readLayoutFile } from '../io/layout-file';
import { readProvenance } from '../io/provenance';
import { storedView } from '../core/pyramid';
import { readPyramidInfo } from '../io/levels';
import { verifyLevels, type LevelVerdict } from './verify-levels';
import { openTileSource } from '../io/sources';
import { openFile, type Dataset, type H5File } from '../runtime/hdf5';
import { accumulateRegion, firstMismatchOf } from '../runtime/kernel';
import { initMpi, type Mpi } from '../runtime/mpi';
import { checkImagePath } from '../io/sinks/png';
import { MAP_EXTENSIONS, writeTileMap } from '../io/sinks/tile-map';
import { agreeing } from './engine';
import { DEFAULT_MEM_PER_RANK, type StitchOptions } from './options';
import { openWholeTiles, type WholeTiles } from './verify-tiles';

export type TileStatus = 'ok' | 'missing' | 'wrong';
export interface TileVerdict {
  index: number;
  /** Multi-channel input: the channel whose plane this verdict is about. */
  channel?: number;
  status: TileStatus;
  mismatched: number;
  worst: number;
  worstAt: [number, number] | null;
  /** Where the tile lies on the canvas (its top-left pixel and size), as verify placed it. */
  y: number; x: number; height: number; width: number;
}
export interface VerifyReport {
  ok: boolean;
  /** One verdict per tile, or per channel and tile (channel by channel) for a multi-channel output. */
  tiles: TileVerdict[];
  failed: TileVerdict[];
  complete: boolean;
  pixels: number;
  /** Multi-channel input: the channels checked (every plane of [C, H, W], or the channel datasets). */
  channels?: number[];
  /** The output's canvas [H, W]. */
  shape: [number, number];
  /** Pixels no tile covers that are not 0 (the first one found, row-major; in `channel` when multi-channel). */
  uncovered: { mismatched: number; firstAt: [number, number] | null; channel?: number };
  /**
   * How the input differs from the fingerprint the stitch recorded (files' sizes and times, the
   * tiles' shape and dtype); empty when it matches. The comparison is always with what the input
   * holds now.
   */
  inputChanged: string[];
  /** The output recorded its input's fingerprint (outputs of h5stitch before 0.2 did not). */
  fingerprinted: boolean;
  /** A pyramid's levels 1.. each against the block mean of the level below (verify-levels.ts); absent for flat outputs. */
  levels?: LevelVerdict[];
}

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** The stitched HDF5 file. */
  output: string;
  /** Its dataset. Default `/stitched`. */
  dataset?: string;
  /** The tiles it was stitched from. Default: the input recorded in the output's provenance. */
  input?: string;
  /** Tiles dataset or group in an HDF5 input. Default: the one recorded, else `/tiles`. */
  tilesPath?: string;
  /** Band memory per rank in bytes (default 16 MiB). Whole tiles are held besides. */
  memPerRank?: number;
  /**
   * For an output h5stitch did not write (no provenance, e.g. the classic h5py recipe's): the
   * placement and blend it was stitched with, as `stitch` takes them (`blend` default 'linear').
   * Given, they are used instead of any recorded provenance; `input` is then required, and the
   * output counts as complete.
   */
  placement?: Pick<StitchOptions, 'layout' | 'layoutFile' | 'layoutPath' | 'overlap' | 'positions' | 'positionsPath' | 'blend'>;
  /**
   * Draw the tile layout, each tile coloured ok / missing / wrong, into this .svg or .png
   * (written by rank 0 after the check; docs/verify.md).
   */
  map?: string;
}

/**
 * Checks a stitched output against its tiles. Collective: every rank calls it with the same
 * options; initialises MPI if needed. Returns the same report on every rank.
 */
export function verify(options: VerifyOptions): VerifyReport {
  return verifyOutput(initMpi(), options);
}

/** An output stitched elsewhere: the tiles placed as `stitch` would place them with `placement`. */
function placedProvenance(o: VerifyOptions, placement: NonNullable<VerifyOptions['placement']>): Provenance {
  if (!o.input) throw new UsageError('verify with a placement (--layout, --overlap, --positions, --blend) needs --input INPUT');
  const source = openTileSource(o.input, { tilesPath: o.tilesPath, layoutPath: placement.layoutPath, positionsPath: placement.positionsPath });
  try {
    const blend = placement.blend ?? 'linear';
    const overlap = typeof placement.overlap === 'number' ? [placement.overlap, placement.overlap] as [number, number] : placement.overlap;
    const layout = placement.layout ?? (placement.layoutFile ? readLayoutFile(placement.layoutFile) : undefined);
    const plan = planStitch(source, { blend, overlap, positions: placement.positions, layout });
    const tiles = plan.planned.map(({ index, y, x, height, width, gridRow, gridCol }) => ({ index, y, x, height, width, gridRow, gridCol }));
    return {
      tiles: tiles.sort((a, b) => a.index - b.index), tileShape: [source.height, source.width], blend, complete: true, input: o.input,
      overlap: plan.overlap, strategy: '', io: '', ranks: 0, version: '', inputs: null,
    };
  } finally {
    source.close();
  }
}

// Per tile (by canonical order): worst error, mismatched pixels, mismatched zeros, worst y, worst x.
const STATS = 5;

/** One 2-D plane of an output to check: a [H, W] dataset, or plane `plane` of a [C, H, W] one. */
interface OutputPlane { ds: Dataset; plane?: number; channel: number }

/**
 * The planes of output `name`: a 2-D dataset (its `channel` attribute, default 0), each plane of a
 * [C, H, W] dataset, or, for a group (`--channels-as datasets`), every dataset in it that carries
 * a `channel` attribute, by channel.
 */
function outputPlanes(file: H5File, name: string): OutputPlane[] {
  const channelOf = (ds: Dataset) => {
    const c = ds.getAttr(PROVENANCE.attr.channel);
    return typeof c === 'number' ? c : undefined;
  };
  if (file.objectType(name) === 'group') {
    const members = file.list(name).filter((n) => file.objectType(`${name}/${n}`) === 'dataset');
    const planes: OutputPlane[] = [];
    for (const n of members) {
      const ds = file.openDataset(`${name}/${n}`);
      const channel = channelOf(ds);
      if (channel === undefined) ds.close();
      else planes.push({ ds, channel });
    }
    if (planes.length === 0) throw new UsageError(`${file.path}:${name} is a group with no channel datasets (of stitch --channels-as datasets) in it`);
    planes.sort((a, b) => a.channel - b.channel);
    planes.forEach((p, c) => {
      if (p.channel !== c) throw new UsageError(`${file.path}:${name} holds the datasets of channels ${planes.map((q) => q.channel).join(', ')}: channel ${c} is missing`);
    });
    return planes;
  }
  const ds = file.openDataset(name);
  if (ds.shape.length === 3) return Array.from({ length: ds.shape[0] }, (_, c) => ({ ds, plane: c, channel: c }));
  return [{ ds, channel: channelOf(ds) ?? 0 }];
}

export function verifyOutput(mpi: Mpi, o: VerifyOptions): VerifyReport {
  const map = o.map;
  if (map !== undefined) {
    if (typeof map !== 'string' || map === '') throw expected('a non-empty string', '--map', map);
    mpi.runOnRoot(() => checkImagePath(map, MAP_EXTENSIONS, '--map', [o.output, ...(o.input ? [o.input] : [])]));
  }
  const report = checkOutput(mpi, o);
  if (map !== undefined) {
    const title = `h5stitch verify of ${o.output}: ${report.ok ? 'OK' : 'FAILED'}: ${report.tiles.length - report.failed.length}/${report.tiles.length} tiles ok`;
    mpi.runOnRoot(() => writeTileMap(map, report.tiles, report.shape, title));
  }
  return report;
}

function checkOutput(mpi: Mpi, o: VerifyOptions): VerifyReport {
  const file = openFile(o.output, { mode: 'r', parallel: true });
  let tiles: WholeTiles | undefined;
  try {
    // A BigDataViewer output keeps its canvas at level 0 of its layout (there is no /stitched).
    const pyramid = readPyramidInfo(file);
    const name = pyramid?.format === 'bdv' && (o.dataset ?? '/stitched') === '/stitched' ? pyramid.canvasPath : o.dataset ?? '/stitched';
    const planes = outputPlanes(file, name);
    const out = planes[0].ds;
    const prov = o.placement ? placedProvenance(o, o.placement) : readProvenance(file, out);
    // BigDataViewer stores uint16 as int16 bits: read them into the meant dtype's buffers.
    const outDtype = pyramid?.dtype === 'uint16' && out.dtype === 'int16' ? 'uint16' : out.dtype;
    const multi = out.shape.length === 3;
    if (!outDtype || !OUTPUT_DTYPES.includes(outDtype) || (out.shape.length !== 2 && !multi) ||
        planes.some((p) => p.ds.dtype !== out.dtype || p.ds.shape.join('x') !== out.shape.join('x'))) {
      throw new UsageError(`${o.output}:${out.name} is not a 2-D (or [C, H, W]) output of a dtype h5stitch writes`);
    }
    const recordedPath = prov.inputs?.kind === 'hdf5' ? prov.inputs.tilesPath : undefined;
    tiles = mpi.runOnAll(() => openWholeTiles(o.input ?? prov.input, o.tilesPath ?? recordedPath));
    const source = tiles;
    const [height, width] = multi ? out.shape.slice(1) : out.shape;
    mpi.runOnAll(() => {
      checkAgainstProvenance(prov.tiles, prov.tileShape, source, height, width);
      checkChannels(planes, source.channels, `${o.output}:${o.dataset ?? '/stitched'}`);
    });
    const planned = planRounds(prov.tiles);
    const geometry = new Geometry(planned, prov.tileShape);
    const n = planned.length;
    const integer = rangeOf(outDtype) !== undefined;

    // This rank's rows, in bands of at most memPerRank (accumulator + output + expected per row).
    const accDtype = accDtypeOf(outDtype);
    const memPerRank = o.memPerRank ?? DEFAULT_MEM_PER_RANK;
    // At least one row: a budget the stitch accepted (one accumulator row) is one verify can work in.
    const bandRows = Math.max(1, Math.floor(memPerRank / (width * (bytesOf(accDtype) + 2 * bytesOf(outDtype)))));
    const y0 = Math.floor((mpi.rank * height) / mpi.size), y1 = Math.floor(((mpi.rank + 1) * height) / mpi.size);
    const bandElements = Math.min(bandRows, y1 - y0) * width;
    const acc = newArray(accDtype, bandElements) as AccArray;
    const got = newArray(outDtype, bandElements);
    const expected = newArray(outDtype, bandElements);

    /** One plane checked against its channel's tiles: per-tile verdicts and the uncovered pixels that are not 0. */
    const checkPlane = ({ ds, plane, channel }: OutputPlane) => {
      const stats = new Float64Array(STATS * n);
      const uncovered = new Float64Array([0, -1, -1]);
      const held = new Map<number, PixelArray>();

      /** Expected values of rows [by0, by1) compared with `gotBand`, the output's. */
      const checkBand = (by0: number, by1: number, gotBand: NumericArray) => {
        const rows = by1 - by0;
        const inBand = geometry.tilesInRows(by0, by1);
        const expectedBand = expected.subarray(0, rows * width) as NumericArray;
        if (inBand.length === 0) {
          // No tile: every pixel must be 0 (sparse canvases are mostly such bands).
          expectedBand.fill(0 as never);
          if (!sameBytes(gotBand, expectedBand)) compareBand(gotBand as PixelArray, expectedBand as PixelArray, by0, width, integer, inBand, stats, uncovered);
          return;
        }
        const accBand = acc.subarray(0, rows * width);
        accBand.fill(0);
        if (source.readRun) readRuns(source, inBand, held);
        for (const t of inBand) {
          let data = held.get(t.index);
          if (!data) held.set(t.index, (data = source.read(t.index, channel)));
          // Bands are whole canvas rows, so the tile's part in the band is whole tile rows.
          const ry0 = Math.max(t.y, by0), ry1 = Math.min(t.y + t.height, by1);
          accumulateRegion({
            acc: accBand, accWidth: width, accY0: by0, accX0: 0, tile: t, covering: geometry.covering[t.order],
            data: data.subarray((ry0 - t.y) * t.width, (ry1 - t.y) * t.width) as PixelArray,
            region: { y0: ry0, y1: ry1, x0: t.x, x1: t.x + t.width }, blend: prov.blend,
          });
        }
        // Tiles that end in this band are not needed by this rank's later bands.
        for (const t of inBand) if (t.y + t.height <= by1) held.delete(t.index);
        if (integer) {
          // Native, against the definition of the output value rather than by rounding again
          // (docs/verify.md); the expected band is computed only to charge a failing band's pixels.
          const first = firstMismatchOf(accBand, gotBand);
          if (first < 0) return;
          toOutputDtype(accBand, expectedBand, outDtype);
          // The two checks are independent: a pixel one fails and the other passes is a defect in verify.
          if (gotBand[first] === expectedBand[first]) {
            throw new H5StitchError('ERR_KERNEL', `verify: the native check fails pixel ${first} of rows ${by0}..${by1 - 1} (${gotBand[first]} for ${accBand[first]}) but Math.round gives ${expectedBand[first]}`);
          }
        } else {
          toOutputDtype(accBand, expectedBand, outDtype);
          if (sameBytes(gotBand, expectedBand)) return;
        }
        compareBand(gotBand as PixelArray, expectedBand as PixelArray, by0, width, integer, inBand, stats, uncovered);
      };

      // Each rank reads its own bands independently (whole rows: one contiguous run no other rank
      // reads, nothing to aggregate) and makes no collective call per band: bands where a tile row
      // starts read whole tiles, and a per-band agreement made every rank wait for the slowest at
      // each band (1.3 s of a 4 s verify at 2 ranks). A tile that fails to read stops this rank;
      // every rank learns of it at the one agreement after the bands (and all end with one line).
      agreeing({ mpi, agreeEachBand: true }, () => {
        for (let by0 = y0; by0 < y1; by0 += bandRows) {
          const by1 = Math.min(by0 + bandRows, y1);
          const gotBand = got.subarray(0, (by1 - by0) * width) as NumericArray;
          const into = storedView(gotBand, ds.dtype!);
          if (plane === undefined) ds.read([by0, 0], [by1 - by0, width], into, { transfer: 'independent' });
          else ds.read([plane, by0, 0], [1, by1 - by0, width], into, { transfer: 'independent' });
          checkBand(by0, by1, gotBand);
        }
      });

      const all = mpi.allgather(stats);
      const allUncovered = mpi.allgather(uncovered);
      const verdicts: TileVerdict[] = planned.map((t, k) => {
        let worst = 0, mismatched = 0, zeros = 0, at: [number, number] | null = null;
        for (let r = 0; r < mpi.size; r++) {
          const s = r * STATS * n + STATS * k;
          mismatched += all[s + 1]; zeros += all[s + 2];
          if (all[s + 1] > 0 && (at === null || all[s] > worst)) { worst = all[s]; at = [all[s + 3], all[s + 4]]; }
        }
        // Missing: at least half the pixels the tile owns came out 0 (a lost write), else wrong.
        const status: TileStatus = mismatched === 0 ? 'ok' : zeros >= geometry.ownedPixels(t) / 2 ? 'missing' : 'wrong';
        return { index: t.index, ...(source.channels > 1 ? { channel } : {}), status, mismatched, worst, worstAt: at, y: t.y, x: t.x, height: t.height, width: t.width };
      }).sort((a, b) => a.index - b.index);
      let mismatched = 0, firstAt: [number, number] | null = null;
      for (let r = 0; r < mpi.size; r++) {
        mismatched += allUncovered[3 * r];
        if (firstAt === null && allUncovered[3 * r + 1] >= 0) firstAt = [allUncovered[3 * r + 1], allUncovered[3 * r + 2]];
      }
      return { verdicts, uncovered: { mismatched, firstAt, ...(source.channels > 1 ? { channel } : {}) } };
    };

    const checked = planes.map(checkPlane);
    const verdicts = checked.flatMap((p) => p.verdicts);
    const uncovered = checked.find((p) => p.uncovered.mismatched > 0)?.uncovered ?? checked[0].uncovered;
    uncovered.mismatched = checked.reduce((sum, p) => sum + p.uncovered.mismatched, 0);
    // Each channel dataset of --channels-as datasets is marked complete on its own.
    const complete = prov.complete && planes.every((p) => o.placement || p.ds.getAttr(PROVENANCE.attr.complete) === 1);
    const failed = verdicts.filter((t) => t.status !== 'ok');
    const levels = pyramid ? verifyLevels(mpi, file, pyramid, [height, width], memPerRank) : undefined;
    return {
      ok: failed.length === 0 && uncovered.mismatched === 0 && complete && (levels ?? []).every((l) => l.status === 'ok'),
      ...(levels ? { levels } : {}),
      tiles: verdicts, failed, complete, pixels: planes.length * height * width,
      ...(source.channels > 1 ? { channels: planes.map((p) => p.channel) } : {}),
      uncovered,
      inputChanged: prov.inputs ? fingerprintChanges(prov.inputs, source.fingerprint) : [],
      fingerprinted: prov.inputs !== null,
      shape: [height, width],
    };
  } finally {
    tiles?.close();
    file.close(); // closes the datasets too
  }
}

const RUN_BYTES = 8 * 2 ** 20;

/**
 * Reads the tiles of `tiles` not yet `held` whose indices run on (a row of a generated or
 * microscope grid usually does) with one read per run instead of one per tile: 90,000 tiles of
 * 16² took 0.8 s of a 3.3 s verify one by one. A run that fails is left to the per-tile reads,
 * whose error names the tile.
 */
function readRuns(source: WholeTiles, tiles: readonly { index: number }[], held: Map<number, PixelArray>): void {
  const wanted = tiles.map((t) => t.index).filter((i) => !held.has(i)).sort((a, b) => a - b);
  // Runs of at most 8 MiB: small tiles are where the per-read cost is; a big array is a fresh
  // mapping whose every page faults (runs of 16 tiles of 2048² float32 made verify 1.6x slower).
  const most = Math.floor(RUN_BYTES / (source.height * source.width * bytesOf(source.dtype)));
  if (most < 2) return;
  for (let start = 0, end = 1; start < wanted.length; start = end, end = start + 1) {
    while (end < wanted.length && end - start < most && wanted[end] === wanted[end - 1] + 1) end++;
    if (end - start < 2) continue;
    let run: PixelArray[];
    try {
      run = source.readRun!(wanted[start], end - start);
    } catch {
      continue;
    }
    run.forEach((data, k) => held.set(wanted[start] + k, data));
  }
}

/** The output's planes must be the input's channels: all of them, or (one dataset of --channels-as datasets) one of them. */
function checkChannels(planes: OutputPlane[], inputChannels: number, what: string): void {
  const single = planes.length === 1 && planes[0].plane === undefined;
  if (single ? planes[0].channel >= inputChannels : planes.length !== inputChannels) {
    const has = single ? `is channel ${planes[0].channel}` : `has ${planes.length} channels`;
    throw new UsageError(`${what} ${has} but the input has ${inputChannels} channel${inputChannels > 1 ? 's' : ''}`);
  }
  if (single && inputChannels > 1 && planes[0].ds.getAttr(PROVENANCE.attr.channel) === undefined) {
    throw new UsageError(`${what} is one 2-D plane with no channel attribute but the input has ${inputChannels} channels`);
  }
}

/** The recorded tiles must be the input's tiles (shape, index) and lie on the output's canvas. */
function checkAgainstProvenance(placed: PlacedTile[], tileShape: [number, number], tiles: WholeTiles, height: number, width: number): void {
  if (tileShape[0] !== tiles.height || tileShape[1] !== tiles.width) {
    throw new UsageError(`the output was stitched from ${tileShape.join('x')} tiles but the input's tiles are ${tiles.height}x${tiles.width}`);
  }
  for (const t of placed) {
    if (!Number.isInteger(t.index) || t.index < 0 || t.index >= tiles.count) {
      throw new UsageError(`the output's provenance places tile ${t.index} but the input has tiles 0..${tiles.count - 1}`);
    }
    if (t.y < 0 || t.x < 0 || t.y + t.height > height || t.x + t.width > width) {
      throw new UsageError(`the output's provenance places tile ${t.index} at (${t.y}, ${t.x}), outside the ${height}x${width} output`);
    }
  }
}

/**
 * verify's own tile geometry (all tiles one size): which tiles cross a band of rows, each tile's
 * overlapping neighbours in canonical order (the kernel's `covering`), and which pixels a tile owns.
 */
class Geometry {
  readonly covering: PlannedTile[][];
  private readonly byY: PlannedTile[];

  constructor(readonly planned: PlannedTile[], private readonly shape: [number, number]) {
    this.byY = [...planned].sort((a, b) => a.y - b.y || a.order - b.order);
    const [h, w] = shape;
    // Two tiles of one size overlap iff both offsets are below the size.
    this.covering = planned.map((t) => this.startingIn(t.y - h + 1, t.y + h)
      .filter((u) => Math.abs(u.x - t.x) < w)
      .sort((a, b) => a.order - b.order));
  }

  /** Tiles whose top row is in [from, to), by y. */
  private startingIn(from: number, to: number): PlannedTile[] {
    const first = (y: number) => {
      let lo = 0, hi = this.byY.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.byY[mid].y < y) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return this.byY.slice(first(from), first(to));
  }

  /** Tiles crossing rows [y0, y1), in canonical order (the order the stitch adds them in). */
  tilesInRows(y0: number, y1: number): PlannedTile[] {
    return this.startingIn(y0 - this.shape[0] + 1, y1).sort((a, b) => a.order - b.order);
  }

  /** Pixels where `t` has the largest feather weight (ties: the earlier tile in canonical order). */
  ownedPixels(t: PlannedTile): number {
    const others = this.covering[t.order].filter((c) => c !== t);
    let owned = 0;
    for (let y = t.y; y < t.y + t.height; y++) {
      for (let x = t.x; x < t.x + t.width; x++) {
        const mine = rawWeight(t, y, x);
        if (others.every((c) => { const w = rawWeight(c, y, x); return w < mine || (w === mine && t.order < c.order); })) owned++;
      }
    }
    return owned;
  }
}

/** The output values of a blended band: floats as they are, integers rounded (Math.round) and clipped. */
function toOutputDtype(acc: AccArray, out: NumericArray, dtype: Dtype): void {
  const range = rangeOf(dtype);
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

function sameBytes(a: NumericArray, b: NumericArray): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * Pixel by pixel, for a band whose bytes differ: each differing pixel is charged to the tile
 * owning it (the largest feather weight among the band's tiles covering it), or counted as
 * uncovered when no tile covers it.
 */
function compareBand(got: PixelArray, expected: PixelArray, y0: number, width: number, integer: boolean,
  inBand: PlannedTile[], stats: Float64Array, uncovered: Float64Array): void {
  let rowTiles: PlannedTile[] = [];
  let row = -1;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], e = expected[i];
    if (g === e || (g !== g && e !== e)) continue;
    const error = g !== g || e !== e ? Infinity : Math.abs(g - e);
    if (!integer && error <= 1e-6 * Math.max(1, Math.abs(e))) continue;
    const y = y0 + Math.floor(i / width), x = i - (y - y0) * width;
    if (y !== row) {
      row = y;
      rowTiles = inBand.filter((t) => y >= t.y && y < t.y + t.height);
    }
    let owner = -1, best = 0;
    for (const t of rowTiles) {
      const w = rawWeight(t, y, x);
      if (w > best) { best = w; owner = t.order; }
    }
    if (owner < 0) {
      if (uncovered[0]++ === 0) { uncovered[1] = y; uncovered[2] = x; }
      continue;
    }
    const s = STATS * owner;
    stats[s + 1]++;
    if (g === 0) stats[s + 2]++;
    if (stats[s + 1] === 1 || error > stats[s]) { stats[s] = error; stats[s + 3] = y; stats[s + 4] = x; }
  }
}
