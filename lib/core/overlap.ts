/**
 * Which tiles overlap which, in O(N log N + pairs): the graph rounds, covering lists and bands are
 * derived from. Pure.
 */
import type { Rect } from './geometry';

/** Compressed sparse rows: row i's entries are targets[offsets[i]] .. targets[offsets[i + 1] - 1]. */
export interface Csr {
  offsets: Int32Array;
  targets: Int32Array;
}

/** Entries of row `i` of `csr`. */
export function csrRow(csr: Csr, i: number): Int32Array {
  return csr.targets.subarray(csr.offsets[i], csr.offsets[i + 1]);
}

/** An Int32Array that grows by doubling (pairs are not known in advance). */
class IntList {
  data = new Int32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

function maxOf(tiles: readonly Rect[], key: 'height' | 'width'): number {
  let m = 1;
  for (const t of tiles) if (t[key] > m) m = t[key];
  return m;
}

/**
 * Positions 0..n-1 sorted by (major, minor, position). Integer keys that fit pack into one number
 * for a plain numeric sort (several times faster than a comparator); others use the comparator.
 */
export function sortedBy(major: Float64Array, minor: Float64Array): Int32Array {
  const n = major.length;
  let lo0 = Infinity, hi0 = -Infinity, lo1 = Infinity, hi1 = -Infinity, integers = true;
  for (let i = 0; i < n; i++) {
    const a = major[i], b = minor[i];
    if (a < lo0) lo0 = a;
    if (a > hi0) hi0 = a;
    if (b < lo1) lo1 = b;
    if (b > hi1) hi1 = b;
    if (!Number.isInteger(a) || !Number.isInteger(b)) integers = false;
  }
  const span1 = hi1 - lo1 + 1;
  if (n > 0 && integers && (hi0 - lo0 + 1) * span1 * n <= Number.MAX_SAFE_INTEGER) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = ((major[i] - lo0) * span1 + (minor[i] - lo1)) * n + i;
    keys.sort();
    const order = new Int32Array(n);
    for (let p = 0; p < n; p++) order[p] = keys[p] % n;
    return order;
  }
  return Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => major[a] - major[b] || minor[a] - minor[b] || a - b);
}

/**
 * For each tile (by position in `tiles`), the other tiles it overlaps (positive shared area), in
 * no particular order. Tiles are bucketed by rows of cells one tallest tile high, sorted by x
 * within a cell row: a tile can only overlap tiles of its own or an adjacent cell row, within one
 * widest tile of its x. Linear in the pairs when tiles are of similar size (as h5stitch's are).
 */
export function overlapGraph(tiles: readonly Rect[]): Csr {
  const n = tiles.length;
  const maxH = maxOf(tiles, 'height'), maxW = maxOf(tiles, 'width');
  const cellRowOf = new Float64Array(n), xOf = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    cellRowOf[i] = Math.floor(tiles[i].y / maxH);
    xOf[i] = tiles[i].x;
  }
  const order = sortedBy(cellRowOf, xOf);
  // The rectangles in sweep order, in flat arrays (the scan reads neighbours' coordinates, not objects).
  const y = new Float64Array(n), x = new Float64Array(n), bottom = new Float64Array(n), right = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const t = tiles[order[p]];
    y[p] = t.y; x[p] = t.x; bottom[p] = t.y + t.height; right[p] = t.x + t.width;
  }
  // Cell rows: positions [rowStart[g], rowStart[g + 1]) of `order`, cell row number rowKey[g].
  const rowStart: number[] = [], rowKey: number[] = [];
  for (let p = 0; p < n; p++) {
    if (p === 0 || cellRowOf[order[p]] !== cellRowOf[order[p - 1]]) {
      rowStart.push(p);
      rowKey.push(cellRowOf[order[p]]);
    }
  }
  rowStart.push(n);

  // Lists are produced in sweep order: from[i] is where tile i's starts in `found`, offsets its count (then prefix sums).
  const found = new IntList(), from = new Int32Array(n), offsets = new Int32Array(n + 1);
  for (let g = 0; g < rowKey.length; g++) {
    const near = [g - 1, g, g + 1].filter((h) => h >= 0 && h < rowKey.length && Math.abs(rowKey[h] - rowKey[g]) <= 1);
    // Per near cell row, the first tile not wholly left of the current one: x only grows along row g.
    const first = near.map((h) => rowStart[h]);
    for (let p = rowStart[g]; p < rowStart[g + 1]; p++) {
      const start = found.length;
      for (let k = 0; k < near.length; k++) {
        const end = rowStart[near[k] + 1];
        // b overlaps a in x only if a.x - b.width < b.x < a.x + a.width, so b.x > a.x - maxW.
        let q = first[k];
        while (q < end && x[q] <= x[p] - maxW) q++;
        first[k] = q;
        for (; q < end && x[q] < right[p]; q++) {
          if (q !== p && y[p] < bottom[q] && y[q] < bottom[p] && right[q] > x[p]) found.push(order[q]);
        }
      }
      from[order[p]] = start;
      offsets[order[p] + 1] = found.length - start;
    }
  }
  for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
  const targets = new Int32Array(offsets[n]);
  for (let i = 0, e = 0; i < n; i++) for (let f = from[i]; e < offsets[i + 1]; ) targets[e++] = found.data[f++];
  return { offsets, targets };
}
