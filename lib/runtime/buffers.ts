/** Process-wide reused buffers for the hot paths (bands, tile parts). */
import { newArray, type Dtype, type NumericArray } from '../core/dtype';

const reused = new Map<string, NumericArray>();

/**
 * A view of `length` elements of the process-wide buffer for `role` and `dtype`, grown when
 * needed and reused across bands, tiles and runs: a fresh buffer costs a page fault per 4 KiB
 * touched, and dropped ones linger until V8 collects them (16 MB per bench repeat in peak RSS).
 * The contents are whatever the last user left; a role has one user at a time.
 */
export function reusedArray(role: string, dtype: Dtype, length: number): NumericArray {
  const key = `${role}:${dtype}`;
  let buffer = reused.get(key);
  if (!buffer || buffer.length < length) reused.set(key, (buffer = newArray(dtype, length)));
  return buffer.subarray(0, length) as NumericArray;
}
