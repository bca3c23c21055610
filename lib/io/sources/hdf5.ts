/**
 * Tiles in an HDF5 file: a 3-D dataset [N, H, W] or a group of 2-D datasets named 0, 1, ...
 * HDF5 failures (a corrupt or truncated file, a read error) become InputError naming the file, the
 * tiles and the innermost cause on one line.
 */
import * as fs from 'node:fs';
import { bytesOf, type Dtype, type NumericArray } from '../../core/dtype';
import { InputError, UsageError } from '../../errors';
import { reusedArray } from '../../runtime/buffers';
import { openFile, readAll, type Dataset, type H5File } from '../../runtime/hdf5';
import { checkFileUnchanged, checkTileDtype, fileChange, hdf5Cause, statInput, type OpenedFile, type RawRegion, type TileSource, type TileSourceOptions } from './source';

export function openHdf5Tiles(input: string, options: TileSourceOptions): TileSource {
  const opened = statInput(input, 'input');
  let file: H5File;
  try {
    file = openFile(input, { mode: 'r' });
  } catch (error) {
    throw new InputError(`cannot open input ${input} as HDF5: ${hdf5Cause(error)}`, { cause: error });
  }
  try {
    const tilesPath = options.tilesPath ?? '/tiles';
    const kind = file.objectType(tilesPath);
    if (kind === null) throw new UsageError(`input ${input} has no tiles dataset or group ${tilesPath}`);
    let read: (index: number, y0: number, y1: number, x0: number, x1: number, out: NumericArray) => void;
    // The byte offset of tile `index`'s pixel [0, 0] in the file when its pixels lie there as a
    // typed array holds them, row after row; else null.
    let rawStart: (index: number) => number | null;
    let count: number, height: number, width: number, dtype: Dtype;
    const datasets: Dataset[] = [];
    if (kind === 'dataset') {
      const ds = file.openDataset(tilesPath);
      datasets.push(ds);
      if (ds.shape.length !== 3) {
        throw new UsageError(`tiles dataset ${tilesPath} in ${input} has ${ds.shape.length} dimensions; expected 3 ([N, H, W]) or a group of 2-D datasets`);
      }
      [count, height, width] = ds.shape;
      dtype = checkTileDtype(ds.dtype, `${input}:${tilesPath}`);
      read = (index, y0, y1, x0, x1, out) => ds.read([index, y0, x0], [1, y1 - y0, x1 - x0], out);
      const base = rawBase(ds);
      rawStart = (index) => (base === null ? null : base + index * height * width * bytesOf(dtype));
    } else {
      const names = file.list(tilesPath).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
      if (names.length === 0) throw new UsageError(`tiles group ${tilesPath} in ${input} holds no datasets named by tile index (0, 1, ...)`);
      names.forEach((n, i) => {
        if (Number(n) !== i) throw new UsageError(`tiles group ${tilesPath} in ${input} is missing tile ${i} (found ${n})`);
      });
      for (const n of names) datasets.push(file.openDataset(`${tilesPath}/${n}`));
      const first = datasets[0];
      for (const ds of datasets) {
        if (ds.shape.length !== 2) throw new UsageError(`tile ${ds.name} in ${input} has ${ds.shape.length} dimensions; expected 2`);
        if (ds.shape[0] !== first.shape[0] || ds.shape[1] !== first.shape[1]) {
          throw new UsageError(`tiles have different shapes: ${first.name} is ${first.shape.join('x')} but ${ds.name} is ${ds.shape.join('x')}`);
        }
        if (ds.dtype !== first.dtype) throw new UsageError(`tiles have different dtypes: ${first.name} is ${first.dtype} but ${ds.name} is ${ds.dtype}`);
      }
      count = datasets.length;
      [height, width] = first.shape;
      dtype = checkTileDtype(first.dtype, `${input}:${tilesPath}`);
      read = (index, y0, y1, x0, x1, out) => datasets[index].read([y0, x0], [y1 - y0, x1 - x0], out);
      // Looked up when first asked: a group may hold many tiles, and most runs never ask.
      const bases = new Map<number, number | null>();
      rawStart = (index) => {
        if (!bases.has(index)) bases.set(index, rawBase(datasets[index]));
        return bases.get(index)!;
      };
    }
    const layout = readLayout(file, options.layoutPath ?? '/tile_array', options.layoutPath !== undefined);
    const positions = options.positionsPath ? readPositions(file, options.positionsPath) : undefined;
    const overlap = readOverlapAttr(file, tilesPath);
    const raw = rawReader(input, opened);
    return {
      count, height, width, dtype, layout, positions, overlap,
      fingerprint: { kind: 'hdf5', files: [{ size: opened.size, mtimeMs: opened.mtimeMs }], tilesShape: [count, height, width], tilesDtype: dtype, tilesPath },
      readRegion(index, y0, y1, x0, x1, into) {
        const out = into ?? reusedArray('tile-read', dtype, (y1 - y0) * (x1 - x0));
        try {
          read(index, y0, y1, x0, x1, out);
        } catch (error) {
          throw new InputError(`cannot read tile ${index} from ${input}:${tilesPath}: ${hdf5Cause(error)}`, { cause: error });
        }
        return out;
      },
      rawRegion(index, y0, y1, x0, x1): RawRegion | undefined {
        if (!(index >= 0 && index < count && y0 >= 0 && y0 <= y1 && y1 <= height && x0 >= 0 && x0 <= x1 && x1 <= width)) {
          throw new RangeError(`rawRegion(${index}, ${y0}, ${y1}, ${x0}, ${x1}) is outside the ${count} tiles of ${height}x${width}`);
        }
        const start = rawStart(index);
        if (start === null) return undefined;
        const bpe = bytesOf(dtype);
        // Whole rows are one run of bytes: one pread instead of one per row.
        const whole = x0 === 0 && x1 === width;
        return {
          fd: raw.fd(), offset: start + (y0 * width + x0) * bpe, rows: whole ? 1 : y1 - y0, rowBytes: (whole ? y1 - y0 : 1) * (x1 - x0) * bpe,
          strideBytes: width * bpe, what: `tile ${index} from ${input}:${tilesPath}`,
        };
      },
      checkUnchanged() {
        checkFileUnchanged(opened, `input ${input}`);
      },
      close() {
        raw.close();
        for (const ds of datasets) ds.close();
        file.close();
      },
    };
  } catch (error) {
    try {
      file.close();
    } catch {
      // the error that got us here is the one to report
    }
    if (error instanceof UsageError || error instanceof InputError) throw error;
    throw new InputError(`cannot read input ${input}: ${hdf5Cause(error)}`, { cause: error });
  }
}

/**
 * Where a dataset's elements start in its file when they may be read there without HDF5: stored
 * contiguously (allocated, not compact or external), unfiltered, and bit for bit as a typed array
 * of its dtype holds them here (a big-endian float32 must go through HDF5's conversion); else null.
 */
function rawBase(ds: Dataset): number | null {
  if (ds.fileOffset === null || ds.filters.length > 0 || !ds.storedAsNative) return null;
  return ds.fileOffset;
}

/**
 * The input opened a second time, read-only, for readers on other threads (HDF5's own descriptor is
 * HDF5's): opened when first asked, refused when it is no longer the file the source opened.
 */
function rawReader(input: string, opened: OpenedFile): { fd(): number; close(): void } {
  let fd: number | undefined;
  return {
    fd() {
      if (fd !== undefined) return fd;
      let opening: number;
      try {
        opening = fs.openSync(input, 'r');
      } catch (error) {
        const gone = (error as NodeJS.ErrnoException).code === 'ENOENT';
        throw new InputError(gone ? `input ${input} (${input}) changed during the run: ${fileChange(opened, null)}` : `cannot read input ${input}: ${(error as Error).message}`);
      }
      const change = fileChange(opened, fs.fstatSync(opening));
      if (change) {
        fs.closeSync(opening);
        throw new InputError(`input ${input} (${input}) changed during the run: ${change}`);
      }
      return (fd = opening);
    },
    close() {
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}

// A layout or position table larger than this is not one (and would not fit in memory as numbers).
const MAX_TABLE_ELEMENTS = 1 << 24;

function readNumbers(file: H5File, name: string): { shape: number[]; values: number[] } {
  const ds = file.openDataset(name);
  try {
    if (!ds.dtype) throw new UsageError(`${name} has an unsupported dtype`);
    const elements = ds.shape.reduce((a, b) => a * b, 1);
    if (elements > MAX_TABLE_ELEMENTS) throw new UsageError(`${name} in ${file.path} has shape [${ds.shape.join(', ')}]: too large for a layout or position table`);
    return { shape: ds.shape, values: Array.from(readAll(ds) as ArrayLike<number | bigint>, Number) };
  } finally {
    ds.close();
  }
}

function readLayout(file: H5File, name: string, required: boolean): number[][] | undefined {
  if (file.objectType(name) !== 'dataset') {
    if (required) throw new UsageError(`layout dataset ${name} not found in ${file.path}`);
    return undefined;
  }
  const { shape, values } = readNumbers(file, name);
  if (shape.length !== 2) throw new UsageError(`layout ${name} has ${shape.length} dimensions; expected a 2-D array of tile indices`);
  return Array.from({ length: shape[0] }, (_, r) => values.slice(r * shape[1], (r + 1) * shape[1]));
}

function readPositions(file: H5File, name: string): Array<[number, number]> {
  if (file.objectType(name) !== 'dataset') throw new UsageError(`positions dataset ${name} not found in ${file.path}`);
  const { shape, values } = readNumbers(file, name);
  if (shape.length !== 2 || shape[1] !== 2) throw new UsageError(`positions ${name} has shape [${shape.join(', ')}]; expected [N, 2] (y, x)`);
  return Array.from({ length: shape[0] }, (_, i) => [values[2 * i], values[2 * i + 1]]);
}

function readOverlapAttr(file: H5File, tilesPath: string): [number, number] | undefined {
  for (const where of [tilesPath, '/']) {
    const v = file.getAttr(where, 'overlap');
    if (typeof v === 'number') return [v, v];
    if (v instanceof Float64Array && v.length === 2) return [v[0], v[1]];
  }
  return undefined;
}

