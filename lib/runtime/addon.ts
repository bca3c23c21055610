/**
 * Typed loader for the native addon (C++ over parallel HDF5 and MPI). The addon throws
 * H5StitchError itself (setErrorConstructor), so its errors carry the caller's JavaScript stack.
 */
import * as path from 'node:path';
import type { AccArray, Dtype, NumericArray, PixelArray } from '../core/dtype';
import { H5StitchError } from '../errors';
export type Transfer = 'collective' | 'independent';
/** The I/O mode HDF5 reports it actually used for a write. */
export type ActualIoMode = 'serial' | 'independent' | 'contiguous-collective' | 'chunk-collective' | 'chunk-independent' | 'chunk-mixed' | 'unknown';
export type AttrValue = number | string | number[] | NumericArray;

export interface FileOptions {
  /** 'create' fails if the file exists unless `overwrite`. Default 'r'. */
  mode?: 'create' | 'r' | 'r+';
  /** Open with the MPI-IO driver (collective open/close); default false (serial). */
  parallel?: boolean;
  comm?: 'world' | 'self';
  /** MPI_Info hints passed to MPI_File_open. */
  hints?: Record<string, string>;
  /** H5Pset_alignment(threshold, alignment) in bytes. */
  alignment?: [number, number];
  /** Collective metadata reads and writes (default true for parallel files). */
  collectiveMetadata?: boolean;
  overwrite?: boolean;
}

export interface DatasetOptions {
  shape: number[];
  dtype: Dtype;
  chunk?: number[];
  gzip?: number;
  fillValue?: number;
  fillTime?: 'alloc' | 'never' | 'ifset';
}

export interface IoOptions {
  transfer?: Transfer;
}

/** An open dataset. Hyperslab I/O: `start`/`count` have one entry per dimension. */
export interface NativeDataset {
  readonly shape: number[];
  /** null when the file's type is not one h5stitch supports. */
  readonly dtype: Dtype | null;
  readonly chunk: number[] | null;
  readonly name: string;
  /** Byte offset of a contiguous dataset's data in its file; null when chunked or unallocated. */
  readonly fileOffset: number | null;
  /** The filter pipeline in order (gzip's values[0] is its level); [] when unfiltered. */
  readonly filters: Array<{ id: number; name: string; values: number[] }>;
  /** Bytes its data takes in the file (less than its size when compressed; 0 if unallocated). */
  readonly storageSize: number;
  /** The object's identity in its file: equal for two paths that are hard links to one dataset. */
  readonly objectId: string;
  /** The file holds the elements bit for bit as a typed array of `dtype` does here (byte order, size, format): false when HDF5 converts them on read. */
  readonly storedAsNative: boolean;
  read<T extends NumericArray>(start: number[], count: number[], out: T, options?: IoOptions): T;
  write(start: number[], count: number[], data: NumericArray, options?: IoOptions): ActualIoMode;
  setAttr(name: string, value: AttrValue): void;
  getAttr(name: string): number | string | Float64Array | undefined;
  attrNames(): string[];
  close(): void;
}

/** An open HDF5 file; parallel files must be closed collectively. */
export interface NativeFile {
  readonly path: string;
  readonly parallel: boolean;
  readonly isOpen: boolean;
  close(): void;
  /** H5Fflush: collective for parallel files, ends in MPI_File_sync. */
  flush(): void;
  /**
   * Asks the OS to start writing the file's dirty pages in [offset, offset + length) (default:
   * all) now, without waiting (Linux sync_file_range; whole pages inside the range only); false
   * where unavailable. A hint, not a sync: flush() still makes data durable.
   */
  startWriteback(offset?: number, length?: number): boolean;
  getAtomicity(): boolean;
  setAtomicity(on: boolean): void;
  createDataset(name: string, options: DatasetOptions): NativeDataset;
  openDataset(name: string): NativeDataset;
  createGroup(name: string): void;
  /** A second name for the object at `target` (H5Lcreate_hard: the same data, no copy). Collective when parallel. */
  linkHard(target: string, name: string): void;
  exists(path: string): boolean;
  objectType(path: string): 'group' | 'dataset' | 'datatype' | 'other' | null;
  list(group?: string): string[];
  setAttr(objectPath: string, name: string, value: AttrValue): void;
  getAttr(objectPath: string, name: string): number | string | Float64Array | undefined;
  attrNames(objectPath: string): string[];
  /** Hints the MPI-IO layer reports for this open file (MPI_File_get_info). */
  mpioHints(): Record<string, string>;
}

export type ThreadLevel = 'single' | 'funneled' | 'serialized' | 'multiple';
export type ReduceOp = 'sum' | 'max' | 'min' | 'lor' | 'land';

export interface NativeMpi {
  init(threadLevel?: ThreadLevel): { requested: ThreadLevel; provided: ThreadLevel };
  state(): 'uninitialized' | 'running' | 'finalized';
  rank(): number;
  size(): number;
  /** Ranks on this node (MPI_COMM_TYPE_SHARED); collective. */
  localSize(): number;
  barrier(): void;
  wtime(): number;
  /** In place; every rank passes an array of the same type and length. */
  bcast<T extends NumericArray>(buffer: T, root?: number): T;
  allreduce<T extends NumericArray>(buffer: T, op: ReduceOp): T;
  gather<T extends NumericArray>(buffer: T, root?: number): T | null;
  allgather<T extends NumericArray>(buffer: T): T;
  processorName(): string;
  libraryVersion(): { library: string; standard: string };
  abort(code?: number): never;
  finalize(): void;
}

/** One page (IFD) of a TIFF file as the addon reads it (native/io/tiff_reader.cc). */
export interface TiffPageInfo {
  height: number;
  width: number;
  /** null: an element type h5stitch has no name for (1-bit, 12-bit, complex...). */
  dtype: Dtype | null;
  bitsPerSample: number;
  sampleFormat: number;
  samplesPerPixel: number;
  photometric: number;
  tiled: boolean;
  /** none | lzw | deflate | packbits | jpeg | zstd | ... */
  compression: string;
  /** Whether this libtiff can decode the page's compression. */
  codecAvailable: boolean;
  tileHeight?: number;
  tileWidth?: number;
  rowsPerStrip?: number;
}

/** A TIFF file open read-only through libtiff; errors are H5StitchError ERR_TIFF naming the file. */
export interface NativeTiffFile {
  readonly path: string;
  readonly pages: TiffPageInfo[];
  /** Rows [y0,y1) x cols [x0,x1) of `page` into `out` (the page's dtype, exactly that many elements); decodes only the strips or tiles touched. */
  readRegion<T extends NumericArray>(page: number, y0: number, y1: number, x0: number, x1: number, out: T): T;
  close(): void;
}

export interface NativeAddon {
  mpi: NativeMpi;
  File: new (path: string, options?: FileOptions) => NativeFile;
  TiffFile: new (path: string) => NativeTiffFile;
  /**
   * Writes `pixels` (one or more height x width pages, of the typed array's dtype) as a TIFF with
   * libtiff: strips (rowsPerStrip, default ~8 KiB each) or tiles ([h, w], multiples of 16),
   * uncompressed or deflate; BigTIFF past 2 GiB. ERR_TIFF naming the file when libtiff fails.
   */
  writeTiff(path: string, pixels: NumericArray, options: { height: number; width: number; compression: 'none' | 'deflate'; rowsPerStrip?: number; tile?: [number, number] }): void;
  hdf5Version(): { version: string; parallel: boolean; threadsafe: boolean };
  /** The blend kernel (see runtime/kernel.ts accumulateRegion); needs no MPI. */
  accumulate(args: NativeAccumulateArgs & { fresh?: boolean }): void;
  /**
   * Zeroes the pixels of `band` (whole rows accWidth wide, [0] at canvas (accY0, accX0)) that no
   * region ([y0, y1, x0, x1] records, each inside the band) covers; leaves the others.
   */
  zeroUncovered(args: { band: AccArray; accWidth: number; accY0: number; accX0: number; regions: Int32Array }): void;
  /**
   * Checks every job now, then runs them in order on a new thread (no JS, HDF5 or MPI there),
   * setting each pixel of `band` (every job's acc, whole rows) at its first job and zeroing those
   * no job covers. A job with `read` first reads its data from that file there (pread), its bytes
   * exactly the data's. Returns wait(): joins the thread and returns the seconds it took and
   * those it spent reading; throws ERR_INPUT naming `read.what` when a read fell short or failed.
   * Until wait() returns, `band` and the jobs' data must not be touched, nor the fds closed.
   */
  startAccumulate(args: { band: AccArray; jobs: Array<NativeAccumulateArgs & { read?: NativeFileRuns }> }): () => BackgroundTimes;
  /**
   * Where startAccumulate's threads run: 'node' = any CPU this process's cpuset allows (they
   * leave the launcher's per-rank binding), 'inherit' (initial) = the main thread's CPUs.
   */
  setWorkerCpus(mode: 'node' | 'inherit'): void;
  /**
   * 'node': lets the calling thread run on any CPU of the cpuset (its mask saved first); 'saved':
   * puts the saved mask back. Returns whether the thread's mask changed.
   */
  setCallerCpus(mode: 'node' | 'saved'): boolean;
  /**
   * Copies a float accumulator into `out` (same length, its own memory): floats as a typed-array
   * store would, integers rounded like Math.round and clipped to the dtype's range. Returns the
   * index of the first NaN stored as 0 into an integer `out`, or -1 (always -1 for floats).
   */
  convert(acc: AccArray, out: PixelArray): number;
  /**
   * The index of the first element of an integer `got` (same length) that is not the output value
   * of `acc` (what convert stores: Math.round, clipped; NaN as 0), or -1. Checks the definition,
   * not convert's arithmetic (verify_compare.h).
   */
  firstMismatch(acc: AccArray, got: PixelArray): number;
  /** The next pyramid level of `rows` x `width` pixels of `src` into `out` (ceil(rows/2) x ceil(width/2), same type). */
  downsample(src: PixelArray, rows: number, width: number, out: PixelArray): void;
  /**
   * Checks every step now, then runs them in order on a new thread: a downsample (rows and width
   * given) or a copy of `src` into `out` (same length). Returns wait() (as startAccumulate's);
   * until it returns, the steps' arrays must not be touched.
   */
  startDownsample(steps: Array<{ src: PixelArray; out: PixelArray; rows?: number; width?: number }>): () => BackgroundTimes;
  /**
   * Benchmark reference: every rank writes its contiguous share of a `totalBytes` file with one
   * collective MPI-IO write plus MPI_File_sync; returns seconds (barrier to barrier). Collective.
   */
  rawWrite(path: string, totalBytes: number, hints?: Record<string, string>): number;
  /**
   * Asks the kernel to drop this node's clean cached pages of `path` (fdatasync, then
   * posix_fadvise DONTNEED), so the next read comes from the file system. False where unsupported.
   */
  dropCachedPages(path: string): boolean;
  /**
   * Registers strip b against strip a (register/phase_correlation.h): (dy, dx) is the deviation of
   * B's position relative to A from the nominal, ncc the match's normalised cross-correlation
   * (-1 and candidates 0 when no shift within maxShift kept minOverlap pixels).
   */
  registerPair(a: NumericArray, aShape: [number, number], b: NumericArray, bShape: [number, number],
    options: { offset: [number, number]; maxShift: number; peaks?: number; minOverlap?: number }):
    { dy: number; dx: number; ncc: number; overlap: number; candidates: number; fftSeconds: number; nccSeconds: number };
  /**
   * Renders one tile of the registration test set's specimen (generate/texture.h) at canvas
   * position (y, x): texture, illumination, sensor noise; integer arrays get
   * round(base + value·scale) clamped to [0, max]. Returns `out`.
   */
  renderTile<T extends NumericArray>(out: T, shape: [number, number], look: {
    y: number; x: number; seed: number; blank?: boolean; gradientY?: number; gradientX?: number; gain?: number;
    noise?: number; noiseSeed: number; scale?: number; base?: number; max?: number;
  }): T;
  /** The specimen at one canvas point (what renderTile draws, without light and noise). */
  textureAt(y: number, x: number, seed: number): number;
  /** The class every coded native error is made with: `new ctor(code, message)`. */
  setErrorConstructor(ctor: new (code: string, message: string) => Error): void;
}

export interface NativeAccumulateArgs {
  acc: AccArray;
  accWidth: number;
  accY0: number;
  accX0: number;
  /** [order, y, x, height, width] */
  tile: Int32Array;
  /** [order, y, x, height, width] per covering tile, in increasing order */
  covering: Int32Array;
  data: PixelArray;
  /** [y0, y1, x0, x1] in canvas coordinates */
  region: [number, number, number, number];
  blend: 'linear' | 'none' | 'max';
}

/** `rows` runs of `rowBytes` bytes, `strideBytes` apart from byte `offset` of the open file `fd`; `what` names them in errors. */
export interface NativeFileRuns { fd: number; offset: number; rows: number; rowBytes: number; strideBytes: number; what: string }

/** What a background batch's wait() returns: the seconds it took, and those of them it spent reading input. */
export interface BackgroundTimes { seconds: number; readSeconds: number }

let addon: NativeAddon | undefined;

/** Loads the addon once (build/Release first, then prebuilds/). */
export function native(): NativeAddon {
  if (!addon) {
    // UCX (under MPICH's ch4:ucx and some Open MPI builds) reads its settings when the addon loads,
    // so they go in the environment first; a user's own values win.
    // - Its SIGSEGV handler fights Node's own; an empty list turns it off.
    // - Its memory-event hooks (libucm patches brk/mmap/malloc) left Node's heap unmapped under it:
    //   4 % of MPICH jobs died in strcmp on a brk-heap string (12 of 300 runs; 3 of 300 with only the
    //   malloc hooks off; 0 of 300 with all events off). The events only keep RDMA registration
    //   caches fresh; without them UCX registers memory directly.
    if (process.env.UCX_ERROR_SIGNALS === undefined) process.env.UCX_ERROR_SIGNALS = '';
    if (process.env.UCX_MEM_EVENTS === undefined) process.env.UCX_MEM_EVENTS = 'no';
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = load(path.join(__dirname, '..', '..'));
    addon.setErrorConstructor(H5StitchError);
  }
  return addon;
}
