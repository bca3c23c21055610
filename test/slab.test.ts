import { describe, it, expect } from 'vitest';
import { gridPositions, PlannedTile } from '../lib/core/geometry';
import { planRounds, roundsOf } from '../lib/core/rounds';
import { bandRowsOf, MAX_CHUNK_ROW_BAND, planSlabs, tilesInBand } from '../lib/core/bands';
import { UsageError } from '../lib/errors';
import { neighbourIndex } from '../lib/core/weights';
import { accumulateRegion } from '../lib/runtime/kernel';

function checkPlan(height: number, ranks: number, chunkRows: number | undefined, maxRows: number) {
  const { slabs, bandCount } = planSlabs({ height, width: 7 }, ranks, { chunkRows, bytesPerRow: 28, memPerRank: 28 * maxRows + 5 });
  expect(slabs.map((s) => s.rank)).toEqual(Array.from({ length: ranks }, (_, i) => i));
  let next = 0;
  for (const s of slabs) {
    expect(s.y0).toBe(next); // contiguous, in rank order: every row exactly once
    expect(s.y1).toBeGreaterThanOrEqual(s.y0);
    next = s.y1;
    let b0 = s.y0;
    for (const b of s.bands) {
      expect(b.y0).toBe(b0);
      expect(b.y1 - b.y0).toBeGreaterThan(0);
      // A band is whole chunk rows: as many as fit, or one when none fits.
      expect(b.y1 - b.y0).toBeLessThanOrEqual(chunkRows ? Math.max(maxRows, chunkRows) : maxRows);
      if (chunkRows) expect(b.y1 === height || b.y1 % chunkRows === 0).toBe(true);
      b0 = b.y1;
    }
    expect(b0).toBe(s.y1);
    if (chunkRows) expect(s.y1 === height || s.y1 % chunkRows === 0).toBe(true);
  }
  expect(next).toBe(height);
  expect(bandCount).toBe(Math.max(...slabs.map((s) => s.bands.length)));
  return { slabs, bandCount };
}

describe('planSlabs', () => {
  it('splits rows evenly without chunks', () => {
    const { slabs, bandCount } = checkPlan(10, 3, undefined, 100);
    expect(slabs.map((s) => [s.y0, s.y1])).toEqual([[0, 3], [3, 6], [6, 10]]);
    expect(bandCount).toBe(1);
  });

  it('aligns slabs and bands to chunks', () => {
    const { slabs, bandCount } = checkPlan(103, 4, 8, 20);
    // 13 chunk rows, the last of 7 rows: the extra one goes to the last rank (31 rows, not 32).
    expect(slabs.map((s) => [s.y0, s.y1])).toEqual([[0, 24], [24, 48], [48, 72], [72, 103]]);
    expect(slabs[3].bands).toEqual([{ y0: 72, y1: 88 }, { y0: 88, y1: 103 }]);
    expect(bandCount).toBe(2);
  });

  it('grows a band to one chunk row when less than a chunk row fits', () => {
    const { slabs, bandCount } = checkPlan(40, 2, 16, 5);
    expect(slabs[0].bands).toEqual([{ y0: 0, y1: 16 }]);
    expect(slabs[1].bands).toEqual([{ y0: 16, y1: 32 }, { y0: 32, y1: 40 }]);
    expect(bandCount).toBe(2); // 3 chunk rows, the last of 8: slabs of 16 and 24 rows (not 32 and 8)
  });

  it('beyond the growth limit: row bands for plain chunks, a usage error naming --mem-per-rank for compressed ones', () => {
    const opts = { chunkRows: 16, bytesPerRow: 28, memPerRank: 28 * 5 + 5, maxChunkRowBytes: 28 * 15 };
    expect(bandRowsOf(opts)).toBe(5);
    expect(planSlabs({ height: 40, width: 7 }, 2, opts).slabs[0].bands[0]).toEqual({ y0: 0, y1: 5 });
    expect(bandRowsOf({ ...opts, maxChunkRowBytes: 28 * 16 })).toBe(16);
    expect(() => bandRowsOf({ ...opts, compressed: true })).toThrow(UsageError);
    expect(() => bandRowsOf({ ...opts, compressed: true })).toThrow(/one chunk row \(16 rows\) needs 448 bytes per band.*--mem-per-rank 448$/);
    expect(() => bandRowsOf({ ...opts, compressed: true, bandsHeld: 2 })).toThrow(/--mem-per-rank 896 \(2 bands when pipelined\)/);
    // The default limit: one chunk row may take up to MAX_CHUNK_ROW_BAND, or --mem-per-rank if more.
    expect(bandRowsOf({ chunkRows: 1024, bytesPerRow: MAX_CHUNK_ROW_BAND / 1024, memPerRank: 16 << 20, compressed: true })).toBe(1024);
    expect(() => bandRowsOf({ chunkRows: 1025, bytesPerRow: MAX_CHUNK_ROW_BAND / 1024, memPerRank: 16 << 20, compressed: true })).toThrow(UsageError);
  });

  it('gives empty slabs to ranks beyond the rows', () => {
    const { slabs } = checkPlan(3, 5, undefined, 10);
    expect(slabs.slice(3)).toEqual([{ rank: 3, y0: 3, y1: 3, bands: [] }, { rank: 4, y0: 3, y1: 3, bands: [] }]);
    const chunked = checkPlan(20, 6, 8, 100).slabs;
    expect(chunked.filter((s) => s.y0 === s.y1 && s.bands.length === 0).length).toBe(3);
  });

  it('passes many random shapes', () => {
    for (let h = 1; h < 60; h += 7)
      for (const ranks of [1, 2, 3, 7, 64])
        for (const chunk of [undefined, 1, 4, 9])
          for (const maxRows of [1, 3, 10, 1000]) checkPlan(h, ranks, chunk, maxRows);
  });

  it('compressed output: splits the chunks themselves, each chunk in exactly one band', () => {
    const check = (height: number, width: number, ranks: number, chunkRows: number, chunkCols: number, maxRows: number) => {
      const opts = { chunkRows, chunkCols, compressed: true, bytesPerRow: width * 4, memPerRank: width * 4 * maxRows };
      const { slabs, bandCount } = planSlabs({ height, width }, ranks, opts);
      const chunkColumns = Math.ceil(width / chunkCols);
      const owner = new Int32Array(Math.ceil(height / chunkRows) * chunkColumns).fill(-1);
      const chunksOf: number[] = [];
      for (const s of slabs) {
        let chunks = 0;
        for (const b of s.bands) {
          const x0 = b.x0 ?? 0, x1 = b.x1 ?? width;
          // Whole chunks: edges on chunk boundaries or the canvas's; a shared row is one chunk row.
          for (const y of [b.y0, b.y1]) expect(y % chunkRows === 0 || y === height).toBe(true);
          for (const x of [x0, x1]) expect(x % chunkCols === 0 || x === width).toBe(true);
          expect(b.y1 > b.y0 && x1 > x0).toBe(true);
          if (b.x0 !== undefined) expect(b.y1 - b.y0 <= chunkRows && (x0 > 0 || x1 < width)).toBe(true);
          // Per chunk (the edges above are chunk edges): no chunk in two bands.
          for (let y = b.y0; y < b.y1; y += chunkRows) for (let x = x0; x < x1; x += chunkCols) {
            const k = (y / chunkRows) * chunkColumns + x / chunkCols;
            expect(owner[k]).toBe(-1);
            owner[k] = s.rank;
          }
          chunks += Math.ceil((b.y1 - b.y0) / chunkRows) * Math.ceil((x1 - x0) / chunkCols);
          expect(b.y0).toBeGreaterThanOrEqual(s.y0);
          expect(b.y1).toBeLessThanOrEqual(s.y1);
        }
        chunksOf.push(chunks);
      }
      expect(owner.every((r) => r >= 0)).toBe(true);
      expect(Math.max(...chunksOf) - Math.min(...chunksOf)).toBeLessThanOrEqual(1);
      expect(bandCount).toBe(Math.max(...slabs.map((s) => s.bands.length)));
      return slabs;
    };
    // The benchmark's 476 MiB gzip case: 11 x 11 chunks of 1024 over 2 ranks: 60 and 61 chunks,
    // chunk row 5 shared (5 and 6 of its chunks), not rows 0-4 and 5-10 (55 and 66 chunks). The
    // shared row is each rank's last band, so the two partial bands are written in the same call.
    const [a, b] = check(11170, 11170, 2, 1024, 1024, 1024);
    expect(a.bands.at(-1)).toEqual({ y0: 5120, y1: 6144, x0: 0, x1: 5120 });
    expect(b.bands.at(-1)).toEqual({ y0: 5120, y1: 6144, x0: 5120, x1: 11170 });
    expect(b.bands.slice(0, -1)).toEqual([6144, 7168, 8192, 9216, 10240].map((y0) => ({ y0, y1: Math.min(y0 + 1024, 11170) })));
    expect([a.bands.length, b.bands.length]).toEqual([6, 6]);
    for (let h = 1; h < 40; h += 6)
      for (const w of [1, 5, 23])
        for (const ranks of [2, 3, 7])
          for (const [cr, cc] of [[1, 1], [4, 3], [5, 16]])
            for (const maxRows of [1, 8, 100]) check(h, w, ranks, cr, cc, maxRows);
    // Not without compression, nor with a pyramid's slab unit: whole rows then.
    const rows = planSlabs({ height: 40, width: 9 }, 3, { chunkRows: 4, chunkCols: 3, bytesPerRow: 36, memPerRank: 36 * 4 }).slabs;
    expect(rows.flatMap((s) => s.bands).every((band) => band.x0 === undefined)).toBe(true);
    const pyramid = planSlabs({ height: 40, width: 9 }, 3, { chunkRows: 4, chunkCols: 3, compressed: true, slabUnit: 8, bytesPerRow: 36, memPerRank: 36 * 4 }).slabs;
    expect(pyramid.flatMap((s) => s.bands).every((band) => band.x0 === undefined)).toBe(true);
  });

  it('rejects mem-per-rank below one row, naming the numbers', () => {
    expect(() => planSlabs({ height: 10, width: 10 }, 2, { bytesPerRow: 4000, memPerRank: 3999 }))
      .toThrow(/mem-per-rank.*3999.*4000/);
  });
});

describe('tilesInBand', () => {
  it('returns intersecting tiles in canonical order', () => {
    const planned = planRounds(gridPositions({ layout: [[0, 1], [2, 3], [4, 5]], tileHeight: 10, tileWidth: 10, overlapY: 2, overlapX: 2 }).tiles);
    expect(tilesInBand(planned, { y0: 0, y1: 8 }).map((t) => t.index)).toEqual([0, 1]);
    expect(tilesInBand(planned, { y0: 9, y1: 10 }).map((t) => t.index)).toEqual([0, 4, 1, 5, 2, 3].filter((i) => i < 4));
    expect(tilesInBand(planned, { y0: 26, y1: 27 })).toEqual([]);
    const orders = tilesInBand(planned, { y0: 0, y1: 26 }).map((t) => t.order);
    expect(orders).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('slab vs rounds strategies', () => {
  it('produce bit-identical canvases', () => {
    const { tiles, canvas } = gridPositions({ layout: [[0, 1, 2], [3, -1, 4], [5, 6, 7]], tileHeight: 13, tileWidth: 11, overlapY: 5, overlapX: 4 });
    const planned = planRounds(tiles);
    const nb = new Map<PlannedTile, PlannedTile[]>(neighbourIndex(planned).map((c, i) => [planned[i], c]));
    const f = (y: number, x: number, t: PlannedTile) => Math.sin(y * 0.3 + t.index) * 40 + x * 0.7;
    const data = (t: PlannedTile, y0: number, y1: number) =>
      Float32Array.from({ length: (y1 - y0) * t.width }, (_, k) => f(y0 + Math.floor(k / t.width), t.x + (k % t.width), t));

    for (const blend of ['linear', 'none', 'max'] as const) {
      // rounds: whole tiles, round by round
      const whole = new Float32Array(canvas.height * canvas.width);
      for (const group of roundsOf(planned)) for (const t of group)
        accumulateRegion({ acc: whole, accWidth: canvas.width, accY0: 0, accX0: 0, tile: t, covering: nb.get(t)!, blend,
          region: { y0: t.y, y1: t.y + t.height, x0: t.x, x1: t.x + t.width }, data: data(t, t.y, t.y + t.height) });
      // slabs: each rank owns rows, each band has its own accumulator holding only the band's rows
      const sliced = new Float32Array(canvas.height * canvas.width);
      for (const slab of planSlabs(canvas, 3, { chunkRows: 2, bytesPerRow: canvas.width * 4, memPerRank: canvas.width * 4 * 5 }).slabs)
        for (const band of slab.bands) {
          const acc = new Float32Array((band.y1 - band.y0) * canvas.width);
          for (const t of tilesInBand(planned, band)) {
            const y0 = Math.max(band.y0, t.y), y1 = Math.min(band.y1, t.y + t.height);
            accumulateRegion({ acc, accWidth: canvas.width, accY0: band.y0, accX0: 0, tile: t, covering: nb.get(t)!, blend,
              region: { y0, y1, x0: t.x, x1: t.x + t.width }, data: data(t, y0, y1) });
          }
          sliced.set(acc, band.y0 * canvas.width);
        }
      expect(Buffer.from(sliced.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    }
  });
});
