/**
 * Tiles as a directory of <index>.npy files (numpy's format, version 1-3 headers). Every header is
 * checked against its file's size when the directory is opened (all ranks, before anything is
 * written), and every read against the bytes it asked for and the file as it was then.
 * Big-endian files are byte-swapped after the read; Fortran-order files (np.save of a transposed
 * array) are read column by column and transposed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bytesOf, newArray, type Dtype, type NumericArray } from '../../core/dtype';
import { InputError, UsageError } from '../../errors';
import { reusedArray } from '../../runtime/buffers';
import { checkTileDtype, checkFileUnchanged, fileChange, type OpenedFile, type TileSource } from './source';

/** numpy type codes (kind + itemsize) → h5stitch dtypes; the byte order is the descr's first character. */
const NPY_TYPES: Record<string, Dtype> = {
  u1: 'uint8', i1: 'int8', u2: 'uint16', i2: 'int16', u4: 'uint32', i4: 'int32', u8: 'uint64', i8: 'int64', f4: 'float32', f8: 'float64',
};
const HOST_BIG_ENDIAN = os.endianness() === 'BE';
const MAGIC = '\x93NUMPY';

export interface NpyHeader {
  dtype: Dtype;
  shape: [number, number];
  /** Byte offset of the first pixel. */
  dataOffset: number;
  /** Stored in the other byte order than this host's: swapped after each read. */
  swap: boolean;
  /** Stored column-major (fortran_order: True). */
  fortran: boolean;
}

/** Reads exactly `length` bytes at `position` or throws what `describe` says about the shortfall. */
function readExactly(fd: number, into: Uint8Array, offset: number, length: number, position: number,
  onError: (error: Error) => Error, onShort: (got: number) => Error): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, into, offset + done, length - done, position + done);
    } catch (error) {
      throw onError(error as Error);
    }
    if (n === 0) throw onShort(done);
    done += n;
  }
}

/**
 * Parses and checks the header of an open .npy file of `size` bytes: the pixel data after the
 * header must be exactly shape × itemsize bytes. `what` names the file in messages ("tile 3 (…/3.npy)").
 */
function parseHeader(fd: number, size: number, what: string): NpyHeader {
  const fail = (why: string) => new InputError(`${what} ${why}`);
  const pre = Buffer.alloc(12);
  const have = Math.min(12, size);
  readExactly(fd, pre, 0, have, 0, (e) => fail(`cannot be read: ${e.message}`), () => fail('is shorter than its stat size: it changed while being read'));
  if (have < 10 || pre.toString('latin1', 0, 6) !== MAGIC) throw fail('is not a .npy file (no \\x93NUMPY magic)');
  const major = pre[6];
  if (major < 1 || major > 3) throw fail(`has .npy format version ${major}.${pre[7]}; h5stitch reads versions 1 to 3`);
  if (major > 1 && have < 12) throw fail('is truncated inside its header');
  const headerLength = major === 1 ? pre.readUInt16LE(8) : pre.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > size) throw fail(`is truncated inside its header (${size} bytes; the header needs ${start + headerLength})`);
  const header = Buffer.alloc(headerLength);
  readExactly(fd, header, 0, headerLength, start, (e) => fail(`cannot be read: ${e.message}`), () => fail('is shorter than its stat size: it changed while being read'));
  // The dict numpy writes (keys sorted, padded with spaces, then a newline); a file whose header is
  // anything else is not one h5stitch can trust to describe its bytes.
  const text = header.toString(major === 3 ? 'utf8' : 'latin1');
  const dict = /^\{[ \t\r\n]*'descr'[ \t\r\n]*:[ \t\r\n]*'([^']*)'[ \t\r\n]*,[ \t\r\n]*'fortran_order'[ \t\r\n]*:[ \t\r\n]*(True|False)[ \t\r\n]*,[ \t\r\n]*'shape'[ \t\r\n]*:[ \t\r\n]*\(([^()]*)\)[ \t\r\n]*,?[ \t\r\n]*\}[ \t\r\n]*$/.exec(text);
  if (!dict) throw fail(`has a header numpy would not write for a plain array: ${JSON.stringify(text.trim().slice(0, 120))}`);
  const [, descr, fortranText, shapeText] = dict;
  const dims = shapeText.split(',').map((s) => s.trim());
  if (dims.length > 1 && dims[dims.length - 1] === '') dims.pop();
  // Python's literal syntax: no leading zeros ("032" is not 32 to numpy).
  const shape = dims.map((d) => (/^[1-9]\d*$/.test(d) ? Number(d) : NaN));
  if (shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw fail(`has shape (${dims.join(', ')}); expected a 2-D tile of positive height and width`);
  }
  const code = /^([<>|=])([a-zA-Z]\d+)$/.exec(descr);
  const dtype = code ? NPY_TYPES[code[2]] : undefined;
  if (!code || !dtype) throw fail(`has dtype '${descr}'; expected one of ${Object.keys(NPY_TYPES).map((k) => `'<${k}'`).join(', ')} (either byte order)`);
  const itemsize = bytesOf(dtype);
  if (code[1] === '|' && itemsize > 1) throw fail(`has dtype '${descr}' without a byte order`);
  checkTileDtype(dtype, what);
  const bigEndian = code[1] === '>' || (code[1] === '=' && HOST_BIG_ENDIAN);
  const dataOffset = start + headerLength;
  const expected = shape[0] * shape[1] * itemsize;
  if (size - dataOffset !== expected) {
    throw fail(`${size - dataOffset < expected ? 'is truncated' : 'has trailing bytes'}: its header says ${shape[0]}x${shape[1]} ${descr} ` +
      `(${expected} bytes of pixels) but the file holds ${size - dataOffset} bytes after the header`);
  }
  return { dtype, shape: [shape[0], shape[1]], dataOffset, swap: itemsize > 1 && bigEndian !== HOST_BIG_ENDIAN, fortran: fortranText === 'True' };
}

/** The header of one .npy file (checked against the file's size) and the file as it was opened. */
export function readNpyHeader(file: string, what = file): NpyHeader & { opened: OpenedFile } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new InputError(`cannot open ${what}: ${(error as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InputError(`${what} is not a regular file`);
    const opened: OpenedFile = { path: file, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
    return { ...parseHeader(fd, st.size, what), opened };
  } finally {
    fs.closeSync(fd);
  }
}

/** Swaps each element's bytes in place (big-endian file on a little-endian host, or the reverse). */
function swapBytes(bytes: Uint8Array, itemsize: number): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (itemsize === 2) b.swap16();
  else if (itemsize === 4) b.swap32();
  else if (itemsize === 8) b.swap64();
}

// Open tile files per source; more are closed oldest first (a rank may touch thousands of tiles).
const MAX_OPEN_FILES = 64;

export function openNpyDirectory(dir: string): TileSource {
  const names = fs.readdirSync(dir).filter((n) => /^\d+\.npy$/.test(n)).sort((a, b) => parseInt(a) - parseInt(b));
  if (names.length === 0) throw new UsageError(`directory ${dir} holds no <index>.npy tiles`);
  names.forEach((n, i) => {
    if (n !== `${i}.npy`) {
      throw new UsageError(parseInt(n) === i ? `directory ${dir} has ${n}; name tile ${i} ${i}.npy` : `directory ${dir} is missing tile ${i}.npy`);
    }
  });
  const files = names.map((n) => path.resolve(dir, n));
  const what = (i: number) => `tile ${i} (${files[i]})`;
  const headers = files.map((f, i) => readNpyHeader(f, what(i)));
  const first = headers[0];
  headers.forEach((h, i) => {
    if (h.shape[0] !== first.shape[0] || h.shape[1] !== first.shape[1]) {
      throw new UsageError(`tiles have different shapes: 0.npy is ${first.shape.join('x')} but ${names[i]} is ${h.shape.join('x')}`);
    }
    if (h.dtype !== first.dtype) throw new UsageError(`tiles have different dtypes: 0.npy is ${first.dtype} but ${names[i]} is ${h.dtype}`);
  });
  const [height, width] = first.shape;
  const dtype = first.dtype;
  const element = bytesOf(dtype);
  const fds = new Map<number, number>();
  let columnScratch: NumericArray | undefined;

  /** The open file of tile `index`, checked to be the file whose header was read. */
  function fdOf(index: number): number {
    const open = fds.get(index);
    if (open !== undefined) return open;
    let fd: number;
    try {
      fd = fs.openSync(files[index], 'r');
    } catch (error) {
      throw new InputError(`cannot open ${what(index)}: ${(error as Error).message}`);
    }
    const change = fileChange(headers[index].opened, fs.fstatSync(fd));
    if (change) {
      fs.closeSync(fd);
      throw new InputError(`${what(index)} changed during the run: ${change}`);
    }
    if (fds.size >= MAX_OPEN_FILES) {
      const [oldest, oldFd] = fds.entries().next().value as [number, number];
      fs.closeSync(oldFd);
      fds.delete(oldest);
    }
    fds.set(index, fd);
    return fd;
  }

  function read(index: number, into: Uint8Array, offset: number, length: number, position: number): void {
    readExactly(fdOf(index), into, offset, length, position,
      (e) => new InputError(`cannot read ${what(index)}: ${e.message}`),
      (got) => new InputError(`${what(index)} ended after ${position + got} bytes while ${position + length} were expected: it was truncated during the run`));
  }

  return {
    count: names.length, height, width, dtype,
    fingerprint: {
      kind: 'npy', files: headers.map((h) => ({ size: h.opened.size, mtimeMs: h.opened.mtimeMs })),
      tilesShape: [names.length, height, width], tilesDtype: dtype, tilesPath: '',
    },
    readRegion(index, y0, y1, x0, x1, into) {
      const h = headers[index];
      const rows = y1 - y0, cols = x1 - x0;
      const out = into ?? reusedArray('tile-read', dtype, rows * cols);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      if (!h.fortran) {
        if (cols === width) {
          read(index, bytes, 0, rows * width * element, h.dataOffset + y0 * width * element);
        } else {
          for (let y = y0; y < y1; y++) read(index, bytes, (y - y0) * cols * element, cols * element, h.dataOffset + (y * width + x0) * element);
        }
        if (h.swap) swapBytes(bytes, element);
        return out;
      }
      // Column-major: tile column x holds `height` values. Read columns x0..x1-1 from row y0 of
      // the first to row y1 of the last in one call, then transpose the rows wanted.
      const span = (cols - 1) * height + rows;
      if (!columnScratch || columnScratch.length < span) columnScratch = newArray(dtype, span);
      const scratch = columnScratch.subarray(0, span) as Float64Array;
      const scratchBytes = new Uint8Array(scratch.buffer, scratch.byteOffset, span * element);
      read(index, scratchBytes, 0, span * element, h.dataOffset + (x0 * height + y0) * element);
      if (h.swap) swapBytes(scratchBytes, element);
      const o = out as Float64Array;
      for (let x = 0; x < cols; x++) {
        for (let y = 0; y < rows; y++) o[y * cols + x] = scratch[x * height + y];
      }
      return out;
    },
    checkUnchanged() {
      headers.forEach((h, i) => checkFileUnchanged(h.opened, what(i)));
    },
    close() {
      for (const fd of fds.values()) fs.closeSync(fd);
      fds.clear();
    },
  };
}
