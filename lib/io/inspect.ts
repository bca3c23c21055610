/**
 * What an output holds (`inspect`): its image datasets (shape, dtype, chunks, filters, bytes on
 * disk), its resolution levels, and the provenance h5stitch recorded, read leniently: a file
 * another tool wrote, an old output or a multi-channel one is described as far as it goes, never
 * refused for what it lacks. Serial (one rank).
 */
import * as fs from 'node:fs';
import { bytesOf, type Dtype } from '../core/dtype';
import { PROVENANCE } from '../core/provenance';
import { canvasPathOf, PYRAMID_PROVENANCE } from '../core/pyramid';
import { UsageError } from '../errors';
import { openFile, type Dataset, type H5File } from '../runtime/hdf5';
import { outputLevels, type LevelLayout } from './levels';

export interface DatasetSummary {
  path: string;
  shape: number[];
  /** null: a type h5stitch has no name for. */
  dtype: Dtype | null;
  /** null: contiguous. */
  chunk: number[] | null;
  /** e.g. [{ name: 'gzip', level: 4 }]; [] when unfiltered. */
  filters: Array<{ name: string; level?: number; values: number[] }>;
  /** Bytes its data takes in the file, and as raw elements (null when the dtype is unknown). */
  storedBytes: number;
  rawBytes: number | null;
  /** Pyramid attributes when present (N5 viewer: downsamplingFactors [x, y]). */
  downsamplingFactors?: number[];
  /** Another path to the same dataset (a hard link, e.g. /multiscale/s0 to /stitched): its summary is there. */
  sameAs?: string;
  /** The element type its values mean when it differs from the stored one (BigDataViewer's uint16 stored as int16). */
  meantDtype?: Dtype;
}

export interface ProvenanceSummary {
  /** The `complete` attribute is 1: every byte was flushed before the output was renamed. */
  complete: boolean;
  tiles: number | null;
  tileShape: [number, number] | null;
  /** Grid rows x columns of the tile table (max grid_row/grid_col + 1). */
  grid: [number, number] | null;
  overlap: [number, number] | null;
  blend: string | null;
  strategy: string | null;
  io: string | null;
  ranks: number | null;
  version: string | null;
  input: string | null;
  /** The input's fingerprint: kind, its files, the tiles' shape and dtype (null when not recorded). */
  inputFingerprint: { kind: string; files: number; tilesShape: number[]; tilesDtype: string; tilesPath: string } | null;
  /** The pyramid the stitch recorded on the provenance group (docs/pyramid.md), or null. */
  pyramid: { levels: number; format: string | null; dtype: string | null; reduction: string | null } | null;
}

export interface OutputSummary {
  file: string;
  fileBytes: number;
  /** The output dataset asked for (default /stitched). */
  dataset: string;
  datasets: DatasetSummary[];
  /** Resolution levels, finest first (a flat output: its one dataset). */
  levels: { layout: LevelLayout; paths: string[] };
  /** null: the dataset records no h5stitch provenance (another tool's file). */
  provenance: ProvenanceSummary | null;
}

/** Every dataset under `group`, depth first, in name order. */
function walk(file: H5File, group: string, out: string[]): void {
  for (const name of [...file.list(group)].sort()) {
    const p = group === '/' ? `/${name}` : `${group}/${name}`;
    const kind = file.objectType(p);
    if (kind === 'dataset') out.push(p);
    else if (kind === 'group') walk(file, p, out);
  }
}

function numbers(value: unknown): number[] | undefined {
  return value instanceof Float64Array ? Array.from(value) : typeof value === 'number' ? [value] : undefined;
}

function text(value: unknown): string | null {
  return value === undefined ? null : String(value);
}

function describeDataset(ds: Dataset): DatasetSummary {
  const elements = ds.shape.reduce((a, b) => a * b, 1);
  const factors = ds.attrNames().includes('downsamplingFactors') ? numbers(ds.getAttr('downsamplingFactors')) : undefined;
  return {
    path: ds.name, shape: ds.shape, dtype: ds.dtype, chunk: ds.chunk,
    filters: ds.filters.map((f) => ({ name: f.name, ...(f.name === 'gzip' ? { level: f.values[0] } : {}), values: f.values })),
    storedBytes: ds.storageSize, rawBytes: ds.dtype ? elements * bytesOf(ds.dtype) : null,
    ...(factors ? { downsamplingFactors: factors } : {}),
  };
}

function provenanceOf(file: H5File, ds: Dataset): ProvenanceSummary | null {
  const A = PROVENANCE.attr;
  const names = ds.attrNames();
  if (!names.includes(A.tileShape) && !names.includes(A.complete)) return null;
  const pair = (v: unknown): [number, number] | null => {
    const n = numbers(v);
    return n && n.length === 2 ? [n[0], n[1]] : null;
  };
  let tiles: number | null = null, grid: [number, number] | null = null;
  if (file.objectType(PROVENANCE.tiles) === 'dataset') {
    const table = file.openDataset(PROVENANCE.tiles);
    try {
      const [rows, columns] = table.shape;
      tiles = rows;
      if (columns === PROVENANCE.tileColumns.length && table.dtype === 'int32' && rows > 0) {
        const values = table.read([0, 0], [rows, columns], new Int32Array(rows * columns));
        let maxRow = -1, maxCol = -1;
        for (let i = 0; i < rows; i++) {
          maxRow = Math.max(maxRow, values[i * columns + 3]);
          maxCol = Math.max(maxCol, values[i * columns + 4]);
        }
        grid = [maxRow + 1, maxCol + 1];
      }
    } finally {
      table.close();
    }
  } else if (names.includes(PROVENANCE.legacyTileAttrs[0])) {
    tiles = numbers(ds.getAttr(PROVENANCE.legacyTileAttrs[0]))?.length ?? null;
  }
  let inputFingerprint: ProvenanceSummary['inputFingerprint'] = null;
  if (file.objectType(PROVENANCE.inputs) === 'dataset') {
    const table = file.openDataset(PROVENANCE.inputs);
    try {
      const I = PROVENANCE.inputAttr;
      const path = String(table.getAttr(I.tilesPath) ?? '-');
      inputFingerprint = {
        kind: String(table.getAttr(I.kind) ?? ''), files: table.shape[0], tilesShape: numbers(table.getAttr(I.tilesShape)) ?? [],
        tilesDtype: String(table.getAttr(I.tilesDtype) ?? ''), tilesPath: path === '-' ? '' : path,
      };
    } finally {
      table.close();
    }
  }
  let pyramid: ProvenanceSummary['pyramid'] = null;
  const P = PYRAMID_PROVENANCE;
  if (file.objectType(PROVENANCE.group) === 'group' && file.attrNames(PROVENANCE.group).includes(P.levels)) {
    const g = (name: string) => (file.attrNames(PROVENANCE.group).includes(name) ? text(file.getAttr(PROVENANCE.group, name)) : null);
    pyramid = { levels: Number(file.getAttr(PROVENANCE.group, P.levels)), format: g(P.format), dtype: g(P.dtype), reduction: g(P.reduction) };
  }
  const ranks = ds.getAttr(A.ranks);
  return {
    complete: ds.getAttr(A.complete) === 1, tiles, tileShape: pair(ds.getAttr(A.tileShape)), grid, overlap: pair(ds.getAttr(A.overlap)),
    blend: text(ds.getAttr(A.blend)), strategy: text(ds.getAttr(A.strategy)), io: text(ds.getAttr(A.io)),
    ranks: typeof ranks === 'number' ? ranks : null, version: text(ds.getAttr(A.version)), input: text(ds.getAttr(A.input)),
    inputFingerprint, pyramid,
  };
}

/** Describes the HDF5 file `file` (its output dataset `dataset`); UsageError when it is not one. */
export function inspectOutput(file: string, dataset = '/stitched'): OutputSummary {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UsageError(`output ${file} does not exist`);
  }
  if (st.isDirectory()) throw new UsageError(`output ${file} is a directory, not an HDF5 file`);
  let h5: H5File;
  try {
    h5 = openFile(file, { mode: 'r' });
  } catch (error) {
    // The failing call and HDF5's innermost cause, on one line.
    const lines = String((error as Error).message).split('\n').map((l) => l.trim()).filter(Boolean);
    throw new UsageError(`cannot open ${file} as HDF5: ${lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : lines[0]}`);
  }
  try {
    const paths: string[] = [];
    walk(h5, '/', paths);
    const datasets: DatasetSummary[] = [];
    const ids = new Map<string, string[]>();
    for (const p of paths) {
      if (p.startsWith(`${PROVENANCE.group}/`)) continue; // provenance tables: summarised below
      const ds = h5.openDataset(p);
      try {
        datasets.push(describeDataset(ds));
        ids.set(ds.objectId, [...(ids.get(ds.objectId) ?? []), p]);
      } finally {
        ds.close();
      }
    }
    // Hard links: one path (the output dataset when it is one of them) is described, the others point to it.
    for (const group of ids.values()) {
      if (group.length < 2) continue;
      const primary = group.includes(dataset) ? dataset : group[0];
      for (const d of datasets) if (group.includes(d.path) && d.path !== primary) d.sameAs = primary;
    }
    let provenance: ProvenanceSummary | null = null;
    // A BigDataViewer output has no /stitched: its canvas is level 0's cells.
    if (dataset === '/stitched' && h5.objectType(dataset) !== 'dataset' && h5.objectType(canvasPathOf('bdv')) === 'dataset') dataset = canvasPathOf('bdv');
    if (h5.objectType(dataset) === 'dataset') {
      const ds = h5.openDataset(dataset);
      try {
        provenance = provenanceOf(h5, ds);
      } finally {
        ds.close();
      }
    }
    const { layout, levels } = outputLevels(h5, dataset);
    for (const level of levels.filter((l) => l.unsignedShort)) {
      const d = datasets.find((x) => x.path === level.path);
      if (d) d.meantDtype = 'uint16';
    }
    return { file, fileBytes: st.size, dataset, datasets, levels: { layout, paths: levels.map((l) => l.path) }, provenance };
  } finally {
    h5.close();
  }
}
