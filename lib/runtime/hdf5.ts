/**
 * HDF5 files through the addon. Native failures throw H5StitchError (code ERR_HDF5 with HDF5's
 * error stack in the message), made by the addon with the JavaScript caller's stack.
 */
import { newArray, type NumericArray } from '../core/dtype';
import { native, type FileOptions, type NativeDataset, type NativeFile } from './addon';

export type { NativeDataset as Dataset, NativeFile as H5File } from './addon';

/**
 * Opens (or creates, with mode 'create') an HDF5 file; collective when `parallel` (then close it
 * collectively too).
 */
export function openFile(path: string, options: FileOptions = {}): NativeFile {
  const File = native().File;
  return new File(path, options);
}

/** Reads a whole dataset into a new typed array of its dtype. */
export function readAll(dataset: NativeDataset): NumericArray {
  const count = dataset.shape;
  const out = newArray(dataset.dtype ?? 'float64', count.reduce((a, b) => a * b, 1));
  return dataset.read(count.map(() => 0), count, out);
}
