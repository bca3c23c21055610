/** Tiles as a directory of <index>.npy files (numpy's format, version 1-3 headers). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bytesOf, type Dtype } from '../../core/dtype';
import { UsageError } from '../../errors';
import { reusedArray } from '../../runtime/buffers';
import type { TileSource } from './source';

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

export function openNpyDirectory(dir: string): TileSource {
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
  const element = bytesOf(first.dtype);
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
