/**
 * verify's check of a pyramid: every level k >= 1 against the 2x2 block mean of level k-1 as
 * stored, recomputed here in plain TypeScript (not the stitch's native kernel): the mean of the
 * covered pixels in float64, added in the documented order, rounded once (half to even for
 * integers, to nearest float32 for float32). Each rank checks a share of each level's rows.
 */
import { newArray, rangeOf, type Dtype, type NumericArray } from '../core/dtype';
import { levelPath, levelShape } from '../core/pyramid';
import { openLevel, type LevelView, type PyramidInfo } from '../io/levels';
import type { H5File } from '../runtime/hdf5';
import type { Mpi } from '../runtime/mpi';

export interface LevelVerdict {
  level: number;
  path: string;
  /** 'missing': no such dataset (or not a 2-D image of the output's dtype); 'shape': not ceil(h/2) x ceil(w/2) of the level below. */
  status: 'ok' | 'wrong' | 'missing' | 'shape';
  shape: [number, number] | null;
  /** Pixels that differ from the block mean of the level below. */
  mismatched: number;
  /** The first of them, row-major, with the stored and the expected value. */
  firstAt: [number, number] | null;
  got: number | null;
  expected: number | null;
}

/** x rounded to the nearest integer, halves to the even one (Math.round takes halves up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The mean of `values` (1, 2 or 4, in the order (a + b) + (c + d)) as level k stores it. */
function stored(mean: number, dtype: Dtype): number {
  if (rangeOf(dtype)) return roundHalfEven(mean);
  return dtype === 'float32' ? Math.fround(mean) : mean;
}

/**
 * Level-k rows [y0, y0 + rows) expected from level-(k-1) rows `below` (starting at row 2 * y0,
 * `belowRows` of them, `belowWidth` wide).
 */
export function blockMeanRows(below: NumericArray, belowRows: number, belowWidth: number, dtype: Dtype, out: NumericArray): void {
  const b = below as Float64Array, o = out as Float64Array;
  const width = Math.ceil(belowWidth / 2);
  for (let i = 0; 2 * i < belowRows; i++) {
    const top = 2 * i * belowWidth, bottom = top + belowWidth;
    const twoRows = 2 * i + 1 < belowRows;
    for (let j = 0; j < width; j++) {
      const x = 2 * j, twoCols = x + 1 < belowWidth;
      const upper = twoCols ? b[top + x] + b[top + x + 1] : b[top + x];
      let mean: number;
      if (twoRows) {
        const lower = twoCols ? b[bottom + x] + b[bottom + x + 1] : b[bottom + x];
        mean = (upper + lower) / (twoCols ? 4 : 2);
      } else {
        mean = upper / (twoCols ? 2 : 1);
      }
      o[i * width + j] = stored(mean, dtype);
    }
  }
}

/** Checks levels 1 .. info.levels-1 of an open output. Collective (every rank returns the same verdicts). */
export function verifyLevels(mpi: Mpi, file: H5File, info: PyramidInfo, canvasShape: [number, number], memPerRank: number): LevelVerdict[] {
  const verdicts: LevelVerdict[] = [];
  let below: LevelView | null = openLevel(file, info, 0);
  try {
    for (let k = 1; k < info.levels; k++) {
      const path = levelPath(info.format, k);
      const level = openLevel(file, info, k);
      try {
        const verdict: LevelVerdict = { level: k, path, status: 'ok', shape: level?.shape ?? null, mismatched: 0, firstAt: null, got: null, expected: null };
        verdicts.push(verdict);
        if (!below || !level) {
          verdict.status = 'missing';
          if (!below) verdict.path = levelPath(info.format, k - 1);
          break; // nothing further down can be checked against a missing level
        }
        const want = levelShape(canvasShape, k), wantBelow = levelShape(canvasShape, k - 1);
        if (level.shape[0] !== want[0] || level.shape[1] !== want[1] || below.shape[0] !== wantBelow[0] || below.shape[1] !== wantBelow[1]) {
          verdict.status = 'shape';
          break;
        }
        checkLevel(mpi, below, level, info.dtype, memPerRank, verdict);
      } finally {
        below?.close();
        below = level;
      }
    }
  } finally {
    below?.close();
  }
  return verdicts;
}

/** One level against the one below: this rank's share of its rows, in bands; the verdict agreed by all ranks. */
function checkLevel(mpi: Mpi, below: LevelView, level: LevelView, dtype: Dtype, memPerRank: number, verdict: LevelVerdict): void {
  const [height, width] = level.shape;
  const belowWidth = below.shape[1];
  const bytes = newArray(dtype, 1).BYTES_PER_ELEMENT;
  const bandRows = Math.max(1, Math.floor(memPerRank / (bytes * (2 * belowWidth + 2 * width))));
  const y0 = Math.floor((mpi.rank * height) / mpi.size), y1 = Math.floor(((mpi.rank + 1) * height) / mpi.size);
  const rowsHeld = Math.min(bandRows, Math.max(0, y1 - y0));
  const belowBuf = newArray(dtype, 2 * rowsHeld * belowWidth);
  const gotBuf = newArray(dtype, rowsHeld * width);
  const expectedBuf = newArray(dtype, rowsHeld * width);
  // [mismatched, first index (row-major) or -1, got, expected]
  const mine = new Float64Array([0, -1, 0, 0]);
  for (let by = y0; by < y1; by += bandRows) {
    const rows = Math.min(bandRows, y1 - by);
    const belowRows = Math.min(2 * rows, below.shape[0] - 2 * by);
    const b = below.read(2 * by, belowRows, belowBuf.subarray(0, belowRows * belowWidth) as NumericArray);
    const got = level.read(by, rows, gotBuf.subarray(0, rows * width) as NumericArray) as Float64Array;
    const expected = expectedBuf.subarray(0, rows * width) as Float64Array;
    blockMeanRows(b, belowRows, belowWidth, dtype, expected);
    for (let i = 0; i < got.length; i++) {
      const g = got[i], e = expected[i];
      if (g === e || (g !== g && e !== e)) continue;
      if (mine[0]++ === 0) mine.set([by * width + i, g, e], 1);
    }
  }
  const all = mpi.allgather(mine);
  for (let r = 0; r < mpi.size; r++) {
    const s = 4 * r;
    verdict.mismatched += all[s];
    if (verdict.firstAt === null && all[s + 1] >= 0) {
      verdict.firstAt = [Math.floor(all[s + 1] / width), all[s + 1] % width];
      verdict.got = all[s + 2];
      verdict.expected = all[s + 3];
    }
  }
  if (verdict.mismatched > 0) verdict.status = 'wrong';
}
