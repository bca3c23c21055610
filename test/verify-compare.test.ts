// The native firstMismatch() kernel (verify's integer band check) against JavaScript's Math.round +
// clip (test/helpers/reference-convert.ts): on every .5 boundary of the 8- and 16-bit ranges and
// one ulp either side, on the 32-bit ranges' ends, on edge and random values, for each integer
// output dtype and both accumulator dtypes, it must fail exactly the pixels that differ from the
// reference, and report the first of them whatever the length and wherever the block edges fall.
// Then verify itself, which checks integer outputs with it: a pixel off by one is charged.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mpirun, node, run, stitchJs, tempDir } from './helpers/mpirun';
import { errorCodeOf } from './helpers/errors';
import { prng, randomValues } from './helpers/prng';
import { referenceConvert } from './helpers/reference-convert';
import { native } from '../lib/runtime/addon';
import { OUTPUT_DTYPES, rangeOf, type Dtype } from '../lib/core/dtype';

const INT_TYPES = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, int32: Int32Array, uint32: Uint32Array,
} as const;
type IntDtype = keyof typeof INT_TYPES;
type IntArray = InstanceType<(typeof INT_TYPES)[IntDtype]>;
type Acc = Float32Array | Float64Array;
const ACC_TYPES = ['float32', 'float64'] as const;
// The kernel's block (verify_compare.cc): lengths and mismatches are placed around its edges.
const BLOCK = 4096;

/** The neighbours of x one ulp away in float32 (`f32`) or float64. */
function ulpNeighbours(x: number, f32: boolean): [number, number] {
  if (f32) {
    const f = new Float32Array([x]);
    const bits = new Int32Array(f.buffer);
    const at = bits[0];
    // Sign-magnitude: one step of the bits away from zero grows |x|.
    bits[0] = at + 1; const away = f[0];
    bits[0] = at - 1; const toward = f[0];
    return x > 0 ? [toward, away] : [away, toward];
  }
  const d = new Float64Array([x]);
  const bits = new BigInt64Array(d.buffer);
  const at = bits[0];
  bits[0] = at + 1n; const away = d[0];
  bits[0] = at - 1n; const toward = d[0];
  return x > 0 ? [toward, away] : [away, toward];
}

/** k - 0.5, k + 0.5 and one ulp either side of both, k itself, for every k in `ks`. */
function boundaryValues(ks: Iterable<number>, f32: boolean): number[] {
  const out: number[] = [];
  for (const k of ks) {
    out.push(k);
    for (const half of [k - 0.5, k + 0.5]) {
      const h = f32 ? Math.fround(half) : half;
      out.push(h, ...ulpNeighbours(h, f32));
    }
  }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * Every .5 boundary of an 8- or 16-bit range (and past its ends), or with `sampled` (16-bit: each
 * rejection costs a call) those near the ends and zero and every 61st; the ends, zero and random
 * boundaries of a 32-bit range.
 */
function boundaryKs(dtype: IntDtype, seed: number, sampled = false): number[] {
  const [lo, hi] = rangeOf(dtype)!;
  if (hi - lo <= 255 || (hi - lo <= 65535 && !sampled)) return range(lo - 2, hi + 2);
  if (hi - lo <= 65535) return [...new Set([...range(lo - 2, lo + 200), ...range(-200, 200), ...range(hi - 200, hi + 2), ...range(lo, hi).filter((k) => k % 61 === 0)])];
  const rand = prng(seed);
  const ks = [...range(lo - 3, lo + 3), ...range(-4, 4), ...range(hi - 3, hi + 3), 2 ** 23, 2 ** 24, -(2 ** 24), 2 ** 31, -(2 ** 31) - 1];
  for (let i = 0; i < 3000; i++) ks.push(Math.floor(lo + rand() * (hi - lo)));
  return ks;
}

function edgeValues(): number[] {
  return [
    NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 3.4028234663852886e38, -3.4028234663852886e38,
    1.401298464324817e-45, 2 ** 52 + 0.5, 2 ** 53, -(2 ** 63), 2 ** 64, 1e300, -1e300,
  ];
}

function accOf(type: 'float32' | 'float64', values: number[]): Acc {
  return type === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
}

function referenceOf(acc: Acc, dtype: IntDtype): IntArray {
  const out = new INT_TYPES[dtype](acc.length);
  referenceConvert(acc, out, dtype as Dtype);
  return out;
}

/** Every index firstMismatch fails, found by calling it again past each one (on views at an offset). */
function allMismatches(acc: Acc, got: IntArray): number[] {
  const found: number[] = [];
  for (let from = 0; ;) {
    const at = native().firstMismatch(acc.subarray(from), got.subarray(from));
    if (at < 0) return found;
    found.push(from + at);
    from += at + 1;
  }
}

function differing(a: IntArray, b: IntArray): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** `reference` with every pixel moved by `step` where the dtype holds the result (others left as they are). */
function shifted(reference: IntArray, dtype: IntDtype, step: number): IntArray {
  const [lo, hi] = rangeOf(dtype)!;
  const out = reference.slice();
  for (let i = 0; i < out.length; i++) {
    const v = reference[i] + step;
    if (v >= lo && v <= hi) out[i] = v;
  }
  return out;
}

describe('firstMismatch() fails exactly the pixels that are not Math.round + clip of the accumulator', () => {
  it('covers every integer output dtype', () => {
    expect(OUTPUT_DTYPES.filter((d) => rangeOf(d) !== undefined).sort()).toEqual(Object.keys(INT_TYPES).sort());
  });

  for (const accType of ACC_TYPES) {
    for (const dtype of Object.keys(INT_TYPES) as IntDtype[]) {
      it(`${accType} -> ${dtype}`, () => {
        const f32 = accType === 'float32';
        const random = randomValues(12345, 20000);
        // Every boundary: the reference passes.
        const every = accOf(accType, [...edgeValues(), ...boundaryValues(boundaryKs(dtype, 11), f32), ...random]);
        expect(native().firstMismatch(every, referenceOf(every, dtype))).toBe(-1);
        const acc = accOf(accType, [...edgeValues(), ...boundaryValues(boundaryKs(dtype, 11, true), f32), ...random]);
        const reference = referenceOf(acc, dtype);
        expect(native().firstMismatch(acc, reference)).toBe(-1);
        // One off either way, everywhere the dtype allows: each such pixel fails, no other.
        for (const step of [-1, 1]) {
          const got = shifted(reference, dtype, step);
          expect(allMismatches(acc, got)).toEqual(differing(got, reference));
        }
        // Any value of the dtype: fails exactly where it is not the reference's.
        const rand = prng(99);
        const [lo, hi] = rangeOf(dtype)!;
        const got = reference.map((v) => (rand() < 0.5 ? v : lo + Math.floor(rand() * (hi - lo + 1)))) as IntArray;
        expect(allMismatches(acc, got)).toEqual(differing(got, reference));
        // The cases the definition spells out.
        const probe = Float64Array.from([-0.5, -1.5, 0.5, 2.5, -Infinity, Infinity, NaN]);
        const expected = [0, Math.max(lo, -1), 1, 3, lo, hi, 0];
        const asAcc = accOf(accType, Array.from(probe));
        expect(native().firstMismatch(asAcc, INT_TYPES[dtype].from(expected) as IntArray)).toBe(-1);
        expect(Array.from(referenceOf(asAcc, dtype))).toEqual(expected);
      });
    }
  }
});

describe('firstMismatch() reports the first mismatch whatever the length and block edges', () => {
  const lengths = [1, 2, 17, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK - 1, 3 * BLOCK + 5];
  for (const accType of ACC_TYPES) {
    for (const dtype of ['uint8', 'int16', 'uint32'] as const) {
      it(`${accType} -> ${dtype}`, () => {
        for (const n of lengths) {
          const acc = accOf(accType, randomValues(n, n).map((v) => (Number.isFinite(v) ? v % 300 : v)));
          const reference = referenceOf(acc, dtype);
          expect(native().firstMismatch(acc, reference)).toBe(-1);
          const places = [...new Set([0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, n - 2, n - 1].filter((i) => i >= 0 && i < n))];
          for (const at of places) {
            const got = reference.slice();
            got[at] = got[at] === 7 ? 8 : 7;
            expect(native().firstMismatch(acc, got), `length ${n}, mismatch at ${at}`).toBe(at);
            // A later mismatch, in the same block or another, does not hide the first.
            for (const later of places.filter((i) => i > at)) {
              const two = got.slice();
              two[later] = two[later] === 7 ? 8 : 7;
              expect(native().firstMismatch(acc, two), `length ${n}, mismatches at ${at} and ${later}`).toBe(at);
            }
          }
        }
        // Views at an offset into their buffers.
        const acc = accOf(accType, randomValues(5, BLOCK + 9));
        const reference = referenceOf(acc, dtype);
        reference[BLOCK + 8] ^= 1;
        expect(native().firstMismatch(acc.subarray(3), reference.subarray(3))).toBe(BLOCK + 5);
        expect(native().firstMismatch(new Float32Array(0), new Uint8Array(0))).toBe(-1);
      });
    }
  }

  it('checks its arguments', () => {
    const codeOf = errorCodeOf;
    const acc = new Float32Array(4);
    expect(codeOf(() => native().firstMismatch(acc, new Uint8Array(3)))).toBe('H5StitchError ERR_OUT_OF_RANGE');
    expect(codeOf(() => native().firstMismatch(acc, new Float32Array(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().firstMismatch(acc, new Float64Array(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().firstMismatch(acc, new BigInt64Array(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().firstMismatch(acc, new Uint8ClampedArray(4) as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().firstMismatch(new Int32Array(4) as never, new Uint8Array(4)))).toBe('TypeError ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => native().firstMismatch(acc, [0, 0, 0, 0] as never))).toBe('TypeError ERR_INVALID_ARG_TYPE');
  });
});

describe('verify of an integer output charges a pixel off by one', () => {
  const dir = tempDir();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const input = path.join(dir, 'in.h5');

  /** Moves the pixel at (y, x) of /stitched one step (down at the dtype's top). */
  function nudge(file: string, y: number, x: number): void {
    const script = 'import h5py, numpy, sys\n' +
      'y, x = int(sys.argv[2]), int(sys.argv[3])\n' +
      'with h5py.File(sys.argv[1], "r+") as f:\n' +
      '  d = f["stitched"]; v = int(d[y, x]); d[y, x] = v - 1 if v == numpy.iinfo(d.dtype).max else v + 1';
    const job = run('/usr/bin/python3', ['-c', script, file, String(y), String(x)]);
    expect(job.code, job.stderr).toBe(0);
  }

  // 3x3 tiles of 48 overlapping by 6: a 132x132 canvas, 17,424 pixels, one band of 4¼ blocks.
  for (const [dtype, ranks] of [['uint8', 1], ['int16', 2], ['uint32', 1]] as const) {
    it(`${dtype} at ${ranks} rank${ranks > 1 ? 's' : ''}: in a blended overlap and at the last pixel`, () => {
      if (!fs.existsSync(input)) expect(node([stitchJs, 'generate', input, '--tiles', '3x3', '--tile', '48', '--overlap', '6', '--dtype', 'uint16']).code).toBe(0);
      const out = path.join(dir, `${dtype}.h5`);
      const stitched = mpirun(ranks, [stitchJs, input, '--out', out, '--dtype', dtype, '--verify']);
      expect(stitched.code, stitched.stderr).toBe(0);
      expect(stitched.stdout).toMatch(/^h5stitch verify: OK: 9\/9 tiles ok/m);
      // Row 45 lies in the overlap of tile rows 0 and 1, column 20 in tile column 0 only.
      nudge(out, 45, 20);
      nudge(out, 131, 131);
      const job = mpirun(ranks, [stitchJs, 'verify', out]);
      expect(job.code, job.stderr).toBe(1);
      expect(job.stdout).toMatch(/^tile \d+: wrong \(1 pixels differ; worst \|error\| 1\.000 at y=45, x=20\)$/m);
      expect(job.stdout).toMatch(/^tile \d+: wrong \(1 pixels differ; worst \|error\| 1\.000 at y=131, x=131\)$/m);
      expect(job.stdout).toMatch(/^h5stitch verify: FAILED: 7\/9 tiles ok, 0 missing, 2 wrong/m);
    });
  }
});
