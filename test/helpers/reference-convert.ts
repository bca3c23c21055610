/** The integer conversion as plain TypeScript: the reference the native convert() is checked against. */
import { DTYPES, type Dtype, type NumericArray } from '../../lib/core/dtype';

export function referenceConvert(acc: Float32Array | Float64Array, out: NumericArray, dtype: Dtype): void {
  const range = DTYPES[dtype].range;
  const o = out as Float64Array;
  if (!range) {
    o.set(acc);
    return;
  }
  const [lo, hi] = range;
  for (let i = 0; i < acc.length; i++) {
    const v = Math.round(acc[i]);
    o[i] = v < lo ? lo : v > hi ? hi : v;
  }
}
