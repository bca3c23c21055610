/**
 * Reference implementation of the blend kernel in plain TypeScript: the oracle the native
 * kernel (native/kernels/blend.cc) is tested against, pixel for pixel and bit for bit.
 */
import type { AccumulateArgs } from '../../lib/runtime/kernel';

function tent(i: number, n: number): number {
  return Math.min(i + 1, n - i);
}

// Scratch rows reused across calls: the kernel runs once per tile (or band) and must not churn the GC.
let wRow = new Float64Array(0);
let earlierRow = new Uint8Array(0);
function scratch(n: number): void {
  if (wRow.length < n) { wRow = new Float64Array(n); earlierRow = new Uint8Array(n); }
}

export function referenceAccumulate(args: AccumulateArgs): void {
  const { acc, accWidth, accY0, accX0, tile, covering, data, region, blend } = args;
  // The oracle reads tiles, not the kernel's packed records.
  if (covering instanceof Int32Array) throw new TypeError('referenceAccumulate takes covering as PlannedTile[]');
  const { y0, y1, x0, x1 } = region;
  const w = x1 - x0;
  scratch(w);

  for (let y = y0; y < y1; y++) {
    const accRow = (y - accY0) * accWidth - accX0, dataRow = (y - y0) * w - x0;
    if (blend === 'none') {
      for (let x = x0; x < x1; x++) acc[accRow + x] += data[dataRow + x];
    } else if (blend === 'max') {
      // A pixel's first writer (lowest order) overwrites, so acc need not be pre-filled with -inf.
      earlierRow.fill(0, 0, w);
      for (const c of covering) {
        if (c.order >= tile.order || y < c.y || y >= c.y + c.height) continue;
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++) earlierRow[x - x0] = 1;
      }
      for (let x = x0; x < x1; x++) {
        const v = data[dataRow + x];
        acc[accRow + x] = earlierRow[x - x0] ? Math.max(acc[accRow + x], v) : v;
      }
    } else {
      // Pixels only this tile covers get weight r/r = 1 exactly, so v is added as is: a fast
      // path with the same bits. Elsewhere W = sum of raw weights over covering tiles, added in
      // canonical order per pixel (0 + a is exact, so skipping non-covering tiles keeps the bits).
      let shared = false;
      for (const c of covering) {
        if (c === tile || y < c.y || y >= c.y + c.height) continue;
        if (!shared) earlierRow.fill(0, 0, w);
        shared = true;
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++) earlierRow[x - x0] = 1;
      }
      if (!shared) {
        for (let x = x0; x < x1; x++) acc[accRow + x] += data[dataRow + x];
        continue;
      }
      wRow.fill(0, 0, w);
      for (const c of covering) {
        if (y < c.y || y >= c.y + c.height) continue;
        const ry = tent(y - c.y, c.height);
        for (let x = Math.max(x0, c.x), e = Math.min(x1, c.x + c.width); x < e; x++)
          if (earlierRow[x - x0]) wRow[x - x0] += ry * tent(x - c.x, c.width);
      }
      const ry = tent(y - tile.y, tile.height);
      for (let x = x0; x < x1; x++) {
        acc[accRow + x] += earlierRow[x - x0]
          ? data[dataRow + x] * ((ry * tent(x - tile.x, tile.width)) / wRow[x - x0])
          : data[dataRow + x];
      }
    }
  }
}
