/** Reads and writes an output's provenance (names and table layout: core/provenance.ts). */
import { PROVENANCE, tableColumns, tileTable, tilesFromColumns, type InputFingerprint, type Provenance } from '../core/provenance';
import type { BlendMode } from '../core/weights';
import { UsageError } from '../errors';
import type { Dataset, H5File } from '../runtime/hdf5';

const A = PROVENANCE.attr;

/**
 * Writes the provenance of `out` (all but `complete`). Collective on a parallel file: every rank
 * calls; rank `writer` writes the tile table.
 */
export function writeProvenance(file: H5File, out: Dataset, p: Omit<Provenance, 'complete'>, isWriter: boolean): void {
  const table = tileTable(p.tiles);
  const rows = table.length / PROVENANCE.tileColumns.length;
  const ds = file.createDataset(PROVENANCE.tiles, { shape: [rows, PROVENANCE.tileColumns.length], dtype: 'int32' });
  ds.setAttr(A.columns, PROVENANCE.tileColumns.join(','));
  if (file.parallel) {
    const mine = isWriter ? rows : 0;
    ds.write([0, 0], [mine, PROVENANCE.tileColumns.length], isWriter ? table : new Int32Array(0), { transfer: 'collective' });
  } else {
    ds.write([0, 0], [rows, PROVENANCE.tileColumns.length], table);
  }
  ds.close();
  if (p.inputs) writeInputs(file, p.inputs, isWriter);
  out.setAttr(A.tileShape, p.tileShape);
  if (p.overlap) out.setAttr(A.overlap, p.overlap);
  out.setAttr(A.blend, p.blend);
  out.setAttr(A.strategy, p.strategy);
  out.setAttr(A.io, p.io);
  out.setAttr(A.ranks, p.ranks);
  out.setAttr(A.version, p.version);
  out.setAttr(A.input, p.input);
}

/** The input fingerprint table (PROVENANCE.inputs) and its attributes. Collective like writeProvenance. */
function writeInputs(file: H5File, fp: InputFingerprint, isWriter: boolean): void {
  const columns = PROVENANCE.inputColumns.length;
  const rows = fp.files.length;
  const table = new Float64Array(rows * columns);
  fp.files.forEach((f, i) => table.set([f.size, f.mtimeMs], i * columns));
  const ds = file.createDataset(PROVENANCE.inputs, { shape: [rows, columns], dtype: 'float64' });
  ds.setAttr(A.columns, PROVENANCE.inputColumns.join(','));
  ds.setAttr(PROVENANCE.inputAttr.kind, fp.kind);
  ds.setAttr(PROVENANCE.inputAttr.tilesShape, fp.tilesShape);
  ds.setAttr(PROVENANCE.inputAttr.tilesDtype, fp.tilesDtype);
  ds.setAttr(PROVENANCE.inputAttr.tilesPath, fp.tilesPath || '-');
  if (file.parallel) {
    ds.write([0, 0], [isWriter ? rows : 0, columns], isWriter ? table : new Float64Array(0), { transfer: 'collective' });
  } else {
    ds.write([0, 0], [rows, columns], table);
  }
  ds.close();
}

/** The input fingerprint recorded with an output, or null when it has none (written before 0.2). */
function readInputs(file: H5File): InputFingerprint | null {
  if (file.objectType(PROVENANCE.inputs) !== 'dataset') return null;
  const ds = file.openDataset(PROVENANCE.inputs);
  try {
    const [rows, columns] = ds.shape;
    const shape = ds.getAttr(PROVENANCE.inputAttr.tilesShape);
    const kind = String(ds.getAttr(PROVENANCE.inputAttr.kind));
    if (columns !== PROVENANCE.inputColumns.length || ds.dtype !== 'float64' || (kind !== 'hdf5' && kind !== 'npy' && kind !== 'tiff') ||
        !(shape instanceof Float64Array) || shape.length !== 3) {
      throw new UsageError(`${file.path}:${PROVENANCE.inputs} is not an input fingerprint table h5stitch wrote`);
    }
    const table = ds.read([0, 0], [rows, columns], new Float64Array(rows * columns), file.parallel ? { transfer: 'collective' } : {});
    const path = String(ds.getAttr(PROVENANCE.inputAttr.tilesPath) ?? '-');
    return {
      kind,
      files: Array.from({ length: rows }, (_, i) => ({ size: table[i * columns], mtimeMs: table[i * columns + 1] })),
      tilesShape: [shape[0], shape[1], shape[2]],
      tilesDtype: String(ds.getAttr(PROVENANCE.inputAttr.tilesDtype) ?? ''),
      tilesPath: path === '-' ? '' : path,
    };
  } finally {
    ds.close();
  }
}

/** The provenance of an h5stitch output dataset; UsageError when it has none. */
export function readProvenance(file: H5File, out: Dataset): Provenance {
  const shape = out.getAttr(A.tileShape);
  if (!(shape instanceof Float64Array) || shape.length !== 2) {
    throw new UsageError(`${file.path}:${out.name} has no '${A.tileShape}' attribute: not written by h5stitch`);
  }
  // [C, H, W] outputs of multi-channel input: verify (and damage) know 2-D canvases only.
  // [1, H, W] is one plane (BigDataViewer's level 0).
  if (out.shape.length !== 2 && !(out.shape.length === 3 && out.shape[0] === 1)) throw new UsageError(`${file.path}:${out.name} is [${out.shape.join(', ')}], a multi-channel output; verify checks 2-D outputs only`);
  const tileShape: [number, number] = [shape[0], shape[1]];
  let columns: ArrayLike<number>[];
  if (file.objectType(PROVENANCE.tiles) === 'dataset') {
    const ds = file.openDataset(PROVENANCE.tiles);
    try {
      const table = ds.read([0, 0], ds.shape, new Int32Array(ds.shape[0] * ds.shape[1]), file.parallel ? { transfer: 'collective' } : {});
      columns = tableColumns(table);
    } finally {
      ds.close();
    }
  } else {
    columns = PROVENANCE.legacyTileAttrs.map((name) => {
      const v = out.getAttr(name);
      if (!(v instanceof Float64Array)) throw new UsageError(`${file.path} has no ${PROVENANCE.tiles} table: not written by h5stitch`);
      return v;
    });
  }
  const overlap = out.getAttr(A.overlap);
  return {
    tiles: tilesFromColumns(columns, tileShape),
    tileShape,
    blend: String(out.getAttr(A.blend)) as BlendMode,
    complete: out.getAttr(A.complete) === 1,
    input: String(out.getAttr(A.input) ?? ''),
    overlap: overlap instanceof Float64Array && overlap.length === 2 ? [overlap[0], overlap[1]] : null,
    strategy: String(out.getAttr(A.strategy) ?? ''),
    io: String(out.getAttr(A.io) ?? ''),
    ranks: Number(out.getAttr(A.ranks) ?? 0),
    version: String(out.getAttr(A.version) ?? ''),
    inputs: readInputs(file),
  };
}
