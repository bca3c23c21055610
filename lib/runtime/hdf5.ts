/**
 * HDF5 files through the addon, with every native error rethrown from the JavaScript call site.
 */
import { newArray, type NumericArray } from '../core/dtype';
import { callSite, native, type FileOptions, type NativeDataset, type NativeFile } from './addon';

export type { NativeDataset as Dataset, NativeFile as H5File } from './addon';

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

/**
 * Opens (or creates, with mode 'create') an HDF5 file; collective when `parallel` (then close it
 * collectively too).
 */
export function openFile(path: string, options: FileOptions = {}): NativeFile {
  const File = native().File;
  return guarded(callSite(() => new File(path, options)));
}

/** Reads a whole dataset into a new typed array of its dtype. */
export function readAll(dataset: NativeDataset): NumericArray {
  const count = dataset.shape;
  const out = newArray(dataset.dtype ?? 'float64', count.reduce((a, b) => a * b, 1));
  return dataset.read(count.map(() => 0), count, out);
}
