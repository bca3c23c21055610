/**
 * Tiles as TIFF files, one tile per file, read natively with libtiff (native/io/tiff_reader.cc):
 * classic TIFF and BigTIFF, strips or tiles, any codec libtiff decodes. A rank opens only the files
 * of the tiles it reads, lazily, keeping a few handles open; every file's header is checked
 * against the first tile's when it is opened.
 */
import * as fs from 'node:fs';
import { type Dtype, type NumericArray } from '../../core/dtype';
import type { InputFingerprint } from '../../core/provenance';
import { InputError, UsageError } from '../../errors';
import { reusedArray } from '../../runtime/buffers';
import { native, type NativeTiffFile, type TiffPageInfo } from '../../runtime/addon';
import { checkFileUnchanged, checkTileDtype, fileChange, statInput, type OpenedFile, type TileSource } from './source';

export interface TiffTileSet {
  /** Paths of the tiles, by tile index (channel 0's with {channel}). */
  files: string[];
  /** With a {channel} pattern: each channel's files, by tile index. */
  channelFiles?: string[][];
  /** Grid layout (tile indices, -1 = empty), when the description gives one. */
  layout?: number[][];
  /** Explicit (y, x) positions by tile index, when the description gives them. */
  positions?: Array<[number, number]>;
  /** Where the set was described (pattern or position file), for messages. */
  describedBy: string;
}

/**
 * A tile source with C channels stitched alike (same positions): multi-page TIFFs (page c =
 * channel c) or a {channel} pattern. The source itself reads channel 0.
 */
export interface ChannelSource extends TileSource {
  readonly channels: number;
  /** The same tiles' channel c (sharing this source's open files; closed with it). */
  forChannel(c: number): TileSource;
}

export function channelCount(source: TileSource): number {
  return (source as Partial<ChannelSource>).channels ?? 1;
}

/** Open TIFF handles a rank keeps: enough for a band's worth of tiles, few enough for any ulimit. */
const MAX_OPEN = 64;

interface TileShape { height: number; width: number; dtype: Dtype; pages: number }

/** The pages of a tile file, checked; UsageError naming the file when h5stitch cannot stitch it. */
function checkedPages(file: NativeTiffFile, expected?: TileShape): TiffPageInfo {
  const pages = file.pages;
  if (expected && pages.length !== expected.pages) {
    throw new UsageError(`tiles have different page (channel) counts: the first has ${expected.pages} but ${file.path} has ${pages.length}`);
  }
  const first = pages[0];
  for (const [i, p] of pages.entries()) {
    const page = pages.length > 1 ? ` page ${i}` : '';
    if (p.samplesPerPixel !== 1) throw new UsageError(`TIFF ${file.path}${page} has ${p.samplesPerPixel} samples per pixel (RGB or interleaved channels); h5stitch stitches one sample per pixel`);
    if (p.photometric === 3) throw new UsageError(`TIFF ${file.path}${page} is a palette (indexed colour) image; h5stitch stitches intensity images`);
    if (!p.codecAvailable) throw new UsageError(`TIFF ${file.path}${page} uses ${p.compression} compression, which this libtiff cannot decode`);
    checkTileDtype(p.dtype, `TIFF ${file.path}${page}`);
    const want = expected ?? { height: first.height, width: first.width, dtype: first.dtype };
    if (p.height !== want.height || p.width !== want.width) {
      throw new UsageError(`tiles have different shapes: the first is ${want.height}x${want.width} but ${file.path}${page} is ${p.height}x${p.width}`);
    }
    if (p.dtype !== want.dtype) throw new UsageError(`tiles have different dtypes: the first is ${want.dtype} but ${file.path}${page} is ${p.dtype}`);
  }
  return first;
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
function checkTiffTile(file: string, shape?: TileShape): TileShape {
  const tiff = openTiff(file);
  try {
    const p = checkedPages(tiff, shape);
    return { height: p.height, width: p.width, dtype: p.dtype as Dtype, pages: tiff.pages.length };
  } finally {
    tiff.close();
  }
}

/**
 * A TileSource over TIFF files. The first file fixes the tiles' shape, dtype and page count;
 * `checkShare` [rank, size] checks every size-th other header at open (so a job checks each file
 * once and bad input ends the job before anything is written); the rest are checked when first
 * opened. Multi-page files, or a {channel} pattern, give a ChannelSource.
 */
export function openTiffTiles(set: TiffTileSet, checkShare: [number, number] = [0, 1]): TileSource {
  const channelFiles = set.channelFiles ?? [set.files];
  if (channelFiles[0].length === 0) throw new UsageError(`${set.describedBy} lists no tiles`);
  const shape = checkTiffTile(channelFiles[0][0]);
  if (shape.pages > 1 && channelFiles.length > 1) {
    throw new UsageError(`${set.describedBy}: ${channelFiles[0][0]} has ${shape.pages} pages; give channels as {channel} files or as pages, not both`);
  }
  const all = channelFiles.flat();
  // Every file as it is now: each read checks its file is still this one, and the output records it.
  const opened = new Map<string, OpenedFile>(all.map((f) => [f, statInput(f, `TIFF tile file ${f}`)]));
  const [rank, size] = checkShare;
  for (let i = 1 + rank; i < all.length; i += size) checkTiffTile(all[i], shape);
  const count = channelFiles[0].length;
  const fingerprint: InputFingerprint = {
    kind: 'tiff', files: all.map((f) => ({ size: opened.get(f)!.size, mtimeMs: opened.get(f)!.mtimeMs })),
    tilesShape: [count, shape.height, shape.width], tilesDtype: shape.dtype, tilesPath: '',
  };
  // Insertion order of a Map = least recently used first.
  const open = new Map<string, NativeTiffFile>();
  const handle = (file: string, what: string): NativeTiffFile => {
    let tiff = open.get(file);
    if (tiff) {
      open.delete(file);
    } else {
      try {
        tiff = new (native().TiffFile)(file);
      } catch (error) {
        throw new InputError(`cannot open ${what}: ${(error as Error).message}`);
      }
      let st = null;
      try {
        st = fs.statSync(file);
      } catch {
        // reported as vanished
      }
      const change = fileChange(opened.get(file)!, st);
      try {
        if (change) throw new Error(`changed during the run: ${change}`);
        checkedPages(tiff, shape);
      } catch (error) {
        tiff.close();
        throw new InputError(`${what}: ${(error as Error).message}`);
      }
      if (open.size >= MAX_OPEN) {
        const [oldest, old] = open.entries().next().value as [string, NativeTiffFile];
        old.close();
        open.delete(oldest);
      }
    }
    open.set(file, tiff);
    return tiff;
  };
  const channels = shape.pages > 1 ? shape.pages : channelFiles.length;
  const channel = (c: number): TileSource => {
    if (!Number.isInteger(c) || c < 0 || c >= channels) throw new RangeError(`channel ${c} out of range (${channels} channels)`);
    const files = channelFiles[shape.pages > 1 ? 0 : c];
    const page = shape.pages > 1 ? c : 0;
    const what = (index: number) => `tile ${index}${channels > 1 ? ` channel ${c}` : ''} (${files[index]})`;
    return {
      count, height: shape.height, width: shape.width, dtype: shape.dtype, layout: set.layout, positions: set.positions, fingerprint,
      readRegion(index, y0, y1, x0, x1, into) {
        if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`tile ${index} out of range (${count} tiles)`);
        const out: NumericArray = into ?? reusedArray('tile-read', shape.dtype, (y1 - y0) * (x1 - x0));
        const tiff = handle(files[index], what(index));
        try {
          return tiff.readRegion(page, y0, y1, x0, x1, out);
        } catch (error) {
          // A strip or tile libtiff cannot read or decode (ERR_TIFF names file, page and strip).
          throw new InputError(`cannot read ${what(index)}: ${(error as Error).message}`);
        }
      },
      checkUnchanged() {
        for (const f of all) checkFileUnchanged(opened.get(f)!, `TIFF tile file`);
      },
      close() {
        for (const tiff of open.values()) tiff.close();
        open.clear();
      },
    };
  };
  const source: TileSource = channel(0);
  if (channels === 1) return source;
  return Object.assign(source, { channels, forChannel: channel }) as ChannelSource;
}
