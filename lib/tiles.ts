/**
 * Tile sources: an HDF5 file with a 3-D dataset [N, H, W] or a group of 2-D
 * datasets named by index, or a directory of <index>.npy files. Inputs are
 * always opened read-only; each rank reads only the rows it needs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './errors';
import { newArray, openFile, readAll, reusedArray, type Dataset, type H5File } from './hdf5';
import type { Dtype, NumericArray } from './native';

export const TILE_DTYPES: readonly Dtype[] = ['uint8', 'uint16', 'int16', 'int32', 'uint32', 'float32', 'float64'];

export interface TileSource {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly dtype: Dtype;
  /** Layout and overlap found next to the tiles (HDF5 input), if any. */
  readonly layout?: number[][];
  readonly positions?: Array<[number, number]>;
  readonly overlap?: [number, number];
  /**
   * Reads rows [y0,y1) × cols [x0,x1) of tile `index` into `into` (of the tiles' dtype, exactly
   * that many elements) or else into a reused buffer (valid until the next call).
   */
  readRegion(index: number, y0: number, y1: number, x0: number, x1: number, into?: NumericArray): NumericArray;
  close(): void;
}

export interface TileSourceOptions {
  tilesPath?: string;
  layoutPath?: string;
  positionsPath?: string;
}

export function openTileSource(input: string, options: TileSourceOptions = {}): TileSource {
  if (!fs.existsSync(input)) throw new UsageError(`input ${input} does not exist`);
  if (fs.statSync(input).isDirectory()) return openNpyDirectory(input);
  try {
    fs.accessSync(input, fs.constants.R_OK);
  } catch {
    throw new UsageError(`input ${input} is not readable`);
  }
  const head = Buffer.alloc(8);
  const fd = fs.openSync(input, 'r');
  fs.readSync(fd, head, 0, 8, 0);
  fs.closeSync(fd);
  if (!head.equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    throw new UsageError(`input ${input} is not an HDF5 file (no HDF5 signature) nor a directory of .npy tiles`);
  }
  return openHdf5Tiles(input, options);
}

function checkDtype(dtype: Dtype | null, where: string): Dtype {
  if (!dtype || !TILE_DTYPES.includes(dtype)) {
    throw new UsageError(`tiles in ${where} have dtype ${dtype ?? 'unsupported'}; expected one of ${TILE_DTYPES.join(', ')}`);
  }
  return dtype;
}

function openHdf5Tiles(input: string, options: TileSourceOptions): TileSource {
  const file = openFile(input, { mode: 'r' });
  try {
    const tilesPath = options.tilesPath ?? '/tiles';
    const kind = file.objectType(tilesPath);
    if (kind === null) throw new UsageError(`input ${input} has no tiles dataset or group ${tilesPath}`);
    let read: (index: number, y0: number, y1: number, x0: number, x1: number, out: NumericArray) => void;
    let count: number, height: number, width: number, dtype: Dtype;
    const datasets: Dataset[] = [];
    if (kind === 'dataset') {
      const ds = file.openDataset(tilesPath);
      datasets.push(ds);
      if (ds.shape.length !== 3) {
        throw new UsageError(`tiles dataset ${tilesPath} in ${input} has ${ds.shape.length} dimensions; expected 3 ([N, H, W]) or a group of 2-D datasets`);
      }
      [count, height, width] = ds.shape;
      dtype = checkDtype(ds.dtype, `${input}:${tilesPath}`);
      read = (index, y0, y1, x0, x1, out) => ds.read([index, y0, x0], [1, y1 - y0, x1 - x0], out);
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
      dtype = checkDtype(first.dtype, `${input}:${tilesPath}`);
      read = (index, y0, y1, x0, x1, out) => datasets[index].read([y0, x0], [y1 - y0, x1 - x0], out);
    }
    const layout = readLayout(file, options.layoutPath ?? '/tile_array', options.layoutPath !== undefined);
    const positions = options.positionsPath ? readPositions(file, options.positionsPath) : undefined;
    const overlap = readOverlapAttr(file, tilesPath);
    return {
      count, height, width, dtype, layout, positions, overlap,
      readRegion(index, y0, y1, x0, x1, into) {
        const out = into ?? reusedArray('tile-read', dtype, (y1 - y0) * (x1 - x0));
        read(index, y0, y1, x0, x1, out);
        return out;
      },
      close() {
        for (const ds of datasets) ds.close();
        file.close();
      },
    };
  } catch (error) {
    file.close();
    throw error;
  }
}

function readNumbers(file: H5File, name: string): { shape: number[]; values: number[] } {
  const ds = file.openDataset(name);
  try {
    if (!ds.dtype) throw new UsageError(`${name} has an unsupported dtype`);
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

// --- .npy directory -------------------------------------------------------

const NPY_DTYPES: Record<string, Dtype> = { '|u1': 'uint8', '<u2': 'uint16', '<i2': 'int16', '<i4': 'int32', '<u4': 'uint32', '<f4': 'float32', '<f8': 'float64' };

interface NpyHeader { dtype: Dtype; shape: number[]; dataOffset: number }

export function readNpyHeader(file: string): NpyHeader {
  const fd = fs.openSync(file, 'r');
  try {
    const pre = Buffer.alloc(12);
    fs.readSync(fd, pre, 0, 12, 0);
    if (pre.toString('latin1', 0, 6) !== '\x93NUMPY') throw new UsageError(`${file} is not a .npy file`);
    const major = pre[6];
    const headerLength = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const header = Buffer.alloc(headerLength);
    fs.readSync(fd, header, 0, headerLength, start);
    const text = header.toString('latin1');
    const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
    const fortran = /'fortran_order':\s*True/.test(text);
    const shape = (/'shape':\s*\(([^)]*)\)/.exec(text)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    const dtype = descr ? NPY_DTYPES[descr] : undefined;
    if (!dtype) throw new UsageError(`${file} has dtype ${descr}; expected one of ${Object.keys(NPY_DTYPES).join(', ')}`);
    if (fortran) throw new UsageError(`${file} is stored in Fortran order; save it C-contiguous`);
    if (shape.length !== 2) throw new UsageError(`${file} has shape (${shape.join(', ')}); expected a 2-D tile`);
    return { dtype, shape, dataOffset: start + headerLength };
  } finally {
    fs.closeSync(fd);
  }
}

function openNpyDirectory(dir: string): TileSource {
  const names = fs.readdirSync(dir).filter((n) => /^\d+\.npy$/.test(n)).sort((a, b) => parseInt(a) - parseInt(b));
  if (names.length === 0) throw new UsageError(`directory ${dir} holds no <index>.npy tiles`);
  names.forEach((n, i) => {
    if (parseInt(n) !== i) throw new UsageError(`directory ${dir} is missing tile ${i}.npy`);
  });
  const headers = names.map((n) => readNpyHeader(path.join(dir, n)));
  const first = headers[0];
  headers.forEach((h, i) => {
    if (h.shape[0] !== first.shape[0] || h.shape[1] !== first.shape[1]) {
      throw new UsageError(`tiles have different shapes: 0.npy is ${first.shape.join('x')} but ${names[i]} is ${h.shape.join('x')}`);
    }
    if (h.dtype !== first.dtype) throw new UsageError(`tiles have different dtypes: 0.npy is ${first.dtype} but ${names[i]} is ${h.dtype}`);
  });
  const [height, width] = first.shape;
  const element = newArray(first.dtype, 0).BYTES_PER_ELEMENT;
  const fds = new Map<number, number>();
  return {
    count: names.length, height, width, dtype: first.dtype,
    readRegion(index, y0, y1, x0, x1, into) {
      let fd = fds.get(index);
      if (fd === undefined) fds.set(index, (fd = fs.openSync(path.join(dir, names[index]), 'r')));
      const cols = x1 - x0;
      const out = into ?? reusedArray('tile-read', first.dtype, (y1 - y0) * cols);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      for (let y = y0; y < y1; y++) {
        fs.readSync(fd, bytes, (y - y0) * cols * element, cols * element, headers[index].dataOffset + (y * width + x0) * element);
      }
      return out;
    },
    close() {
      for (const fd of fds.values()) fs.closeSync(fd);
    },
  };
}
