/**
 * PNG files through pngjs (the previews and verify's tile map): 8-bit greyscale or RGB, written
 * under a hidden name and renamed, so a reader never sees half a file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { UsageError } from '../../errors';

const GREY = 0 as const;
const RGB = 2 as const;

function writePng(file: string, width: number, height: number, data: Uint8Array, colorType: typeof GREY | typeof RGB): void {
  // One filter (Paeth) instead of pngjs's try-all-five per row: 145 ms instead of 250 ms for a
  // 1,870² preview here, the same bytes (Paeth was what it chose).
  const bytes = PNG.sync.write(
    { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } as PNG,
    { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8, deflateLevel: 6, filterType: 4 },
  );
  const final = path.resolve(file);
  const partial = path.join(path.dirname(final), `.${path.basename(final)}.h5stitch-partial`);
  try {
    fs.writeFileSync(partial, bytes);
    fs.renameSync(partial, final);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw new Error(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** An 8-bit greyscale PNG of `height` x `width` pixels, row-major. */
export function writeGreyPng(file: string, width: number, height: number, pixels: Uint8Array): void {
  writePng(file, width, height, pixels, GREY);
}

/** An 8-bit RGB PNG (3 bytes a pixel, row-major). */
export function writeRgbPng(file: string, width: number, height: number, rgb: Uint8Array): void {
  writePng(file, width, height, rgb, RGB);
}

/**
 * UsageError unless `file` names a new or replaceable image: its extension one of `extensions`
 * (lower case, with the dot), its directory existing and writable, and not a directory itself.
 * nor one of `notOver` (the output or input it is drawn from). Images are derived views: an
 * existing one is replaced.
 */
export function checkImagePath(file: string, extensions: readonly string[], option: string, notOver: readonly string[] = []): void {
  const ext = path.extname(file).toLowerCase();
  if (!extensions.includes(ext)) {
    throw new UsageError(`Expected a file name ending in ${extensions.join(' or ')} for ${option} but received ${JSON.stringify(file)}`);
  }
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UsageError(`${option}: directory ${dir} does not exist`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UsageError(`${option}: directory ${dir} is not writable`);
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UsageError(`${option}: ${file} is a directory`);
  // An HDF5 file named *.png is still the data: never replaced by a view of itself.
  for (const other of notOver) {
    if (path.resolve(other) === path.resolve(file) || (fs.existsSync(other) && fs.existsSync(file) && fs.realpathSync(other) === fs.realpathSync(file))) {
      throw new UsageError(`${option} ${file} is ${other}, the file it would be made from; choose another name`);
    }
  }
}
