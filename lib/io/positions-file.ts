/**
 * Reads positions files: `--positions` values: `/DATASET` (in INPUT, the original form), `FILE.h5:/DATASET` (any HDF5
 * file, e.g. the output of `register`), or `FILE.json` (a JSON list of [y, x]).
 */
import * as fs from 'node:fs';
import { UsageError } from '../errors';
import { openFile, readAll } from '../runtime/hdf5';

export type PositionsSource = { positionsPath: string; positions?: undefined } | { positions: Array<[number, number]>; positionsPath?: undefined };

function checked(values: unknown, where: string): Array<[number, number]> {
  if (!Array.isArray(values) || values.length === 0 ||
      !values.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new UsageError(`positions in ${where} must be a non-empty list of [y, x] pairs of finite numbers`);
  }
  return values as Array<[number, number]>;
}

function readPositionsHdf5(file: string, dataset: string): Array<[number, number]> {
  if (!fs.existsSync(file)) throw new UsageError(`positions file ${file} does not exist`);
  let h5;
  try {
    h5 = openFile(file, { mode: 'r' });
  } catch (error) {
    throw new UsageError(`cannot open positions file ${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    if (h5.objectType(dataset) !== 'dataset') throw new UsageError(`positions dataset ${dataset} not found in ${file}`);
    const ds = h5.openDataset(dataset);
    try {
      if (ds.shape.length !== 2 || ds.shape[1] !== 2 || !ds.dtype) {
        throw new UsageError(`positions ${file}:${dataset} has shape [${ds.shape.join(', ')}]; expected [N, 2] (y, x) numbers`);
      }
      const flat = Array.from(readAll(ds) as ArrayLike<number | bigint>, Number);
      return checked(Array.from({ length: ds.shape[0] }, (_, i) => [flat[2 * i], flat[2 * i + 1]]), `${file}:${dataset}`);
    } finally {
      ds.close();
    }
  } finally {
    h5.close();
  }
}

/** Resolves a --positions value; reads FILE:/DATASET and FILE.json here (every rank reads the same small file). */
export function resolvePositions(value: string | undefined): PositionsSource | undefined {
  if (value === undefined) return undefined;
  // FILE:/DATASET first: an absolute FILE also starts with '/'.
  const colon = value.lastIndexOf(':/');
  if (colon > 0) return { positions: readPositionsHdf5(value.slice(0, colon), value.slice(colon + 1)) };
  if (value.endsWith('.json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(value, 'utf8'));
    } catch (error) {
      throw new UsageError(`cannot read positions ${value}: ${(error as Error).message}`);
    }
    return { positions: checked(parsed, value) };
  }
  if (value.startsWith('/')) return { positionsPath: value };
  throw new UsageError(`Expected /DATASET (in INPUT), FILE.h5:/DATASET or FILE.json for --positions but received "${value}"`);
}
