/**
 * The multiscale levels of an output, made from the level-0 rows as the stitch writes them, in the
 * same pass: each rank reduces its own rows (its slab starts at a multiple of 2^(levels-1) rows,
 * core/pyramid slabRowUnit, so every row pair of every level is inside one rank) and writes each
 * level's rows once a whole chunk row of that level is ready. Levels whose chunks are narrower
 * than the level, or compressed, are written collectively whatever the canvas's transfer: HDF5
 * then writes all of a call's chunks in one MPI-IO call, where independent writes go chunk by
 * chunk (256x256 chunks: 450-850 against 120-230 MB/s here, one rank). Levels chunked in whole
 * rows (the default layout without --chunk) are written as the canvas is. Names: core/pyramid.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newArray, type Dtype, type NumericArray, type PixelArray } from '../../core/dtype';
import {
  BDV, bdvDataType, downsamplingFactors, levelChunk, levelPath, levelShape, MULTISCALE_GROUP, N5_ATTRS, PYRAMID_PROVENANCE,
  PYRAMID_REDUCTION, storedDtype, storedView, type OutputFormat,
} from '../../core/pyramid';
import { PROVENANCE } from '../../core/provenance';
import { escapeXml } from '../../core/xml';
import type { Transfer } from '../../runtime/addon';
import type { Dataset, H5File } from '../../runtime/hdf5';
import { startDownsampleSteps, type BackgroundAccumulate, type DownsampleStep } from '../../runtime/kernel';

export interface PyramidSpec {
  format: OutputFormat;
  /** Levels, level 0 included (1: level 0 only, e.g. a flat bdv output). */
  levels: number;
  /** Chunk the level chunks derive from (core/pyramid levelChunk): the output's --chunk or the default. */
  chunkBase: [number, number];
  /** Rows every slab starts at a multiple of (core/pyramid slabRowUnit). */
  slabUnit: number;
  /** Physical size of a level-0 pixel along x and y, and its unit (N5 pixelResolution, BDV voxelSize). */
  voxelSize: [number, number];
  voxelUnit: string;
}

/** One level k >= 1: its dataset and the rows of it this rank made but has not written yet. */
class Level {
  readonly height: number;
  readonly width: number;
  /** Row pairs of level k-1 that straddle two writeRows calls: the first row waits here. */
  private carry: PixelArray;
  private carryRow = -1;
  private pending: PixelArray;
  /** Level-k row of pending[0]; -1 until this rank's first rows. */
  private pendingY0 = -1;
  private pendingRows = 0;
  private readonly pair: PixelArray;

  constructor(readonly k: number, readonly dataset: Dataset, readonly dtype: Dtype, private readonly stored: Dtype,
    readonly chunkRows: number, private readonly inShape: [number, number], shape: [number, number], private readonly threeD: boolean) {
    [this.height, this.width] = shape;
    this.carry = newArray(dtype, inShape[1]) as PixelArray;
    this.pair = newArray(dtype, 2 * inShape[1]) as PixelArray;
    this.pending = newArray(dtype, 0) as PixelArray;
  }

  /**
   * Plans adding level-(k-1) rows [y0, y0 + rows) (`src`): pushes the kernel and copy steps onto
   * `steps` (run later, in order, on the background thread) and returns the level-k rows they make
   * (a view, filled once the steps ran, valid until the next write).
   */
  reduce(y0: number, rows: number, src: PixelArray, steps: DownsampleStep[]): { y0: number; rows: number; data: PixelArray } {
    const inWidth = this.inShape[1];
    const width = this.width;
    if (rows === 0) return { y0: 0, rows: 0, data: this.pending.subarray(0, 0) };
    let first = 0;
    if (this.pendingY0 < 0) {
      if (y0 % 2 !== 0) throw new Error(`level ${this.k}: this rank's rows start at odd level-${this.k - 1} row ${y0}`);
      this.pendingY0 = y0 / 2;
    }
    const outY0 = this.pendingY0 + this.pendingRows;
    this.reserve(this.pendingRows + Math.ceil(rows / 2) + 1);
    let at = this.pendingRows;
    if (this.carryRow >= 0) {
      if (this.carryRow !== y0 - 1) throw new Error(`level ${this.k}: rows ${this.carryRow} and ${y0} of level ${this.k - 1} are not adjacent`);
      // Copies on the thread too: src may be rows an earlier step of this chain makes.
      steps.push({ src: this.carry, out: this.pair.subarray(0, inWidth) });
      steps.push({ src: src.subarray(0, inWidth), out: this.pair.subarray(inWidth) });
      steps.push({ src: this.pair, rows: 2, width: inWidth, out: this.pending.subarray(at * width, (at + 1) * width) });
      at++;
      first = 1;
      this.carryRow = -1;
    } else if (y0 % 2 !== 0) {
      throw new Error(`level ${this.k}: level-${this.k - 1} row ${y0} has no partner row`);
    }
    let n = rows - first;
    if (n % 2 === 1 && y0 + rows < this.inShape[0]) {
      // The last row's partner comes with the next call (never across ranks: slabs are aligned).
      steps.push({ src: src.subarray((rows - 1) * inWidth, rows * inWidth), out: this.carry });
      this.carryRow = y0 + rows - 1;
      n--;
    }
    if (n > 0) {
      const made = Math.ceil(n / 2);
      steps.push({ src: src.subarray(first * inWidth, (first + n) * inWidth), rows: n, width: inWidth, out: this.pending.subarray(at * width, (at + made) * width) });
      at += made;
    }
    const madeRows = at - this.pendingRows;
    this.pendingRows = at;
    return { y0: outY0, rows: madeRows, data: this.pending.subarray((at - madeRows) * width, at * width) };
  }

  /**
   * Writes the pending whole chunk rows (all pending rows when `final` or at the level's end).
   * Collective when `transfer` is: every rank calls once, with 0 rows when it has none ready.
   */
  write(final: boolean, transfer: Transfer): number {
    if (final && this.carryRow >= 0) throw new Error(`level ${this.k}: level-${this.k - 1} row ${this.carryRow} was left without its partner row`);
    const end = this.pendingY0 + this.pendingRows;
    const upto = final || end === this.height ? end : Math.max(this.pendingY0, Math.floor(end / this.chunkRows) * this.chunkRows);
    const rows = this.pendingY0 < 0 ? 0 : upto - this.pendingY0;
    if (rows === 0 && transfer === 'independent') return 0;
    const width = this.width;
    const data = storedView(this.pending.subarray(0, rows * width), this.stored);
    const y0 = rows > 0 ? this.pendingY0 : 0;
    if (this.threeD) this.dataset.write([0, y0, 0], [1, rows, width], data, { transfer });
    else this.dataset.write([y0, 0], [rows, width], data, { transfer });
    if (rows > 0) {
      this.pending.copyWithin(0, rows * width, this.pendingRows * width);
      this.pendingRows -= rows;
      this.pendingY0 += rows;
    }
    return data.byteLength;
  }

  /** Bytes this level holds in memory (its pending rows, the carried row and the pair buffer). */
  get heldBytes(): number {
    return this.pending.byteLength + this.carry.byteLength + this.pair.byteLength;
  }

  private reserve(rows: number): void {
    if (this.pending.length >= rows * this.width) return;
    const grown = newArray(this.dtype, Math.max(rows, 2 * this.pending.length / this.width) * this.width) as PixelArray;
    grown.set(this.pending.subarray(0, this.pendingRows * this.width));
    this.pending = grown;
  }
}

export interface PyramidLevels {
  readonly levels: number;
  /**
   * The levels are written collectively (compressed, or chunks narrower than a level), whatever
   * the canvas's transfer: every rank then hands every band to addRows, rows = 0 when it has none.
   */
  readonly collective: boolean;
  /**
   * Seconds this rank's kernel thread spent making levels (reduce: it overlaps the level-0 write)
   * and its main thread writing them (write), the level bytes it wrote, and the most bytes its
   * level buffers held.
   */
  readonly stats: { reduceSeconds: number; writeSeconds: number; bytes: number; heldBytes: number };
  /**
   * Starts making the level rows that level-0 rows [y0, y0 + rows) (`data`) complete, on a second
   * thread, so the kernel runs while the caller writes those rows; `data` must stay as it is until
   * writeRows. Not collective.
   */
  startRows(y0: number, rows: number, data: NumericArray): void;
  /**
   * After startRows (and the level-0 write): waits for the kernel and writes the whole chunk rows
   * now ready. Bytes written. Collective when `collective` or `transfer` is.
   */
  writeRows(transfer: Transfer): number;
  /** Waits for a kernel chain startRows began, writing nothing (a failed level-0 write). */
  settle(): void;
  /** After this rank's last rows: writes what is left of every level. Collective like addRows. Bytes written. */
  finish(transfer: Transfer): number;
  /** The pyramid's provenance and, for bdv, its tables (collective; `isWriter` writes the rows). */
  commit(file: H5File, isWriter: boolean): void;
  close(): void;
}

/**
 * Creates levels 1 .. levels-1 of a canvas dataset (`canvasPath`, shape [h, w], or [1, h, w] in bdv)
 * and the layout around them: /multiscale with s0 hard-linked to the canvas and the N5-viewer
 * attributes (hdf5), or BigDataViewer's /s00 tables (bdv). Collective.
 */
export function createLevels(file: H5File, canvasPath: string, shape: [number, number], dtype: Dtype, gzip: number | undefined,
  spec: PyramidSpec): PyramidLevels {
  const stored = storedDtype(spec.format, dtype);
  const bdv = spec.format === 'bdv';
  const chunks = Array.from({ length: spec.levels }, (_, k) => levelChunk(spec.chunkBase, levelShape(shape, k), k, spec.slabUnit));
  if (bdv) {
    file.createGroup(BDV.setup);
    const type = bdvDataType(dtype);
    if (type !== undefined) file.setAttr(BDV.setup, BDV.dataTypeAttr, type);
  } else {
    file.createGroup(MULTISCALE_GROUP);
    file.linkHard(canvasPath, levelPath('hdf5', 0));
    // n5-hdf5 reads a JSON-valued attribute from a string (as it writes one): "true" is the boolean.
    file.setAttr(MULTISCALE_GROUP, N5_ATTRS.multiScale, 'true');
  }
  const collective = gzip !== undefined || chunks.some((c, k) => k > 0 && c[1] < levelShape(shape, k)[1]);
  const levels: Level[] = [];
  for (let k = 1; k < spec.levels; k++) {
    const [h, w] = levelShape(shape, k);
    const chunk = chunks[k];
    const ds = file.createDataset(levelPath(spec.format, k), {
      shape: bdv ? [1, h, w] : [h, w], dtype: stored, chunk: bdv ? [1, ...chunk] : chunk, gzip, fillValue: 0, fillTime: 'never',
    });
    levels.push(new Level(k, ds, dtype, stored, chunk[0], levelShape(shape, k - 1), [h, w], bdv));
  }
  if (!bdv) {
    for (let k = 0; k < spec.levels; k++) {
      const p = levelPath('hdf5', k);
      // N5 axis order is x, y (HDF5's reversed); factors as longs, as n5-hdf5 writes long[].
      file.setAttr(p, N5_ATTRS.downsamplingFactors, BigInt64Array.from(downsamplingFactors(k), (f) => BigInt(f)));
      file.setAttr(p, N5_ATTRS.pixelResolution, JSON.stringify({ unit: spec.voxelUnit, dimensions: spec.voxelSize }));
    }
  }

  const stats = { reduceSeconds: 0, writeSeconds: 0, bytes: 0, heldBytes: 0 };
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  const writeAll = (final: boolean, transfer: Transfer) => {
    const t = now();
    let bytes = 0;
    for (const level of levels) bytes += level.write(final, collective ? 'collective' : transfer);
    stats.writeSeconds += now() - t;
    stats.bytes += bytes;
    return bytes;
  };
  // The kernel chain in flight (startRows to writeRows); reduceSeconds is its thread's time.
  let running: BackgroundAccumulate | undefined;
  const waitKernel = () => {
    const chain = running;
    running = undefined;
    if (chain) stats.reduceSeconds += chain.wait().seconds;
  };
  return {
    levels: spec.levels,
    collective,
    stats,
    startRows(y0, rows, data) {
      if (running) throw new Error('pyramid: startRows called twice without writeRows');
      const steps: DownsampleStep[] = [];
      let src = { y0, rows, data: data as PixelArray };
      for (const level of levels) src = level.reduce(src.y0, src.rows, src.data, steps);
      stats.heldBytes = Math.max(stats.heldBytes, levels.reduce((n, level) => n + level.heldBytes, 0));
      if (steps.length > 0) running = startDownsampleSteps(steps);
    },
    writeRows(transfer) {
      waitKernel();
      return writeAll(false, transfer);
    },
    settle: () => waitKernel(),
    finish(transfer) {
      waitKernel();
      return writeAll(true, transfer);
    },
    commit(target: H5File, isWriter: boolean) {
      if (bdv) writeBdvTables(target, spec.levels, chunks, isWriter);
      target.setAttr(PROVENANCE.group, PYRAMID_PROVENANCE.levels, spec.levels);
      target.setAttr(PROVENANCE.group, PYRAMID_PROVENANCE.format, spec.format);
      target.setAttr(PROVENANCE.group, PYRAMID_PROVENANCE.dtype, dtype);
      target.setAttr(PROVENANCE.group, PYRAMID_PROVENANCE.reduction, PYRAMID_REDUCTION);
    },
    close() {
      waitKernel();
      for (const level of levels) level.dataset.close();
    },
  };
}

/** /s00/resolutions (float64 [L, 3]) and /s00/subdivisions (int32 [L, 3]), x, y, z per level. Collective. */
function writeBdvTables(file: H5File, levels: number, chunks: Array<[number, number]>, isWriter: boolean): void {
  const resolutions = new Float64Array(levels * 3);
  const subdivisions = new Int32Array(levels * 3);
  for (let k = 0; k < levels; k++) {
    const [fx, fy] = downsamplingFactors(k);
    resolutions.set([fx, fy, 1], 3 * k);
    subdivisions.set([chunks[k][1], chunks[k][0], 1], 3 * k);
  }
  for (const [name, dtype, table] of [[BDV.resolutions, 'float64', resolutions], [BDV.subdivisions, 'int32', subdivisions]] as const) {
    const ds = file.createDataset(name, { shape: [levels, 3], dtype });
    ds.write([0, 0], [isWriter ? levels : 0, 3], isWriter ? table : table.subarray(0, 0), { transfer: 'collective' });
    ds.close();
  }
}

/** The BigDataViewer XML beside a bdv output `h5`: its path (FILE.xml for FILE.h5). */
export function bdvXmlPath(h5: string): string {
  const final = path.resolve(h5);
  return final.replace(/\.(h5|hdf5|hdf)$/i, '') + '.xml';
}

/**
 * The SpimData XML BigDataViewer opens (element names and order as spimdata's XmlIo classes write
 * them): the HDF5 file by relative path, one view setup (size x y z, voxel size), one timepoint,
 * an identity registration.
 */
export function bdvXml(h5: string, shape: [number, number], voxelSize: [number, number], voxelUnit: string): string {
  const [h, w] = shape;
  const num = (v: number) => (Number.isInteger(v) ? v.toFixed(1) : String(v));
  return `<?xml version="1.0" encoding="UTF-8"?>
<SpimData version="0.2">
  <BasePath type="relative">.</BasePath>
  <SequenceDescription>
    <ImageLoader format="bdv.hdf5">
      <hdf5 type="relative">${escapeXml(path.basename(h5))}</hdf5>
    </ImageLoader>
    <ViewSetups>
      <ViewSetup>
        <id>0</id>
        <name>stitched</name>
        <size>${w} ${h} 1</size>
        <voxelSize>
          <unit>${escapeXml(voxelUnit)}</unit>
          <size>${num(voxelSize[0])} ${num(voxelSize[1])} 1.0</size>
        </voxelSize>
      </ViewSetup>
    </ViewSetups>
    <Timepoints type="range">
      <first>0</first>
      <last>0</last>
    </Timepoints>
  </SequenceDescription>
  <ViewRegistrations>
    <ViewRegistration timepoint="0" setup="0">
      <ViewTransform type="affine">
        <affine>1.0 0.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 0.0 1.0 0.0</affine>
      </ViewTransform>
    </ViewRegistration>
  </ViewRegistrations>
</SpimData>
`;
}

/** Writes the XML under a temporary name beside `h5` (rank 0, before the rename); returns [temporary, final]. */
export function writeBdvXml(h5Final: string, shape: [number, number], voxelSize: [number, number], voxelUnit: string): [string, string] {
  const final = bdvXmlPath(h5Final);
  const partial = path.join(path.dirname(final), `.${path.basename(final)}.h5stitch-partial`);
  fs.writeFileSync(partial, bdvXml(h5Final, shape, voxelSize, voxelUnit));
  return [partial, final];
}
