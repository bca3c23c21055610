// The native downsample() kernel (the stitch's pyramid levels) against verify's plain TypeScript
// block mean (stitch/verify-levels.ts), byte for byte, for every output dtype, on odd shapes and
// edge values: halves for round-half-to-even, -0, NaN, ±Infinity, range ends.
import { describe, expect, it } from 'vitest';
import { prng } from './helpers/prng';
import { native } from '../lib/runtime/addon';
import { newArray, rangeOf, type Dtype, type NumericArray } from '../lib/core/dtype';
import { blockMeanRows, roundHalfEven } from '../lib/stitch/verify-levels';

const DTYPES: Dtype[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'];

function bytes(a: NumericArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function sample(dtype: Dtype, n: number, seed: number): NumericArray {
  const random = prng(seed);
  const a = newArray(dtype, n) as Float64Array;
  const range = rangeOf(dtype);
  const edges = range ? [range[0], range[1], range[0] + 1, range[1] - 1, 0, 1, -1, 2, 3] : [NaN, Infinity, -Infinity, -0, 0, 0.5, 1.5, 3.4e38, -3.4e38, 1e-45];
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.3) a[i] = edges[Math.floor(random() * edges.length)];
    else if (range) a[i] = range[0] + Math.floor(random() * (range[1] - range[0] + 1));
    else a[i] = (random() - 0.5) * 10 ** Math.floor(random() * 8);
  }
  return a;
}

describe('downsample kernel', () => {
  it.each(DTYPES)('%s: equals the TypeScript block mean on odd and even shapes', (dtype) => {
    for (const [rows, width] of [[1, 1], [1, 7], [7, 1], [2, 2], [5, 9], [6, 8], [13, 17], [64, 33]]) {
      const src = sample(dtype, rows * width, rows * 1000 + width);
      const out = newArray(dtype, Math.ceil(rows / 2) * Math.ceil(width / 2));
      const want = newArray(dtype, out.length);
      native().downsample(src as never, rows, width, out as never);
      blockMeanRows(src, rows, width, dtype, want);
      expect(bytes(out).equals(bytes(want)), `${dtype} ${rows}x${width}`).toBe(true);
    }
  });

  it('rounds integer means half to even, and computes float means in float64', () => {
    const u8 = Uint8Array.from([1, 2, 2, 2, 0, 0, 1, 2]); // 2x4: block means 0.75 -> 1 and 1.75 -> 2
    const out = new Uint8Array(2);
    native().downsample(u8, 2, 4, out);
    expect(Array.from(out)).toEqual([roundHalfEven((1 + 2 + 0 + 0) / 4), roundHalfEven((2 + 2 + 1 + 2) / 4)]);
    const halves = Int16Array.from([1, 2, -3, -2]); // (1+2)/2 = 1.5 -> 2, (-3-2)/2 = -2.5 -> -2
    const h = new Int16Array(2);
    native().downsample(halves, 1, 4, h);
    expect(Array.from(h)).toEqual([2, -2]);
    // float32 sums that overflow float32 but not float64: the mean is finite.
    const big = Float32Array.from([3e38, 3e38, 3e38, 3e38]);
    const f = new Float32Array(1);
    native().downsample(big, 2, 2, f);
    expect(f[0]).toBe(Math.fround(3e38));
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(-0.5)).toBe(-0);
    expect(roundHalfEven(3.5)).toBe(4);
  });

  it('refuses mismatched buffers', () => {
    expect(() => native().downsample(new Float32Array(6), 2, 3, new Float32Array(3))).toThrow(/out has|elements/);
    expect(() => native().downsample(new Float32Array(6), 2, 3, new Float64Array(4))).toThrow(/one type/);
  });
});

describe('startDownsample (the chain the pyramid sink runs on a second thread)', () => {
  it('runs its kernel and copy steps in order: two levels and a carried row, as the direct calls make them', () => {
    const src = sample('uint16', 7 * 13, 11) as Uint16Array;
    const l1 = new Uint16Array(4 * 7), l2 = new Uint16Array(2 * 4), carry = new Uint16Array(7);
    // Level 2 reads level 1, which an earlier step of the same chain writes.
    const wait = native().startDownsample([
      { src, rows: 7, width: 13, out: l1 },
      { src: l1, rows: 4, width: 7, out: l2 },
      { src: l1.subarray(3 * 7), out: carry },
    ]);
    expect(wait()).toMatchObject({ seconds: expect.any(Number), readSeconds: 0 });
    const e1 = new Uint16Array(4 * 7), e2 = new Uint16Array(2 * 4);
    native().downsample(src, 7, 13, e1);
    native().downsample(e1, 4, 7, e2);
    expect(bytes(l1)).toEqual(bytes(e1));
    expect(bytes(l2)).toEqual(bytes(e2));
    expect(bytes(carry)).toEqual(bytes(e1.subarray(3 * 7)));
  });

  it('checks every step before the thread starts', () => {
    const ok = { src: new Float32Array(4), rows: 2, width: 2, out: new Float32Array(1) };
    expect(() => native().startDownsample([ok, { src: new Float32Array(6), rows: 2, width: 3, out: new Float32Array(3) }])).toThrow(/elements/);
    expect(() => native().startDownsample([ok, { src: new Float32Array(3), out: new Float32Array(2) }])).toThrow(/one length/);
    const shared = new Float32Array(8);
    expect(() => native().startDownsample([{ src: shared.subarray(0, 4), out: shared.subarray(2, 6) }])).toThrow(/share memory/);
  });
});
