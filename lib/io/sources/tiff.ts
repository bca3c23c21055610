/**
 * Tiles as TIFF files, one tile per file, read natively with libtiff (native/io/tiff_reader.cc):
 * classic TIFF and BigTIFF, strips or tiles, any codec libtiff decodes. A rank opens only the files
 * of the tiles it reads, lazily, keeping a few handles open; every file's header is checked
 * against the first tile's when it is opened.
 */
import { type Dtype, type NumericArray } from '../../core/dtype';
import { H5StitchError, UsageError } from '../../errors';
import { reusedArray } from '../../runtime/buffers';
import { native, type NativeTiffFile, type TiffPageInfo } from '../../runtime/addon';
import { checkTileDtype, type TileSource } from './source';

export interface TiffTileSet {
  /** Paths of the tiles, by tile index. */
  files: string[];
  /** Grid layout (tile indices, -1 = empty), when the description gives one. */
  layout?: number[][];
  /** Explicit (y, x) positions by tile index, when the description gives them. */
  positions?: Array<[number, number]>;
  /** Where the set was described (pattern or position file), for messages. */
  describedBy: string;
}

/** Open TIFF handles a rank keeps: enough for a band's worth of tiles, few enough for any ulimit. */
const MAX_OPEN = 64;

interface TileShape { height: number; width: number; dtype: Dtype }

/** The one page of a tile file, checked; UsageError naming the file when h5stitch cannot stitch it. */
function checkedPage(file: NativeTiffFile, expected?: TileShape): TiffPageInfo {
  const pages = file.pages;
  if (pages.length !== 1) {
    throw new UsageError(`TIFF ${file.path} has ${pages.length} pages (channels, z-slices or time points); ` +
      'h5stitch stitches single-page TIFFs (multi-channel input is not supported yet)');
  }
  const p = pages[0];
  if (p.samplesPerPixel !== 1) throw new UsageError(`TIFF ${file.path} has ${p.samplesPerPixel} samples per pixel (RGB or multi-channel); h5stitch stitches single-channel tiles`);
  if (p.photometric === 3) throw new UsageError(`TIFF ${file.path} is a palette (indexed colour) image; h5stitch stitches intensity images`);
  if (!p.codecAvailable) throw new UsageError(`TIFF ${file.path} uses ${p.compression} compression, which this libtiff cannot decode`);
  checkTileDtype(p.dtype, `TIFF ${file.path}`);
  if (expected) {
    if (p.height !== expected.height || p.width !== expected.width) {
      throw new UsageError(`tiles have different shapes: the first is ${expected.height}x${expected.width} but ${file.path} is ${p.height}x${p.width}`);
    }
    if (p.dtype !== expected.dtype) throw new UsageError(`tiles have different dtypes: the first is ${expected.dtype} but ${file.path} is ${p.dtype}`);
  }
  return p;
}

function openTiff(file: string): NativeTiffFile {
  try {
    return new (native().TiffFile)(file);
  } catch (error) {
    // Not a TIFF, unreadable, broken header: bad input, named.
    throw new UsageError((error as Error).message);
  }
}

/** Checks one tile file's header against `shape` (opens and closes it). */
export function checkTiffTile(file: string, shape?: TileShape): TileShape {
  const tiff = openTiff(file);
  try {
    const p = checkedPage(tiff, shape);
    return { height: p.height, width: p.width, dtype: p.dtype as Dtype };
  } finally {
    tiff.close();
  }
}

/**
 * A TileSource over TIFF files. The first file fixes the tiles' shape and dtype; `checkShare`
 * [rank, size] checks every size-th other header at open (so a job checks each file once and bad
 * input ends the job before anything is written); the rest are checked when first opened.
 */
export function openTiffTiles(set: TiffTileSet, checkShare: [number, number] = [0, 1]): TileSource {
  const { files } = set;
  if (files.length === 0) throw new UsageError(`${set.describedBy} lists no tiles`);
  const shape = checkTiffTile(files[0]);
  const [rank, size] = checkShare;
  for (let i = 1 + rank; i < files.length; i += size) checkTiffTile(files[i], shape);
  // Insertion order of a Map = least recently used first.
  const open = new Map<number, NativeTiffFile>();
  const handle = (index: number): NativeTiffFile => {
    let tiff = open.get(index);
    if (tiff) {
      open.delete(index);
    } else {
      if (!Number.isInteger(index) || index < 0 || index >= files.length) throw new RangeError(`tile ${index} out of range (${files.length} tiles)`);
      // A file that fails here, mid-run on one rank, changed since the open checked it: ERR_TIFF,
      // which ends the job (MPI_Abort) rather than a UsageError the other ranks never see.
      tiff = new (native().TiffFile)(files[index]);
      try {
        checkedPage(tiff, shape);
      } catch (error) {
        tiff.close();
        throw new H5StitchError('ERR_TIFF', (error as Error).message);
      }
      if (open.size >= MAX_OPEN) {
        const [oldest, file] = open.entries().next().value as [number, NativeTiffFile];
        file.close();
        open.delete(oldest);
      }
    }
    open.set(index, tiff);
    return tiff;
  };
  return {
    count: files.length, height: shape.height, width: shape.width, dtype: shape.dtype,
    layout: set.layout, positions: set.positions,
    readRegion(index, y0, y1, x0, x1, into) {
      const out: NumericArray = into ?? reusedArray('tile-read', shape.dtype, (y1 - y0) * (x1 - x0));
      return handle(index).readRegion(0, y0, y1, x0, x1, out);
    },
    close() {
      for (const tiff of open.values()) tiff.close();
      open.clear();
    },
  };
}
