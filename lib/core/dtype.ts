/**
 * The one table of element types on the TypeScript side: bytes, typed array, integer range, and
 * which types tiles, outputs and accumulators may have. (native/h5/types.cc is its C++ twin.)
 */

/** Element types h5stitch reads and writes. */
export type Dtype = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

export type NumericArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** Arrays the blend kernel reads pixels from (no BigInt). */
export type PixelArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

/** The accumulator of a blend: float64 for float64 outputs, float32 otherwise. */
export type AccDtype = 'float32' | 'float64';
export type AccArray = Float32Array | Float64Array;

interface DtypeInfo {
  readonly array: { new (length: number): NumericArray; readonly BYTES_PER_ELEMENT: number };
  /** Inclusive range of an integer type; absent for floats. */
  readonly range?: readonly [number, number];
}

export const DTYPES: Readonly<Record<Dtype, DtypeInfo>> = {
  int8: { array: Int8Array, range: [-128, 127] },
  uint8: { array: Uint8Array, range: [0, 255] },
  int16: { array: Int16Array, range: [-32768, 32767] },
  uint16: { array: Uint16Array, range: [0, 65535] },
  int32: { array: Int32Array, range: [-2147483648, 2147483647] },
  uint32: { array: Uint32Array, range: [0, 4294967295] },
  int64: { array: BigInt64Array },
  uint64: { array: BigUint64Array },
  float32: { array: Float32Array },
  float64: { array: Float64Array },
};

/**
 * Tile element types h5stitch stitches. Not int64/uint64: the blend is floating point, and 64-bit
 * integers past 2^53 would be rounded silently (they are refused by name).
 */
export const TILE_DTYPES: readonly Dtype[] = ['int8', 'uint8', 'uint16', 'int16', 'int32', 'uint32', 'float32', 'float64'];
/** Output element types (integers are rounded and clipped once, at the end). */
export const OUTPUT_DTYPES: readonly Dtype[] = ['float32', 'float64', 'int8', 'uint8', 'uint16', 'int16', 'int32', 'uint32'];
/** Element types `generate` writes. */
export const GENERATE_DTYPES: readonly Dtype[] = ['uint8', 'uint16', 'float32', 'float64'];

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

export function bytesOf(dtype: Dtype): number {
  return DTYPES[dtype].array.BYTES_PER_ELEMENT;
}

/** Integer range [lo, hi] of `dtype`, or undefined for floats (and 64-bit integers). */
export function rangeOf(dtype: Dtype): readonly [number, number] | undefined {
  return DTYPES[dtype].range;
}

export function newArray(dtype: Dtype, length: number): NumericArray {
  return new DTYPES[dtype].array(length);
}

export function accDtypeOf(outDtype: Dtype): AccDtype {
  return outDtype === 'float64' ? 'float64' : 'float32';
}
