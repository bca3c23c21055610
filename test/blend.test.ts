import { describe, it, expect } from 'vitest';
import { prng } from './helpers/prng';
import { gridPositions, explicitPositions, PlannedTile, Canvas } from '../lib/core/geometry';
import { planRounds } from '../lib/core/rounds';
import { neighbourIndex, weightSum, rawWeight, type BlendMode } from '../lib/core/weights';
import { accumulateRegion, convertInto, startAccumulateRegions, zeroUncovered, type AccumulateArgs } from '../lib/runtime/kernel';
import { newArray, rangeOf, type Dtype } from '../lib/core/dtype';
import { referenceAccumulate } from './helpers/reference-blend';


const image = (y: number, x: number) => 100 + 50 * Math.sin(y / 7) * Math.cos(x / 11) + 0.3 * x;

/** The tile's pixels for a canvas region, cut from `f`. */
function cut(f: (y: number, x: number) => number, y0: number, y1: number, x0: number, x1: number): Float32Array {
  const out = new Float32Array((y1 - y0) * (x1 - x0));
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[(y - y0) * (x1 - x0) + x - x0] = f(y, x);
  return out;
}

function stitch(planned: PlannedTile[], canvas: Canvas, blend: BlendMode, f: (y: number, x: number, t: PlannedTile) => number,
                acc: Float32Array | Float64Array = new Float32Array(canvas.height * canvas.width), split = false) {
  const nb = neighbourIndex(planned);
  planned.forEach((t, i) => {
    // split: the tile as four uneven quadrants (row halves x column halves) instead of whole
    const ym = t.y + (t.height >> 1) + 1, xm = t.x + (t.width >> 1) - 1;
    const parts = split
      ? [[t.y, ym, t.x, xm], [t.y, ym, xm, t.x + t.width], [ym, t.y + t.height, t.x, xm], [ym, t.y + t.height, xm, t.x + t.width]]
      : [[t.y, t.y + t.height, t.x, t.x + t.width]];
    for (const [y0, y1, x0, x1] of parts) {
      const region = { y0, y1, x0, x1 };
      accumulateRegion({ acc, accWidth: canvas.width, accY0: 0, accX0: 0, tile: t, covering: nb[i], blend, region,
        data: cut((y, x) => f(y, x, t), y0, y1, region.x0, region.x1) });
    }
  });
  return acc;
}

const holeGrid = () => gridPositions({ layout: [[0, 1, 2], [3, -1, 4], [5, 6, 7]], tileHeight: 12, tileWidth: 15, overlapY: 4, overlapX: 6 });
const randomSet = (seed: number) => {
  const rand = prng(seed);
  const pos = Array.from({ length: 12 }, () => [rand() * 40, rand() * 40] as [number, number]);
  return explicitPositions(pos, 9 + Math.floor(rand() * 10), 9 + Math.floor(rand() * 10));
};
const covered = (planned: PlannedTile[], y: number, x: number) => planned.some((t) => rawWeight(t, y, x) > 0);

describe('linear weights', () => {
  it('reduce to the linear ramp in a plain two-tile overlap', () => {
    const planned = planRounds(explicitPositions([[0, 0], [0, 6]], 1, 10).tiles);
    const o = 4;
    for (let j = 0; j < o; j++) {
      const W = rawWeight(planned[0], 0, 6 + j) + rawWeight(planned[1], 0, 6 + j);
      expect(rawWeight(planned[0], 0, 6 + j) / W).toBeCloseTo((o - j) / (o + 1), 12);
      expect(rawWeight(planned[1], 0, 6 + j) / W).toBeCloseTo((j + 1) / (o + 1), 12);
    }
  });

  it('partition unity on a 3x3 grid with a hole and on random positions', () => {
    for (const { tiles, canvas } of [holeGrid(), randomSet(1), randomSet(2), randomSet(3)]) {
      const planned = planRounds(tiles);
      for (let y = 0; y < canvas.height; y++)
        for (let x = 0; x < canvas.width; x++) {
          const s = weightSum(planned, y, x);
          if (covered(planned, y, x)) expect(Math.abs(s - 1)).toBeLessThanOrEqual(1e-6);
          else expect(s).toBe(0);
        }
    }
  });
});

describe('accumulateRegion', () => {
  it('reproduces a smooth image with linear blend (grid with hole and random positions)', () => {
    for (const { tiles, canvas } of [holeGrid(), randomSet(7), randomSet(8)]) {
      const planned = planRounds(tiles);
      const acc = stitch(planned, canvas, 'linear', image);
      let lo = Infinity, hi = -Infinity;
      for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
        lo = Math.min(lo, image(y, x)); hi = Math.max(hi, image(y, x));
      }
      for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
        if (!covered(planned, y, x)) { expect(acc[y * canvas.width + x]).toBe(0); continue; }
        // compare with the float32-rounded source, which is what the tiles hold
        expect(Math.abs(acc[y * canvas.width + x] - Math.fround(image(y, x))) / (hi - lo)).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('gives bit-identical results processing a tile in parts (row and column halves) or whole', () => {
    for (const { tiles, canvas } of [holeGrid(), randomSet(11)]) {
      const planned = planRounds(tiles);
      const noisy = (y: number, x: number, t: PlannedTile) => image(y, x) + t.index * 0.37;
      for (const blend of ['linear', 'none', 'max'] as const)
        for (const mk of [() => new Float32Array(canvas.height * canvas.width), () => new Float64Array(canvas.height * canvas.width)]) {
          const whole = stitch(planned, canvas, blend, noisy, mk());
          const halves = stitch(planned, canvas, blend, noisy, mk(), true);
          expect(Buffer.from(halves.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
        }
    }
  });

  it('is exactly the tile value where only one tile covers, for every mode', () => {
    const { tiles, canvas } = holeGrid();
    const planned = planRounds(tiles);
    for (const blend of ['linear', 'none', 'max'] as const) {
      const acc = stitch(planned, canvas, blend, image);
      expect(acc[0]).toBe(Math.fround(image(0, 0)));
      expect(acc[5 * canvas.width + 16]).toBe(Math.fround(image(5, 16)));
    }
  });

  it('blends a 0-valued and a 1-valued tile along the linear ramp', () => {
    const { tiles, canvas } = explicitPositions([[0, 0], [0, 6]], 3, 10);
    const acc = stitch(planRounds(tiles), canvas, 'linear', (_y, _x, t) => t.index, new Float64Array(3 * 16));
    for (let j = 0; j < 4; j++) expect(acc[16 + 6 + j]).toBeCloseTo((j + 1) / 5, 12);
    expect(acc[16 + 5]).toBe(0);
    expect(acc[16 + 10]).toBe(1);
  });

  it('sums with none and takes the maximum with max, regardless of tile order', () => {
    const { tiles, canvas } = explicitPositions([[0, 0], [0, 3]], 2, 5);
    const planned = planRounds(tiles);
    const val = (_y: number, _x: number, t: PlannedTile) => (t.index === 0 ? 5 : 2);
    expect(Array.from(stitch(planned, canvas, 'none', val).subarray(0, 8))).toEqual([5, 5, 5, 7, 7, 2, 2, 2]);
    // pre-filled garbage must be overwritten by the first writer
    const acc = new Float32Array(16).fill(99);
    expect(Array.from(stitch(planned, canvas, 'max', val, acc).subarray(0, 8))).toEqual([5, 5, 5, 5, 5, 2, 2, 2]);
    const rev = planRounds(explicitPositions([[0, 3], [0, 0]], 2, 5).tiles);
    expect(Array.from(stitch(rev, canvas, 'max', (_y, _x, t) => (t.index === 1 ? 5 : 2)).subarray(0, 8)))
      .toEqual([5, 5, 5, 5, 5, 2, 2, 2]);
  });

  it('honours acc offsets and rejects regions outside the tile or acc', () => {
    const planned = planRounds(explicitPositions([[0, 0], [10, 20]], 4, 4).tiles);
    const nb = neighbourIndex(planned);
    expect(planned[1]).toMatchObject({ index: 1, y: 10, x: 20 });
    const acc = new Float64Array(2 * 3);
    accumulateRegion({ acc, accWidth: 3, accY0: 11, accX0: 21, tile: planned[1], covering: nb[1], blend: 'none',
      region: { y0: 11, y1: 13, x0: 21, x1: 24 }, data: Float64Array.of(1, 2, 3, 4, 5, 6) });
    expect(Array.from(acc)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => accumulateRegion({ acc, accWidth: 3, accY0: 11, accX0: 21, tile: planned[1], covering: nb[1], blend: 'none',
      region: { y0: 9, y1: 11, x0: 21, x1: 24 }, data: new Float64Array(0) })).toThrow(/inside tile/);
    expect(() => accumulateRegion({ acc, accWidth: 3, accY0: 11, accX0: 21, tile: planned[1], covering: nb[1], blend: 'none',
      region: { y0: 11, y1: 14, x0: 21, x1: 24 }, data: new Float32Array(9) })).toThrow(/accumulator/);
  });
});

describe('native kernel', () => {
  type Data = AccumulateArgs['data'];
  const makers: Array<[string, (n: number, r: () => number) => Data]> = [
    ['uint8', (n, r) => Uint8Array.from({ length: n }, () => r() * 256)],
    ['uint16', (n, r) => Uint16Array.from({ length: n }, () => r() * 65536)],
    ['int16', (n, r) => Int16Array.from({ length: n }, () => (r() - 0.5) * 65536)],
    ['int32', (n, r) => Int32Array.from({ length: n }, () => (r() - 0.5) * 2 ** 32)],
    ['uint32', (n, r) => Uint32Array.from({ length: n }, () => r() * 2 ** 32)],
    // NaN and -0 among the floats: the native max and sums must treat them as JavaScript does
    ['float32', (n, r) => Float32Array.from({ length: n }, (_, k) => (k % 97 === 5 ? NaN : k % 89 === 3 ? -0 : (r() - 0.5) * 1e6))],
    ['float64', (n, r) => Float64Array.from({ length: n }, (_, k) => (k % 101 === 7 ? NaN : k % 83 === 2 ? -0 : (r() - 0.3) * 1e9))],
  ];

  it('is bit-identical to the TypeScript reference for every blend, accumulator and tile dtype', () => {
    for (const seed of [21, 22, 23]) {
      const { tiles, canvas } = randomSet(seed);
      const planned = planRounds(tiles);
      const nb = neighbourIndex(planned);
      for (const [dtype, make] of makers)
        for (const blend of ['linear', 'none', 'max'] as const)
          for (const Acc of [Float32Array, Float64Array]) {
            const rand = prng(seed * 1000 + dtype.length);
            const native = new Acc(canvas.height * canvas.width), reference = new Acc(canvas.height * canvas.width);
            planned.forEach((t, i) => {
              // a random sub-rectangle of the tile, as bands and rounds cut them
              const ya = t.y + Math.floor(rand() * t.height), yb = t.y + Math.floor(rand() * t.height);
              const xa = t.x + Math.floor(rand() * t.width), xb = t.x + Math.floor(rand() * t.width);
              const region = { y0: Math.min(ya, yb), y1: Math.max(ya, yb) + 1, x0: Math.min(xa, xb), x1: Math.max(xa, xb) + 1 };
              const data = make((region.y1 - region.y0) * (region.x1 - region.x0), rand);
              const args = { accWidth: canvas.width, accY0: 0, accX0: 0, tile: t, covering: nb[i], blend, region, data };
              accumulateRegion({ ...args, acc: native });
              referenceAccumulate({ ...args, acc: reference });
            });
            // Equal bits, except that NaN payloads may differ (x86 makes negative NaNs in V8's Math.max).
            const k = native.findIndex((v, j) => !Object.is(v, reference[j]));
            if (k >= 0) expect.fail(`native != reference: seed ${seed}, ${dtype} tiles, ${blend}, ${Acc.name}: [${k}] ${native[k]} vs ${reference[k]}`);
            expect(native.some(Number.isNaN)).toBe(dtype.startsWith('float'));
          }
    }
  });

  it('rejects arguments that would reach outside its buffers', () => {
    const planned = planRounds(explicitPositions([[0, 0], [2, 3]], 4, 4).tiles);
    const nb = neighbourIndex(planned);
    const base = { acc: new Float32Array(6 * 7), accWidth: 7, accY0: 0, accX0: 0, tile: planned[0], covering: nb[0], blend: 'linear' as const,
      region: { y0: 0, y1: 4, x0: 0, x1: 4 }, data: new Float32Array(16) };
    expect(() => accumulateRegion(base)).not.toThrow();
    expect(() => accumulateRegion({ ...base, data: new Float32Array(15) })).toThrow(/data has 15 values, region needs 16/);
    expect(() => accumulateRegion({ ...base, acc: new Float32Array(3 * 7) })).toThrow(/not inside the accumulator/);
    expect(() => accumulateRegion({ ...base, covering: [planned[1]] })).toThrow(/does not include it/);
    expect(() => accumulateRegion({ ...base, covering: [...nb[0]].reverse() })).toThrow(/increasing order/);
    expect(() => accumulateRegion({ ...base, blend: 'mean' as never })).toThrow(/Expected 'linear' \| 'none' \| 'max' for blend/);
    expect(() => accumulateRegion({ ...base, acc: new Int32Array(42) as never })).toThrow(TypeError);
  });
});

describe('background accumulate (slab --pipeline)', () => {
  const jobsFor = (seed: number, acc: Float32Array, blend: BlendMode) => {
    const { tiles, canvas } = randomSet(seed);
    const planned = planRounds(tiles);
    const nb = neighbourIndex(planned);
    const rand = prng(seed);
    return planned.map((t, i): AccumulateArgs => ({
      acc, accWidth: canvas.width, accY0: 0, accX0: 0, tile: t, covering: nb[i], blend,
      region: { y0: t.y, y1: t.y + t.height, x0: t.x, x1: t.x + t.width },
      // -0 and NaN among the values: a pixel's first tile sets it to 0 + v, as adding onto zero does
      data: Float32Array.from({ length: t.height * t.width }, (_, k) => (k % 53 === 4 ? -0 : k % 61 === 9 ? NaN : (rand() - 0.5) * 1000)),
    }));
  };

  it('gives the same bits as the jobs run in order on a zeroed accumulator, whatever the band held', () => {
    for (const seed of [31, 33])
      for (const blend of ['linear', 'none', 'max'] as const) {
        const { canvas } = randomSet(seed);
        const here = new Float32Array(canvas.height * canvas.width);
        // garbage where the band starts: NaN, -0 and numbers; uncovered pixels must end as +0
        const there = Float32Array.from({ length: here.length }, (_, k) => [NaN, -0, 7, -1e30][k % 4]);
        for (const job of jobsFor(seed, here, blend)) accumulateRegion(job);
        const batch = startAccumulateRegions(there, jobsFor(seed, there, blend));
        const times = batch.wait();
        expect(times.seconds).toBeGreaterThanOrEqual(0);
        expect(times.readSeconds).toBe(0); // no job reads its data
        expect(batch.wait()).toEqual(times); // idempotent
        const k = here.findIndex((v, j) => !Object.is(v, there[j]));
        const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
        if (k >= 0) expect.fail(`seed ${seed}, ${blend}: background != main thread at [${k}]: ${show(there[k])} vs ${show(here[k])}`);
        expect(here.some((v) => v !== 0 && !Number.isNaN(v))).toBe(true);
        expect(here.some((v, j) => !covered(planRounds(randomSet(seed).tiles), Math.floor(j / canvas.width), j % canvas.width) && Object.is(v, 0))).toBe(true);
      }
    const empty = new Float64Array(6).fill(5);
    startAccumulateRegions(empty, []).wait();
    expect(Array.from(empty)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('checks every job before starting, so a bad one throws here and nothing runs', () => {
    const { canvas } = randomSet(32);
    const acc = new Float32Array(canvas.height * canvas.width).fill(3);
    const jobs = jobsFor(32, acc, 'linear');
    const bad = jobs.slice();
    bad[bad.length - 1] = { ...bad[bad.length - 1], data: new Float32Array(1) };
    expect(() => startAccumulateRegions(acc, bad)).toThrow(/data has 1 values, region needs/);
    const elsewhere = jobs.slice();
    elsewhere[1] = { ...elsewhere[1], acc: new Float32Array(acc.length) };
    expect(() => startAccumulateRegions(acc, elsewhere)).toThrow(/job 1 does not accumulate into `band`/);
    expect(acc.every((v) => v === 3)).toBe(true); // nothing ran
    expect(() => startAccumulateRegions(new Int16Array(4) as never, [])).toThrow(TypeError);
  });
});

describe('fresh jobs on this thread (slab without --pipeline)', () => {
  it('zeroUncovered, then fresh jobs in order, give the bits of the jobs on a zeroed accumulator, whatever it held', () => {
    for (const seed of [31, 33])
      for (const blend of ['linear', 'none', 'max'] as const) {
        const { tiles, canvas } = randomSet(seed);
        const planned = planRounds(tiles);
        const nb = neighbourIndex(planned);
        const here = new Float32Array(canvas.height * canvas.width);
        const there = Float32Array.from({ length: here.length }, (_, k) => [NaN, -0, 7, -1e30][k % 4]);
        const rand = prng(seed);
        const data = planned.map((t) => Float32Array.from({ length: t.height * t.width }, (_, k) => (k % 53 === 4 ? -0 : k % 61 === 9 ? NaN : (rand() - 0.5) * 1000)));
        const job = (acc: Float32Array, i: number, fresh: boolean): AccumulateArgs => {
          const t = planned[i];
          return { acc, accWidth: canvas.width, accY0: 0, accX0: 0, tile: t, covering: nb[i], blend, data: data[i], fresh,
            region: { y0: t.y, y1: t.y + t.height, x0: t.x, x1: t.x + t.width } };
        };
        planned.forEach((_, i) => accumulateRegion(job(here, i, false)));
        zeroUncovered(there, canvas.width, 0, 0, planned.map((_, i) => job(there, i, true).region));
        planned.forEach((_, i) => accumulateRegion(job(there, i, true)));
        const k = here.findIndex((v, j) => !Object.is(v, there[j]));
        if (k >= 0) expect.fail(`seed ${seed}, ${blend}: fresh != zeroed at [${k}]: ${there[k]} vs ${here[k]}`);
        expect(here.some((v, j) => !covered(planned, Math.floor(j / canvas.width), j % canvas.width) && Object.is(v, 0))).toBe(true);
      }
  });

  it('zeroUncovered checks its regions against the band and zeroes all of a band without any', () => {
    const band = new Float64Array(12).fill(5);
    expect(() => zeroUncovered(band, 4, 10, 0, [{ y0: 9, y1: 11, x0: 0, x1: 4 }])).toThrow(/region \[9,11\)x\[0,4\) is not inside the band/);
    expect(() => zeroUncovered(band, 4, 10, 0, [{ y0: 10, y1: 13, x0: 0, x1: 5 }])).toThrow(/not inside the band/);
    expect(() => zeroUncovered(band, 5, 10, 0, [])).toThrow(/is not whole rows of accWidth 5/);
    zeroUncovered(band, 4, 10, 0, [{ y0: 10, y1: 12, x0: 1, x1: 3 }]);
    expect(Array.from(band)).toEqual([0, 5, 5, 0, 0, 5, 5, 0, 0, 0, 0, 0]);
    zeroUncovered(band, 4, 10, 0, []);
    expect(band.every((v) => Object.is(v, 0))).toBe(true);
  });
});

describe('convertInto (integer outputs)', () => {
  it('rounds like Math.round and clips like the reference, NaN stored as 0 and reported', () => {
    const rand = prng(7);
    const edges = [0.5, -0.5, 1.5, -1.5, 2.5, 0.49999999999999994, -0.49999999999999994, 4294967295.5, -2147483648.5, 1e300, -1e300,
      Infinity, -Infinity, 127.5, -128.5, 255.5, 65535.49, -32768.5];
    for (const accType of ['float32', 'float64'] as const) {
      const acc = newArray(accType, 4000) as Float32Array | Float64Array;
      acc.forEach((_, i) => { acc[i] = i < edges.length ? edges[i] : (rand() - 0.3) * 10 ** Math.floor(rand() * 11); });
      for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'] as Dtype[]) {
        const [lo, hi] = rangeOf(dtype)!;
        const expected = newArray(dtype, acc.length) as Int32Array;
        acc.forEach((v, i) => { const r = Math.round(v); expected[i] = r < lo ? lo : r > hi ? hi : r; });
        const out = newArray(dtype, acc.length) as Int32Array;
        expect(convertInto(acc, out)).toBe(-1);
        expect(Array.from(out)).toEqual(Array.from(expected));
        const withNaN = acc.slice();
        withNaN[1234] = NaN;
        withNaN[2000] = NaN;
        expect(convertInto(withNaN, out)).toBe(1234);
        expect(out[1234]).toBe(0);
      }
    }
  });
});

describe('neighbourIndex', () => {
  it('lists overlapping tiles, itself included, in canonical order', () => {
    const planned = planRounds(holeGrid().tiles);
    const nb = neighbourIndex(planned);
    planned.forEach((t, i) => {
      expect(nb[i]).toContain(t);
      expect(nb[i].map((c) => c.order)).toEqual([...nb[i].map((c) => c.order)].sort((a, b) => a - b));
      const brute = planned.filter((c) => c.y < t.y + t.height && t.y < c.y + c.height && c.x < t.x + t.width && t.x < c.x + c.width);
      expect(new Set(nb[i])).toEqual(new Set(brute));
    });
    const corner = planned.find((t) => t.index === 0)!;
    expect(nb[planned.indexOf(corner)].map((t) => t.index).sort()).toEqual([0, 1, 3]);
  });
});
