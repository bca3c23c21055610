/**
 * Tile sources: an HDF5 file with a 3-D dataset [N, H, W] or a group of 2-D
 * datasets named by index, or a directory of <index>.npy files. Inputs are
 * always opened read-only; each rank reads only the rows it needs.
 */
import * as fs from 'node:fs';
import { InputError, UsageError } from '../../errors';
import { openHdf5Tiles } from './hdf5';
import { openNpyDirectory } from './npy';
import type { TileSource, TileSourceOptions } from './source';
import { openTiffSet } from './tiff-set';

export type { TileSource, TileSourceOptions } from './source';

export function openTileSource(input: string, options: TileSourceOptions = {}): TileSource {
  // TIFF tiles: a file-name pattern or a Fiji/MIST position file (see tiff-set.ts).
  const tiff = openTiffSet(input);
  if (tiff) return tiff;
  if (!fs.existsSync(input)) throw new UsageError(`input ${input} does not exist`);
  if (fs.statSync(input).isDirectory()) {
    try {
      fs.accessSync(input, fs.constants.R_OK | fs.constants.X_OK);
    } catch {
      throw new UsageError(`input directory ${input} is not readable`);
    }
    return openNpyDirectory(input);
  }
  if (!hasHdf5Signature(input)) {
    throw new UsageError(`input ${input} is not an HDF5 file (no HDF5 signature) nor a directory of .npy tiles`);
  }
  return openHdf5Tiles(input, options);
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Whether `file` holds HDF5's signature where the format puts it: at byte 0, or after a user
 * block of 512, 1024, 2048, ... bytes (the superblock then starts there; h5py's userblock_size).
 */
function hasHdf5Signature(file: string): boolean {
  const head = Buffer.alloc(HDF5_SIGNATURE.length);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    throw new InputError(`input ${file} is not readable: ${(error as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    for (let at = 0; at + head.length <= size; at = at === 0 ? 512 : at * 2) {
      if (fs.readSync(fd, head, 0, head.length, at) === head.length && head.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } catch (error) {
    throw new InputError(`input ${file} is not readable: ${(error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}
