/**
 * The resolution levels an output holds, found by looking, not assumed: the default layout's
 * `/multiscale/s<k>` datasets, the BigDataViewer layout's `/t00000/s00/<k>/cells`, or neither (a
 * flat output: its one dataset is the only level). Read by `preview` and `inspect`; written by the
 * pyramid sink (docs/pyramid.md).
 */
import type { Dtype } from '../core/dtype';
import { BDV, MULTISCALE_GROUP } from '../core/pyramid';
import type { H5File } from '../runtime/hdf5';

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
 * The output's levels, finest first, and which layout they follow. `dataset` (the output's
 * full-resolution dataset) is the one level of a flat output, and level 0 of a multiscale output
 * whose `s0` is missing. Datasets of fewer than 2 dimensions are not levels.
 */
export function outputLevels(file: H5File, dataset: string): { layout: LevelLayout; levels: OutputLevel[] } {
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
