/**
 * Reading an output's levels: which levels it records (provenance on /h5stitch, names in
 * core/pyramid.ts), or for files h5stitch did not write, which it holds by looking (outputLevels);
 * and each level as a 2-D image of its meant element type, whatever the layout stores (bdv:
 * [1, h, w], uint16 as int16 bits). For verify, preview and inspect (docs/pyramid.md).
 */
import { isDtype, newArray, type Dtype, type NumericArray } from '../core/dtype';
import { BDV, levelPath, MULTISCALE_GROUP, OUTPUT_FORMATS, PYRAMID_PROVENANCE, storedView, type OutputFormat } from '../core/pyramid';
import { PROVENANCE } from '../core/provenance';
import { UsageError } from '../errors';
import type { Transfer } from '../runtime/addon';
import type { Dataset, H5File } from '../runtime/hdf5';

export interface PyramidInfo {
  /** Levels, level 0 included. */
  levels: number;
  format: OutputFormat;
  /** The element type as meant (a bdv uint16 output stores int16 bits). */
  dtype: Dtype;
  /** Level 0, the full-resolution canvas: /multiscale/s0 (a hard link to /stitched or the --out dataset), or bdv's /t00000/s00/0/cells. */
  canvasPath: string;
}

/** The pyramid an output records, or null for a flat output (or one written before pyramids). */
export function readPyramidInfo(file: H5File): PyramidInfo | null {
  if (file.objectType(PROVENANCE.group) !== 'group') return null;
  const levels = file.getAttr(PROVENANCE.group, PYRAMID_PROVENANCE.levels);
  if (levels === undefined) return null;
  const format = String(file.getAttr(PROVENANCE.group, PYRAMID_PROVENANCE.format));
  const dtype = String(file.getAttr(PROVENANCE.group, PYRAMID_PROVENANCE.dtype));
  if (typeof levels !== 'number' || !Number.isInteger(levels) || levels < 1 || !OUTPUT_FORMATS.includes(format as OutputFormat) || !isDtype(dtype)) {
    throw new UsageError(`${file.path}:${PROVENANCE.group} has pyramid attributes h5stitch did not write (levels ${String(levels)}, format ${format}, dtype ${dtype})`);
  }
  const f = format as OutputFormat;
  return { levels, format: f, dtype, canvasPath: levelPath(f, 0) };
}

/** One level as a 2-D image. */
export interface LevelView {
  readonly path: string;
  readonly shape: [number, number];
  /** As meant. */
  readonly dtype: Dtype;
  readonly dataset: Dataset;
  /** Rows [y0, y0 + rows) into `out` (of `dtype`, rows x width); collective when `transfer` is. */
  read(y0: number, rows: number, out: NumericArray, transfer?: Transfer): NumericArray;
  close(): void;
}

/**
 * A dataset as a 2-D image: [h, w], or [1, h, w] (bdv); `meant` uint16 over stored int16 is read
 * as the same bits. Null when `path` is not a dataset of that form.
 */
export function openImage(file: H5File, path: string, meant?: Dtype): LevelView | null {
  if (file.objectType(path) !== 'dataset') return null;
  const dataset = file.openDataset(path);
  const shape = dataset.shape;
  const stored = dataset.dtype;
  const threeD = shape.length === 3 && shape[0] === 1;
  const dtype = meant === 'uint16' && stored === 'int16' ? 'uint16' : stored;
  if (!stored || !(shape.length === 2 || threeD) || (meant !== undefined && dtype !== meant)) {
    dataset.close();
    return null;
  }
  const [h, w] = threeD ? [shape[1], shape[2]] : [shape[0], shape[1]];
  return {
    path, shape: [h, w], dtype: dtype as Dtype, dataset,
    read(y0, rows, out, transfer) {
      const into = storedView(out, stored);
      const options = transfer ? { transfer } : {};
      if (threeD) dataset.read([0, rows > 0 ? y0 : 0, 0], [1, rows, w], into, options);
      else dataset.read([rows > 0 ? y0 : 0, 0], [rows, w], into, options);
      return out;
    },
    close: () => dataset.close(),
  };
}

/** Level k of `info`'s pyramid, or null when the file does not hold it as a 2-D image of its dtype. */
export function openLevel(file: H5File, info: PyramidInfo, k: number): LevelView | null {
  return openImage(file, levelPath(info.format, k), info.dtype);
}

/** A buffer for `rows` rows of a level. */
export function levelRowsBuffer(level: Pick<LevelView, 'dtype' | 'shape'>, rows: number): NumericArray {
  return newArray(level.dtype, rows * level.shape[1]);
}

export type LevelLayout = 'multiscale' | 'bdv' | 'flat';

export interface OutputLevel {
  /** Dataset path. */
  path: string;
  /** Full shape as stored ([H, W], [C, H, W], or BDV's [1, H, W]). */
  shape: number[];
  /** The image plane: the last two dimensions. */
  height: number;
  width: number;
  /** The stored dtype (null: not one h5stitch names). */
  dtype: Dtype | null;
  /**
   * BigDataViewer stores uint16 as int16 unless its setup says otherwise (`dataType`): the values
   * are then read as unsigned.
   */
  unsignedShort: boolean;
}

function numbered(file: H5File, group: string, pattern: RegExp, leaf: string): Array<{ k: number; path: string }> {
  if (file.objectType(group) !== 'group') return [];
  return file.list(group)
    .map((name) => ({ name, m: pattern.exec(name) }))
    .filter(({ m }) => m !== null)
    .map(({ name, m }) => ({ k: Number(m![1]), path: `${group}/${name}${leaf}` }))
    .filter(({ path }) => file.objectType(path) === 'dataset')
    .sort((a, b) => a.k - b.k);
}

function describe(file: H5File, path: string, unsignedShort: boolean): OutputLevel {
  const ds = file.openDataset(path);
  try {
    const shape = ds.shape;
    return {
      path, shape, height: shape[shape.length - 2] ?? 0, width: shape[shape.length - 1] ?? 0, dtype: ds.dtype,
      unsignedShort: unsignedShort && ds.dtype === 'int16',
    };
  } finally {
    ds.close();
  }
}

/**
 * The output's levels, finest first, and which layout they follow: those its provenance records
 * (readPyramidInfo; a recorded level that is missing is an error), else, for files h5stitch did
 * not write, those found by looking: the default layout's `/multiscale/s<k>` datasets, the
 * BigDataViewer layout's `/t00000/s00/<k>/cells`, or neither (flat). `dataset` (the output's
 * full-resolution dataset) is the one level of a flat output, and level 0 of a multiscale output
 * whose `s0` is missing. Datasets of fewer than 2 dimensions are not levels.
 */
export function outputLevels(file: H5File, dataset: string): { layout: LevelLayout; levels: OutputLevel[] } {
  const info = readPyramidInfo(file);
  if (info) {
    const levels = Array.from({ length: info.levels }, (_, k) => {
      const p = levelPath(info.format, k);
      if (file.objectType(p) !== 'dataset') throw new UsageError(`${file.path} records ${info.levels} pyramid levels but has no dataset ${p}`);
      return describe(file, p, info.format === 'bdv' && info.dtype === 'uint16');
    });
    return { layout: info.format === 'bdv' ? 'bdv' : 'multiscale', levels };
  }
  const multiscale = numbered(file, MULTISCALE_GROUP, /^s(\d+)$/, '');
  if (multiscale.length > 0) {
    const levels = multiscale.map((l) => describe(file, l.path, false));
    if (multiscale[0].k !== 0 && file.objectType(dataset) === 'dataset') levels.unshift(describe(file, dataset, false));
    return { layout: 'multiscale', levels: levels.filter((l) => l.shape.length >= 2) };
  }
  const bdv = numbered(file, BDV.setupInTimepoint, /^(\d+)$/, '/cells');
  if (bdv.length > 0) {
    // bigdataviewer-core: a setup without a dataType attribute holds uint16 stored as int16.
    const typed = file.objectType(BDV.setup) === 'group' && file.attrNames(BDV.setup).includes(BDV.dataTypeAttr);
    const dataType = typed ? String(file.getAttr(BDV.setup, BDV.dataTypeAttr)) : 'uint16';
    return { layout: 'bdv', levels: bdv.map((l) => describe(file, l.path, dataType === 'uint16')).filter((l) => l.shape.length >= 2) };
  }
  return { layout: 'flat', levels: file.objectType(dataset) === 'dataset' ? [describe(file, dataset, false)] : [] };
}
