// The native convert() kernel against a plain TypeScript reference (test/helpers/reference-convert.ts), byte for byte, on edge values
// (NaN with payloads, ±Infinity, -0, halves, range bounds, huge and tiny values) and random ones.
import { describe, expect, it } from 'vitest';
import { errorCodeOf } from './helpers/errors';
import { prng, randomValues } from './helpers/prng';
import { referenceConvert } from './helpers/reference-convert';
import { native } from '../lib/runtime/addon';
import type { Dtype } from '../lib/core/dtype';

const OUT_TYPES = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
} as const;
type OutDtype = keyof typeof OUT_TYPES;

/** Doubles from their bit patterns (high word, low word): NaN payloads survive only this way. */
function fromBits(...words: [number, number][]): number[] {
  const view = new DataView(new ArrayBuffer(8));
  return words.map(([hi, lo]) => {
    view.setUint32(0, hi);
    view.setUint32(4, lo);
    return view.getFloat64(0);
  });
}

function edgeValues(): number[] {
  const bounds = [0, 127, -128, 255, 32767, -32768, 65535, 2147483647, -2147483648, 4294967295];
  const values = [
    NaN, Infinity, -Infinity, 0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
    1e300, -1e300, 2 ** 52, 2 ** 52 + 0.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 63, -(2 ** 63), 2 ** 64,
    0.49999999999999994, -0.49999999999999994, 0.5000000000000001, 2.4999999999999996, -2.5000000000000004,
    3.4028234663852886e38, 3.4028235677973362e38, 3.4028235677973366e38, 1.401298464324817e-45, 7e-46, 1e-320,
    ...fromBits([0x7ff00000, 1], [0x7ff8dead, 0xbeef0001], [0xfff80000, 0], [0xfff00000, 0x12345678], [0x7fffffff, 0xffffffff]),
  ];
  for (let k = -6; k <= 6; k++) values.push(k + 0.5, k - 0.5, k + 0.25, k - 0.75);
  for (const b of bounds) {
    for (const d of [-1, -0.5, -0.49999999999999994, -0.25, 0, 0.25, 0.49999999999999994, 0.5, 0.75, 1]) values.push(b + d);
  }
  return values;
}

/** The acc as the strategies hold it: float32 values come from a float32 store (or raw bits). */
function accOf(type: 'float32' | 'float64', values: number[], seed: number): Float32Array | Float64Array {
  if (type === 'float64') return Float64Array.from(values);
  const acc = Float32Array.from(values);
  // Float32 NaN payloads and subnormals straight from bits (a store from a double can't make all).
  const rand = prng(seed);
  const raw = new Uint32Array(acc.buffer);
  for (let i = 0; i < raw.length; i += 7) raw[i] = rand() * 2 ** 32;
  raw[1] = 0x7f800001; // signalling NaN
  raw[2] = 0xffc00000; // negative quiet NaN
  raw[3] = 0x00000001; // smallest subnormal
  return acc;
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('native convert() is convertInto, bit for bit', () => {
  const values = [...edgeValues(), ...randomValues(12345, 20000)];
  for (const accType of ['float32', 'float64'] as const) {
    for (const dtype of Object.keys(OUT_TYPES) as OutDtype[]) {
      it(`${accType} -> ${dtype}`, () => {
        const acc = accOf(accType, values, 777);
        const Out = OUT_TYPES[dtype];
        // A view at an offset into a larger buffer: convert() must honour byteOffset.
        const expected = new Out(acc.length);
        const got = new Out(new ArrayBuffer((acc.length + 3) * Out.BYTES_PER_ELEMENT), 3 * Out.BYTES_PER_ELEMENT, acc.length);
        got.fill(99 as never);
        referenceConvert(acc, expected, dtype as Dtype);
        native().convert(acc, got);
        expect(Buffer.compare(bytes(got), bytes(expected))).toBe(0);
        if (dtype !== 'float32' && dtype !== 'float64') {
          // The semantics spelled out, on a few values whatever convertInto does.
          const probe = Float64Array.from([2.5, -2.5, -0.5, 0.49999999999999994, NaN, -Infinity, Infinity]);
          const out = new Out(probe.length);
          native().convert(probe, out);
          const min = dtype.startsWith('u') ? 0 : -(2 ** (8 * Out.BYTES_PER_ELEMENT - 1));
          const max = dtype.startsWith('u') ? 2 ** (8 * Out.BYTES_PER_ELEMENT) - 1 : 2 ** (8 * Out.BYTES_PER_ELEMENT - 1) - 1;
          expect(Array.from(out)).toEqual([3, Math.max(min, -2), 0, 0, 0, min, max]);
        }
      });
    }
  }

  it('checks its arguments', () => {
    const acc = new Float32Array(4);
    const codeOf = errorCodeOf;
    expect(codeOf(() => native().convert(acc, new Uint8Array(3)))).toBe('H5StitchError ERR_OUT_OF_RANGE');
    expect(codeOf(() => native().convert(new Int32Array(4) as never, new Uint8Array(4)))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().convert(acc, new BigInt64Array(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().convert(acc, new Uint8ClampedArray(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    const shared = new ArrayBuffer(32);
    expect(codeOf(() => native().convert(new Float32Array(shared, 0, 4), new Int16Array(shared, 8, 4)))).toBe('H5StitchError ERR_OUT_OF_RANGE');
    expect(codeOf(() => native().convert(new Float32Array(shared, 0, 4), new Int16Array(shared, 16, 4)))).toBe('NO_ERROR');
    expect(codeOf(() => native().convert(new Float64Array(0), new Uint16Array(0)))).toBe('NO_ERROR');
  });
});

describe('native convert() reports where a NaN had no integer value', () => {
  it('returns the first NaN index for integer outputs, -1 otherwise', () => {
    const acc = Float32Array.from([1, NaN, 2.5, NaN]);
    expect(native().convert(acc, new Uint8Array(4))).toBe(1);
    expect(native().convert(acc, new Int32Array(4))).toBe(1);
    expect(native().convert(acc, new Float32Array(4))).toBe(-1); // floats keep NaN
    expect(native().convert(Float64Array.from([0.5, -0.5, 1e9]), new Int16Array(3))).toBe(-1);
  });
});
