/**
 * verify's own tile reader: whole tiles into fresh arrays, sharing no code with the stitch's tile
 * sources (lib/io/sources) beyond the addon's dataset read, so a defect in how the stitch reads
 * tiles (regions, offsets, byte order, reused buffers) shows up as a difference instead of
 * being repeated. .npy files are read whole and their header parsed as the Python literal it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bytesOf, isDtype, newArray, TILE_DTYPES, type Dtype, type PixelArray } from '../core/dtype';
import type { InputFingerprint } from '../core/provenance';
import { InputError, UsageError } from '../errors';
import { describeTiffSet } from '../io/sources/tiff-set';
import { native } from '../runtime/addon';
import { openFile, type Dataset, type H5File } from '../runtime/hdf5';

export interface WholeTiles {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly dtype: Dtype;
  /** Channels (multi-page TIFFs or a {channel} pattern); 1 for every other input. */
  readonly channels: number;
  /** The input's files and tiles as they are now. */
  readonly fingerprint: InputFingerprint;
  /** Tile `index` (of `channel`, default 0), row-major, in a new array. */
  read(index: number, channel?: number): PixelArray;
  /**
   * Tiles first..first+count-1 with one read (an [N, H, W] dataset), each a view of one new array;
   * absent where tiles are not stored that way. Throws when any of them fails to read.
   */
  readRun?(first: number, count: number): PixelArray[];
  close(): void;
}

function stamp(file: string, what: string) {
  try {
    const st = fs.statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch (error) {
    throw new InputError(`cannot read ${what} (${file}): ${(error as Error).message}`);
  }
}

function checkDtype(dtype: Dtype | null, where: string): Dtype {
  if (!dtype || !TILE_DTYPES.includes(dtype)) throw new UsageError(`tiles in ${where} have dtype ${dtype ?? 'unsupported'}, which h5stitch does not stitch`);
  return dtype;
}

/** Opens the tiles of `input` (an HDF5 file, a directory of .npy files, TIFF tiles) for whole-tile reads. */
export function openWholeTiles(input: string, tilesPath = '/tiles'): WholeTiles {
  const tiffs = describeTiffSet(input);
  if (tiffs) return openTiffTiles(tiffs.channelFiles ?? [tiffs.files]);
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch {
    throw new UsageError(`input ${input} does not exist`);
  }
  return st.isDirectory() ? openNpyTiles(input) : openHdf5Tiles(input, tilesPath);
}

/**
 * TIFF tiles, each read whole as one region through libtiff: channel c is page c of multi-page
 * files, or the c-th {channel} file list. Unlike HDF5 and .npy this shares the addon's TIFF region
 * reader with the stitch (a whole page is one region: no band or column offsets); the file list
 * comes from the same pattern and position-file parsers.
 */
function openTiffTiles(channelFiles: string[][]): WholeTiles {
  const files = channelFiles[0];
  const open = (file: string) => {
    try {
      return new (native().TiffFile)(file);
    } catch (error) {
      throw new InputError(`cannot open TIFF tile ${file}: ${firstLine(error)}`);
    }
  };
  const first = open(files[0]);
  const page = first.pages[0];
  const pages = first.pages.length;
  first.close();
  const { height, width } = page;
  const dtype = checkDtype(page.dtype, files[0]);
  const channels = pages > 1 ? pages : channelFiles.length;
  return {
    count: files.length, height, width, dtype, channels,
    fingerprint: { kind: 'tiff', files: channelFiles.flat().map((f) => stamp(f, 'TIFF tile')), tilesShape: [files.length, height, width], tilesDtype: dtype, tilesPath: '' },
    read(index, channel = 0) {
      if (channel < 0 || channel >= channels) throw new RangeError(`channel ${channel} out of range (${channels} channels)`);
      const file = pages > 1 ? files[index] : channelFiles[channel][index];
      const pageIndex = pages > 1 ? channel : 0;
      const what = `tile ${index}${channels > 1 ? ` channel ${channel}` : ''} (${file})`;
      const tiff = open(file);
      try {
        if (tiff.pages.length !== pages) throw new InputError(`TIFF ${what} has ${tiff.pages.length} pages, not ${pages} like tile 0`);
        const p = tiff.pages[pageIndex];
        if (p.height !== height || p.width !== width || p.dtype !== dtype) {
          throw new InputError(`TIFF ${what} is ${p.height}x${p.width} ${p.dtype}, not ${height}x${width} ${dtype} like tile 0`);
        }
        const out = newArray(dtype, height * width) as PixelArray;
        try {
          return tiff.readRegion(pageIndex, 0, height, 0, width, out);
        } catch (error) {
          throw new InputError(`cannot read ${what}: ${firstLine(error)}`);
        }
      } finally {
        tiff.close();
      }
    },
    close() {},
  };
}

function openHdf5Tiles(input: string, tilesPath: string): WholeTiles {
  const fileStamp = stamp(input, 'input');
  let file: H5File;
  try {
    file = openFile(input, { mode: 'r' });
  } catch (error) {
    throw new InputError(`cannot open input ${input} as HDF5: ${firstLine(error)}`);
  }
  const datasets: Dataset[] = [];
  try {
    const kind = file.objectType(tilesPath);
    let count: number, height: number, width: number, dtype: Dtype;
    let read: (index: number, out: PixelArray) => void;
    let readRun: WholeTiles['readRun'];
    if (kind === 'dataset') {
      const ds = file.openDataset(tilesPath);
      datasets.push(ds);
      if (ds.shape.length !== 3) throw new UsageError(`tiles dataset ${tilesPath} in ${input} is not 3-D`);
      [count, height, width] = ds.shape;
      dtype = checkDtype(ds.dtype, `${input}:${tilesPath}`);
      read = (index, out) => ds.read([index, 0, 0], [1, height, width], out);
      readRun = (first, n) => {
        const tile = height * width;
        const out = newArray(dtype, n * tile) as PixelArray;
        ds.read([first, 0, 0], [n, height, width], out);
        return Array.from({ length: n }, (_, k) => out.subarray(k * tile, (k + 1) * tile) as PixelArray);
      };
    } else if (kind === 'group') {
      for (let i = 0; file.objectType(`${tilesPath}/${i}`) === 'dataset'; i++) datasets.push(file.openDataset(`${tilesPath}/${i}`));
      if (datasets.length === 0) throw new UsageError(`tiles group ${tilesPath} in ${input} has no dataset 0`);
      [height, width] = datasets[0].shape;
      dtype = checkDtype(datasets[0].dtype, `${input}:${tilesPath}`);
      for (const ds of datasets) {
        if (ds.shape.length !== 2 || ds.shape[0] !== height || ds.shape[1] !== width || ds.dtype !== dtype) {
          throw new UsageError(`tile ${ds.name} in ${input} is not ${height}x${width} ${dtype} like ${datasets[0].name}`);
        }
      }
      count = datasets.length;
      read = (index, out) => datasets[index].read([0, 0], [height, width], out);
    } else {
      throw new UsageError(`input ${input} has no tiles dataset or group ${tilesPath}`);
    }
    return {
      count, height, width, dtype, channels: 1,
      fingerprint: { kind: 'hdf5', files: [fileStamp], tilesShape: [count, height, width], tilesDtype: dtype, tilesPath },
      read(index) {
        const out = newArray(dtype, height * width) as PixelArray;
        try {
          read(index, out);
        } catch (error) {
          throw new InputError(`cannot read tile ${index} from ${input}:${tilesPath}: ${firstLine(error)}`);
        }
        return out;
      },
      ...(readRun ? { readRun } : {}),
      close() {
        for (const ds of datasets) ds.close();
        file.close();
      },
    };
  } catch (error) {
    for (const ds of datasets) ds.close();
    file.close();
    if (error instanceof UsageError || error instanceof InputError) throw error;
    throw new InputError(`cannot read input ${input}: ${firstLine(error)}`);
  }
}

/** The failing call and the innermost HDF5 cause, on one line. */
function firstLine(error: unknown): string {
  const lines = String((error as Error)?.message ?? error).split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : (lines[0] ?? 'unknown error');
}

const NPY_KINDS: Record<string, Dtype> = {
  u1: 'uint8', i1: 'int8', u2: 'uint16', i2: 'int16', u4: 'uint32', i4: 'int32', f4: 'float32', f8: 'float64',
};

interface NpyFile { dtype: Dtype; height: number; width: number; littleEndian: boolean; fortran: boolean; data: Buffer }

/** Parses a whole .npy file: its header as a Python dict literal turned into JSON. */
function parseNpy(bytes: Buffer, what: string): NpyFile {
  const bad = (why: string) => new InputError(`${what} ${why}`);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw bad('is not a .npy file');
  const version = bytes[6];
  const lengthBytes = version === 1 ? 2 : 4;
  if (version < 1 || version > 3 || bytes.length < 8 + lengthBytes) throw bad(`has an unknown .npy version ${version}`);
  const headerLength = lengthBytes === 2 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length) throw bad('is truncated inside its header');
  const literal = bytes.subarray(8 + lengthBytes, dataStart).toString(version === 3 ? 'utf8' : 'latin1');
  let header: { descr?: unknown; fortran_order?: unknown; shape?: unknown };
  try {
    header = JSON.parse(literal.trim().replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false')
      .replace(/\(/g, '[').replace(/\)/g, ']').replace(/,\s*([\]}])/g, '$1'));
  } catch {
    throw bad('has a header that is not a dict literal');
  }
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== 'string' || typeof fortran !== 'boolean' || !Array.isArray(shape) || shape.length !== 2 ||
      !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw bad(`has a header h5stitch does not stitch: ${literal.trim()}`);
  }
  const dtype = NPY_KINDS[descr.slice(1)];
  if (!dtype || !isDtype(dtype) || !'<>|='.includes(descr[0])) throw bad(`has dtype ${descr}, which h5stitch does not stitch`);
  const [height, width] = shape as number[];
  const data = bytes.subarray(dataStart);
  if (data.length !== height * width * bytesOf(dtype)) {
    throw bad(`holds ${data.length} bytes of pixels; its header (${height}x${width} ${descr}) needs ${height * width * bytesOf(dtype)}`);
  }
  return { dtype, height, width, littleEndian: descr[0] !== '>', fortran, data };
}

const GETTERS: Record<string, (view: DataView, offset: number, littleEndian: boolean) => number> = {
  int8: (v, o) => v.getInt8(o), uint8: (v, o) => v.getUint8(o),
  int16: (v, o, le) => v.getInt16(o, le), uint16: (v, o, le) => v.getUint16(o, le),
  int32: (v, o, le) => v.getInt32(o, le), uint32: (v, o, le) => v.getUint32(o, le),
  float32: (v, o, le) => v.getFloat32(o, le), float64: (v, o, le) => v.getFloat64(o, le),
};

function openNpyTiles(dir: string): WholeTiles {
  const file = (i: number) => path.resolve(dir, `${i}.npy`);
  let count = 0;
  while (fs.existsSync(file(count))) count++;
  if (count === 0) throw new UsageError(`directory ${dir} holds no 0.npy`);
  const files = Array.from({ length: count }, (_, i) => stamp(file(i), `tile ${i}`));
  const load = (i: number) => {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file(i));
    } catch (error) {
      throw new InputError(`cannot read tile ${i} (${file(i)}): ${(error as Error).message}`);
    }
    return parseNpy(bytes, `tile ${i} (${file(i)})`);
  };
  const first = load(0);
  const { height, width, dtype } = first;
  return {
    count, height, width, dtype, channels: 1,
    fingerprint: { kind: 'npy', files, tilesShape: [count, height, width], tilesDtype: dtype, tilesPath: '' },
    read(index) {
      const npy = load(index);
      if (npy.height !== height || npy.width !== width || npy.dtype !== dtype) {
        throw new InputError(`tile ${index} (${file(index)}) is ${npy.height}x${npy.width} ${npy.dtype}, not ${height}x${width} ${dtype} like tile 0`);
      }
      const out = newArray(dtype, height * width) as PixelArray;
      if (npy.littleEndian && !npy.fortran) {
        // This host's order (little-endian) and layout: the bytes as they are.
        new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(npy.data);
        return out;
      }
      const size = bytesOf(dtype);
      const view = new DataView(npy.data.buffer, npy.data.byteOffset, npy.data.byteLength);
      const get = GETTERS[dtype];
      const o = out as Float64Array;
      // Element (y, x) is stored at y*width + x (C order) or x*height + y (Fortran order).
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          o[y * width + x] = get(view, (npy.fortran ? x * height + y : y * width + x) * size, npy.littleEndian);
        }
      }
      return out;
    },
    close() {},
  };
}
