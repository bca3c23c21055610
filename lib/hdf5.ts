/**
 * HDF5 files with every native error rethrown from the JavaScript call site.
 */
import { callSite, native, type FileOptions, type NativeDataset, type NativeFile, type NumericArray } from './native';

export type { NativeDataset as Dataset, NativeFile as H5File } from './native';

// Wraps each method so native errors carry a JS stack; datasets returned are wrapped too.
function guarded<T extends object>(target: T): T {
  return new Proxy(target, {
    get(object, key) {
      const value = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = callSite(() => value.apply(object, args));
        return key === 'createDataset' || key === 'openDataset' ? guarded(result as NativeDataset) : result;
      };
    },
  });
}

/** Opens (or creates, with mode 'create') an HDF5 file; collective when `parallel`. */
export function openFile(path: string, options: FileOptions = {}): NativeFile {
  const File = native().File;
  return guarded(callSite(() => new File(path, options)));
}

/** Reads a whole dataset into a new typed array of its dtype. */
export function readAll(dataset: NativeDataset) {
  const count = dataset.shape;
  const out = newArray(dataset.dtype ?? 'float64', count.reduce((a, b) => a * b, 1));
  return dataset.read(count.map(() => 0), count, out);
}

const arrayTypes = {
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array,
  uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array, float32: Float32Array, float64: Float64Array,
} as const;

export function newArray(dtype: keyof typeof arrayTypes, length: number) {
  return new arrayTypes[dtype](length);
}

const reused = new Map<string, NumericArray>();

/**
 * A view of `length` elements of the process-wide buffer for `role` and `dtype`, grown when
 * needed and reused across bands, tiles and runs: a fresh buffer costs a page fault per 4 KiB
 * touched, and dropped ones linger until V8 collects them (16 MB per bench repeat in peak RSS).
 * The contents are whatever the last user left; a role has one user at a time.
 */
export function reusedArray(role: string, dtype: keyof typeof arrayTypes, length: number): NumericArray {
  const key = `${role}:${dtype}`;
  let buffer = reused.get(key);
  if (!buffer || buffer.length < length) reused.set(key, (buffer = newArray(dtype, length)));
  return buffer.subarray(0, length) as NumericArray;
}
